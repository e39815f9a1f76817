"""Browser fixtures: one Chromium per session, the demo site built once and served on loopback.

Plain `playwright.sync_api` (not pytest-playwright) driving Debian's /usr/bin/chromium; never
`playwright install`. Every test under tests/browser gets the `browser` marker; without
Chromium they are skipped, except in CI (env CI set), where that is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Request,
    sync_playwright,
)

from tests.conftest import ROOT, heard

CHROMIUM = os.environ.get("HEARD_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HERE = Path(__file__).resolve().parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
NOW = "2026-11-30T12:00:00Z"
LOCAL_HOSTS = {"127.0.0.1"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}

# Collects CSP violations before any of the page's own scripts run.
CSP_RECORDER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_RUN = """async (tags) => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const r = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                     resultTypes: ["violations"]});
  return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.failureSummary)}));
}"""


def _chromium_missing() -> bool:
    return shutil.which(CHROMIUM) is None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark (and maybe skip) the tests of this folder only: the hook sees every item."""
    skip = _chromium_missing() and not os.environ.get("CI")
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if skip:
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is not installed"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    if _chromium_missing():  # only reached in CI: the others were skipped at collection
        pytest.fail(
            f"CI is set but {CHROMIUM} is missing: install it with "
            "`apt-get install -y --no-install-recommends chromium` (never `playwright install`)",
            pytrace=False,
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def build_site(site: Path, out: Path) -> Path:
    """Build a site with `heard build` in-process, at the fixed now."""
    result = heard("build", "--site", site, "--out", out, "--now", NOW)
    assert result.exit_code == 0, result.output + result.stderr
    return out


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo site (content/ of this repository), built once per session."""
    return build_site(ROOT, tmp_path_factory.mktemp("browser") / "_site")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve a folder on 127.0.0.1:<free port>; yields the base URL (with a trailing slash)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    """Where the demo site is served."""
    with serve(site_dir) as url:
        yield url


@dataclass
class Watch:
    """What went wrong while a page was open: console errors, page errors, foreign requests."""

    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def csp(self) -> list[str]:
        """CSP violations seen by the page (collected by the init script)."""
        found: list[str] = self.page.evaluate("() => window.__csp || []")
        return found

    def problems(self) -> list[str]:
        """Everything that should not have happened, as readable lines."""
        return (
            [f"console error: {m}" for m in self.console]
            + [f"page error: {m}" for m in self.errors]
            + [f"request to another host: {u}" for u in self.foreign]
            + [f"CSP violation: {v}" for v in self.csp()]
        )


def watch(page: Page) -> Watch:
    """Start recording a page's console errors, page errors and non-local requests."""
    w = Watch(page)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            w.console.append(f"{msg.text} ({msg.location.get('url')})")

    def on_error(err: Error) -> None:
        w.errors.append(str(err))

    def on_request(req: Request) -> None:
        parts = urlsplit(req.url)
        if parts.scheme not in LOCAL_SCHEMES and parts.hostname not in LOCAL_HOSTS:
            w.foreign.append(req.url)

    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.on("request", on_request)
    return w


def open_page(context: BrowserContext, url: str) -> Watch:
    """Open url in a new page of context, recording what goes wrong."""
    page = context.new_page()
    w = watch(page)
    response = page.goto(url)
    assert response is None or response.ok, f"{url}: HTTP {response and response.status}"
    return w


ContextFactory = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser) -> Iterator[ContextFactory]:
    """Make fresh browser contexts (closed after the test); they record CSP violations."""
    made: list[BrowserContext] = []

    def factory(**options: Any) -> BrowserContext:
        context = browser.new_context(**options)
        context.add_init_script(CSP_RECORDER)
        made.append(context)
        return context

    yield factory
    for context in made:
        context.close()


@pytest.fixture
def page(new_context: ContextFactory) -> Page:
    """A page in a fresh default context (light scheme, 1000×800)."""
    return new_context(viewport={"width": 1000, "height": 800}).new_page()


def with_axe(context: BrowserContext) -> BrowserContext:
    """Load axe-core into every page of context.

    An init script, not `add_script_tag`: the site's CSP (rightly) refuses inline scripts.
    """
    if not AXE.is_file():
        if os.environ.get("CI"):
            pytest.fail("node_modules/axe-core is missing in CI: run `npm ci --ignore-scripts`")
        pytest.skip("axe-core is not installed (npm ci --ignore-scripts)")
    context.add_init_script(path=AXE)
    return context


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.2 A/AA and best practice (every <details> opened)."""
    found: list[dict[str, Any]] = page.evaluate(AXE_RUN, AXE_TAGS)
    return found


def format_violations(violations: list[dict[str, Any]]) -> str:
    """One line per rule, then each offending node's selector and axe's explanation."""
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n" + "\n".join(f"    {n}" for n in v["nodes"])
        for v in violations
    )
