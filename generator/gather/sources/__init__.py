"""The sources heard can gather, each declared once in its own module (see `base.SourceType`).

To add a source: write `generator/gather/sources/<type>.py` with its settings model, its
connector and a `SOURCE = SourceType(...)` declaration, list it here, and give it a section
in docs/sources.md (a test checks). The config, credential checks, workflow secrets and the
site's channel names follow from the declaration.
"""

from __future__ import annotations

from typing import Any

from generator.gather.sources import (
    app_store,
    bluesky,
    discourse,
    facebook,
    feed,
    github,
    google_business,
    google_play,
    instagram,
    mastodon,
    reddit,
    trustpilot,
    x,
)
from generator.gather.sources.base import SourceType

SOURCES: tuple[SourceType[Any], ...] = (
    github.SOURCE,
    mastodon.SOURCE,
    discourse.SOURCE,
    feed.SOURCE,
    google_business.SOURCE,
    app_store.SOURCE,
    google_play.SOURCE,
    x.SOURCE,
    bluesky.SOURCE,
    reddit.SOURCE,
    trustpilot.SOURCE,
    facebook.SOURCE,
    instagram.SOURCE,
)
BY_TYPE: dict[str, SourceType[Any]] = {spec.type: spec for spec in SOURCES}
