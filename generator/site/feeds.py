"""Atom 1.0 feeds (RFC 4287): `feed.xml` (one entry per case) and `feeds/<id>.xml` (its steps).

Machine output that no theme can break. A feed is a fixed shape, written as text: every
piece of public text goes through `_esc`/`_q` (escaped; characters that XML 1.0 cannot carry
dropped), with no DOM built per case. Hidden cases never
appear; a removed case keeps only its id, state and dates. The bytes depend only on the
input (`now` comes in), so the same record gives the same feed.

Ids are stable across builds: an entry of `feed.xml` is the case page's URL, an entry of a
case feed is that URL with a fragment naming the step's time and kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from generator.config import Config
from generator.meaning.lifecycle import CaseView, Step
from generator.record.model import State
from generator.record.times import format_instant
from generator.site.render import KIND_LABELS, STATE_LABELS, safe_url

ATOM_NS = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 200  # entries per feed, newest first
MAX_TEXT = 4000  # characters of one piece of public text in an entry (the case page has it all)
TITLE_CHARS = 80  # characters of a complaint used as an entry title
ELLIPSIS = "…"

# Not allowed in XML 1.0 (Char production): C0 controls except tab/LF/CR, surrogates, FFFE/FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NEWLINES = re.compile(r"\r\n?")

TITLE_PREFIXES: dict[State, str] = {
    "open": "Open",
    "responded": "Answered",
    "resolved": "Fixed",
    "closed": "Closed, not fixed",
    "removed": STATE_LABELS["removed"],
}


def xml_text(text: str) -> str:
    """Text XML 1.0 can carry as it is: forbidden characters dropped, newlines as LF.

    (A parser turns CR and CRLF into LF, so they are normalised here to round-trip.)
    """
    return _NOT_XML.sub("", _NEWLINES.sub("\n", text))


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; a cut text ends with "…"."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces."""
    return " ".join(text.split())


def case_url(config: Config, view: CaseView) -> str:
    """The case page's absolute URL."""
    return f"{config.site.base_url}cases/{view.id}.html"


def complaint_text(view: CaseView) -> str | None:
    """The opening complaint's text (the earliest complaint with text), if any."""
    for step in view.steps:
        if step.event.kind == "complaint" and step.event.text:
            return step.event.text
    return None


def original_url(view: CaseView) -> str | None:
    """The public post the case started from (http(s) only); never for a removed case."""
    if view.removed:
        return None
    urls = [s.event.url for s in view.steps if s.event.kind == "complaint" and s.event.url]
    return safe_url(view.case.url) or next((u for u in map(safe_url, urls) if u), None)


def case_title(view: CaseView) -> str:
    """ "Fixed: <title or the complaint's first 80 characters>" (a removed case: the fact only)."""
    prefix = TITLE_PREFIXES.get(view.state, STATE_LABELS.get(view.state, view.state))
    if view.removed:
        return prefix
    subject = one_line(xml_text(view.case.title or complaint_text(view) or ""))
    if not subject:
        subject = f"a complaint on {view.channel}"
    return f"{prefix}: {clip(subject, TITLE_CHARS)}"


class Clock:
    """Times as readers see them (the site's zone) and as Atom needs them (RFC 3339, Z)."""

    def __init__(self, config: Config) -> None:
        self.zone = ZoneInfo(config.site.timezone)

    def local(self, moment: datetime) -> str:
        here = moment.astimezone(self.zone)
        return here.strftime("%-d %b %Y, %H:%M ") + (here.tzname() or "")


def step_label(step: Step, removed: bool) -> str:
    """ "Brand reply (JM)", with what the site says about bots and superseded steps."""
    label = KIND_LABELS.get(step.event.kind, step.event.kind)
    if step.event.agent and not removed:
        label += f" ({one_line(xml_text(step.event.agent))})"
    if step.bot:
        label += ", automated: not counted as an answer"
    if not step.applied:
        label += ", superseded by the team's note"
    return label


