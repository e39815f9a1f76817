"""Reading a JSON Lines file of the record (links, praise) as models, line by line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from generator.errors import Problem
from generator.record.store import iter_lines, validation_problems

M = TypeVar("M", bound=BaseModel)


def read_models(
    path: Path, shown: str, model: type[M], problems: list[Problem]
) -> Iterator[tuple[int, M]]:
    """Each line of `path` read as `model`, with its line number; a line that is not UTF-8,
    not JSON or not a valid `model` adds its problems (named `shown`, line and field) to
    `problems` instead."""
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
            read = model.model_validate(data)
        except ValidationError as exc:
            problems.extend(validation_problems(shown, number, exc))
            continue
        yield number, read
