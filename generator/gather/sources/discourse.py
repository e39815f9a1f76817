"""Discourse: the topics of a category (or of a search) and their posts; accepted answers as
signals.

Endpoints (Discourse API):

* ``GET c/{slug}.json`` or ``GET c/{slug}/{id}.json`` → ``topic_list.topics``, newest activity
  first; the next page is ``topic_list.more_topics_url`` (given without ``.json``; it is added)
* or ``GET search.json?q=…&page=N`` → ``topics``; more pages while
  ``grouped_search_result.more_full_page_results``. ``order:latest`` is added to a query
  that names no order, so that the newest topics come first.
* ``GET t/{id}.json`` → ``post_stream.posts`` (the first posts) and ``post_stream.stream``
  (the ids of all posts)
* ``GET t/{id}/posts.json?post_ids[]=…`` for the ids not loaded, 20 at a time

Listing pages are followed up to ``max_pages``, on the forum's own origin only (the API key
must not travel elsewhere), and no further than the first page holding nothing new.

A topic is fetched when its ``last_posted_at`` (or ``bumped_at``) is newer than the cursor,
or when the listing says it has an accepted answer (solved plugin) that was not signalled.
Post 1 is the root post (``native_id`` the topic id), the others answer it or the post
named by ``reply_to_post_number``. Only regular posts (``post_type`` 1: never whispers,
moderator or small-action posts) that are neither hidden nor deleted and have ``cooked``
text are kept; a topic whose first post is not kept is skipped, and private messages are
never read. ``staff`` marks the brand. A post with ``accepted_answer`` is a ``resolved``
signal.

Cursor::

    last_posted_at   newest activity of the topics fetched
    topics           {topic id: highest post_number gathered}: a refetched topic gives only
                     its new posts
    solved           {topic id: post_number of the accepted answer signalled, 0 when the
                     listing says solved but the accepted post is not one kept}
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from generator.errors import matching
from generator.gather.sources import base
from generator.gather.sources.helpers import (
    ApiModel,
    Connector,
    Names,
    html_to_text,
    next_url,
    validated,
)
from generator.gather.sources.http import HttpClient
from generator.record.model import Instant
from generator.record.times import format_instant

CHUNK = 20
REGULAR = 1
NEVER = datetime.min.replace(tzinfo=UTC)


class _TopicItem(ApiModel):
    id: int
    title: str
    slug: str
    last_posted_at: Instant | None = None
    bumped_at: Instant | None = None
    pinned: bool = False
    has_accepted_answer: bool = False
    archetype: str = "regular"

    @property
    def activity(self) -> datetime | None:
        return self.last_posted_at or self.bumped_at


class _TopicList(ApiModel):
    topics: list[_TopicItem]
    more_topics_url: str | None = None


class _Category(ApiModel):
    topic_list: _TopicList


class _Grouped(ApiModel):
    more_full_page_results: bool | None = None


class _Search(ApiModel):
    topics: list[_TopicItem] = Field(default_factory=list)
    grouped_search_result: _Grouped | None = None


class _Post(ApiModel):
    id: int
    post_number: int
    post_type: int
    username: str
    name: str | None = None
    created_at: Instant
    updated_at: Instant | None = None
    cooked: str | None
    reply_to_post_number: int | None = None
    staff: bool = False
    hidden: bool = False
    deleted_at: str | None = None
    accepted_answer: bool = False

    @property
    def kept(self) -> bool:
        """A regular, visible post with text (whispers and small actions are not)."""
        return (
            self.post_type == REGULAR
            and not self.hidden
            and not self.deleted_at
            and bool((self.cooked or "").strip())
        )


class _Stream(ApiModel):
    posts: list[_Post]
    stream: list[int] = Field(default_factory=list)


class _Topic(ApiModel):
    id: int
    title: str
    slug: str
    archetype: str = "regular"
    tags: Names = ()
    post_stream: _Stream


class _Posts(ApiModel):
    post_stream: _Stream


TopicId = Annotated[str, matching(r"[0-9]{1,18}", "a topic id (digits)")]


class _State(ApiModel):
    last_posted_at: Instant | None = None
    topics: dict[TopicId, int] = Field(default_factory=dict)
    solved: dict[TopicId, int] = Field(default_factory=dict)


class DiscourseSettings(base.SourceSettings):
    """Topics of a category or a search; staff posts are the brand's."""

    type: Literal["discourse"]
    base_url: base.BaseUrl
    category: (
        Annotated[str, matching(r"[a-z0-9-]+(/[0-9]+)?", "a category slug (or slug/id)")] | None
    ) = None
    search: str | None = None
    api_key_env: base.EnvName | None = None
    api_user_env: base.EnvName | None = None


