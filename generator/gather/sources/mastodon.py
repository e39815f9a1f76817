"""Mastodon: mentions of the brand's account, its own posts and hashtag timelines, as posts.

With a token (read from the environment variable named by ``token_env``, never from the
config file) the source asks ``api/v1/accounts/verify_credentials`` who the brand is, then
gathers the statuses of ``api/v1/notifications?types[]=mention`` (what people said to the
brand) and of ``api/v1/accounts/{id}/statuses?exclude_reblogs=true`` (the brand's own
posts; its replies are its answers). Configured hashtags are read from
``api/v1/timelines/tag/{hashtag}``, with or without a token (public timelines).

Only public and unlisted statuses are gathered: ``private`` (followers only), ``direct``
(private messages) and any other visibility a server may invent are skipped, and so are
reblogs (a boost is not the booster's post). Pages are followed through the RFC 8288
``Link: <…>; rel="next"`` header, up to ``max_pages`` per endpoint, and only on the
instance's own origin (the token never goes to another host).

The cursor is ``{"mentions": <newest notification id>, "own": <newest status id>,
"tags": {<hashtag>: <newest status id>}}``; the next run asks for ``since_id`` and stops
paging at the first item it already has. Ids are strings: they compare as integers when
they are all digits, else by length then text (Mastodon snowflakes, Pleroma flake ids,
GoToSocial ULIDs all order that way). More than ``max_pages`` pages of new items in one
run leave the oldest of them ungathered: the cursor moves to the newest.

Every answer is checked with small pydantic models (unknown fields ignored, types strict);
a wrong shape is a one-line SourceError naming the source, the endpoint, the item and the
field, e.g. ``mastodon: api/v1/notifications: item 2: status.created_at: not an ISO 8601
time with a zone`` (items counted from 0, as in the JSON array). Messages never hold the
token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from generator.errors import kind_of, matching
from generator.gather.sources import base
from generator.gather.sources.helpers import (
    ApiModel,
    Connector,
    html_to_text,
    link_pages,
    validated,
)
from generator.gather.sources.http import HttpClient
from generator.record.model import Instant

PAGE_LIMIT = 40
GATHERED_VISIBILITY = frozenset({"public", "unlisted"})

_ID_RE = re.compile(r"[A-Za-z0-9._~-]{1,128}")
_ACCT_RE = re.compile(r"@?[^\s@/]+(@[^\s@/]+)?")


def _id(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise PydanticCustomError("id", "not an id (1 to 128 letters, digits, . _ ~ -)")
    return value


def _acct(value: str) -> str:
    if not _ACCT_RE.fullmatch(value):
        raise PydanticCustomError("acct", "not an account name like user or user@host")
    return value.lstrip("@")


Id = Annotated[str, AfterValidator(_id)]
Acct = Annotated[str, AfterValidator(_acct)]


class _Identified(ApiModel):
    id: Id


class Account(_Identified):
    """The fields of a Mastodon Account entity that heard uses."""

    acct: Acct
    display_name: str | None = None
    followers_count: Annotated[int, Field(ge=0)] | None = None


class Tag(ApiModel):
    """A Status::Tag (hashtag) of a status."""

    name: str


class Status(_Identified):
    """The fields of a Mastodon Status entity that heard uses."""

    created_at: Instant
    account: Account
    content: str
    visibility: str
    spoiler_text: str = ""
    url: str | None = None
    uri: str | None = None
    in_reply_to_id: Id | None = None
    reblog: Any = None
    tags: list[Tag] = Field(default_factory=list)


class Notification(_Identified):
    """A Notification entity; mentions carry the status that mentioned the brand."""

    type: str
    status: Status | None = None


T = TypeVar("T", bound=_Identified)


class MastodonSettings(base.SourceSettings):
    """Mentions of the brand's account (with its token) and hashtag timelines."""

    type: Literal["mastodon"]
    base_url: base.BaseUrl
    token_env: base.EnvName | None = None
    hashtags: list[Annotated[str, matching(r"[^\s#]+", "a hashtag without '#' or spaces")]] = Field(
        default_factory=list
    )


def connect(settings: MastodonSettings, context: base.Context) -> MastodonMentions:
    """The connector, with the brand's token from the variable named by `token_env`."""
    token = context.optional_secret(settings, "token_env")
    return MastodonMentions(settings, context.client(settings.base_url, bearer=token))


def id_key(value: str) -> tuple[int, int, str]:
    """Sort key of a status or notification id: by number when all digits, else (len, text)."""
    if value.isascii() and value.isdigit():
        return (0, int(value), "")
    return (1, len(value), value)


