"""Machine-readable outputs (not theme templates, so no theme can break them)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from generator.meaning.lifecycle import CaseView
from generator.record.times import format_instant, seconds_between


def dumps(data: Any) -> bytes:
    """Stable, readable JSON bytes (key order as built, UTF-8, trailing newline)."""
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _instant(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def case_brief(view: CaseView) -> dict[str, Any]:
    """A case's line in api/cases.json."""
    removed = view.removed
    return {
        "id": view.id,
        "channel": view.channel,
        "state": view.state,
        "url": None if removed else view.case.url,
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


def case_detail(view: CaseView, now: datetime) -> dict[str, Any]:
    """api/cases/<id>.json: the case with its derived state, times and timeline.

    A removed case keeps only the fact and the dates.
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
        "generated_at": format_instant(now),
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


def api_files(
    views: Sequence[CaseView], summary: dict[str, Any], now: datetime
) -> Iterator[tuple[str, bytes]]:
    """api/summary.json, api/cases.json and one api/cases/<id>.json per shown case."""
    yield "api/summary.json", dumps(summary)
    shown = [v for v in views if not v.hidden]
    yield "api/cases.json", dumps([case_brief(v) for v in shown])
    for view in shown:
        yield f"api/cases/{view.id}.json", dumps(case_detail(view, now))
