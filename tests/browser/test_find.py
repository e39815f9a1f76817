"""Find my complaint: paste a post's link or a handle on find.html, over http and file://."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    ContextFactory,
    Watch,
    axe_violations,
    build_site,
    format_violations,
    serve,
    watch,
    with_axe,
)
from tests.conftest import BASE_CONFIG, ROOT, case, ev, write_lines

# A case of the demo content with a post URL (read from content/cases, not made up here).
CASE_ID = "github-402"
# A second, tiny site: the demo content has no handle with several cases.
REPEAT_HANDLE = "@sam_repeat"
REPEAT_IDS = ["x-9001", "x-9002", "x-9003"]
HIDDEN_ID = "x-9009"


def demo_case_url(case_id: str) -> str:
    """The post URL of a case, as gathered into content/cases/*.jsonl."""
    for shard in sorted((ROOT / "content" / "cases").glob("*.jsonl")):
        for line in shard.read_text("utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if item["id"] == case_id:
                    url: str = item["url"]
                    return url
    raise AssertionError(f"{case_id} is not in content/cases")


def variants(url: str) -> dict[str, str]:
    """The same post as people paste it: as is, trailing slash, a query, www., upper case."""
    scheme, rest = url.split("://", 1)
    host, path = rest.split("/", 1)
    return {
        "as-gathered": url,
        "trailing-slash": url + "/",
        "query": url + "?s=20",
        "www": f"{scheme}://www.{host}/{path}",
        "upper-case-host": f"{scheme}://{host.upper()}/{path}",
        "padded-with-fragment": f"  {url}#comment-1 \n",
    }


POST = demo_case_url(CASE_ID)
VARIANTS = variants(POST)


@pytest.fixture(scope="session")
def repeat_site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site where one handle has several cases (built and served once per session)."""
    root = tmp_path_factory.mktemp("repeat")
    (root / "heard.toml").write_text(BASE_CONFIG, encoding="utf-8")
    items = [
        case(
            cid,
            ev("complaint", f"2026-11-0{n}T10:00:00Z", url=f"https://x.com/sam_repeat/status/{n}"),
            url=f"https://x.com/sam_repeat/status/{n}",
            author={"handle": REPEAT_HANDLE},
        )
        for n, cid in enumerate(REPEAT_IDS, start=1)
    ]
    hidden_post = "https://x.com/troll_99/status/9"
    items.append(
        case(
            HIDDEN_ID,
            ev("complaint", "2026-11-09T10:00:00Z", url=hidden_post),
            url=hidden_post,
            author={"handle": "@troll_99"},
        )
    )
    write_lines(root / "content" / "cases" / "2026-11.jsonl", items)
    notes = root / "content" / "notes"
    notes.mkdir(parents=True)
    (notes / f"{HIDDEN_ID}.md").write_text(
        '---\nstatus: hidden\nat: "2026-11-09T11:00:00Z"\nreason: abuse\n---\n', "utf-8"
    )
    with serve(build_site(root, root / "_site")) as url:
        yield url


def find(page: Page, text: str) -> None:
    page.get_by_label("Link to your post, or your handle").fill(text)
    page.get_by_role("button", name="Find").click()


def open_find(new_context: ContextFactory, url: str, *, axe: bool = False) -> Watch:
    context = new_context()
    w = watch((with_axe(context) if axe else context).new_page())
    w.page.goto(url)
    return w


@pytest.mark.parametrize("pasted", VARIANTS.values(), ids=VARIANTS.keys())
def test_a_post_link_goes_to_its_case(
    new_context: ContextFactory, site_url: str, pasted: str
) -> None:
    w = open_find(new_context, site_url + "find.html")
    find(w.page, pasted)
    expect(w.page).to_have_url(f"{site_url}cases/{CASE_ID}.html")
    expect(w.page.locator("main h1")).to_be_visible()
    assert w.problems() == []


def test_a_handle_with_one_case_goes_to_it(new_context: ContextFactory, site_url: str) -> None:
    w = open_find(new_context, site_url + "find.html")
    find(w.page, "@grumpy_gav")
    expect(w.page).to_have_url(f"{site_url}cases/x-2095629909921395241.html")
    assert w.problems() == []


def test_a_handle_with_several_cases_lists_them(
    new_context: ContextFactory, repeat_site_url: str
) -> None:
    w = open_find(new_context, repeat_site_url + "find.html", axe=True)
    find(w.page, REPEAT_HANDLE.upper())
    result = w.page.locator("#find-result")
    expect(result).to_contain_text(f"{len(REPEAT_IDS)} cases match")
    links = result.get_by_role("link")
    expect(links).to_have_count(len(REPEAT_IDS))
    hrefs = [links.nth(i).get_attribute("href") for i in range(len(REPEAT_IDS))]
    assert hrefs == [f"cases/{cid}.html" for cid in REPEAT_IDS]
    violations = axe_violations(w.page)
    assert violations == [], format_violations(violations)
    links.nth(1).click()
    expect(w.page).to_have_url(f"{repeat_site_url}cases/{REPEAT_IDS[1]}.html")
    assert w.problems() == []


def test_an_unknown_link_gets_a_helpful_message(new_context: ContextFactory, site_url: str) -> None:
    w = open_find(new_context, site_url + "find.html", axe=True)
    result = w.page.locator("#find-result")
    expect(result).to_have_attribute("role", "status")
    expect(result).to_have_attribute("aria-live", "polite")
    find(w.page, "https://x.example/nobody/status/1")
    expect(result).to_contain_text("No case found")
    expect(result).to_contain_text("channel")
    expect(result).to_be_visible()
    assert w.page.url == site_url + "find.html"
    violations = axe_violations(w.page)
    assert violations == [], format_violations(violations)
    find(w.page, "   ")
    expect(result).to_have_text(re.compile("Paste the link to your post"))
    assert w.problems() == []


def test_a_hidden_posts_author_learns_it_is_hidden_not_missing(
    new_context: ContextFactory, repeat_site_url: str
) -> None:
    w = open_find(new_context, repeat_site_url + "find.html", axe=True)
    result = w.page.locator("#find-result")
    find(w.page, "http://www.x.com/troll_99/status/9?s=20")
    expect(result).to_contain_text("That post is on our record (x, 2026-11-09) but hidden")
    expect(result).not_to_contain_text("may not be gathered yet")
    expect(result).not_to_contain_text(HIDDEN_ID)
    ledger = result.get_by_role("link", name="moderation ledger")
    expect(ledger).to_have_attribute("href", "ledger.html")
    violations = axe_violations(w.page)
    assert violations == [], format_violations(violations)
    find(w.page, "@troll_99")  # a hidden case is never found by its author's handle
    expect(result).to_contain_text("No case found")
    assert w.problems() == []


def test_the_lookup_works_from_file_urls(new_context: ContextFactory, site_dir: Path) -> None:
    """Opened straight from disk (no server): the buckets load as scripts, not with fetch."""
    w = open_find(new_context, (site_dir / "find.html").as_uri())
    find(w.page, VARIANTS["www"])
    expect(w.page).to_have_url((site_dir / "cases" / f"{CASE_ID}.html").as_uri())
    expect(w.page.locator("main h1")).to_be_visible()
    w.page.go_back()
    find(w.page, "https://x.example/nobody/status/1")
    expect(w.page.locator("#find-result")).to_contain_text("No case found")
    assert w.problems() == []
