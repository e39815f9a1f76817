"""The export formats `heard import` reads, each declared once in its own module
(see `base.ImportFormat`). To add one: write the module with a `FORMAT`, list it here, and
give it a section in docs/sources.md (a test checks)."""

from __future__ import annotations

from generator.gather.imports import cfpb, csvmap, jsonl, nyc311, open311, twcs
from generator.gather.imports.base import ImportFormat

FORMATS: tuple[ImportFormat, ...] = (
    jsonl.FORMAT,
    twcs.FORMAT,
    cfpb.FORMAT,
    nyc311.FORMAT,
    open311.FORMAT,
    csvmap.FORMAT,
)
BY_NAME: dict[str, ImportFormat] = {f.name: f for f in FORMATS}


def guess(head: bytes) -> list[str]:
    """The formats whose first bytes look like `head`."""
    return [f.name for f in FORMATS if f.looks_like(head)]
