"""Flat records from a CSV export or a JSON list, one at a time: the shape every open-data
export shares (CFPB, Socrata, Open311). A file whose first character is `[` or `{` is read
as JSON, any other as CSV with a header line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from generator.errors import HeardError
from generator.gather.imports.csvrows import Table, fail
from generator.gather.imports.jsonstream import json_items

Normalise = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Record:
    """One row or item: its values by (normalised) name, and the names as the file wrote
    them, for messages."""

    line: int
    values: dict[str, str]
    written: dict[str, str]
    header_line: int | None = None  # a CSV row: the line naming the columns

    def get(self, key: str) -> str:
        """The value under a normalised name, stripped ("" when absent or null)."""
        return self.values.get(key, "").strip()

    def column(self, key: str) -> str:
        """The name the file gave to a normalised name."""
        return self.written.get(key, key)


def check_columns(
    record: Record, required: Sequence[str], shown: str, names: dict[str, str] | None = None
) -> None:
    """Every required field is there: a CSV's header names it, a JSON item has it. `names`
    gives the column names to show (default: the normalised ones)."""
    for key in required:
        if key not in record.values:
            name = (names or {}).get(key, key)
            if record.header_line is not None:
                raise fail(shown, record.header_line, name, "missing from the header")
            raise fail(shown, record.line, key, "missing")


def is_json(head: bytes) -> bool:
    """Whether the first bytes of a file start a JSON list or object."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")


def read_records(
    path: Path,
    shown: str,
    *,
    json_paths: Sequence[tuple[str, ...]],
    what: str,
    normalise: Normalise = str.strip,
    unwrap: str | None = None,
    on_header: Callable[[list[str]], None] | None = None,
) -> Iterator[Record]:
    """Every record of the file: CSV rows, or the items of the JSON list at `json_paths`
    (each an object; `unwrap` names a key holding the record, as `_source` in a search
    answer). Names go through `normalise`; `on_header` sees a CSV's column names before
    any row. Raises HeardError naming file, line, field."""
    with opened(path, shown) as (stream, json):
        if json:
            yield from _json_records(stream, shown, json_paths, normalise, unwrap)
        else:
            yield from _csv_records(stream, shown, what, normalise, on_header)


@contextmanager
def opened(path: Path, shown: str) -> Iterator[tuple[BinaryIO, bool]]:
    """The export open for reading, and whether it is JSON; a file that cannot be read is
    a HeardError naming it."""
    if not path.is_file():
        raise HeardError(f"{shown}: no such file")
    try:
        with path.open("rb") as stream:
            json = is_json(stream.read(64))
            stream.seek(0)
            yield stream, json
    except OSError as err:
        raise fail(shown, None, None, f"cannot read the file ({err.strerror or err})") from None


def _csv_records(
    stream: BinaryIO,
    shown: str,
    what: str,
    normalise: Normalise,
    on_header: Callable[[list[str]], None] | None,
) -> Iterator[Record]:
    table = Table(stream, shown, what=what)
    if on_header is not None:
        on_header(table.names)
    keys = [normalise(name) for name in table.names]
    written: dict[str, str] = {}
    for key, name in zip(keys, table.names, strict=True):
        written.setdefault(key, name)
    for line, row in table:
        values: dict[str, str] = {}
        for key, name in zip(keys, table.names, strict=True):
            values.setdefault(key, row[name])
        yield Record(line, values, written, table.header_line)


def _json_records(
    stream: BinaryIO,
    shown: str,
    paths: Sequence[tuple[str, ...]],
    normalise: Normalise,
    unwrap: str | None,
) -> Iterator[Record]:
    for number, (line, item) in enumerate(json_items(stream, shown, paths), start=1):
        if unwrap is not None and isinstance(item, dict) and isinstance(item.get(unwrap), dict):
            item = item[unwrap]
        if not isinstance(item, dict):
            raise fail(shown, line, f"item {number}", "must be an object ({…})")
        values: dict[str, str] = {}
        written: dict[str, str] = {}
        for name, value in item.items():
            text = _scalar(value)
            if text is None:
                continue
            key = normalise(name)
            values.setdefault(key, text)
            written.setdefault(key, name)
        yield Record(line, values, written)


def _scalar(value: Any) -> str | None:
    """A JSON value as the text a CSV cell would hold (objects and lists: None)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None
