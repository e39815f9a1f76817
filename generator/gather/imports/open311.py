"""Any city's Open311 GeoReport v2 `requests.json` (a JSON list of service requests), and
heard's own export of it (`open311/v2/requests.json`). A city publishing its own record.

Each request is a case on the channel `open311` (`--company` keeps one agency):

- `complaint` at `requested_datetime`, with the `description`; the title is the service's
  name, the tags its agency. Addresses, coordinates and media are left out.
- `closed`: the request closes at `updated_datetime` ("for requests with status=closed,
  this will be the date the request was closed") with `status_notes` as the explanation;
  closed, not fixed, unless `--closed-as resolved` (GeoReport cannot say which). Closed
  without an `updated_datetime`: its outcome is known, its time is not (dates only).
- `open` with `status_notes` written after the request: the agency's public answer, at
  `updated_datetime` (the time it was last changed: an earlier note may have been replaced).
- heard's own export carries its states and times in `extended_attributes` (`heard_state`,
  `first_response_datetime`, `resolved_datetime`, `heard_outcome`): they are read back
  exactly, so a site's export round-trips into the same states and times. (The time a
  closed case closed is not exported: it closes at its `updated_datetime`.)

Datetimes should carry a zone (W3C format); those without take `--timezone`.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.gather.imports.base import ImportFormat, ImportOptions, ImportResult
from generator.gather.imports.city import read_requests
from generator.gather.imports.csvrows import fail
from generator.gather.imports.fields import Draft, iso_time, native_id
from generator.gather.imports.jsonstream import json_items
from generator.gather.imports.records import opened
from generator.record.model import Outcome

CHANNEL = "open311"
STATUSES = ("open", "closed")
HEARD_STATES = ("open", "responded", "resolved", "closed", "removed")


class _Request:
    """One service request (a JSON object), read field by field."""

    def __init__(self, item: dict[str, Any], draft: Draft, zone: zoneinfo.ZoneInfo) -> None:
        self.item = item
        self.draft = draft
        self.zone = zone

    def text(self, key: str, source: dict[str, Any] | None = None) -> str | None:
        value = (self.item if source is None else source).get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.draft.fail(key, "must be a string")
        return value.strip() or None

    def time(self, key: str, source: dict[str, Any] | None = None) -> datetime | None:
        value = self.text(key, source)
        if value is None:
            return None
        moment = iso_time(value, self.zone)
        if moment is None:
            raise self.draft.fail(
                key, f"not a W3C date and time like 2010-04-14T06:37:38-08:00: {value[:40]!r}"
            )
        return moment


def _heard(request: _Request, extended: dict[str, Any], opened: datetime) -> None:
    """Events from heard's own export: its state and times, exactly."""
    draft = request.draft
    state = request.text("heard_state", extended)
    if state not in HEARD_STATES:
        raise draft.fail(
            "extended_attributes.heard_state", f"must be one of {', '.join(HEARD_STATES)}"
        )
    first = request.time("first_response_datetime", extended)
    fixed = request.time("resolved_datetime", extended)
    updated = request.time("updated_datetime") or opened
    notes = request.text("status_notes")
    outcome = extended.get("heard_outcome")
    if outcome is not None:
        if not isinstance(outcome, dict):
            raise draft.fail("extended_attributes.heard_outcome", "must be an object")
        draft.set("outcome", outcome)
        draft.columns["outcome"] = "extended_attributes.heard_outcome"
        for key in Outcome.model_fields:
            draft.columns[f"outcome.{key}"] = f"extended_attributes.heard_outcome.{key}"
    columns = {"at": "extended_attributes.first_response_datetime"}
    ends = {"resolved": fixed, "closed": updated}.get(state or "")
    if first is not None and (ends is None or first < ends):
        draft.event(columns, kind="reply", at=first, by="brand")
    if state in ("resolved", "closed") and ends is not None and outcome is None:
        draft.event({"text": "status_notes"}, kind=state, at=ends, by="brand", text=notes)
    if state == "removed":
        draft.event({"text": "status_notes"}, kind="removed", at=updated, by="brand", text=notes)


def _city(request: _Request, opened: datetime, closing: str) -> None:
    """Events from a city's request: status, notes, updated time."""
    draft = request.draft
    status = (request.text("status") or "").lower()
    if status not in STATUSES:
        raise draft.fail("status", "must be open or closed")
    updated = request.time("updated_datetime")
    notes = request.text("status_notes")
    if status == "closed":
        if updated is None:
            draft.set("outcome", {"label": "closed", "state": closing, "text": notes})
            return
        draft.event(
            {"at": "updated_datetime", "text": "status_notes"},
            kind=closing,
            at=updated,
            by="brand",
            text=notes,
        )
    elif notes is not None and updated is not None and updated > opened:
        draft.event(
            {"at": "updated_datetime", "text": "status_notes"},
            kind="reply",
            at=updated,
            by="brand",
            text=notes,
        )


def _case(item: Any, draft: Draft, zone: zoneinfo.ZoneInfo, closing: str) -> None:
    if not isinstance(item, dict):
        raise draft.fail(None, "a service request must be an object ({…})")
    request = _Request(item, draft, zone)
    native = native_id(request.text("service_request_id") or "")
    if native is None:
        raise draft.fail("service_request_id", "missing or not an id")
    opened = request.time("requested_datetime")
    if opened is None:
        raise draft.fail("requested_datetime", "missing: every request has one")
    draft.set("id", f"{CHANNEL}-{native}", "service_request_id")
    draft.set("channel", CHANNEL)
    draft.set("title", request.text("service_name") or request.text("service_code"), "service_name")
    draft.set("tags", [t for t in (request.text("agency_responsible"),) if t], "agency_responsible")
    draft.event(
        {"text": "description"},
        kind="complaint",
        at=opened,
        by="customer",
        text=request.text("description"),
    )
    extended = item.get("extended_attributes")
    if isinstance(extended, dict) and "heard_state" in extended:
        _heard(request, extended, opened)
    else:
        _city(request, opened, closing)


def read(path: Path, shown: str, options: ImportOptions) -> ImportResult:
    """Every service request (of one agency with `--company`)."""
    return read_requests(shown, options, _items(path, shown), _agencies, _case)


def _items(path: Path, shown: str) -> Iterator[tuple[int, Any]]:
    with opened(path, shown) as (stream, json):
        if not json:
            raise fail(shown, 1, None, "not JSON: read requests.json (requests.xml is not read)")
        yield from json_items(stream, shown, [()])


def _agencies(item: Any) -> tuple[str] | None:
    """Its agency; None for an item that is not an object (`_case` says so)."""
    return (str(item.get("agency_responsible") or ""),) if isinstance(item, dict) else None


def _looks_like(head: bytes) -> bool:
    return b'"service_request_id"' in head and b'"requested_datetime"' in head


FORMAT = ImportFormat(
    name="open311",
    summary="an Open311 GeoReport v2 requests.json (any city's, or heard's own export)",
    read=read,
    looks_like=_looks_like,
    channel=CHANNEL,
    display="Open311",
)
