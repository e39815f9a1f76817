"""Errors that are the user's to fix, each one line naming file, line and field, and the one
plain-language reading of validation errors that every input (config, record, notes, API
answers) shares."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import AfterValidator, ValidationError

_BREAKING = {"Cc", "Zl", "Zp"}  # controls (incl. ESC, CR, LF, NEL) and line/paragraph separators


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = self.message if not self.field else f"{self.field}: {self.message}"
        return f"{one_line(where)}: {one_line(what)}"


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace, control characters and line separators onto one line."""
    flat = " ".join(
        "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in text).split()
    )
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class HeardError(Exception):
    """A user's mistake or an unusable input. The CLI prints it as one line and exits 1."""


class ProblemsError(HeardError):
    """Several problems found at once (config, record, notes); each prints as its own line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --- how validation errors read ---------------------------------------------------------------
# One vocabulary for every pydantic error heard shows: config, record lines, notes, API answers.

_KINDS = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "datetime_type": "a date and time",
}


def kind_of(value: object) -> str:
    """What a value is, for messages (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def field_path(loc: Sequence[Any]) -> str:
    """('events', 2, 'at') → 'events[2].at'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def error_message(
    err: Mapping[str, Any], *, missing: str = "required", unknown: str = "unknown key"
) -> str:
    """A pydantic error as the short, plain message heard shows after `file:line: field:`."""
    kind = str(err["type"])
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return unknown
    if kind == "missing":
        return missing
    if kind == "string_unicode":
        return "contains an invalid (lone surrogate) character"
    if kind in _KINDS:
        return f"must be {_KINDS[kind]}, not {kind_of(err.get('input'))}"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        word = "at least" if kind == "too_short" else "at most"
        return f"must hold {word} {bound} item{'s' if bound != 1 else ''}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {
            "greater_than_equal": ("ge", "at least"),
            "greater_than": ("gt", "more than"),
            "less_than_equal": ("le", "at most"),
            "less_than": ("lt", "less than"),
        }
        key, word = words[kind]
        return f"must be {word} {ctx.get(key)}"
    if kind == "string_pattern_mismatch":
        return "is not in the expected form"
    if kind == "literal_error":
        return f"must be {ctx.get('expected', 'one of the allowed values')}"
    if kind == "union_tag_invalid":
        return f"unknown type {ctx.get('tag')!r} (the types are {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return "needs a type"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return msg.replace("Input should be", "must be")


def describe(error: ValidationError, *, missing: str = "missing") -> str:
    """The first problem of a ValidationError as `where: message`, counting the others.

    List positions read as `item N` (`post_stream.posts: item 2: staff: …`): this is how
    an API answer's problems are named.
    """
    problems = error.errors(include_url=False)
    first = problems[0]
    parts: list[str] = []
    dotted: list[str] = []
    for piece in first["loc"]:
        if isinstance(piece, int):
            if dotted:
                parts.append(".".join(dotted))
                dotted = []
            parts.append(f"item {piece}")
        else:
            dotted.append(str(piece))
    if dotted:
        parts.append(".".join(dotted))
    parts.append(error_message(first, missing=missing))
    extra = len(problems) - 1
    more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    return one_line(": ".join(parts) + more)


def matching(pattern: str, what: str) -> AfterValidator:
    """A validator: the text must match `pattern`, else "must be <what>" (never the regex)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


def http_url(example: str, *, folder: bool = False) -> AfterValidator:
    """A validator: an http(s) URL (with `folder`, given a trailing "/"), else a message
    showing `example`."""

    def check(value: str) -> str:
        if not re.match(r"^https?://[^\s/]+(/\S*)?\Z", value):
            raise ValueError(f"must be an http(s) URL like {example}")
        return value + "/" if folder and not value.endswith("/") else value

    return AfterValidator(check)
