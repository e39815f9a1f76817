"""HTML pages from the theme's Jinja templates. Returns (path, bytes) pairs; writes nothing.

Everything that came from the public is escaped plain text (autoescape, no Markdown);
only the team's notes and pages are Markdown, sanitised with nh3.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import markdown
import nh3
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from markupsafe import Markup

from generator.config import Config
from generator.errors import HeardError
from generator.meaning.lifecycle import CaseView, Facts
from generator.meaning.metrics import Month, distribution, monthly
from generator.record.model import URL_RE, State
from generator.record.store import Page
from generator.record.times import format_duration, format_instant, seconds_between
from generator.site.charts import Bar, bar_chart, stacked_bars

THEMES_ROOT = Path(__file__).resolve().parent / "themes"
PER_PAGE = 50
RESERVED = {"index", "open", "fixes", "stats", "how-we-count", "ledger", "channels", "find", "feed"}
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
STATE_LABELS: dict[State, str] = {
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
    """Only what the record accepts as a URL (http(s), no space or control) becomes a link."""
    return url if url and URL_RE.match(url) else None


@dataclass(frozen=True)
class SiteData:
    """Everything an aggregate page may show: every case's compact facts, the figures, now."""

    config: Config
    views: Sequence[Facts]
    summary: dict[str, Any]
    pages: Sequence[Page]
    now: datetime
    activity: dict[str, datetime] = field(default_factory=dict)
    gathered: dict[str, Freshness] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Freshness:
    """When a channel was last gathered well, and whether readers need a notice."""

    last_good: datetime | None
    last_error_at: datetime | None
    stale: bool


def freshness(
    states: dict[str, dict[str, Any]], channels: Sequence[str], now: datetime, stale_after: int
) -> dict[str, Freshness]:
    """Per channel with a gather state: stale when never or not recently gathered well."""
    out: dict[str, Freshness] = {}
    for channel in sorted(set(states) | set(channels)):
        if channel not in states:
            continue
        good = states[channel].get("last_good")
        error_at = states[channel].get("last_error_at")
        stale = good is None or (now - good).total_seconds() > stale_after
        out[channel] = Freshness(good, error_at, stale)
    return out


def theme_chain(site_dir: Path, name: str) -> list[Path]:
    """Theme folders, most specific first: the site's own copy, then heard's, then parents."""
    chain: list[Path] = []
    seen: set[str] = set()
    current: str | None = name
    while current is not None:
        if current in seen:
            raise HeardError(f"theme {current!r} extends itself (through {sorted(seen)})")
        seen.add(current)
        found = [d for d in (site_dir / "themes" / current, THEMES_ROOT / current) if d.is_dir()]
        if not found:
            raise HeardError(
                f"heard.toml: site.theme: no theme named {current!r} "
                f"(looked in {site_dir / 'themes'} and {THEMES_ROOT})"
            )
        chain.extend(found)
        current = None
        for folder in found:
            meta = folder / "theme.toml"
            if meta.is_file():
                current = _theme_parent(meta)
                break
    return chain


