"""The record's own format (one case per line, JSON) as an import: an export of another
heard site, or of any tool that writes the contract in docs/record-format.md."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from generator.errors import HeardError, Problem, ProblemsError
from generator.gather.imports.base import ImportFormat, ImportOptions, ImportResult
from generator.record.model import Case
from generator.record.store import iter_lines, merge_into, parse_case_line

MAX_SHOWN = 5  # problems listed before the rest are only counted


def read_jsonl(path: Path, shown: str, options: ImportOptions) -> ImportResult:
    """Every line of the file as a case; any bad line is an error (nothing is imported).

    After MAX_SHOWN problems the rest are counted, not listed: a file in another format
    must not flood the terminal. The file is checked whole first, keeping only each id's
    channel; its cases are then read again one at a time as they are merged, so a large
    export is never held in memory.
    """
    del options
    if not path.is_file():
        raise HeardError(f"{shown}: no such file")
    channels: dict[str, str] = {}
    repeated: set[str] = set()
    problems: list[Problem] = []
    for number, parsed in _parsed(path, shown, problems):
        known = channels.get(parsed.id)
        if known is None:
            channels[parsed.id] = parsed.channel
            continue
        repeated.add(parsed.id)
        if known != parsed.channel:
            message = f"case {parsed.id}: channel {parsed.channel!r} differs from {known!r}"
            problems.append(Problem(shown, number, "channel", message))
    if problems:
        shown_problems = problems[:MAX_SHOWN]
        if len(problems) > MAX_SHOWN:
            more = len(problems) - MAX_SHOWN
            shown_problems.append(Problem(shown, None, None, f"… and {more} more problem(s)"))
        raise ProblemsError(shown_problems)
    return ImportResult(_cases(path, shown, repeated))


def _parsed(path: Path, shown: str, problems: list[Problem]) -> Iterator[tuple[int, Case]]:
    """The file's cases with their line numbers; problems are collected."""
    for item in iter_lines(path, shown):
        if isinstance(item, Problem):
            problems.append(item)
            continue
        number, text = item
        parsed = parse_case_line(text, shown, number)
        if isinstance(parsed, list):
            problems.extend(parsed)
        else:
            yield number, parsed


def _cases(path: Path, shown: str, repeated: set[str]) -> Iterator[Case]:
    """The second reading: each case once (an id on several lines merged, given last)."""
    problems: list[Problem] = []
    held: dict[str, Case] = {}
    for number, case in _parsed(path, shown, problems):
        if case.id in repeated:
            merge_into(held, case, shown, number)
        else:
            yield case
    if problems:
        raise HeardError(f"{shown}: changed while it was being imported; import it again")
    yield from held.values()


def _looks_like(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


FORMAT = ImportFormat(
    name="jsonl",
    summary="the record format: one JSON case per line (docs/record-format.md)",
    read=read_jsonl,
    looks_like=_looks_like,
)
