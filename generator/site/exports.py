"""Machine-readable outputs (not theme templates, so no theme can break them)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from json.encoder import encode_basestring  # C-accelerated
from typing import Any

from generator.meaning.lifecycle import CaseView, Facts
from generator.record.times import format_instant, seconds_between

_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(data: Any) -> bytes:
    """Stable, readable JSON bytes (key order as built, UTF-8, trailing newline)."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def compact(data: Any) -> bytes:
    """Compact JSON bytes (no spaces; UTF-8; trailing newline): per-case files, big lists."""
    return (_COMPACT.encode(data) + "\n").encode("utf-8")


def _instant(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def case_brief(view: Facts) -> dict[str, Any]:
    """A case's line in api/cases.json."""
    removed = view.removed
    return {
        "id": view.id,
        "channel": view.channel,
        "state": view.state,
        "url": None if removed else view.url,
        "opened_at": format_instant(view.opened),
        "first_response_at": _instant(view.first_response_at),
        "first_response_s": (
            seconds_between(view.opened, view.first_response_at) if view.first_response_at else None
        ),
        "resolved_at": _instant(view.resolved_at),
        "resolution_s": (
            seconds_between(view.opened, view.resolved_at) if view.resolved_at else None
        ),
    }


def case_detail(view: CaseView) -> dict[str, Any]:
    """api/cases/<id>.json: the case with its derived state, times and timeline.

    A removed case keeps only the fact and the dates. Nothing here depends on "now" or on
    other cases, so an unchanged case keeps the same bytes from build to build.
    """
    removed = view.removed
    case = view.case
    author = None
    if case.author is not None and not removed:
        author = case.author.model_dump(exclude_none=True)
    events = []
    for step in view.steps:
        e = step.event
        item: dict[str, Any] = {"kind": e.kind, "at": format_instant(e.at), "by": e.by}
        if not removed:
            for key in ("url", "text", "agent", "handle"):
                value = getattr(e, key)
                if value is not None:
                    item[key] = value
        if e.precision:
            item["precision"] = e.precision
        item["from_note"] = step.from_note
        item["counts_as_response"] = step.counts
        if not step.applied:
            item["superseded_by_note"] = True
        events.append(item)
    note = None
    if view.note is not None and not removed:
        note = {
            "status": view.note.status,
            "at": format_instant(view.note.at),
            "agent": view.note.agent,
            "markdown": view.note.body,
        }
    detail = {
        **case_brief(view),
        "title": None if removed else case.title,
        "author": author,
        "tags": [] if removed else list(case.tags),
        "removed_reason": view.removed_reason,
        "note": note,
        "events": events,
    }
    if case.outcome is not None:  # a dates-only case: the source's answer, without a time
        detail["outcome"] = case.outcome.model_dump(exclude_none=True)
    return detail


def _str(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _num(value: float | None) -> str:
    return "null" if value is None else json.dumps(value)


def case_json(view: CaseView) -> bytes:
    """`case_detail` as compact JSON, written field by field (a fixed shape: no dict, no
    encoder walk per case). The same bytes as `compact(case_detail(view))` (tested)."""
    removed = view.removed
    case = view.case
    first = view.first_response_at
    fixed = view.resolved_at
    opened = view.opened
    parts = [
        f'{{"id":{_str(view.id)},"channel":{_str(view.channel)},"state":{_str(view.state)}',
        f',"url":{_str(None if removed else case.url)}',
        f',"opened_at":"{format_instant(opened)}"',
        f',"first_response_at":{_str(format_instant(first) if first else None)}',
        f',"first_response_s":{_num(seconds_between(opened, first) if first else None)}',
        f',"resolved_at":{_str(format_instant(fixed) if fixed else None)}',
        f',"resolution_s":{_num(seconds_between(opened, fixed) if fixed else None)}',
        f',"title":{_str(None if removed else case.title)}',
    ]
    author = None if removed else case.author
    if author is None:
        parts.append(',"author":null')
    else:
        fields = [
            f'"{k}":{_str(v) if isinstance(v, str) else v}'
            for k, v in (("handle", author.handle), ("name", author.name), ("reach", author.reach))
            if v is not None
        ]
        parts.append(',"author":{' + ",".join(fields) + "}")
    tags = [] if removed else case.tags
    parts.append(',"tags":[' + ",".join(_str(t) for t in tags) + "]")
    parts.append(f',"removed_reason":{_str(view.removed_reason)}')
    note = None if removed else view.note
    if note is None:
        parts.append(',"note":null')
    else:
        parts.append(
            f',"note":{{"status":{_str(note.status)},"at":"{format_instant(note.at)}"'
            f',"agent":{_str(note.agent)},"markdown":{_str(note.body)}}}'
        )
    events = []
    for step in view.steps:
        e = step.event
        item = f'{{"kind":"{e.kind}","at":"{format_instant(e.at)}","by":"{e.by}"'
        if not removed:
            for key, value in (("url", e.url), ("text", e.text), ("agent", e.agent)):
                if value is not None:
                    item += f',"{key}":{_str(value)}'
            if e.handle is not None:
                item += f',"handle":{_str(e.handle)}'
        if e.precision:
            item += f',"precision":"{e.precision}"'
        item += f',"from_note":{_bool(step.from_note)},"counts_as_response":{_bool(step.counts)}'
        if not step.applied:
            item += ',"superseded_by_note":true'
        events.append(item + "}")
    parts.append(',"events":[' + ",".join(events) + "]")
    if case.outcome is not None:  # a dates-only case (rare): the source's answer, no time
        parts.append(',"outcome":' + _COMPACT.encode(case.outcome.model_dump(exclude_none=True)))
    parts.append("}\n")
    return "".join(parts).encode("utf-8")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def api_files(
    views: Sequence[CaseView], summary: dict[str, Any], now: datetime
) -> Iterator[tuple[str, bytes]]:
    """api/summary.json, api/cases.json and one api/cases/<id>.json per shown case."""
    del now  # the figures carry their own "now"
    yield "api/summary.json", dumps(summary)
    shown = [v for v in views if not v.hidden]
    yield "api/cases.json", cases_json(shown)
    for view in shown:
        yield f"api/cases/{view.id}.json", case_json(view)


def cases_json(shown: Iterable[Facts]) -> bytes:
    """api/cases.json: one compact line per shown case, in a JSON array."""
    lines = [_COMPACT.encode(case_brief(v)).encode("utf-8") for v in shown]  # one copy: bytes
    return b"[\n" + b",\n".join(lines) + (b"\n]\n" if lines else b"]\n")
