"""Instagram: comments and replies on a professional (business or creator) account's
media, read through the Graph API.

Endpoints (at the version pinned by ``api_version``, on ``graph.facebook.com`` for an
account linked to a Page and a token from Facebook Login, or ``graph.instagram.com`` for a
token from Business Login for Instagram; ``login`` chooses):

* ``GET {version}/{ig-user-id}?fields=id,username``: the account, whose comments are the
  brand's answers;
* ``GET {version}/{ig-user-id}/media?fields=id,caption,timestamp,permalink,comments_count
  &limit=25``: its media, newest first;
* ``GET {version}/{ig-media-id}/comments?fields=id,text,timestamp,username,from,hidden,
  parent_id,replies{id,text,timestamp,username,from,hidden,parent_id}&limit=50``: a
  media's top-level comments, each with its replies inline, and the replies' own
  ``paging.next`` (``/{ig-comment-id}/replies``) for more.

Every list follows ``paging.next`` until it is absent, up to ``max_pages`` pages, on the
API's own origin only. The token travels in the ``Authorization`` header.

Mapping: the account's media are not complaints; each top-level comment by someone else
opens a thread, and its replies (Instagram nests one level only: a reply to a reply is a
reply to the top comment) answer it. A comment whose ``from.id`` is the account or whose
``username`` is the account's is the brand's (``is_brand``); other usernames are left to
the shared code (``[accounts]``). A hidden comment is skipped with its replies and counted
(usage ``hidden``). Comments have no link of their own: they link to their media.

Window and cursor: every run re-reads the media posted in the last ``window_days`` days
(the media list is read newest first, until a page reaches back before the window) with
all their comments; comments on older media are not gathered. The cursor keeps, per media
in the window, when it was posted and a watermark (its newest comment or reply gathered
and the ids at that second): nothing comes twice, and media seen for the first time give
all their comments::

    horizon   the oldest posting time still re-read
    media     {media id: {"at": posted, "mark": newest comment, "ids": [...]}}

Media without comments (``comments_count`` 0) cost no further request. The order of a
media's comments cannot be chosen, so they are all read each run; more than ``max_pages``
pages of them leave the rest ungathered, with a warning.
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
    WindowRun,
    newest_first_past,
    validated,
    version_notices,
)
from generator.gather.sources.http import HttpClient
from generator.record.model import Instant

HOSTS = {"facebook": "https://graph.facebook.com/", "instagram": "https://graph.instagram.com/"}
MEDIA_FIELDS = "id,caption,timestamp,permalink,comments_count"
REPLY_FIELDS = "id,text,timestamp,username,from,hidden,parent_id"
COMMENT_FIELDS = f"{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}"
MEDIA_PAGE = 25
COMMENT_PAGE = 50


class _Account(ApiModel):
    id: str
    username: str


class _From(ApiModel):
    id: str
    username: str | None = None


class _Media(ApiModel):
    id: str
    timestamp: Instant
    permalink: str | None = None
    comments_count: int | None = None


class _Reply(ApiModel):
    id: str
    timestamp: Instant
    text: str | None = None
    username: str | None = None
    author: _From | None = Field(default=None, validation_alias="from")
    hidden: bool = False


class _Comment(_Reply):
    replies: dict[str, Any] | None = None  # the first page of the inline replies


class _State(ApiModel):
    horizon: Instant | None = None
    media: dict[str, Thread] = Field(default_factory=dict)


class InstagramSettings(GraphSettings):
    """A professional Instagram account: comments and replies on its media."""

    type: Literal["instagram"]
    user_id: Annotated[str, matching(r"[0-9]{1,30}", "a numeric Instagram user id")]
    token_env: base.EnvName
    login: Literal["facebook", "instagram"] = "facebook"
    base_url: base.BaseUrl | None = None


def connect(settings: InstagramSettings, context: base.Context) -> InstagramAccount:
    """The connector, with the token from the variable named by `token_env`, on the host
    of its kind of login (or `base_url`)."""
    token = context.secret(settings, "token_env")
    host = settings.base_url or HOSTS[settings.login]
    return InstagramAccount(settings, context.client(host, bearer=token))


class InstagramAccount(Connector[InstagramSettings]):
    """Comments on a professional Instagram account's media (see the module docstring)."""

    def __init__(self, config: InstagramSettings, client: HttpClient) -> None:
        super().__init__(config, client)
        self.version = config.api_version

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """The media of the window and their comments newer than their watermarks."""
        state = validated(_State, dict(cursor), "cursor")
        account = self._account()
        run = WindowRun.start(self.client, self.config, state.horizon, state.media)
        horizon = run.horizon

        def enough(page: list[_Media]) -> bool:
            return newest_first_past([m.timestamp for m in page], horizon)

        path = f"{self.version}/{self.config.user_id}/media"
        params = {"fields": MEDIA_FIELDS, "limit": MEDIA_PAGE}
        cut = ("media in the window", "the older ones were not read")
        media = run.listing(path, params, _Media, cut, stop=enough)
        done: set[str] = set()
        for item in media.items:
            if item.id not in done and item.timestamp >= horizon:
                done.add(item.id)
                self._media(run, account, item)
        return run.finish("media")

    def _account(self) -> _Account:
        path = f"{self.version}/{self.config.user_id}"
        return validated(_Account, self.client.get(path, {"fields": "id,username"}).data, path)

    def _media(self, run: WindowRun, account: _Account, media: _Media) -> None:
        """One media of the window: its comments and replies newer than its watermark."""
        mark = run.thread(media.id, media.timestamp)
        if media.comments_count == 0:
            return
        before = mark.copy()
        path = f"{self.version}/{media.id}/comments"
        params = {"fields": COMMENT_FIELDS, "limit": COMMENT_PAGE}
        comments = run.listing(path, params, _Comment, ("comments", "the rest were not read"))
        for comment in comments.items:
            if comment.hidden:
                run.hidden += 1
                continue
            if before.is_new(comment.timestamp, comment.id):
                mark.advance(comment.timestamp, comment.id)
                run.result.posts.append(_post(account, comment, media, media.id))
            for reply in self._replies(run, comment):
                if reply.hidden:
                    run.hidden += 1
                elif before.is_new(reply.timestamp, reply.id):
                    mark.advance(reply.timestamp, reply.id)
                    run.result.posts.append(_post(account, reply, media, comment.id))

    def _replies(self, run: WindowRun, comment: _Comment) -> list[_Reply]:
        if comment.replies is None:
            return []
        cut = ("replies", "the rest were not read")
        return run.listing(f"{comment.id}/replies", None, _Reply, cut, first=comment.replies).items


def _post(account: _Account, item: _Reply, media: _Media, parent: str) -> base.Post:
    """A comment (`parent` its media) or a reply (`parent` its top-level comment)."""
    by_id = item.author is not None and item.author.id == account.id
    username = item.username or (item.author.username if item.author else None)
    by_name = username is not None and username.casefold() == account.username.casefold()
    return base.Post(
        native_id=item.id,
        parent_id=parent,
        root_id=None if parent == media.id else parent,
        at=item.timestamp,
        author=username,
        text=item.text,
        url=media.permalink,
        is_brand=True if by_id or by_name else None,
    )


SOURCE = base.SourceType(
    settings=InstagramSettings,
    channel="instagram",
    display="Instagram",
    connect=connect,
    credentials=("token_env",),
    notices=version_notices,
    summary="Comments and replies on a professional Instagram account's media (Graph API).",
)
