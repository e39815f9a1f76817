"""HTML pages from the theme's Jinja templates. Returns (path, bytes) pairs; writes nothing.

Everything that came from the public is escaped plain text (autoescape, no Markdown);
only the team's notes and pages are Markdown, sanitised with nh3.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import markdown
import nh3
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from generator.config import Config
from generator.lifecycle import CaseView
from generator.store import Page
from generator.times import format_duration, format_instant, seconds_between

THEMES_ROOT = Path(__file__).resolve().parent.parent / "themes"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'"
)
UGC_REL = "nofollow ugc noopener"
_NOTE_TAGS = {
    "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "hr", "del", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_CLEANER = nh3.Cleaner(
    tags=_NOTE_TAGS,
    attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="nofollow noopener",
)
STATE_LABELS = {
    "open": "Open — no public answer yet",
    "responded": "Answered — not fixed yet",
    "resolved": "Fixed",
    "closed": "Closed, not fixed",
    "hidden": "Hidden",
    "removed": "Removed at the author's request",
}
KIND_LABELS = {
    "complaint": "Complaint",
    "reply": "Brand reply",
    "customer_reply": "Customer reply",
    "moved_private": "Moved to a private channel",
    "follow_up": "Brand follow-up",
    "resolved": "Fixed",
    "closed": "Closed without a fix",
    "reopened": "Reopened",
    "hidden": "Hidden",
    "removed": "Removed",
    "note": "Team note",
}


def note_html(text: str, top: int = 3) -> Markup:
    """The team's Markdown, rendered and sanitised (no raw HTML survives unless allow-listed).

    Headings are shifted so the highest one becomes `h{top}` and the page outline stays valid.
    """
    rendered = markdown.markdown(text, extensions=["tables"], output_format="html")
    levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", rendered)]
    if levels:
        delta = top - min(levels)
        rendered = re.sub(
            r"<(/?)h([1-6])([ >])",
            lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + delta)}{m.group(3)}",
            rendered,
        )
    return Markup(_CLEANER.clean(rendered))  # noqa: S704 - sanitised by nh3 just above


def safe_url(url: str | None) -> str | None:
    """Only http(s) URLs become links."""
    if url and re.match(r"^https?://", url, re.IGNORECASE) and not re.search(r"\s", url):
        return url
    return None


@dataclass(frozen=True)
class SiteData:
    """Everything a page may show, loaded once before rendering."""

    config: Config
    views: Sequence[CaseView]
    summary: dict[str, Any]
    pages: Sequence[Page]
    now: datetime
    activity: dict[str, datetime] = field(default_factory=dict)


class Renderer:
    """Renders the site's HTML pages with a theme (site overrides first, then the theme)."""

    def __init__(self, site_dir: Path, config: Config) -> None:
        self.config = config
        self.zone = ZoneInfo(config.site.timezone)
        search = [
            site_dir / "themes" / config.site.theme / "templates",
            THEMES_ROOT / config.site.theme / "templates",
            THEMES_ROOT / "default" / "templates",
        ]
        self.static_dirs = [
            site_dir / "themes" / config.site.theme / "static",
            THEMES_ROOT / config.site.theme / "static",
            THEMES_ROOT / "default" / "static",
        ]
        self.env = Environment(
            loader=FileSystemLoader([str(p) for p in search if p.is_dir()]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(
            local=self.local,
            iso=format_instant,
            duration=format_duration,
            safe_url=safe_url,
            note_html=note_html,
        )
        self.env.globals.update(
            STATE_LABELS=STATE_LABELS, KIND_LABELS=KIND_LABELS, CSP=CSP, UGC_REL=UGC_REL
        )

    def local(self, moment: datetime | None) -> str:
        """A time as readers see it: in the site's time zone."""
        if moment is None:
            return "—"
        here = moment.astimezone(self.zone)
        return here.strftime("%-d %b %Y, %H:%M ") + (here.tzname() or "")

    def _page(self, template: str, path: str, data: SiteData, **context: Any) -> tuple[str, bytes]:
        depth = path.count("/")
        html = self.env.get_template(template).render(
            site=self.config.site,
            policy=self.config.policy,
            now=data.now,
            activity=data.activity,
            root="../" * depth,
            path=path,
            **context,
        )
        return path, html.encode("utf-8")

    def render(self, data: SiteData) -> Iterator[tuple[str, bytes]]:
        """Every HTML page and static asset of the site."""
        shown = [v for v in data.views if not v.hidden]
        open_cases = [v for v in shown if v.state in ("open", "responded")]
        fixes = sorted(
            (v for v in shown if v.state == "resolved" and v.resolved_at),
            key=lambda v: (v.resolved_at or v.opened, v.id),
            reverse=True,
        )
        yield self._page(
            "home.html",
            "index.html",
            data,
            summary=data.summary,
            open_cases=open_cases[:50],
            open_total=len(open_cases),
            fixes=fixes[:10],
        )
        for view in shown:
            yield self._page(
                "case.html", f"cases/{view.id}.html", data, view=view, steps=self.steps(view)
            )
        for page in data.pages:
            yield self._page("page.html", f"{page.slug}.html", data, page=page, pages=data.pages)
        yield from self.static()
        yield ".nojekyll", b""

    def steps(self, view: CaseView) -> list[dict[str, Any]]:
        """Timeline rows with the time each step took from the opening and from the previous."""
        rows = []
        previous = view.opened
        for step in view.steps:
            at = step.event.at
            rows.append(
                {
                    "step": step,
                    "since_open": seconds_between(view.opened, at),
                    "since_previous": seconds_between(previous, at),
                }
            )
            previous = max(previous, at)
        return rows

    def static(self) -> Iterator[tuple[str, bytes]]:
        """Theme assets (site overrides win), under static/."""
        seen: set[str] = set()
        for folder in self.static_dirs:
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    rel = path.relative_to(folder).as_posix()
                    if rel not in seen:
                        seen.add(rel)
                        yield f"static/{rel}", path.read_bytes()
