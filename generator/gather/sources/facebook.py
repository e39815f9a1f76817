"""Facebook Pages: visitors' posts on a Page and every comment under the Page's posts, read
through the Graph API with a Page access token.

Endpoints (Graph API, at the version pinned by ``api_version``):

* ``GET {version}/{page-id}/feed?since=…[&until=…]&limit=25&fields=…``: the Page's feed
  (its own posts, visitors' posts, public posts tagging it), each post with its comments
  expanded inline as one flat stream, newest first:
  ``comments.filter(stream).order(reverse_chronological).limit(50){id,from,message,
  created_time,parent{id},is_hidden,permalink_url}``;
* the ``paging.next`` link of a post's inline comments, for more of them;
* ``GET {version}/{page-id}/visitor_posts`` (same fields), unless the Page answers that the
  edge is not supported (Pages on the New Pages Experience): then it is remembered as not
  available and never asked again.

Every list follows ``paging.next`` until it is absent (a page with no data may still have
one), up to ``max_pages`` pages, on the API's own origin only. The token travels in the
``Authorization`` header, never in a URL.

Mapping: a post by anyone but the Page opens a thread (``native_id`` the post id); the
Page's own posts are not complaints and are not gathered, but each comment on them opens
its own thread. A comment answers its parent comment, else its post. A comment or post
whose ``from.id`` is the Page is the brand's (``is_brand``); anyone else is left to the
shared code (``[accounts]`` may name staff profiles by id). Authors are kept by id, with
their name. Hidden comments (``is_hidden``) are skipped and counted (usage ``hidden``).

Window and cursor: comments keep arriving under old posts, so every run re-reads the posts
created in the last ``window_days`` days (the horizon never moves back) with all their
comments; a comment under a post older than that is not gathered. The cursor keeps, per
post in the window, its creation time and a watermark (its newest comment gathered and
the ids at that second), so nothing comes twice and a post seen for the first time gives
all its comments::

    horizon         the oldest creation time still re-read
    posts           {post id: {"at": created, "mark": newest comment, "ids": [...]}}
    backlog         after a run cut short by max_pages: the oldest post it reached; the
                    next runs read the older posts of the window first (until=backlog)
                    while the horizon waits
    visitor_posts   false once the Page said the edge is not available

A post's comments are read newest first and no further than the first page that reaches
back before its watermark; more than ``max_pages`` pages of new comments under one post in
one run leave the oldest of them ungathered, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from generator.errors import matching
from generator.gather.sources import base
from generator.gather.sources.helpers import (
    ApiModel,
    Connector,
    GraphSettings,
    Thread,
    Watermark,
    WindowRun,
    newest_first_past,
    validated,
    version_notices,
)
from generator.gather.sources.http import HttpClient, HttpError
from generator.record.model import Instant
from generator.record.times import format_instant

PAGE_SIZE = 25
COMMENT_FIELDS = "id,from,message,created_time,parent{id},is_hidden,permalink_url"
POST_FIELDS = (
    "id,message,created_time,from,permalink_url,"
    f"comments.filter(stream).order(reverse_chronological).limit(50){{{COMMENT_FIELDS}}}"
)
# "This endpoint is not supported" / "…feature of this API is deprecated or not available"
# (Pages API error codes), the answer of /visitor_posts on New Pages Experience Pages.
NOT_AVAILABLE = frozenset({2069030, 2069033})


class _From(ApiModel):
    id: str
    name: str | None = None


class _Ref(ApiModel):
    id: str


class _Comment(ApiModel):
    id: str
    created_time: Instant
    message: str | None = None
    author: _From | None = Field(default=None, validation_alias="from")
    parent: _Ref | None = None
    is_hidden: bool = False
    permalink_url: str | None = None


class _Post(ApiModel):
    id: str
    created_time: Instant
    message: str | None = None
    author: _From | None = Field(default=None, validation_alias="from")
    permalink_url: str | None = None
    comments: dict[str, Any] | None = None  # the first page of the inline comments


class _State(ApiModel):
    horizon: Instant | None = None
    backlog: Instant | None = None
    posts: dict[str, Thread] = Field(default_factory=dict)
    visitor_posts: bool = True


class FacebookSettings(GraphSettings):
    """A Facebook Page: visitors' posts and the comments under every post, with a Page
    access token."""

    type: Literal["facebook"]
    page_id: Annotated[str, matching(r"[0-9]{1,30}", "a numeric Page id")]
    page_token_env: base.EnvName
    visitor_posts: bool = True
    base_url: base.BaseUrl = "https://graph.facebook.com/"


def connect(settings: FacebookSettings, context: base.Context) -> FacebookPage:
    """The connector, with the Page token from the variable named by `page_token_env`."""
    token = context.secret(settings, "page_token_env")
    return FacebookPage(settings, context.client(settings.base_url, bearer=token))


class FacebookPage(Connector[FacebookSettings]):
    """A Facebook Page's feed and comments (see the module docstring)."""

    def __init__(self, config: FacebookSettings, client: HttpClient) -> None:
        super().__init__(config, client)
        self.root = f"{config.api_version}/{config.page_id}"

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """The posts of the window and their comments newer than their watermarks."""
        state = validated(_State, dict(cursor), "cursor")
        run = WindowRun.start(
            self.client,
            self.config,
            state.horizon,
            state.posts,
            frozen=state.backlog is not None,  # the older posts of the window come first
        )
        horizon = run.horizon
        params: dict[str, Any] = {
            "fields": POST_FIELDS,
            "limit": PAGE_SIZE,
            "since": int(horizon.timestamp()) - 1,
        }
        if state.backlog is not None:
            params["until"] = int(state.backlog.timestamp()) + 1
        path = f"{self.root}/feed"
        cut = ("posts in the window", "the older ones come in the next runs")
        feed = run.listing(path, params, _Post, cut)
        posts = list(feed.items)
        backlog = None
        if feed.cut:
            backlog = min((p.created_time for p in feed.items), default=state.backlog)
        visitor_posts = state.visitor_posts
        if visitor_posts and self.config.visitor_posts and state.backlog is None:
            visited, visitor_posts = self._visitor_posts(run, params)
            posts += visited

        done: set[str] = set()
        for post in posts:
            if post.id not in done and post.created_time >= horizon:
                done.add(post.id)
                self._thread(run, post)

        extra: dict[str, Any] = {}
        if backlog is not None:
            extra["backlog"] = format_instant(backlog)
        if not visitor_posts:
            extra["visitor_posts"] = False
        return run.finish("posts", extra)

    def _visitor_posts(self, run: WindowRun, params: Mapping[str, Any]) -> tuple[list[_Post], bool]:
        """Visitors' posts, and whether the edge is available on this Page."""
        path = f"{self.root}/visitor_posts"
        try:
            cut = ("visitors' posts", "the older ones were not read")
            listing = run.listing(path, params, _Post, cut)
        except HttpError as exc:
            graph = exc.graph
            if graph is None or graph.subcode not in NOT_AVAILABLE:
                raise
            run.result.warnings.append(
                f"{path}: not available on this Page ({graph.describe()}); visitors' posts"
                " still come with its feed, and this edge is not asked again"
            )
            return [], False
        return listing.items, True

    def _thread(self, run: WindowRun, post: _Post) -> None:
        """A post of the window: the post itself when it is new and not the Page's, and
        its comments newer than its watermark."""
        page_id = self.config.page_id
        own = post.author is not None and post.author.id == page_id
        if not run.known(post.id) and not own:
            run.result.posts.append(
                base.Post(
                    native_id=post.id,
                    root_id=post.id,
                    at=post.created_time,
                    author=post.author.id if post.author else None,
                    author_name=post.author.name if post.author else None,
                    text=post.message,
                    url=post.permalink_url,
                )
            )
        mark = run.thread(post.id, post.created_time)
        before = mark.copy()
        comments = self._comments(run, post, before)
        for comment in comments:
            if comment.is_hidden:
                run.hidden += 1
                continue
            if not before.is_new(comment.created_time, comment.id):
                continue
            mark.advance(comment.created_time, comment.id)
            author = comment.author
            run.result.posts.append(
                base.Post(
                    native_id=comment.id,
                    parent_id=comment.parent.id if comment.parent else post.id,
                    root_id=None if own else post.id,
                    at=comment.created_time,
                    author=author.id if author else None,
                    author_name=author.name if author else None,
                    text=comment.message,
                    url=comment.permalink_url,
                    is_brand=True if author is not None and author.id == page_id else None,
                )
            )

    def _comments(self, run: WindowRun, post: _Post, mark: Watermark) -> list[_Comment]:
        """The post's comments: the inline page, then more pages until one reaches back
        before the watermark."""
        if post.comments is None:
            return []
        since = mark.at

        def enough(page: list[_Comment]) -> bool:
            times = [c.created_time for c in page]
            return since is not None and newest_first_past(times, since)

        cut = ("new comments", "the oldest of them were not gathered")
        listing = run.listing(
            f"{post.id}/comments", None, _Comment, cut, first=post.comments, stop=enough
        )
        return listing.items


SOURCE = base.SourceType(
    settings=FacebookSettings,
    channel="facebook",
    display="Facebook",
    connect=connect,
    credentials=("page_token_env",),
    notices=version_notices,
    summary="Visitors' posts and comments on a Facebook Page (Graph API, a Page token).",
)