def connect(settings: DiscourseSettings, context: base.Context) -> DiscourseTopics:
    """The connector, with Api-Key and Api-Username from the variables the settings name."""
    headers: dict[str, str] = {}
    for field_name, header in (("api_key_env", "Api-Key"), ("api_user_env", "Api-Username")):
        value = context.optional_secret(settings, field_name)
        if value is not None:
            headers[header] = value
    return DiscourseTopics(settings, context.client(settings.base_url, headers))


@dataclass
class _Run:
    state: _State
    latest: datetime | None
    topics: dict[str, int]
    solved: dict[str, int]
    result: base.FetchResult = field(default_factory=base.FetchResult)

    def cursor(self) -> base.Cursor:
        cursor: base.Cursor = {}
        if self.latest is not None:
            cursor["last_posted_at"] = format_instant(self.latest)
        cursor["topics"] = dict(sorted(self.topics.items(), key=lambda kv: int(kv[0])))
        cursor["solved"] = dict(sorted(self.solved.items(), key=lambda kv: int(kv[0])))
        return cursor


class DiscourseTopics(Connector[DiscourseSettings]):
    """Topics of a Discourse category or search (see the module docstring)."""

    def __init__(self, config: DiscourseSettings, client: HttpClient) -> None:
        super().__init__(config, client)
        self.base = config.base_url.rstrip("/")

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """Topics with new posts or a new accepted answer since `cursor`."""
        state = validated(_State, dict(cursor), "cursor")
        run = _Run(state, state.last_posted_at, dict(state.topics), dict(state.solved))
        wanted: dict[int, _TopicItem] = {}
        for item in self._listing(state):
            if item.id not in wanted and item.archetype == "regular" and self._wanted(item, state):
                wanted[item.id] = item
        oldest_first = sorted(wanted.values(), key=lambda t: (t.activity or NEVER, t.id))
        for item in oldest_first:
            self._topic(run, item.id)
            if item.has_accepted_answer:
                # Looked at: even if its accepted answer is not one we keep (hidden), the
                # topic is not fetched again for it on every run.
                run.solved.setdefault(str(item.id), 0)
            if item.activity is not None and (run.latest is None or item.activity > run.latest):
                run.latest = item.activity
        run.result.cursor = run.cursor()
        return run.result

    # -- which topics --

    @staticmethod
    def _new(item: _TopicItem, state: _State) -> bool:
        since = state.last_posted_at
        return since is None or item.activity is None or item.activity > since

    def _wanted(self, item: _TopicItem, state: _State) -> bool:
        return self._new(item, state) or (
            item.has_accepted_answer and str(item.id) not in state.solved
        )

    def _listing(self, state: _State) -> Iterator[_TopicItem]:
        """The listed topics, page after page, until a page holds nothing new."""
        if self.config.category:
            pages = self._category_pages()
        elif self.config.search:
            pages = self._search_pages()
        else:
            raise base.SourceError("set a category or a search")
        for topics in pages:
            yield from topics
            listed = [t for t in topics if not t.pinned]  # pinned topics sit on top, any age
            if listed and not any(self._new(t, state) for t in listed):
                return

    def _category_pages(self) -> Iterator[list[_TopicItem]]:
        path = f"c/{self.config.category}.json"
        url: str | None = path
        page = 1
        while url is not None and page <= self.config.max_pages:
            where = path if page == 1 else f"{path} (page {page})"
            answer = self.client.get(url)
            listing = validated(_Category, answer.data, where).topic_list
            yield listing.topics
            link = listing.more_topics_url or None
            if link is not None:
                parts = urllib.parse.urlsplit(link)
                if not parts.path.endswith(".json"):
                    parts = parts._replace(path=parts.path + ".json")
                link = urllib.parse.urlunsplit(parts)
            refused = f"{where}: topic_list.more_topics_url is not a URL on this forum"
            url = next_url(self.client, link, answer.url, refused)
            page += 1

    def _search_pages(self) -> Iterator[list[_TopicItem]]:
        query = self.config.search or ""
        if "order:" not in query:
            query = f"{query} order:latest"
        for page in range(1, self.config.max_pages + 1):
            where = "search.json" if page == 1 else f"search.json (page {page})"
            answer = self.client.get("search.json", {"q": query, "page": page})
            found = validated(_Search, answer.data, where)
            yield found.topics
            more = found.grouped_search_result
            if not found.topics or more is None or not more.more_full_page_results:
                return

    # -- one topic --

    def _topic(self, run: _Run, topic_id: int) -> None:
        where = f"t/{topic_id}.json"
        topic = validated(_Topic, self.client.get(where).data, where)
        if topic.archetype != "regular":
            return
        posts = {p.post_number: p for p in topic.post_stream.posts}
        loaded = {p.id for p in topic.post_stream.posts}
        missing = list(dict.fromkeys(i for i in topic.post_stream.stream if i not in loaded))
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            where = f"t/{topic_id}/posts.json"
            answer = self.client.get(where, {"post_ids[]": chunk})
            for post in validated(_Posts, answer.data, where).post_stream.posts:
                posts.setdefault(post.post_number, post)
        self._gather(run, topic, [posts[n] for n in sorted(posts)])

    def _gather(self, run: _Run, topic: _Topic, posts: list[_Post]) -> None:
        tid = str(topic.id)
        gathered = run.topics.get(tid, 0)
        first = posts[0] if posts and posts[0].post_number == 1 else None
        if gathered == 0 and (first is None or not first.kept):
            return  # no visible opening post: nothing to thread the answers on
        dropped = {p.post_number for p in posts if not p.kept}
        for post in posts:
            if not post.kept:
                continue
            url = self._url(topic, post.post_number)
            if post.post_number > gathered:
                run.result.posts.append(self._post(topic, post, dropped, url))
            if post.accepted_answer and run.solved.get(tid) != post.post_number:
                run.solved[tid] = post.post_number
                run.result.signals.append(
                    base.Signal(
                        tid,
                        "resolved",
                        at=post.updated_at or post.created_at,
                        by_brand=post.staff,
                        url=url,
                        author=post.username,
                    )
                )
        if posts:
            run.topics[tid] = max(gathered, posts[-1].post_number)

    def _post(self, topic: _Topic, post: _Post, dropped: set[int], url: str) -> base.Post:
        tid = str(topic.id)
        common: dict[str, Any] = {
            "root_id": tid,
            "text": html_to_text(post.cooked),
            "url": url,
            "author": post.username,
            "author_name": post.name or None,
            "is_brand": post.staff,
            "at": post.created_at,
        }
        if post.post_number == 1:
            return base.Post(native_id=tid, title=topic.title, tags=topic.tags, **common)
        target = post.reply_to_post_number
        parent = f"{tid}-p{target}" if target and target > 1 and target not in dropped else tid
        return base.Post(native_id=f"{tid}-p{post.post_number}", parent_id=parent, **common)

    def _url(self, topic: _Topic, number: int) -> str:
        url = f"{self.base}/t/{topic.slug}/{topic.id}"
        return url if number == 1 else f"{url}/{number}"


SOURCE = base.SourceType(
    settings=DiscourseSettings,
    channel="discourse",
    display="Discourse",
    connect=connect,
    credentials=("api_key_env", "api_user_env"),
    summary="Topics of a forum category or search; staff answer; an accepted answer is a fix.",
)
