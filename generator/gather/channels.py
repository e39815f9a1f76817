"""Channels as people name them, from the sources' and the import formats' declarations."""

from __future__ import annotations

from generator.gather.imports import FORMATS
from generator.gather.sources import SOURCES


def display_name(channel: str) -> str:
    """A channel as people write it ("github" → "GitHub"); unknown ones as they are."""
    names = {f.channel: f.display for f in FORMATS if f.channel and f.display}
    names.update({spec.channel: spec.display for spec in SOURCES})
    return names.get(channel, channel)
