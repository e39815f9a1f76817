"""The hostile site (tests/hostile.py) in Chromium: no payload ever runs or leaks out.

Every page opened here must open no dialog, log no console or page error, record no CSP
violation, request nothing but 127.0.0.1, carry no element or attribute that could run
script, and never scroll sideways (360 px; and 1280 px for the longest text). The payload
text must show literally where it belongs, and a hostile handle pasted into "Find my
complaint" must lead to its case.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from tests.browser.conftest import ContextFactory, Watch, serve, watch
from tests.support.hostile import (
    BY_KEY,
    LONG_HANDLE,
    LONG_WORD,
    MASTODON_RAW_BASE,
    PAGE_TITLE,
    PAYLOADS,
    SITE_BRAND,
    SITE_TITLE,
    HostileSite,
    Payload,
    collapse,
    hostile_site,
)

SCRIPT = BY_KEY["script"]


def raw_mastodon(key: str) -> str:
    return f"cases/mastodon-{MASTODON_RAW_BASE + [p.key for p in PAYLOADS].index(key)}.html"


PAGES = {
    "home": "index.html",
    "open": "open.html",
    "fixes": "fixes.html",
    "stats": "stats.html",
    "ledger": "ledger.html",
    "channels": "channels.html",
    "channel-imported": "channels/imported.html",
    "channel-reviews": "channels/reviews.html",
    "find": "find.html",
    "free-page": "hostile.html",
    "case-import-script": "cases/imported-script.html",
    "case-import-attr": "cases/imported-attr-double.html",
    "case-import-bidi": "cases/imported-rlo.html",
    "case-100kb": "cases/imported-big.html",
    "case-long-word": "cases/imported-long.html",
    "case-github": "cases/github-100.html",
    "case-mastodon-raw-script": raw_mastodon("script"),
    "case-mastodon-raw-img": raw_mastodon("img-onerror"),
    "case-discourse": "cases/discourse-400.html",
    "case-rss-raw": "cases/reviews-rssraw-svg-onload.html",
    "case-note-resolve": "cases/noted-script.html",
    "case-note-file": "cases/noted-script-break.html",
}
WIDE = ["index.html", "hostile.html", "cases/imported-big.html", "cases/imported-long.html"]

# Elements and attributes that could run script or load something, found in the live DOM.
DANGER = """() => {
  const out = [];
  for (const e of document.querySelectorAll("*")) {
    const tag = e.tagName.toLowerCase();
    if (["iframe", "frame", "object", "embed", "style", "base", "textarea", "img", "math",
         "foreignobject", "video", "audio", "source"].includes(tag)) out.push("<" + tag + ">");
    if (tag === "script" && !/\\/(lookup\\/(find|[0-9a-f]{2})|freshness)\\.js$/.test(e.src || "")) out.push("script " + e.outerHTML.slice(0, 80));
    if (tag === "meta" && e.httpEquiv && e.httpEquiv.toLowerCase() !== "content-security-policy") out.push("meta " + e.httpEquiv);
    for (const a of e.attributes) {
      const name = a.name.toLowerCase();
      if (name.startsWith("on") || name === "style" || name === "srcdoc" || name === "formaction") out.push(tag + "[" + name + "]");
      if (["href", "src", "action", "xlink:href", "data"].includes(name)) {
        const scheme = (/^([a-z][a-z0-9+.-]*):/.exec(a.value.replace(/[\\u0000-\\u0020\\u007f]/g, "").toLowerCase()) || [])[1];
        if (scheme && !["http", "https", "mailto"].includes(scheme)) out.push(tag + "[" + name + "=" + a.value + "]");
      }
    }
  }
  return out;
}"""
SCROLL = "() => [document.documentElement.scrollWidth, innerWidth]"


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileSite:
    """The hostile site, built once per session (shared with tests/test_hostile.py)."""
    return hostile_site(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def hostile_url(hostile: HostileSite) -> Iterator[str]:
    with serve(hostile.out) as url:
        yield url


@dataclass
class Visit:
    """A page opened with everything that went wrong recorded (dialogs included)."""

    watch: Watch
    dialogs: list[str] = field(default_factory=list)

    @property
    def page(self) -> Page:
        return self.watch.page

    def problems(self) -> list[str]:
        found = [f"a dialog opened: {d}" for d in self.dialogs]
        found += self.watch.problems()
        found += [f"dangerous DOM: {d}" for d in self.page.evaluate(DANGER)]
        return found


def visit(context: BrowserContext, url: str) -> Visit:
    page = context.new_page()
    v = Visit(watch(page))

    def on_dialog(dialog: Dialog) -> None:
        v.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    response = page.goto(url)
    assert response is not None and response.ok, url
    page.wait_for_load_state("load")
    return v


def exercise(page: Page) -> None:
    """Give every handler a chance: open the details, hover and focus every link."""
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    links = page.locator("main a")
    for i in range(min(links.count(), 12)):
        link = links.nth(i)
        if link.is_visible():
            link.hover()
            link.focus()


def test_the_pages_are_what_the_ids_say(hostile: HostileSite) -> None:
    for path in PAGES.values():
        assert (hostile.out / path).is_file(), path
    assert SCRIPT.marker in (hostile.out / PAGES["case-mastodon-raw-script"]).read_text("utf-8")
    assert "state-resolved" in (hostile.out / PAGES["case-note-resolve"]).read_text("utf-8")
    closed = (hostile.out / PAGES["case-note-file"]).read_text("utf-8")
    assert "Why this is closed without a fix" in closed  # a hand-written note


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_nothing_runs_or_leaks_at_360px(
    new_context: ContextFactory, hostile_url: str, path: str
) -> None:
    context = new_context(viewport={"width": 360, "height": 740})
    v = visit(context, hostile_url + path)
    exercise(v.page)
    failures = v.problems()
    width, inner = v.page.evaluate(SCROLL)
    if width > inner:
        failures.append(f"the page scrolls sideways: {width} px wide in a {inner} px window")
    assert failures == [], f"{path}:\n" + "\n".join(failures)


@pytest.mark.parametrize("path", WIDE)
def test_long_text_does_not_scroll_sideways_at_1280px(
    new_context: ContextFactory, hostile_url: str, path: str
) -> None:
    v = visit(new_context(viewport={"width": 1280, "height": 800}), hostile_url + path)
    width, inner = v.page.evaluate(SCROLL)
    assert width <= inner, f"{path}: {width} px wide in a {inner} px window"
    assert v.problems() == []


def test_titles_and_text_show_the_payload_literally(
    new_context: ContextFactory, hostile_url: str
) -> None:
    context = new_context(viewport={"width": 1000, "height": 800})
    home = visit(context, hostile_url + "index.html").page
    assert home.title() == collapse(SITE_TITLE)
    expect(home.locator("main h1")).to_have_text(f"{collapse(SITE_BRAND)}: we heard you")
    expect(home.locator(".site-header .brand")).to_have_text(collapse(SITE_TITLE))
    for key in ("script", "img-onerror", "jinja-expr", "entities", "textarea", "title-break"):
        p = BY_KEY[key]
        page = visit(context, f"{hostile_url}cases/imported-{key}.html").page
        assert page.title() == f"{collapse(p.text)} — {collapse(SITE_TITLE)}"
        expect(page.locator("main h1")).to_have_text(collapse(p.text))
        assert page.locator(".public-text").first.inner_text() == p.text
    free = visit(context, hostile_url + "hostile.html").page
    assert free.title().startswith(collapse(PAGE_TITLE))
    long = visit(context, hostile_url + "cases/imported-long.html").page
    assert long.locator(".public-text").first.inner_text() == LONG_WORD
    expect(long.locator(".handle")).to_have_text(LONG_HANDLE)


FIND_KEYS = ["script", "js-string", "bidi", "zero-width", "emoji"]


def find(v: Visit, text: str) -> None:
    v.page.fill("#find-input", text)
    v.page.get_by_role("button", name="Find").click()


@pytest.mark.parametrize("key", FIND_KEYS)
def test_a_hostile_handle_pasted_into_find_lists_its_cases(
    new_context: ContextFactory, hostile_url: str, hostile: HostileSite, key: str
) -> None:
    """The GitHub issue's author login is the same text: two cases match, both listed as
    text links; following one opens the case."""
    v = visit(new_context(viewport={"width": 360, "height": 740}), hostile_url + "find.html")
    find(v, hostile.handles[f"imported-{key}"])
    result = v.page.locator("#find-result")
    expect(result.locator("p")).to_have_text("2 cases match:")
    number = 100 + [p.key for p in PAYLOADS].index(key)
    expect(result.locator("a")).to_have_text(
        [f"github-{number} — opened 2026-11-02 on github",
         f"imported-{key} — opened 2026-11-02 on imported"]
    )  # fmt: skip
    result.get_by_role("link", name=f"imported-{key} ").click()
    expect(v.page).to_have_url(f"{hostile_url}cases/imported-{key}.html")
    expect(v.page.locator("main h1")).to_have_text(collapse(BY_KEY[key].text))
    assert v.problems() == []


def test_a_long_handle_pasted_into_find_opens_its_case(
    new_context: ContextFactory, hostile_url: str
) -> None:
    v = visit(new_context(viewport={"width": 360, "height": 740}), hostile_url + "find.html")
    find(v, "  " + LONG_HANDLE.upper() + " ")
    expect(v.page).to_have_url(f"{hostile_url}cases/imported-long.html")
    assert v.problems() == []


def test_a_pasted_payload_that_finds_nothing_is_shown_as_text(
    new_context: ContextFactory, hostile_url: str
) -> None:
    v = visit(new_context(), hostile_url + "find.html")
    find(v, "<img src=x onerror=alert(1)>javascript:alert(1)")
    expect(v.page.locator("#find-result")).to_contain_text("No case found")
    assert v.page.locator("#find-result *").count() == 0
    assert v.problems() == []


# ------------------------------------------------------------------------------------------
# Bidi: an override the public typed must not reverse the text around it.

# Per letter or digit of the element's text, its box's top and left edges (on one line, the
# text reads left to right when the left edges increase).
LEFT_EDGES = """([e, lastOnly]) => {
  const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  const xs = [];
  for (const n of lastOnly ? nodes.slice(-1) : nodes) {
    for (let i = 0; i < n.data.length; i++) {
      if (!/[A-Za-z0-9]/.test(n.data[i])) continue;
      const r = document.createRange();
      r.setStart(n, i);
      r.setEnd(n, i + 1);
      const box = r.getBoundingClientRect();
      if (box.width > 0) xs.push([Math.round(box.top), Math.round(box.left)]);
    }
  }
  return xs;
}"""


def reads_left_to_right(page: Page, selector: str, last_only: bool = False) -> bool:
    """Whether the element's letters and digits (or its last text node's) read left to right."""
    handle = page.locator(selector).first.element_handle()
    boxes: list[tuple[int, int]] = page.evaluate(LEFT_EDGES, [handle, last_only])
    pairs = [(a, b) for a, b in itertools.pairwise(boxes) if abs(a[0] - b[0]) < 3]
    assert len(pairs) >= 5, (selector, boxes)  # enough letters on one line to tell
    return all(a[1] < b[1] for a, b in pairs)


RLO: Payload = BY_KEY["rlo"]


def test_the_bidi_probe_sees_reversed_text(new_context: ContextFactory, hostile_url: str) -> None:
    """The measure works: inside the payload, after U+202E, the text is reversed; the site's
    own text outside any public text reads left to right."""
    page = visit(new_context(), hostile_url + "cases/imported-rlo.html").page
    assert not reads_left_to_right(page, ".public-text")
    assert reads_left_to_right(page, ".site-footer p")


@pytest.mark.parametrize(
    ("path", "selector", "last_only"),
    [
        ("channels/imported.html", "ol.cases > li:has(a[href$='imported-rlo.html']) .meta time",
         False),
        ("cases/imported-rlo.html", "ol.timeline > li:nth-child(2) > p:first-child time", False),
        ("cases/imported-rlo.html", "article.case > p:nth-of-type(2)", True),
    ],
    ids=["case-list", "timeline-agent", "posted-by"],
)  # fmt: skip
def test_a_bidi_override_in_public_text_stays_inside_it(
    new_context: ContextFactory, hostile_url: str, path: str, selector: str, last_only: bool
) -> None:
    """The site's own words after a public string with an unclosed U+202E read normally."""
    page = visit(new_context(), hostile_url + path).page
    assert reads_left_to_right(page, selector, last_only)
