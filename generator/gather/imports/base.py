"""What an importer is: a format that reads an export file into cases, declared once.

`heard import --format NAME FILE` finds the format in `generator.gather.imports.FORMATS`.
An importer only reads and maps; the pipeline redacts every case it returns (the same
redaction as gathering), merges them into the record all-or-nothing, and is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from generator.record.model import Case


@dataclass(frozen=True)
class ImportOptions:
    """What `heard import` passes besides the file: each format uses what it needs.

    `timezone` (an IANA name; None: the site's) is given to local times without a zone.
    `closed_as` is what a city's "closed" means where the data cannot tell (resolved or
    closed; None: closed, not fixed).
    """

    brand: str | None = None
    company: str | None = None
    mapping: Path | None = None
    timezone: str | None = None
    closed_as: Literal["resolved", "closed"] | None = None


@dataclass
class ImportResult:
    """The cases read from a file, and what was skipped, by reason.

    `cases` may be a list or a one-pass iterator (a large file is then never held whole);
    a reader reports every problem before it returns, never while it is iterated.
    """

    cases: Iterable[Case]
    skipped: dict[str, int] = field(default_factory=dict)


Reader = Callable[[Path, str, ImportOptions], ImportResult]
"""read(path, shown name, options): raises HeardError/ProblemsError naming file, line, field."""


@dataclass(frozen=True)
class ImportFormat:
    """An import format declares itself once.

    - `name`: the `--format` value;
    - `summary`: one line for `--help` and the docs;
    - `read`: the reader;
    - `looks_like`: whether the first bytes of a file look like this format (to suggest
      `--format` when a file is imported with the wrong one);
    - `channel`/`display`: the channel its cases are filed under, and its name for people
      (None when the file says, as in the record's own JSONL).
    """

    name: str
    summary: str
    read: Reader
    looks_like: Callable[[bytes], bool]
    channel: str | None = None
    display: str | None = None
