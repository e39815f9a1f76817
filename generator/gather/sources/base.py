"""What every source produces: normalised posts, status signals and a new cursor.

Sources only fetch and normalise. Threading, who is the brand, "DM us", fixes, praise and
redaction are shared code (generator/thread.py), never per source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

JSON = Any
Cursor = dict[str, JSON]


class SourceError(Exception):
    """A source failed (network, HTTP status, unusable answer). One line, no secrets."""


@dataclass(frozen=True, slots=True)
class Post:
    """One public post, as any channel gives it.

    `native_id` is unique within the source; `parent_id` is the post it answers (None for a
    new thread); `root_id` names the thread when the channel knows it (GitHub issue,
    Discourse topic). `is_brand` is the source's own knowledge that the author speaks for
    the brand (GitHub member/owner/collaborator, Discourse staff); otherwise the shared code
    decides from the configured accounts.
    """

    native_id: str
    at: datetime
    author: str | None
    text: str | None = None
    url: str | None = None
    parent_id: str | None = None
    root_id: str | None = None
    title: str | None = None
    author_name: str | None = None
    reach: int | None = None
    is_brand: bool | None = None
    tags: tuple[str, ...] = ()
    precision: Literal["day"] | None = None


@dataclass(frozen=True, slots=True)
class Signal:
    """A source's own status signal for a thread: resolved, closed or reopened.

    Mapped, not guessed: GitHub state_reason completed → resolved, not_planned → closed;
    Discourse accepted answer → resolved.
    """

    root_id: str
    kind: Literal["resolved", "closed", "reopened"]
    at: datetime
    by_brand: bool
    url: str | None = None
    text: str | None = None
    author: str | None = None


@dataclass
class FetchResult:
    """Everything one source run brought back."""

    posts: list[Post] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    cursor: Cursor = field(default_factory=dict)
    requests: int = 0
    retries: int = 0


class Source(Protocol):
    """A channel connector: fetch everything new since `cursor`."""

    name: str
    channel: str

    def fetch(self, cursor: Mapping[str, JSON]) -> FetchResult:
        """Fetch new posts (pages followed), returning them with the next cursor."""
        ...
