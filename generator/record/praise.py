"""Praise: public thanks gathered apart in `content/praise/YYYY-MM.jsonl`, never a complaint.

One JSON object per line, written by `heard gather` (a post the shared code judged praise):
`{"id", "channel", "post_id", "at", "author", "url", "text"}` (author, url and text
optional). It is shown on the Thanks page and on a fixed case whose customer thanked the
brand afterwards; it never enters a complaint figure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from generator.errors import Problem
from generator.record.model import Instant, Short, Text, Url, _Record
from generator.record.store import iter_lines, validation_problems

PRAISE_DIR = Path("content/praise")


class Praise(_Record):
    """One public post of praise."""

    id: Short
    channel: Short
    post_id: Short
    at: Instant
    author: Short | None = None
    url: Url | None = None
    text: Text | None = None


@dataclass
class PraiseRecord:
    """Every praise post, newest first, and the problems found reading them."""

    items: list[Praise]
    problems: list[Problem]


def load_praise(root: Path) -> PraiseRecord:
    """Read content/praise/*.jsonl; a bad line is a Problem naming file, line and field."""
    items: dict[tuple[str, str], Praise] = {}
    problems: list[Problem] = []
    folder = root / PRAISE_DIR
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        shown = path.relative_to(root).as_posix()
        for item in iter_lines(path, shown):
            if isinstance(item, Problem):
                problems.append(item)
                continue
            number, text = item
            try:
                data = json.loads(text)
            except (json.JSONDecodeError, RecursionError, ValueError) as exc:
                problems.append(Problem(shown, number, None, f"not valid JSON: {exc}"))
                continue
            try:
                praise = Praise.model_validate(data)
            except ValidationError as exc:
                problems.extend(validation_problems(shown, number, exc))
                continue
            items[(praise.channel, praise.post_id)] = praise
    ordered = sorted(items.values(), key=lambda p: (p.at, p.id), reverse=True)
    return PraiseRecord(ordered, problems)
