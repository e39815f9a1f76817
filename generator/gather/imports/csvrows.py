"""CSV exports read row by row, with the physical line each row starts on.

Line numbers are physical lines (ended by LF or CRLF, as ``grep -n`` and editors count
them), 1-based, the header being line 1. A field may hold newlines inside quotes (NYC 311's
``location``): the row then spans several lines and is named by its first. A carriage
return that does not end a line (the twcs file as published has one, unquoted, inside a
text) is kept as part of its field: it neither ends the row nor counts as a line. Bytes
that are not UTF-8 are an error naming the line and, where known, the column.

Rows are read one at a time: a file of any size is never held in memory.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import BinaryIO

from generator.errors import HeardError, Problem

# A lone surrogate never comes out of a strict UTF-8 decode, and the surrogate escapes
# of undecodable bytes are U+DC80..U+DCFF: it cannot collide with anything in the file.
_CR_MASK = "\ud800"
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def fail(shown: str, line: int | None, field: str | None, message: str) -> HeardError:
    """The one-line error of an import: file, line, column or field, what is wrong."""
    return HeardError(str(Problem(shown, line, field, message)))


class _Lines:
    """The physical lines of a binary file as text for the csv module.

    Lines end at LF only. Undecodable bytes are surrogate-escaped and the line noted; a CR
    that does not end the line is masked so that csv keeps it inside the field.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.number = 0
        self.bad_line: int | None = None
        self.masked = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = next(self._stream)
        self.number += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "surrogateescape")
            if self.bad_line is None:
                self.bad_line = self.number
        if self.number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if "\r" in text:
            if text.endswith("\r\n"):
                body, end = text[:-2], "\r\n"
            elif text.endswith(("\n", "\r")):
                body, end = text[:-1], text[-1]
            else:
                body, end = text, ""
            if "\r" in body:
                text = body.replace("\r", _CR_MASK) + end
                self.masked = True
        return text


class BadByte(Exception):
    """Bytes that are not UTF-8 on `line`, in the field at `position` (if known)."""

    def __init__(self, line: int, position: int | None, byte: int | None) -> None:
        super().__init__(line)
        self.line = line
        self.position = position
        self.byte = byte

    def error(self, shown: str, names: list[str]) -> HeardError:
        """The error naming the file, line and (from the header `names`) column."""
        column: str | None = None
        if self.position is not None and self.position < len(names):
            column = names[self.position] or None
        what = "not UTF-8 text" if self.byte is None else f"not UTF-8 text (byte 0x{self.byte:02X})"
        return fail(shown, self.line, column, what)


def rows(stream: BinaryIO, shown: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, fields) for each non-blank CSV row.

    Raises HeardError for CSV that cannot be read, BadByte for bytes that are not UTF-8.
    """
    lines = _Lines(stream)
    reader = csv.reader(lines, strict=True)
    while True:
        start = lines.number + 1
        lines.bad_line = None
        lines.masked = False
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            if "unexpected end of data" in str(err):
                raise fail(shown, start, None, "a quoted field is never closed") from None
            raise fail(shown, start, None, f"not valid CSV: {err}") from None
        if lines.bad_line is not None:
            for position, value in enumerate(row):
                found = _ESCAPED_BYTE.search(value)
                if found:
                    raise BadByte(lines.bad_line, position, ord(found.group()) - 0xDC00)
            raise BadByte(lines.bad_line, None, None)
        if lines.masked:
            row = [value.replace(_CR_MASK, "\r") for value in row]
        if row:
            yield start, row


class Table:
    """A CSV file with a header line: its column names, then each data row by name.

    Iterating yields (line, {column: value}); a row with another number of fields than
    the header, or bytes that are not UTF-8, is an error naming the file and line.
    """

    def __init__(self, stream: BinaryIO, shown: str, *, what: str) -> None:
        self.shown = shown
        self._rows = rows(stream, shown)
        try:
            first = next(self._rows, None)
        except BadByte as bad:
            raise bad.error(shown, []) from None
        if first is None:
            raise fail(shown, None, None, f"empty file: the first line must name {what}")
        self.header_line, header = first
        self.names = [name.strip() for name in header]
        if any("\r" in name for name in self.names):
            raise fail(
                shown, self.header_line, None, "the header holds a bare CR: lines must end in LF"
            )

    def missing(self, wanted: list[str]) -> list[str]:
        """The wanted column names that the header does not have."""
        return [name for name in wanted if name not in self.names]

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        width = len(self.names)
        try:
            for line, row in self._rows:
                if len(row) != width:
                    raise fail(
                        self.shown,
                        line,
                        None,
                        f"expected {width} fields as in the header, found {len(row)}",
                    )
                values: dict[str, str] = {}
                for name, value in zip(self.names, row, strict=True):
                    values.setdefault(name, value)  # a repeated column name: the first one
                yield line, values
        except BadByte as bad:
            raise bad.error(self.shown, self.names) from None
