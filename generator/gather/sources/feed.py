"""RSS 2.0 and Atom 1.0 feeds (review sites, alerts): each entry is a post.

The feed is fetched with the source's HttpClient (its base URL is the feed's URL) as bytes
and parsed by feedparser from memory (never from a string, which feedparser would open as
a URL or a file). A conditional request sends the last ETag: ``304 Not Modified`` gathers
nothing and keeps the cursor.

An entry becomes a Post with:

- ``native_id``: its ``<guid>``/``<id>``, else its link, else the sha256 (hex) of its
  title and date, kept as given (shared code makes ids file-safe);
- ``at``: its published date, else its updated date (feedparser gives them in UTC); an
  entry with neither takes the feed's own updated date, and when the feed has none the
  entry is skipped and counted in ``skipped_undated``;
- ``precision="day"`` when the date as written carries no time of day (``2024-05-01``,
  ``Wed, 01 May 2024``). Only the written string decides: ``00:00:00`` is a time, even
  if a site writes it for every entry;
- ``author`` (the author's name, else the author string), ``title``, ``text`` (the
  summary, else the first content; HTML turned into plain text, plain text kept), ``url``
  (the link, http/https only) and ``tags`` (category terms).

The cursor is ``{"etag": <last ETag>, "seen": <newest entry time, ISO 8601>}``; entries
not newer than ``seen`` are skipped on the next fetch. A body feedparser cannot read as
a feed (flagged bozo, or no feed version, and without entries) is a SourceError
``<name>: <url path>: not an RSS or Atom feed``; a feed that is not well-formed XML to its
end and lacks its closing root element (cut short inside an item) is a SourceError too,
so nothing partial is stored and the cursor does not move; a malformed but whole feed is
read leniently.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import xml.sax
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import feedparser
import httpx
from pydantic import BaseModel, ConfigDict, Field

from generator.errors import one_line
from generator.gather.sources import base
from generator.gather.sources.helpers import Connector, html_to_text, validated
from generator.gather.sources.http import Answer, HttpClient
from generator.record.times import format_instant, parse_instant

_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}")
_ENDED = re.compile(rb"</\s*(?:rss|feed|rdf:RDF)\s*>\s*(?:<!--.*?-->\s*)*\Z", re.I | re.S)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, arbitrary_types_allowed=True)


class _Detail(_Model):
    type: str = "text/plain"
    value: str = ""


class _Person(_Model):
    name: str | None = None


class _Category(_Model):
    term: str | None = None


class Entry(_Model):
    """The fields of a feedparser entry that heard uses."""

    id: str | None = None
    link: str | None = None
    title: str | None = None
    title_detail: _Detail | None = None
    summary: str | None = None
    summary_detail: _Detail | None = None
    content: list[_Detail] = Field(default_factory=list)
    author: str | None = None
    author_detail: _Person | None = None
    published: str | None = None
    published_parsed: time.struct_time | None = None
    updated: str | None = None
    updated_parsed: time.struct_time | None = None
    tags: list[_Category] = Field(default_factory=list)


def _moment(parsed: time.struct_time | None) -> datetime | None:
    if parsed is None:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _precision(written: str | None) -> Literal["day"] | None:
    """ "day" when the date as written has no time of day."""
    if written and not _TIME_OF_DAY.search(written):
        return "day"
    return None


def _plain(value: str | None, detail: _Detail | None) -> str | None:
    """Text of a feed field: HTML (by its declared type) to text, plain text kept."""
    if value is None:
        return None
    if detail is not None and detail.type not in _HTML_TYPES:
        flat = re.sub(r"[ \t\r\f\v]+", " ", value)
        return re.sub(r" *\n *", "\n", flat).strip() or None
    return html_to_text(value)


def _http_url(value: str | None) -> str | None:
    if value and re.match(r"https?://[^\s]+\Z", value.strip(), re.IGNORECASE):
        return value.strip()
    return None


class FeedSettings(base.SourceSettings):
    """An RSS or Atom feed: each entry is a complaint (review sites, alerts)."""

    type: Literal["rss"]
    url: base.ExactUrl


def connect(settings: FeedSettings, context: base.Context) -> FeedEntries:
    """The connector; the client's base URL is the feed's URL exactly as configured."""
    accept = {"accept": "application/atom+xml, application/rss+xml, */*"}
    return FeedEntries(settings, context.client(settings.url, accept))


class FeedEntries(Connector[FeedSettings]):
    """An RSS or Atom source: see the module docstring."""

    def __init__(self, config: FeedSettings, client: HttpClient) -> None:
        super().__init__(config, client)
        self.skipped_undated = 0

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """The entries newer than the cursor's `seen` (none when the feed is not modified)."""
        self.skipped_undated = 0
        etag = cursor.get("etag")
        answer = self.client.get(
            "",  # the client's base URL is the feed's URL, exactly as configured
            decode="bytes",
            etag=etag if isinstance(etag, str) and etag else None,
        )
        if answer.status == 304:
            return base.FetchResult(cursor=dict(cursor))
        posts, new_cursor = self._read(answer, cursor)
        return base.FetchResult(posts=posts, cursor=new_cursor)

    def _read(
        self, answer: Answer, cursor: Mapping[str, Any]
    ) -> tuple[list[base.Post], base.Cursor]:
        where = httpx.URL(answer.url).path or "/"
        headers = {"content-location": answer.url}
        if "content-type" in answer.headers:
            headers["content-type"] = answer.headers["content-type"]
        parsed = feedparser.parse(io.BytesIO(answer.data), response_headers=headers)
        entries = list(parsed.get("entries") or [])
        if not entries and (parsed.get("bozo") or not parsed.get("version")):
            raise base.SourceError(f"{where}: not an RSS or Atom feed")
        broken = parsed.get("bozo_exception")
        if isinstance(broken, xml.sax.SAXParseException) and not _ENDED.search(answer.data):
            # Cut short (a dropped connection whose end looked like the body's end): the
            # entries read so far may be partial, and a cursor moved past them would never
            # come back for the rest. Nothing is taken from it. (A feed that is malformed
            # but whole, ending with its root element, is read leniently as feedparser can.)
            raise base.SourceError(
                f"{where}: the feed does not parse to its end ({one_line(broken.getMessage())},"
                f" line {broken.getLineNumber()}); nothing gathered from it"
            )

        seen: datetime | None = None
        raw_seen = cursor.get("seen")
        if isinstance(raw_seen, str):
            try:
                seen = parse_instant(raw_seen)
            except ValueError:
                seen = None
        feed = parsed.get("feed") or {}
        feed_written = feed.get("updated") if isinstance(feed.get("updated"), str) else None
        feed_at = _moment(feed.get("updated_parsed"))

        posts: list[base.Post] = []
        newest = seen
        ids: set[str] = set()
        for index, raw in enumerate(entries):
            entry = validated(Entry, dict(raw), f"{where}: entry {index}")
            at, written = _moment(entry.published_parsed), entry.published
            if at is None:
                at, written = _moment(entry.updated_parsed), entry.updated
            if at is None:
                at, written = feed_at, feed_written
            if at is None:
                self.skipped_undated += 1
                continue
            if newest is None or at > newest:
                newest = at
            if seen is not None and at <= seen:
                continue
            post = self._post(entry, at, written)
            if post.native_id not in ids:
                ids.add(post.native_id)
                posts.append(post)

        new_cursor: base.Cursor = {}
        if answer.etag:
            new_cursor["etag"] = answer.etag
        if newest is not None:
            new_cursor["seen"] = format_instant(newest)
        posts.sort(key=lambda p: (p.at, p.native_id))
        return posts, new_cursor

    def _post(self, entry: Entry, at: datetime, written: str | None) -> base.Post:
        native_id = (entry.id or "").strip() or (entry.link or "").strip()
        if not native_id:
            basis = f"{entry.title or ''}\n{written or format_instant(at)}"
            native_id = hashlib.sha256(basis.encode("utf-8")).hexdigest()
        if entry.summary:
            text = _plain(entry.summary, entry.summary_detail)
        elif entry.content:
            text = _plain(entry.content[0].value, entry.content[0])
        else:
            text = None
        author = entry.author_detail.name if entry.author_detail else None
        return base.Post(
            native_id=native_id,
            at=at,
            author=(author or entry.author or "").strip() or None,
            title=_plain(entry.title, entry.title_detail),
            text=text,
            url=_http_url(entry.link),
            precision=_precision(written),
            tags=tuple(t.term for t in entry.tags if t.term),
        )


SOURCE = base.SourceType(
    settings=FeedSettings,
    channel="reviews",
    display="Reviews",
    connect=connect,
    summary="An RSS or Atom feed (review sites, alerts): each entry is a complaint.",
    global_ids=True,
)
