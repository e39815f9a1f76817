"""Any CSV export (a helpdesk, a social inbox, a spreadsheet of Yelp reviews and the owner's
public replies) through a column map: `heard import --format csv --map MAP.toml FILE`.

The map names which column holds which case field, how times are written and in which
zone (docs/sources.md has the keys and a Yelp example). Each row is a case; rows with the
same id are one case (an export with one row per reply). A map that names a column the
file does not have is an error naming the map's line and the column; a value the record
refuses is an error naming the file, line and column.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from generator.config import CHANNEL_RE, TomlLocator, parse_toml
from generator.errors import HeardError, Problem, ProblemsError, error_message, field_path
from generator.gather.imports.base import ImportFormat, ImportOptions, ImportResult
from generator.gather.imports.csvrows import fail
from generator.gather.imports.fields import Draft, in_zone, iso_time, native_id, noon_of, zone_named
from generator.gather.imports.records import Record, opened, read_records
from generator.record.model import Case
from generator.record.store import merge_into

ColumnName = Annotated[str, Field(min_length=1, max_length=200)]
_TIME_OF_DAY = re.compile(r"%[HIMSXcTRrp]")


def _zone(name: str) -> str:
    try:
        zone_named(name)
    except HeardError:
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like America/New_York)"
        ) from None
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Columns(_Strict):
    """Which column holds each case field (only `id` and `opened` are required)."""

    id: ColumnName
    opened: ColumnName
    text: ColumnName | None = None
    title: ColumnName | None = None
    author: ColumnName | None = None
    author_name: ColumnName | None = None
    url: ColumnName | None = None
    tags: ColumnName | None = None
    rating: ColumnName | None = None
    reply_at: ColumnName | None = None
    reply_text: ColumnName | None = None
    reply_agent: ColumnName | None = None
    resolved_at: ColumnName | None = None
    resolved_note: ColumnName | None = None
    closed_at: ColumnName | None = None
    closed_note: ColumnName | None = None


class ColumnMap(_Strict):
    """MAP.toml."""

    channel: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")] | None = None
    channel_column: ColumnName | None = None
    time_formats: Annotated[list[Annotated[str, Field(min_length=2)]], Field(min_length=1)] = [
        "iso"
    ]
    timezone: Annotated[str, AfterValidator(_zone)] | None = None
    tags_separator: Annotated[str, Field(min_length=1)] = ","
    complaint_max_rating: float = 3
    columns: Columns

    @model_validator(mode="after")
    def _one_channel(self) -> ColumnMap:
        if (self.channel is None) == (self.channel_column is None):
            raise ValueError("give either channel (every row's) or channel_column")
        for fmt in self.time_formats:
            if fmt != "iso" and "%" not in fmt:
                raise ValueError(f"time_formats: {fmt!r} is not 'iso' nor a strftime format")
        return self


def load_map(path: Path) -> tuple[ColumnMap, TomlLocator]:
    """The map and where each key is in it; every problem names the map's file and line."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HeardError(f"{shown}: no such file (the column map given with --map)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HeardError(f"{shown}: cannot read: {exc}") from None
    data = parse_toml(text, shown)
    locator = TomlLocator(text.removeprefix("\ufeff"))
    try:
        return ColumnMap.model_validate(data), locator
    except ValidationError as exc:
        problems = [
            Problem(shown, locator.line_of(tuple(e["loc"])), field_path(e["loc"]) or None,
                    error_message(e).removeprefix("Value error, "))
            for e in exc.errors()
        ]  # fmt: skip
        raise ProblemsError(sorted(problems, key=lambda p: p.line or 0)) from None


class _Times:
    """Times as the map says they are written; a date alone is a day-precision event."""

    def __init__(self, formats: list[str], zone: zoneinfo.ZoneInfo) -> None:
        self.formats = formats
        self.zone = zone

    def parse(self, value: str) -> tuple[datetime, Literal["day"] | None] | None:
        for fmt in self.formats:
            if fmt == "iso":
                moment = iso_time(value, self.zone)
                if moment is not None:
                    return moment, None
                try:
                    return noon_of(date.fromisoformat(value)), "day"
                except ValueError:
                    continue
            try:
                parsed = datetime.strptime(value, fmt)
            except ValueError:
                continue
            if not _TIME_OF_DAY.search(fmt):
                return noon_of(parsed.date()), "day"
            moment = in_zone(parsed, self.zone)
            if moment is not None:
                return moment, None
        return None