def _theme_parent(meta: Path) -> str | None:
    try:
        data = tomllib.loads(meta.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise HeardError(f"{meta}: invalid TOML: {exc}") from None
    unknown = set(data) - {"name", "extends", "description"}
    if unknown:
        raise HeardError(f"{meta}: {sorted(unknown)[0]}: unknown key")
    parent = data.get("extends")
    if parent is not None and not (isinstance(parent, str) and re.match(r"^[\w-]+$", parent)):
        raise HeardError(f"{meta}: extends: must be a theme name")
    return parent


@dataclass(frozen=True)
class Pager:
    """One page of a paginated list."""

    items: Sequence[Facts]
    number: int
    count: int
    total: int
    base: str  # "open" → open.html, open-2.html, …

    def href(self, number: int) -> str:
        """The file name of page `number` (relative to the list's folder)."""
        name = self.base.rsplit("/", 1)[-1]
        return f"{name}.html" if number == 1 else f"{name}-{number}.html"

    @property
    def path(self) -> str:
        """This page's path in the site."""
        folder = self.base.rsplit("/", 1)[0] + "/" if "/" in self.base else ""
        return folder + self.href(self.number)


def paginate(items: Sequence[Facts], base: str) -> list[Pager]:
    """Split a list into pages of PER_PAGE (at least one page, even when empty)."""
    count = max(1, math.ceil(len(items) / PER_PAGE))
    return [
        Pager(items[i * PER_PAGE : (i + 1) * PER_PAGE], i + 1, count, len(items), base)
        for i in range(count)
    ]


class Renderer:
    """Renders the site's HTML pages with a theme (site overrides first, then parents)."""

    def __init__(self, site_dir: Path, config: Config) -> None:
        self.config = config
        self.zone = ZoneInfo(config.site.timezone)
        chain = theme_chain(site_dir, config.site.theme)
        self.static_dirs = [d / "static" for d in chain]
        self.env = Environment(
            loader=FileSystemLoader([str(d / "templates") for d in chain]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # a build reads each template once, not once per page
        )
        self.env.filters.update(
            local=self.local,
            day=self.day,
            iso=format_instant,
            duration=lambda seconds: format_duration(seconds).replace(" ", "\u00a0"),
            safe_url=safe_url,
            note_html=note_html,
            month_name=month_name,
        )
        self.env.globals.update(
            STATE_LABELS=STATE_LABELS,
            KIND_LABELS=KIND_LABELS,
            CSP=Markup(CSP),  # noqa: S704 - our own constant (its quotes need no escaping)
            UGC_REL=UGC_REL,
        )

    def local(self, moment: datetime | None) -> str:
        """A time as readers see it: in the site's time zone."""
        if moment is None:
            return "—"
        here = moment.astimezone(self.zone)
        return f"{here.day} {here:%b %Y, %H:%M} {here.tzname() or ''}".rstrip()

    def day(self, moment: datetime) -> str:
        """A date in the site's time zone."""
        here = moment.astimezone(self.zone)
        return f"{here.day} {here:%b %Y}"

    def _page(
        self,
        template: str,
        path: str,
        pages: Sequence[Page],
        now: datetime | None = None,
        data: SiteData | None = None,
        **context: Any,
    ) -> tuple[str, bytes]:
        """One page. `now` (with the gather times of `data`) only on aggregate pages: a page
        rendered without it depends only on what it shows, and says so."""
        try:
            tpl = self.env.get_template(template)
        except TemplateNotFound:
            raise HeardError(
                f"theme {self.config.site.theme!r} has no template {template!r}"
            ) from None
        html = tpl.render(
            site=self.config.site,
            policy=self.config.policy,
            now=now,
            activity=data.activity if data and now else {},
            gathered=data.gathered if data and now else {},
            root="../" * path.count("/"),
            path=path,
            pages=pages,
            **context,
        )
        return path, html.encode("utf-8")

    def case_page(self, view: CaseView, pages: Sequence[Page]) -> bytes:
        """cases/<id>.html: a function of the case, its note, the theme, the config and the
        free pages (for the menu) — never of "now" or of other cases."""
        path = f"cases/{view.id}.html"
        return self._page("case.html", path, pages, view=view, steps=self.steps(view))[1]

    def check_pages(self, pages: Sequence[Page]) -> None:
        """Refuse a free page whose name a built-in page takes."""
        for page in pages:
            if page.slug in RESERVED:
                raise HeardError(
                    f"content/pages/{page.slug}.md: the name {page.slug!r} is taken by a "
                    "built-in page; rename the file"
                )

    def render(self, data: SiteData) -> Iterator[tuple[str, bytes]]:
        """Every HTML page and static asset of the site except the case pages."""
        self.check_pages(data.pages)
        yield from self.aggregate_pages(data)
        for template, path, context in self.lists(data):
            yield self.list_page(template, path, data, context)
        for page in data.pages:
            yield self._page("page.html", f"{page.slug}.html", data.pages, page=page)
        yield from self.static()
        yield ".nojekyll", b""

    def lists(self, data: SiteData) -> list[tuple[str, str, dict[str, Any]]]:
        """The paginated lists as (template, path, context); only their first page carries
        "now" (it is the aggregate page), so later pages stay put while nothing in them moves."""
        shown = [v for v in data.views if not v.hidden]
        out: list[tuple[str, str, dict[str, Any]]] = []
        for pager in paginate(open_cases(shown), "open"):
            out.append(("list.html", pager.path, {"pager": pager, "kind": "open"}))
        for pager in paginate(fixes_of(shown), "fixes"):
            out.append(("fixes.html", pager.path, {"pager": pager}))
        for channel in sorted({v.channel for v in data.views}):
            mine = sorted(
                (v for v in shown if v.channel == channel),
                key=lambda v: (v.opened, v.id),
                reverse=True,
            )
            for pager in paginate(mine, f"channels/{channel}"):
                context = {"pager": pager, "kind": "channel", "channel": channel}
                out.append(("list.html", pager.path, context))
        return out

    def list_page(
        self, template: str, path: str, data: SiteData, context: dict[str, Any]
    ) -> tuple[str, bytes]:
        """One page of a list (see `lists`)."""
        pager: Pager = context["pager"]
        if template == "fixes.html":
            context = {**context, "months": self.by_month(pager.items)}
        now = data.now if pager.number == 1 else None
        return self._page(template, path, data.pages, now, data, **context)

    def aggregate_pages(self, data: SiteData) -> Iterator[tuple[str, bytes]]:
        """Home, stats, how we count, ledger, channels, find: the pages that carry "now"."""
        shown = [v for v in data.views if not v.hidden]
        opened = open_cases(shown)
        fixes = fixes_of(shown)
        trend = monthly(data.views, data.now, months=12)
        while len(trend) > 1 and trend[0].cases == 0:
            trend = trend[1:]  # no empty months before the first case
        now = data.now
        yield self._page(
            "home.html",
            "index.html",
            data.pages,
            now,
            data,
            summary=data.summary,
            open_cases=opened[:20],
            open_total=len(opened),
            fixes=fixes[:10],
            trend_chart=self.trend_chart(trend[-6:], "home-trend"),
            trend=trend[-6:],
        )
        yield self.stats_page(data, trend)
        yield self._page("how-we-count.html", "how-we-count.html", data.pages)
        yield self._page(
            "ledger.html", "ledger.html", data.pages, now, data, ledger=ledger(data.views)
        )
        channels = sorted({v.channel for v in data.views})
        yield self._page(
            "channels.html",
            "channels.html",
            data.pages,
            now,
            data,
            channels=channels,
            summary=data.summary,
        )
        yield self._page("find.html", "find.html", data.pages, now, data, channels=channels)

    def by_month(self, views: Sequence[Facts]) -> list[tuple[str, list[Facts]]]:
        """Fixes grouped by the month they were fixed in (site time zone), in given order."""
        groups: list[tuple[str, list[Facts]]] = []
        for view in views:
            moment = (view.resolved_at or view.opened).astimezone(self.zone)
            label = f"{moment:%B %Y}"
            if not groups or groups[-1][0] != label:
                groups.append((label, []))
            groups[-1][1].append(view)
        return groups

    def trend_chart(self, trend: Sequence[Month], ident: str) -> Markup:
        """Monthly median first response as bars ("more than" bars are marked)."""
        return bar_chart(
            month_bars(trend, resolution=False),
            title="Median time to first public response, by month",
            ident=ident,
        )

    def stats_page(self, data: SiteData, trend: Sequence[Any]) -> tuple[str, bytes]:
        """Monthly trends and distributions of both times, per channel."""
        fr = distribution(data.views, data.now)
        rs = distribution(data.views, data.now, resolution=True)
        fix_bars = month_bars(trend, resolution=True)
        return self._page(
            "stats.html",
            "stats.html",
            data.pages,
            data.now,
            data,
            summary=data.summary,
            trend=trend,
            trend_chart=self.trend_chart(trend, "stats-trend"),
            fix_chart=bar_chart(
                fix_bars, title="Median time to a fix, by month opened", ident="stats-fix"
            ),
            fr_dist=fr,
            rs_dist=rs,
            fr_chart=stacked_bars(
                [(b.label, b.done, b.waiting) for b in fr],
                title="How long first public responses took, and how long the unanswered wait",
                ident="stats-frd",
            ),
            rs_chart=stacked_bars(
                [(b.label, b.done, b.waiting) for b in rs],
                title="How long fixes took, and how long the unfixed wait",
                ident="stats-rsd",
            ),
        )

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
        """Theme assets (the most specific theme wins), under static/."""
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


def month_bars(trend: Sequence[Month], *, resolution: bool) -> list[Bar]:
    """One bar per month: the median, or "more than" the longest wait when not reached."""
    bars = []
    for month in trend:
        km = month.resolution if resolution else month.first_response
        value = km.median if km.median is not None else km.more_than
        note = "—" if value is None else format_duration(value)
        if km.median is None and value is not None:
            note = "> " + note
        bars.append(Bar(month_name(month.month, short=True), value, note, km.median is None))
    return bars


def month_name(key: str, short: bool = False) -> str:
    """'2026-11' → 'November 2026' (or 'Nov 26')."""
    moment = datetime.strptime(key + "-01", "%Y-%m-%d")
    return f"{moment:%b %y}" if short else f"{moment:%B %Y}"


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """Moderation counts for one month and reason."""

    month: str
    action: State  # hidden | removed
    reason: str
    count: int


def open_cases(shown: Sequence[Facts]) -> list[Facts]:
    """Open and answered-but-not-fixed cases, oldest first (the given order)."""
    return [v for v in shown if v.state in ("open", "responded")]


def fixes_of(shown: Sequence[Facts]) -> list[Facts]:
    """Fixed cases, newest fix first."""
    return sorted(
        (v for v in shown if v.state == "resolved" and v.resolved_at),
        key=lambda v: (v.resolved_at or v.opened, v.id),
        reverse=True,
    )


def ledger(views: Sequence[Facts]) -> list[LedgerRow]:
    """Hidden and removed cases counted by month of the decision and reason, newest first."""
    counts: dict[tuple[str, State, str], int] = {}
    for view in views:
        if view.moderated_at is None:
            continue
        reason = (view.hidden_reason if view.hidden else view.removed_reason) or "no reason given"
        key = (view.moderated_at.strftime("%Y-%m"), view.state, reason.strip().lower())
        counts[key] = counts.get(key, 0) + 1
    rows = [LedgerRow(m, a, r, n) for (m, a, r), n in counts.items()]
    return sorted(rows, key=lambda r: (r.month, r.action, r.reason), reverse=True)
