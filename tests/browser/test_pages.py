"""One page of each kind in Chromium: axe-core (light and dark), 360 px, dark mode, no errors,\nno third-party requests, and the essentials without JavaScript; README screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    ContextFactory,
    axe_violations,
    format_violations,
    open_page,
    with_axe,
)

PAGES = {
    "home": "index.html",
    "open": "open.html",
    "fixes": "fixes.html",
    "stats": "stats.html",
    "how-we-count": "how-we-count.html",
    "ledger": "ledger.html",
    "channels": "channels.html",
    "channel": "channels/x.html",
    "find": "find.html",
    "free-page": "about.html",
    "case-resolved-note": "cases/github-402.html",
    "case-removed": "cases/x-2104229575357506363.html",
    "case-reopened": "cases/github-433.html",
    "case-bot-answer": "cases/github-421.html",
}
BODY_BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"
# Boxes that scroll sideways but that a keyboard cannot reach (WCAG 2.1.1).
UNREACHABLE_SCROLLERS = """() => [...document.querySelectorAll("body *")].filter((e) =>
  e.scrollWidth > e.clientWidth + 1 && ["auto", "scroll"].includes(getComputedStyle(e).overflowX)
  && e.tabIndex < 0 && !e.querySelector("a[href], button, input, [tabindex]")
).map((e) => e.tagName.toLowerCase() + "." + e.className)"""

pages = pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())


def check_axe(page: Page, where: str) -> list[str]:
    """axe-core's violations on the page, as failure lines (empty: none)."""
    violations = axe_violations(page)
    return [f"axe ({where}):\n{format_violations(violations)}"] if violations else []


def test_sample_pages_are_what_they_claim(site_dir: Path) -> None:
    """The parametrized sample still covers what its ids say (the demo content may change)."""
    for path in PAGES.values():
        assert (site_dir / path).is_file(), path
    text = {key: (site_dir / path).read_text("utf-8") for key, path in PAGES.items()}
    assert '<section aria-labelledby="note" class="note">' in text["case-resolved-note"]
    assert "<strong>" in text["case-resolved-note"]
    assert "state-resolved" in text["case-resolved-note"]
    assert "removed at its author's request" in text["case-removed"]
    assert "<strong>Reopened</strong>" in text["case-reopened"]
    assert "Automated account" in text["case-bot-answer"]


@pages
def test_light_at_360px(new_context: ContextFactory, site_url: str, path: str) -> None:
    """A 360 px phone, light scheme: axe finds nothing; nothing scrolls sideways (a wide table
    scrolls in its own keyboard-reachable box); the heading is in view; no console or page
    errors, CSP violations, or requests leaving 127.0.0.1."""
    context = with_axe(new_context(viewport={"width": 360, "height": 740}, color_scheme="light"))
    w = open_page(context, site_url + path)
    page = w.page
    failures = check_axe(page, "light, 360 px")  # also opens every <details>
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    if width > inner:
        failures.append(f"the page scrolls sideways: {width} px wide in a {inner} px window")
    heading = page.locator("main h1")
    box = heading.bounding_box()
    if not heading.is_visible() or box is None or box["x"] < 0 or box["x"] + box["width"] > inner:
        failures.append(f"the main heading is not fully in view: {box}")
    if unreachable := page.evaluate(UNREACHABLE_SCROLLERS):
        failures.append(f"boxes scroll sideways but the keyboard cannot reach them: {unreachable}")
    failures += w.problems()
    assert failures == [], f"{path}:\n" + "\n".join(failures)


@pages
def test_dark_at_desktop_width(new_context: ContextFactory, site_url: str, path: str) -> None:
    """The reader's system asks for dark (color_scheme on the context): the colours change,
    and axe still finds nothing (contrast in the dark palette)."""
    context = with_axe(new_context(viewport={"width": 1280, "height": 800}, color_scheme="dark"))
    w = open_page(context, site_url + path)
    page = w.page
    failures = check_axe(page, "dark, 1280 px")
    dark = page.evaluate(BODY_BACKGROUND)
    page.emulate_media(color_scheme="light")
    light = page.evaluate(BODY_BACKGROUND)
    if light == dark:
        failures.append(f"dark mode does not apply: body background {dark} in both schemes")
    failures += w.problems()
    assert failures == [], f"{path}:\n" + "\n".join(failures)


def test_home_without_javascript_shows_the_headline_figures(
    new_context: ContextFactory, site_url: str
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto(site_url + "index.html")
    figures = page.locator("#headline ~ dl.figures")
    expect(figures).to_be_visible()
    expect(figures.locator("dt").first).to_have_text("Median time to first public response")
    values = figures.locator("dd strong")
    assert values.count() >= 3
    for i in range(values.count()):
        expect(values.nth(i)).to_be_visible()
        expect(values.nth(i)).not_to_be_empty()
    expect(page.locator("svg.chart").first).to_be_visible()  # the trend chart: inline SVG


def test_case_without_javascript_shows_the_timeline(
    new_context: ContextFactory, site_url: str
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto(site_url + PAGES["case-reopened"])
    events = page.locator("ol.timeline > li")
    assert events.count() >= 3
    for i in range(events.count()):
        expect(events.nth(i)).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("Reopened")


def test_find_without_javascript_offers_the_channel_lists(
    new_context: ContextFactory, site_url: str
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto(site_url + "find.html")
    # Playwright's text selectors skip <noscript>, so select the element itself.
    expect(page.locator("noscript p")).to_be_visible()
    expect(page.locator("noscript p")).to_contain_text("Finding by link needs JavaScript")
    page.get_by_role("link", name="x", exact=True).first.click()
    expect(page).to_have_url(site_url + "channels/x.html")


def test_readme_screenshots(new_context: ContextFactory, site_url: str) -> None:
    """HEARD_SCREENSHOTS=folder saves home.png, home-dark.png and case.png for the README."""
    folder = os.environ.get("HEARD_SCREENSHOTS")
    if not folder:
        pytest.skip("set HEARD_SCREENSHOTS to a folder to save the README screenshots")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    shots: list[tuple[str, str, str, bool]] = [
        ("home.png", "index.html", "light", False),
        ("home-dark.png", "index.html", "dark", False),
        ("case.png", PAGES["case-resolved-note"], "light", True),
    ]
    for name, path, scheme, full in shots:
        page: Page = new_context(
            viewport={"width": 1000, "height": 900}, color_scheme=scheme
        ).new_page()
        page.goto(site_url + path)
        page.screenshot(path=out / name, full_page=full, animations="disabled")
        assert (out / name).stat().st_size > 1000


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_a_case_page_gets_its_freshness_from_the_script(
    new_context: ContextFactory, site_url: str, site_dir: Path, scheme: str
) -> None:
    """A case page does not depend on "now"; freshness.js adds when the record was gathered
    (over http and from file://), and without scripts the page still says when it changed."""
    path = PAGES["case-resolved-note"]
    url = site_url + path if scheme == "http" else (site_dir / path).as_uri()
    w = open_page(new_context(), url)
    added = w.page.locator("#freshness + p")
    expect(added).to_contain_text("Figures as of")
    expect(added).to_contain_text("github")
    assert w.problems() == []
    quiet = open_page(new_context(java_script_enabled=False), url)
    expect(quiet.page.locator("#freshness")).to_contain_text("This case last changed")
    assert quiet.page.locator("#freshness + p").count() == 0
