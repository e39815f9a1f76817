"""Praise: public thanks gathered apart in `content/praise/YYYY-MM.jsonl`, never a complaint.

One JSON object per line, written by `heard gather` (a post the shared code judged praise):
`{"id", "channel", "post_id", "at", "author", "url", "text"}` (author, url and text
optional). It is shown on the Thanks page and on a fixed case whose customer thanked the
brand afterwards; it never enters a complaint figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import Problem
from generator.record.jsonl import read_models
from generator.record.model import Instant, Short, Text, Url, _Record

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
        for _, praise in read_models(path, shown, Praise, problems):
            items[(praise.channel, praise.post_id)] = praise
    ordered = sorted(items.values(), key=lambda p: (p.at, p.id), reverse=True)
    return PraiseRecord(ordered, problems)