def _esc(text: str) -> str:
    """Element text: only what XML can carry, with &, < and > escaped."""
    return xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _q(text: str) -> str:
    """An attribute value, escaped for double quotes (newlines and tabs kept as references)."""
    return _esc(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _link(rel: str, href: str, type_: str | None = None) -> str:
    kind = f' type="{_q(type_)}"' if type_ else ""
    return f'<link rel="{rel}" href="{_q(href)}"{kind}/>\n'


def _feed(config: Config, feed_id: str, title: str, updated: datetime, alternate: str) -> str:
    """The feed's head, up to its first entry (written as text: a fixed shape, no DOM)."""
    site = config.site
    subtitle = (
        f'<subtitle type="text">{_esc(site.description)}</subtitle>\n' if site.description else ""
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="{ATOM_NS}" xml:lang="{_q(site.language)}">\n'
        f"<id>{_esc(feed_id)}</id>\n"
        f'<title type="text">{_esc(title)}</title>\n'
        f"{subtitle}"
        f"<updated>{format_instant(updated)}</updated>\n"
        + _link("self", feed_id, "application/atom+xml")
        + _link("alternate", alternate, "text/html")
        + f"<author><name>{_esc(site.brand)}</name></author>\n"
        "<generator>heard</generator>\n"
    )


def _entry(
    entry_id: str,
    title: str,
    published: datetime | None,
    updated: datetime,
    links: str,
    category: tuple[str, str] | None,
    content: str,
) -> str:
    kind = f'<category term="{_q(category[0])}" label="{_q(category[1])}"/>\n' if category else ""
    first = f"<published>{format_instant(published)}</published>\n" if published else ""
    return (
        f"<entry>\n<id>{_esc(entry_id)}</id>\n"
        f'<title type="text">{_esc(title)}</title>\n'
        f"{first}"
        f"<updated>{format_instant(updated)}</updated>\n"
        f"{links}"
        f"{kind}"
        f'<content type="text">{_esc(content)}</content>\n</entry>\n'
    )


def _serialise(head: str, entries: list[str]) -> bytes:
    return (head + "".join(entries) + "</feed>\n").encode("utf-8")


def _case_content(view: CaseView, clock: Clock, url: str) -> str:
    if view.removed:
        return (
            f"{STATE_LABELS['removed']}: only the dates stay on the record.\n"
            f"Opened {clock.local(view.opened)}; last step {clock.local(view.last_event_at)}."
        )
    parts = []
    complaint = complaint_text(view)
    parts.append(clip(complaint, MAX_TEXT) if complaint else "(The complaint has no text.)")
    latest = view.steps[-1]
    if not (latest.event.kind == "complaint" and latest.event.at == view.opened):
        line = f"Latest: {step_label(latest, False)}, {clock.local(latest.event.at)}"
        text = latest.event.text
        parts.append(f"{line}:\n{clip(text, MAX_TEXT)}" if text else f"{line}.")
    parts.append(f"Status: {STATE_LABELS.get(view.state, view.state)}.\n{url}")
    return "\n\n".join(parts)


def site_feed(shown: Sequence[CaseView], config: Config, now: datetime, clock: Clock) -> bytes:
    """`feed.xml`: one entry per shown case, newest last event first."""
    by_id = sorted(shown, key=lambda v: v.id)
    newest = sorted(by_id, key=lambda v: v.last_event_at, reverse=True)[:MAX_ENTRIES]
    base = config.site.base_url
    updated = max((v.last_event_at for v in newest), default=now)
    head = _feed(config, base + "feed.xml", f"{config.site.brand}: we heard you", updated, base)
    items = []
    for view in newest:
        url = case_url(config, view)
        original = original_url(view)
        links = _link("alternate", url, "text/html") + (
            _link("related", original) if original else ""
        )
        items.append(
            _entry(
                url,
                case_title(view),
                view.opened,
                view.last_event_at,
                links,
                (view.state, STATE_LABELS.get(view.state, view.state)),
                _case_content(view, clock, url),
            )
        )
    return _serialise(head, items)


def step_ids(view: CaseView, url: str) -> list[str]:
    """Stable ids of a case's steps: the case URL + "#step-<UTC time>-<kind>[-n]"."""
    ids: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for step in view.steps:
        stamp = format_instant(step.event.at).replace("-", "").replace(":", "")
        key = (stamp, step.event.kind)
        seen[key] = seen.get(key, 0) + 1
        suffix = f"-{seen[key]}" if seen[key] > 1 else ""
        ids.append(f"{url}#step-{stamp}-{step.event.kind}{suffix}")
    return ids


def case_feed(view: CaseView, config: Config, clock: Clock) -> bytes:
    """`feeds/<id>.xml`: one entry per timeline step, newest first."""
    url = case_url(config, view)
    subject = f"case {view.id}" if view.removed else case_title(view)
    head = _feed(
        config,
        f"{config.site.base_url}feeds/{view.id}.xml",
        f"{config.site.brand}: {subject}",
        view.last_event_at,
        url,
    )
    ids = step_ids(view, url)
    numbered = list(zip(view.steps, ids, strict=True))
    newest = sorted(reversed(numbered), key=lambda pair: pair[0].event.at, reverse=True)
    alternate = _link("alternate", url)
    items = []
    for step, step_id in newest[:MAX_ENTRIES]:
        event = step.event
        label = step_label(step, view.removed)
        original = None if view.removed else safe_url(event.url)
        if view.removed or not event.text:
            content = f"{label}, {clock.local(event.at)}."
        else:
            content = clip(event.text, MAX_TEXT)
        items.append(
            _entry(
                step_id,
                label,
                None,  # a step happens once: published would repeat updated
                event.at,
                alternate + (_link("related", original) if original else ""),
                None,  # the step's kind is its title, and the last part of its id
                content,
            )
        )
    return _serialise(head, items)


def files(
    views: Sequence[CaseView], summary: dict[str, Any], config: Config, now: datetime
) -> Iterator[tuple[str, bytes]]:
    """`feed.xml` and one `feeds/<id>.xml` per shown case (hidden cases are left out)."""
    del summary  # the feeds follow cases, not figures
    clock = Clock(config)
    shown = sorted((v for v in views if not v.hidden), key=lambda v: v.id)
    yield "feed.xml", site_feed(shown, config, now, clock)
    for view in shown:
        yield f"feeds/{view.id}.xml", case_feed(view, config, clock)
