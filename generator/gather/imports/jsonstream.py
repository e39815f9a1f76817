"""The items of a JSON list in a file, one at a time, with the line each item starts on.

An export of 100,000 complaints is a long JSON list: it is read in chunks and each item
decoded on its own, so only one item (and a chunk of text) is held at a time. The list is
the whole document (`[…]`) or found under a path of object keys (`{"hits": {"hits": […]}}`);
anything else in the document is skipped without being kept. Every error names the file,
line and column, like `python -m json.tool` does.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Generator, Iterator, Sequence
from typing import Any, BinaryIO

from generator.errors import HeardError
from generator.gather.imports.csvrows import fail

CHUNK = 1 << 16
MAX_VALUE = 1 << 24  # characters: no single item (or skipped value) is read beyond this
_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


class _Text:
    """A window on the decoded text of a binary stream, read on demand."""

    def __init__(self, stream: BinaryIO, shown: str) -> None:
        self.stream = stream
        self.shown = shown
        self.decode = codecs.getincrementaldecoder("utf-8")("strict").decode
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # the line of buf[0]
        self.column = 1  # the column of buf[0]
        self.started = False

    def where(self, pos: int) -> tuple[int, int]:
        """(line, column), 1-based, of buf[pos]."""
        newlines = self.buf.count("\n", 0, pos)
        if not newlines:
            return self.line, self.column + pos
        return self.line + newlines, pos - self.buf.rindex("\n", 0, pos)

    def error(self, pos: int, message: str) -> HeardError:
        line, column = self.where(pos)
        return fail(self.shown, line, None, f"{message} (column {column})")

    def more(self) -> bool:
        """Read the next chunk; False at the end of the file."""
        if self.eof:
            return False
        if self.pos > CHUNK:  # drop what has been read, keeping the line count
            self.line, self.column = self.where(self.pos)
            self.buf = self.buf[self.pos :]
            self.pos = 0
        data = self.stream.read(CHUNK)
        try:
            text = self.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            self.buf += data[: exc.start].decode("utf-8", "replace")
            raise self.error(len(self.buf), "not UTF-8 text") from None
        if not self.started and text:
            text = text.removeprefix("\ufeff")
            self.started = True
        self.buf += text
        if not data:
            self.eof = True
        return True

    def peek(self) -> str | None:
        """The next character that is not whitespace (None at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return None

    def expect(self, wanted: str, what: str) -> None:
        if self.peek() != wanted:
            raise self.error(self.pos, f"not valid JSON: expected {what}")
        self.pos += 1

    def value(self) -> Any:
        """Decode the next JSON value."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos < MAX_VALUE and self.more():
                    continue
                raise self.error(exc.pos, f"not valid JSON: {exc.msg}") from None
            except RecursionError:
                raise self.error(self.pos, "not valid JSON: nested too deeply") from None
            except ValueError as exc:  # e.g. a number beyond Python's digit limit
                raise self.error(self.pos, f"not valid JSON: {exc}") from None
            if end == len(self.buf) and self.more():
                continue  # a number may go on in the next chunk
            self.pos = end
            return value


def json_items(
    stream: BinaryIO, shown: str, paths: Sequence[tuple[str, ...]]
) -> Iterator[tuple[int, Any]]:
    """(line, item) for each item of the first list found at one of `paths`.

    `()` is the whole document being a list. Raises HeardError naming the file, line and
    column for text that is not JSON, and for a document without such a list.
    """
    text = _Text(stream, shown)
    first = text.peek()
    found = False
    if first == "[" and () in paths:
        yield from _array(text)
        found = True
    elif first == "{" and any(paths):
        found = yield from _object(text, (), [p for p in paths if p])
    elif first is None:
        raise fail(shown, None, None, "empty file: expected a JSON list")
    if not found:
        raise fail(shown, text.where(text.pos)[0], None, f"expected {_describe(paths)}")
    if text.peek() is not None:
        raise text.error(text.pos, "not valid JSON: more data after the end")


def _describe(paths: Sequence[tuple[str, ...]]) -> str:
    return " or ".join("a JSON list" if not p else "a list at " + ".".join(p) for p in paths)


def _array(text: _Text) -> Iterator[tuple[int, Any]]:
    text.expect("[", "'['")
    if text.peek() == "]":
        text.pos += 1
        return
    while True:
        text.peek()
        line = text.where(text.pos)[0]
        yield line, text.value()
        following = text.peek()
        if following == ",":
            text.pos += 1
        elif following == "]":
            text.pos += 1
            return
        else:
            raise text.error(text.pos, "not valid JSON: expected ',' or ']' after an item")


def _object(
    text: _Text, here: tuple[str, ...], paths: list[tuple[str, ...]]
) -> Generator[tuple[int, Any], None, bool]:
    """Walk an object; stream the list at the first matching path. Returns whether found."""
    found = False
    text.expect("{", "'{'")
    if text.peek() == "}":
        text.pos += 1
        return False
    while True:
        if text.peek() != '"':
            raise text.error(text.pos, "not valid JSON: expected a key in double quotes")
        key = text.value()
        text.expect(":", "':' after a key")
        where = (*here, key)
        inner = [p for p in paths if p[: len(where)] == where]
        following = text.peek()
        if not found and where in inner and following == "[":
            yield from _array(text)
            found = True
        elif not found and inner and following == "{":
            found = yield from _object(text, where, inner)
        else:
            text.value()  # skipped: decoded and dropped
        following = text.peek()
        if following == ",":
            text.pos += 1
        elif following == "}":
            text.pos += 1
            return found
        else:
            raise text.error(text.pos, "not valid JSON: expected ',' or '}' after a value")
