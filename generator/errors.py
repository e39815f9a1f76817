"""Errors that are the user's to fix: each renders as one line naming file, line and field."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

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
