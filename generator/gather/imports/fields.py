"""What the table and JSON importers share: case ids from a source's own ids, local times,
and a case assembled field by field whose every bad value names its file, line and column.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import ValidationError

from generator.errors import HeardError, error_message, field_path
from generator.gather.imports.csvrows import fail
from generator.record.model import Case
from generator.record.times import MAX_YEAR, MIN_YEAR

MAX_NATIVE = 200  # the native part of a case id (docs/record-format.md)
_ISO = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|z|[+-]\d\d:?\d\d)?")
DAY_HOUR = 12  # a date without a time is noon UTC: the same day in every zone from -11 to +11


def native_id(value: str) -> str | None:
    """A source's own id as the native part of a case id (None if empty or too long).

    Letters, digits and `.`, `_`, `-` (not first) are kept; any other character becomes
    `~` and its UTF-8 bytes in hex (`SR#12` → `SR~2312`), so different ids stay different.
    """
    value = value.strip()
    out: list[str] = []
    for index, ch in enumerate(value):
        if ch.isascii() and (ch.isalnum() or (index and ch in "._-")):
            out.append(ch)
        else:
            out.extend(f"~{byte:02X}" for byte in ch.encode("utf-8", "surrogatepass"))
    text = "".join(out)
    if text.startswith("~"):
        text = "0" + text  # the native part starts with a letter or digit
    return text if 0 < len(text) <= MAX_NATIVE else None


def zone_named(name: str | None, what: str = "--timezone") -> zoneinfo.ZoneInfo:
    """The IANA time zone `name` (UTC when None)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise HeardError(
            f"{what}: unknown time zone {name!r} (use an IANA name like America/New_York)"
        ) from None


def in_zone(moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime | None:
    """A time as UTC; one without a zone is local time in `zone`.

    Daylight saving: a local time that happens twice (the hour the clocks go back) is the
    first of the two; one that never happens (the hour skipped when they go forward) is
    read with the offset in force before the change, so 02:30 becomes 03:30 summer time.
    (This is Python's `fold=0`.) None outside the record's years.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone, fold=0)
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return utc if MIN_YEAR <= utc.year <= MAX_YEAR else None


def iso_time(text: str, zone: zoneinfo.ZoneInfo) -> datetime | None:
    """An ISO 8601 date-time (`2024-04-16T03:03:15.000`, with or without a zone) as UTC."""
    value = text.strip()
    if not _ISO.fullmatch(value):
        return None
    fraction = re.search(r"\.(\d{7,9})", value)
    if fraction:  # Python keeps microseconds
        value = value.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        return in_zone(datetime.fromisoformat(value.replace("z", "Z")), zone)
    except ValueError:
        return None


def noon_of(day: date) -> datetime:
    """The instant a day-precision event is stored at (noon UTC of that day)."""
    return datetime.combine(day, time(DAY_HOUR), tzinfo=UTC)


@dataclass
class Draft:
    """A case being assembled from one row or item: each value remembers its column, so a
    value the record refuses is named by file, line and column."""

    shown: str
    line: int
    data: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field path → column

    def set(self, key: str, value: Any, column: str | None = None) -> None:
        """A case field (`title`, `url`, `author.handle`, …); None and "" are left out."""
        if value is None or value == "" or value == []:
            return
        *parents, last = key.split(".")
        target = self.data
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
        if column:
            self.columns[key] = column

    def event(self, columns: dict[str, str] | None = None, **fields: Any) -> None:
        """An event (kind, at, by, text, …); `columns` names the column of each field."""
        index = len(self.events)
        self.events.append({k: v for k, v in fields.items() if v is not None and v != ""})
        for key, column in (columns or {}).items():
            self.columns[f"events[{index}].{key}"] = column

    def fail(self, column: str | None, message: str) -> HeardError:
        """An error on this row or item."""
        return fail(self.shown, self.line, column, message)

    def build(self) -> Case:
        """The case, or a HeardError naming the column of the first value refused."""
        try:
            return Case.model_validate({**self.data, "events": self.events})
        except ValidationError as exc:
            first = exc.errors()[0]
            path = field_path(first["loc"])
            column = self.columns.get(path) or self.columns.get(path.rsplit("[", 1)[0])
            message = error_message(first, unknown="unknown field")
            raise self.fail(column or path or None, message) from None