class _Row:
    """One row read through the map."""

    def __init__(self, record: Record, columns: Columns, draft: Draft, times: _Times) -> None:
        self.record = record
        self.columns = columns
        self.draft = draft
        self.times = times

    def get(self, field: str) -> str | None:
        column = getattr(self.columns, field)
        if column is None:
            return None
        return self.record.values.get(column, "").strip() or None

    def time(self, field: str) -> tuple[datetime, Literal["day"] | None] | None:
        value = self.get(field)
        if value is None:
            return None
        found = self.times.parse(value)
        if found is None:
            formats = ", ".join(self.times.formats)
            raise self.draft.fail(
                getattr(self.columns, field),
                f"not a time in the map's formats ({formats}): {value[:40]!r}",
            )
        return found

    def event(
        self, kind: str, by: str, at: str, text: str | None, agent: str | None = None
    ) -> None:
        when = self.time(at)
        words = self.get(text) if text else None
        if when is None:
            if words is not None:
                raise self.draft.fail(
                    getattr(self.columns, at),
                    f"empty, but {getattr(self.columns, text or at)} is not",
                )
            return
        columns = {"at": getattr(self.columns, at)}
        for key, field in (("text", text), ("agent", agent)):
            if field and getattr(self.columns, field):
                columns[key] = getattr(self.columns, field)
        self.draft.event(
            columns,
            kind=kind,
            at=when[0],
            by=by,
            text=words,
            agent=self.get(agent) if agent else None,
            precision=when[1],
        )


def _check_header(
    mapping: ColumnMap, locator: TomlLocator, names: list[str], shown: str, map_shown: str
) -> None:
    wanted = [("channel_column", mapping.channel_column)] + [
        (f"columns.{key}", value) for key, value in mapping.columns.model_dump().items()
    ]
    for key, column in wanted:
        if column is not None and column not in names:
            line = locator.line_of(tuple(key.split(".")))
            listed = ", ".join(repr(n) for n in names[:20]) + (", …" if len(names) > 20 else "")
            raise HeardError(
                str(
                    Problem(
                        map_shown,
                        line,
                        key,
                        f"no column {column!r} in {shown} (its columns: {listed})",
                    )
                )
            )


def _case(row: _Row, mapping: ColumnMap) -> Case:
    draft, record = row.draft, row.record
    if mapping.channel is not None:
        channel = mapping.channel
    else:
        column = mapping.channel_column or ""
        channel = record.values.get(column, "").strip().lower()
        if not CHANNEL_RE.match(channel):
            raise draft.fail(
                column, f"not a channel name (lowercase letters, digits, _): {channel[:40]!r}"
            )
    native = native_id(row.get("id") or "")
    if native is None:
        raise draft.fail(mapping.columns.id, "empty or longer than 200 characters")
    draft.set("id", f"{channel}-{native}", mapping.columns.id)
    draft.set("channel", channel)
    draft.set("title", row.get("title"), mapping.columns.title)
    draft.set("url", row.get("url"), mapping.columns.url)
    draft.set("author.handle", row.get("author"), mapping.columns.author)
    draft.set("author.name", row.get("author_name"), mapping.columns.author_name)
    tags = [t.strip() for t in (row.get("tags") or "").split(mapping.tags_separator) if t.strip()]
    draft.set("tags", list(dict.fromkeys(tags)), mapping.columns.tags)
    if row.time("opened") is None:
        raise draft.fail(mapping.columns.opened, "empty: every complaint has a time")
    row.event("complaint", "customer", "opened", "text")
    row.event("reply", "brand", "reply_at", "reply_text", "reply_agent")
    row.event("resolved", "brand", "resolved_at", "resolved_note")
    row.event("closed", "brand", "closed_at", "closed_note")
    return draft.build()


def _praise(row: _Row, mapping: ColumnMap) -> bool:
    value = row.get("rating")
    if value is None:
        return False
    try:
        stars = float(value)
    except ValueError:
        raise row.draft.fail(mapping.columns.rating, f"not a number: {value[:20]!r}") from None
    return stars > mapping.complaint_max_rating


def read(path: Path, shown: str, options: ImportOptions) -> ImportResult:
    """Every row of the file through the map given with `--map`."""
    if options.mapping is None:
        raise HeardError("--map MAP.toml is required with --format csv (docs/sources.md)")
    mapping, locator = load_map(options.mapping)
    zone = zone_named(mapping.timezone) if mapping.timezone else zone_named(options.timezone)
    times = _Times(mapping.time_formats, zone)
    with opened(path, shown) as (_, json):
        if json:
            raise fail(shown, 1, None, "this is JSON: --format csv reads CSV with a header line")
    cases: dict[str, Case] = {}
    praise = 0
    records = read_records(
        path,
        shown,
        json_paths=[],
        what="the columns the map names",
        on_header=lambda names: _check_header(mapping, locator, names, shown, str(options.mapping)),
    )
    for record in records:
        row = _Row(record, mapping.columns, Draft(shown, record.line), times)
        if _praise(row, mapping):
            praise += 1
            continue
        clash = merge_into(cases, _case(row, mapping), shown, record.line)
        if clash is not None:
            raise HeardError(str(clash))
    return ImportResult(
        list(cases.values()), {f"praise (above {mapping.complaint_max_rating:g} stars)": praise}
    )


def _looks_like(head: bytes) -> bool:
    del head
    return False  # any CSV may be this format: never suggested


FORMAT = ImportFormat(
    name="csv",
    summary="any CSV export through a column map (needs --map MAP.toml)",
    read=read,
    looks_like=_looks_like,
)
