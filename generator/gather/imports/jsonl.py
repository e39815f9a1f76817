"""The record's own format (one case per line, JSON) as an import: an export of another
heard site, or of any tool that writes the contract in docs/record-format.md."""

from __future__ import annotations

from pathlib import Path

from generator.errors import HeardError, Problem, ProblemsError
from generator.gather.imports.base import ImportFormat, ImportOptions, ImportResult
from generator.record.model import Case
from generator.record.store import iter_lines, merge_into, parse_case_line

MAX_SHOWN = 5  # problems listed before the rest are only counted


def read_jsonl(path: Path, shown: str, options: ImportOptions) -> ImportResult:
    """Every line of the file as a case; any bad line is an error (nothing is imported).

    After MAX_SHOWN problems the rest are counted, not listed: a file in another format
    must not flood the terminal.
    """
    del options
    if not path.is_file():
        raise HeardError(f"{shown}: no such file")
    cases: dict[str, Case] = {}
    problems: list[Problem] = []
    for item in iter_lines(path, shown):
        if isinstance(item, Problem):
            problems.append(item)
            continue
        number, text = item
        parsed = parse_case_line(text, shown, number)
        if isinstance(parsed, list):
            problems.extend(parsed)
        elif (clash := merge_into(cases, parsed, shown, number)) is not None:
            problems.append(clash)
    if problems:
        shown_problems = problems[:MAX_SHOWN]
        if len(problems) > MAX_SHOWN:
            more = len(problems) - MAX_SHOWN
            shown_problems.append(Problem(shown, None, None, f"… and {more} more problem(s)"))
        raise ProblemsError(shown_problems)
    return ImportResult(list(cases.values()))


def _looks_like(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


FORMAT = ImportFormat(
    name="jsonl",
    summary="the record format: one JSON case per line (docs/record-format.md)",
    read=read_jsonl,
    looks_like=_looks_like,
)