def _newer(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if id_key(a) >= id_key(b) else b


def _cursor_id(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if isinstance(value, str) and _ID_RE.fullmatch(value):
        return value
    return None


def _http_url(value: str | None) -> str | None:
    if value and re.match(r"https?://[^\s]+\Z", value, re.IGNORECASE):
        return value
    return None


class MastodonMentions(Connector[MastodonSettings]):
    """A Mastodon source: see the module docstring."""

    def __init__(self, config: MastodonSettings, client: HttpClient) -> None:
        super().__init__(config, client)
        self.host = httpx.URL(config.base_url).host
        self.brand_id: str | None = None

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """Every new public status since `cursor`."""
        old_tags = cursor.get("tags")
        tag_cursor: dict[str, str] = {}
        if isinstance(old_tags, Mapping):
            for tag, value in old_tags.items():
                known = _cursor_id(value)
                if isinstance(tag, str) and known:
                    tag_cursor[tag] = known
        mentions = _cursor_id(cursor.get("mentions"))
        own = _cursor_id(cursor.get("own"))
        statuses: list[Status] = []

        if self.config.token_env:
            self.brand_id = self._verify_credentials().id
            notes, mentions = self._collect(
                "api/v1/notifications",
                {"types[]": "mention", "limit": PAGE_LIMIT},
                mentions,
                Notification,
            )
            for note in notes:
                if note.type == "mention" and note.status is not None:
                    statuses.append(note.status)
            mine, own = self._collect(
                f"api/v1/accounts/{quote(self.brand_id, safe='')}/statuses",
                {"limit": PAGE_LIMIT, "exclude_reblogs": "true"},
                own,
                Status,
            )
            statuses.extend(mine)

        for tag in self.config.hashtags:
            tagged, newest = self._collect(
                f"api/v1/timelines/tag/{quote(tag, safe='')}",
                {"limit": PAGE_LIMIT},
                tag_cursor.get(tag),
                Status,
            )
            statuses.extend(tagged)
            if newest is not None:
                tag_cursor[tag] = newest

        posts: dict[str, base.Post] = {}
        for status in statuses:
            post = self._post(status)
            if post is not None and post.native_id not in posts:
                posts[post.native_id] = post
        new_cursor: base.Cursor = {}
        if mentions is not None:
            new_cursor["mentions"] = mentions
        if own is not None:
            new_cursor["own"] = own
        if tag_cursor:
            new_cursor["tags"] = tag_cursor
        ordered = sorted(posts.values(), key=lambda p: (p.at, id_key(p.native_id)))
        return base.FetchResult(posts=ordered, cursor=new_cursor)

    def _verify_credentials(self) -> Account:
        path = "api/v1/accounts/verify_credentials"
        return validated(Account, self.client.get(path).data, path)

    def _collect(
        self, path: str, params: Mapping[str, Any], since: str | None, model: type[T]
    ) -> tuple[list[T], str | None]:
        """Every item newer than `since` over up to max_pages pages, and the newest id."""
        items: list[T] = []
        newest = since
        query = {**params, **({"since_id": since} if since else {})}
        refused = "the next page is on another host"
        for answer, where in link_pages(self.client, path, query, self.config.max_pages, refused):
            data = answer.data
            if not isinstance(data, list):
                raise base.SourceError(f"{where}: expected a JSON array, got {kind_of(data)}")
            reached = False
            for index, raw in enumerate(data):
                item = validated(model, raw, f"{where}: item {index}")
                if since is not None and id_key(item.id) <= id_key(since):
                    reached = True
                    continue
                items.append(item)
                newest = _newer(newest, item.id)
            if reached or not data:
                break
        return items, newest

    def _post(self, status: Status) -> base.Post | None:
        if status.reblog is not None or status.visibility not in GATHERED_VISIBILITY:
            return None
        text = html_to_text(status.content)
        warning = status.spoiler_text.strip()
        if warning:
            text = f"{warning}\n\n{text}" if text else warning
        acct = status.account.acct
        handle = "@" + (acct if "@" in acct else f"{acct}@{self.host}")
        is_brand = True if self.brand_id and status.account.id == self.brand_id else None
        return base.Post(
            native_id=status.id,
            at=status.created_at,
            author=handle,
            author_name=(status.account.display_name or "").strip() or None,
            reach=status.account.followers_count,
            text=text,
            url=_http_url(status.url) or _http_url(status.uri),
            parent_id=status.in_reply_to_id,
            is_brand=is_brand,
            tags=tuple(tag.name for tag in status.tags),
        )


SOURCE = base.SourceType(
    settings=MastodonSettings,
    channel="mastodon",
    display="Mastodon",
    connect=connect,
    credentials=("token_env",),
    summary="Mentions of the brand's account and hashtag timelines on a Mastodon server.",
)
