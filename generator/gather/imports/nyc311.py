"""NYC 311 service requests from NYC Open Data (Socrata dataset erm2-nwe9): the CSV as
downloaded (API field names like `created_date`, or the website's "Created Date") or the
SODA JSON list (every value a string). A city publishing its own record.

Each request is a case on one channel, `nyc311` (the agency is a tag; `--company` keeps one
agency, by code or name). Times are New York local times without a zone: they take
`--timezone`, else `site.timezone` (see `fields.in_zone` for daylight saving).

- `complaint` at `created_date`; the title is the complaint type and descriptor. Street
  addresses and coordinates are left out: they can point at a person's home.
- The agency's public text (`resolution_description`) is its answer, at
  `resolution_action_updated_date`. NYC keeps only the latest text and its time, so an
  earlier answer may have been replaced: the time is when this text was last set. A text
  stamped at the very second the request was created is an automatic acknowledgement: it
  stays on the timeline as a system notice and is not counted as an answer. A time of
  exactly midnight is a date without a time (HPD writes its updates so): shown to the
  day, and one on the day the request was made counts as such a notice too.
- A `Closed` request closes at `closed_date` (or, without one, at the resolution's time),
  with the resolution text as the explanation. Whether a closure is a fix the data cannot
  tell ("took action to fix the condition" and "observed no evidence of the violation"
  both close), so it counts as closed, not fixed, unless `--closed-as resolved`.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

from generator.gather.imports.base import ImportFormat, ImportOptions, ImportResult
from generator.gather.imports.city import read_requests
from generator.gather.imports.fields import Draft, in_zone, iso_time, native_id
from generator.gather.imports.records import Record, check_columns, is_json, read_records

CHANNEL = "nyc311"
REQUIRED = ("unique_key", "created_date", "status")
_US_TIME = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?"
)
NOT_A_TEXT = {"", "n/a", "na", "none"}
_MIDNIGHT = re.compile(r".*(T| )(00:00(:00(\.0+)?)?|12:00(:00)? ?AM)", re.IGNORECASE)


def normalise(name: str) -> str:
    """ "Created Date" and "created_date" alike."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def local_time(record: Record, key: str, zone: zoneinfo.ZoneInfo, draft: Draft) -> datetime | None:
    """A time as NYC Open Data writes it (`2024-04-16T03:03:15.000` or `04/16/2024 03:03:15
    AM`), local to `zone` unless it carries one; None when empty."""
    value = record.get(key)
    if not value:
        return None
    moment = iso_time(value, zone)
    if moment is None and (us := _US_TIME.fullmatch(value)):
        month, day, year, hour, minute, second, half = us.groups()
        try:
            hours = int(hour)
            if half:
                if not 1 <= hours <= 12:
                    raise ValueError(hour)
                hours = hours % 12 + (12 if half.lower() == "pm" else 0)
            naive = datetime(int(year), int(month), int(day), hours, int(minute), int(second or 0))
            moment = in_zone(naive, zone)
        except ValueError:
            moment = None
    if moment is None:
        raise draft.fail(
            record.column(key), f"not a time like 2024-04-16T03:03:15.000: {value[:40]!r}"
        )
    return moment


def _precision(record: Record, key: str) -> Literal["day"] | None:
    """ "day" for a time of exactly midnight: a date written as a time."""
    return "day" if _MIDNIGHT.fullmatch(record.get(key)) else None


def _text(record: Record, key: str) -> str | None:
    value = record.get(key)
    return None if value.lower() in NOT_A_TEXT else value


def _case(record: Record, draft: Draft, zone: zoneinfo.ZoneInfo, closing: str) -> None:
    native = native_id(record.get("unique_key"))
    if native is None:
        raise draft.fail(record.column("unique_key"), "not a request number")
    created = local_time(record, "created_date", zone, draft)
    if created is None:
        raise draft.fail(record.column("created_date"), "empty: every request has one")
    draft.set("id", f"{CHANNEL}-{native}", record.column("unique_key"))
    draft.set("channel", CHANNEL)
    kind, what = record.get("complaint_type"), record.get("descriptor")
    draft.set("title", f"{kind}: {what}" if kind and what else kind or what or None)
    draft.columns["title"] = record.column("complaint_type")
    draft.set("tags", [t for t in (record.get("agency"),) if t], record.column("agency"))
    draft.event({"at": record.column("created_date")}, kind="complaint", at=created, by="customer")
    agency = record.get("agency") or None
    text = _text(record, "resolution_description")
    said_at = local_time(record, "resolution_action_updated_date", zone, draft)
    day = _precision(record, "resolution_action_updated_date")
    text_columns = {"text": record.column("resolution_description"), "handle": "agency"}
    if record.get("status").lower() == "closed":
        closed_at = local_time(record, "closed_date", zone, draft)
        closed_day = _precision(record, "closed_date")
        if closed_at is None:
            closed_at, closed_day = said_at, day
        if closed_at is None:
            draft.set("outcome", {"label": record.get("status"), "state": closing, "text": text})
            return
        draft.event(
            text_columns,
            kind=closing,
            at=closed_at,
            by="brand",
            text=text,
            handle=agency,
            precision=closed_day,
        )
    elif text is not None and said_at is not None:
        by, kind = ("system", "note") if said_at <= created else ("brand", "reply")
        draft.event(
            text_columns, kind=kind, at=said_at, by=by, text=text, handle=agency, precision=day
        )


def read(path: Path, shown: str, options: ImportOptions) -> ImportResult:
    """Every request (of one agency with `--company`)."""
    return read_requests(shown, options, _records(path, shown), _agencies, _case)


def _records(path: Path, shown: str) -> Iterator[tuple[int, Record]]:
    for record in read_records(
        path,
        shown,
        json_paths=[()],
        what="the 311 columns (unique_key, created_date, status, …)",
        normalise=normalise,
    ):
        check_columns(record, REQUIRED, shown)
        yield record.line, record


def _agencies(record: Record) -> tuple[str, str]:
    return record.get("agency"), record.get("agency_name")


def _looks_like(head: bytes) -> bool:
    text = head.lower()
    if is_json(head):
        return b'"unique_key"' in text and b'"created_date"' in text
    first = text.split(b"\n", 1)[0].replace(b" ", b"_")
    return b"unique_key" in first and b"created_date" in first


FORMAT = ImportFormat(
    name="nyc311",
    summary="NYC 311 service requests from NYC Open Data, CSV or JSON",
    read=read,
    looks_like=_looks_like,
    channel=CHANNEL,
    display="NYC 311",
)
