"""Bluesky (AT Protocol): what people say to the brand's account, and its replies.

All calls go to the brand's PDS (``base_url``, default ``https://bsky.social/``) as XRPC
(``xrpc/<method>``), with the account's session (``atproto.Session``: logged in with
``handle`` and an app password, then kept between runs in the source's private file,
refreshed, and renewed by a new login only when a refresh is refused):

* ``app.bsky.notification.listNotifications?reasons=mention&reasons=reply&reasons=quote``:
  posts that mention the brand, reply to it or quote it, newest first, read down to where
  the last run stopped (``helpers.read_down``: the notifications' ``indexedAt`` and the uris
  seen at that instant; a run cut short by ``max_pages`` leaves a gap read first next time).
* ``app.bsky.feed.searchPosts?q=…&sort=latest`` for each configured ``search`` query
  (plain-text mentions that notifications miss), from an hour before the newest post it
  has read (indexing lags), skipping posts it has seen.
* ``app.bsky.feed.getPostThread?uri=<root>`` for each thread those posts belong to (the root
  is ``record.reply.root.uri``, or the post itself), to find the brand's replies (and the
  complaining authors' follow-ups). A thread is fetched in the run it is first seen and
  then every run for ``watch_days`` after its newest complaint. ``#notFoundPost`` and
  ``#blockedPost`` nodes are skipped and counted (``unavailable``); when the root itself is
  gone, the complaints' own subtrees are fetched instead.

Mapping: a post's ``native_id`` is its record key and a hash of its author's DID
(``3mabc2xyz-1f2e3d4c5b``: at:// URIs are not file-safe, record keys are unique per author
only); ``root_id`` and ``parent_id`` are made the same way from ``record.reply``. Its time
is the earlier of ``createdAt`` (set by the client) and ``indexedAt`` (Bluesky's own sort
time). A post by the session's account, or by one of ``accounts``, is the brand's.

Cursor::

    notifications  {mark, resume, top}: marks are {"at": indexedAt, "uris": [...]},
                   resume the provider's cursor
    search         {query: {"since": newest time read, "seen": {uri: time}}}
    watch          {root uri: {"until": time, "posts": [complaint uris], "seen": [uris
                   gathered from the thread], "fetched": bool}}
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from generator.errors import kind_of, matching
from generator.gather.sources import base
from generator.gather.sources.atproto import Did, Session
from generator.gather.sources.helpers import (
    ApiModel,
    Connector,
    Page,
    Progress,
    pages_within,
    read_down,
    validated,
)
from generator.gather.sources.http import HttpClient
from generator.record.model import Instant
from generator.record.times import format_instant

REASONS = ("mention", "reply", "quote")
PAGE_LIMIT = 100
THREAD_DEPTH = 20
SEARCH_LAG = timedelta(hours=1)  # a post can be indexed this long after its time
MAX_THREADS = 200  # thread fetches per run; the rest wait for the next run
MAX_COMPLAINTS, MAX_SEEN = 20, 500  # uris kept per watched thread
POST_COLLECTION = "app.bsky.feed.post"

_AT_URI = re.compile(
    r"at://(did:[a-z]+:[A-Za-z0-9._:%-]{1,2000})/([A-Za-z0-9.-]{1,300})/([^/\s]{1,512})"
)
_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,100}")
_HANDLE = r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}"


AtUri = Annotated[str, matching(_AT_URI.pattern, "an at:// URI of a record")]
Handle = Annotated[str, matching(_HANDLE, "a handle like acme.bsky.social (no @)")]


def native_id(uri: str) -> str:
    """A file-safe, stable id for a post: its record key and a hash of its author's DID."""
    match = _AT_URI.fullmatch(uri)
    assert match is not None  # every uri here was validated
    did, _collection, rkey = match.groups()
    if _SAFE_KEY.fullmatch(rkey):
        return f"{rkey}-{hashlib.sha256(did.encode()).hexdigest()[:10]}"
    return "h" + hashlib.sha256(uri.encode()).hexdigest()[:24]


def _author_of(uri: str) -> str:
    match = _AT_URI.fullmatch(uri)
    return match.group(1) if match else ""


def _collection_of(uri: str) -> str:
    match = _AT_URI.fullmatch(uri)
    return match.group(2) if match else ""


# --- the answers we read --------------------------------------------------------------------


class _Ref(ApiModel):
    uri: AtUri


class _Reply(ApiModel):
    root: _Ref
    parent: _Ref


class _Record(ApiModel):
    """An app.bsky.feed.post record: only what heard reads."""

    text: str = ""
    createdAt: Instant
    reply: _Reply | None = None


class _Author(ApiModel):
    did: Did
    handle: str
    displayName: str | None = None


class _PostView(ApiModel):
    uri: AtUri
    author: _Author
    record: dict[str, Any]
    indexedAt: Instant


class _Notification(_PostView):
    reason: str


class _Notifications(ApiModel):
    notifications: list[_Notification]
    cursor: str | None = None


class _Search(ApiModel):
    posts: list[_PostView]
    cursor: str | None = None


class _Mark(ApiModel):
    at: Instant
    uris: list[AtUri] = Field(default_factory=list)


class _Watch(ApiModel):
    until: Instant
    posts: list[AtUri] = Field(default_factory=list)
    seen: list[AtUri] = Field(default_factory=list)
    fetched: bool = False


class _Searched(ApiModel):
    since: Instant
    seen: dict[AtUri, Instant] = Field(default_factory=dict)


class _State(ApiModel):
    notifications: dict[str, Any] = Field(default_factory=dict)
    search: dict[str, _Searched] = Field(default_factory=dict)
    watch: dict[AtUri, _Watch] = Field(default_factory=dict)


@dataclass(frozen=True)
class _Said:
    """A post read from any endpoint, with its record checked."""

    uri: str
    author: _Author
    record: _Record
    indexed: datetime

    @property
    def at(self) -> datetime:
        return min(self.record.createdAt, self.indexed)

    @property
    def root(self) -> str:
        return self.record.reply.root.uri if self.record.reply else self.uri


# --- settings and declaration -----------------------------------------------------------------


class BlueskySettings(base.SourceSettings):
    """Mentions, replies and quotes of the brand's Bluesky account, and its replies.

    `handle`: the brand's account (it logs in with an app password from the variable named
    by `app_password_env`); `accounts`: other handles that answer for the brand;
    `notifications`: read the account's notifications (mentions, replies, quotes);
    `search`: searchPosts queries, for mentions without a link to the account;
    `watch_days`: how long after its newest complaint a thread is checked for replies.
    """

    type: Literal["bluesky"]
    handle: Handle
    app_password_env: base.EnvName
    accounts: list[Handle] = Field(default_factory=list)
    notifications: bool = True
    search: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(default_factory=list)
    watch_days: Annotated[int, Field(ge=1, le=30)] = 7
    base_url: base.BaseUrl = "https://bsky.social/"


def connect(settings: BlueskySettings, context: base.Context) -> BlueskySource:
    """The connector: the app password from its variable, the session file if any."""
    password = context.secret(settings, "app_password_env")
    client = context.client(settings.base_url)
    session = Session(
        client,
        identifier=settings.handle,
        password=password,
        password_variable=settings.app_password_env,
        path=context.private_file(settings, "session.json"),
    )
    return BlueskySource(settings, client, session)


# --- the source -----------------------------------------------------------------------------


@dataclass
class _Run:
    said: dict[str, _Said] = field(default_factory=dict)  # by uri
    unavailable: int = 0
    warnings: list[str] = field(default_factory=list)


class BlueskySource(Connector[BlueskySettings]):
    """A Bluesky source (see the module docstring)."""

    def __init__(self, config: BlueskySettings, client: HttpClient, session: Session) -> None:
        super().__init__(config, client)
        self.session = session
        self.brand_handles = {h.lower() for h in [config.handle, *config.accounts]}

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """Notifications, searches and watched threads new since `cursor`."""
        run = _Run()
        state = validated(_State, dict(cursor), "cursor")
        self.session.ensure()
        new_cursor: base.Cursor = {}
        if self.config.notifications:
            new_cursor["notifications"] = self._notifications(state, run)
        new_cursor["search"] = self._searches(state, run)
        new_cursor["watch"] = self._threads(state, run)
        usage = {"unavailable": run.unavailable, "logins": self.session.logins}
        return base.FetchResult(
            posts=sorted(
                (self._post(s) for s in run.said.values()), key=lambda p: (p.at, p.native_id)
            ),
            cursor=new_cursor,
            usage={k: v for k, v in usage.items() if v},
            warnings=run.warnings,
        )

    def _is_brand(self, author: _Author) -> bool:
        return author.did == self.session.did or author.handle.lower() in self.brand_handles

    # -- reading --

    def _said(self, method: str, index: int, view: _PostView) -> _Said | None:
        """A post view's record, checked; None for a record that is not a post."""
        if view.record.get("$type", POST_COLLECTION) != POST_COLLECTION:
            return None
        if _collection_of(view.uri) != POST_COLLECTION:
            return None
        record = validated(_Record, view.record, f"{method}: item {index}: record")
        return _Said(view.uri, view.author, record, view.indexedAt)

    def _notifications(self, state: _State, run: _Run) -> dict[str, Any]:
        method = "app.bsky.notification.listNotifications"
        old = state.notifications
        where = "cursor: notifications"
        progress = Progress(
            validated(_Mark, old["mark"], where) if "mark" in old else None,
            old.get("resume") if isinstance(old.get("resume"), str) else None,
            validated(_Mark, old["top"], where) if "top" in old else None,
        )

        def read(floor: _Mark | None, start: str | None, token: str | None) -> Page[_Said]:
            params: dict[str, Any] = {"reasons": list(REASONS), "limit": PAGE_LIMIT}
            if token or start:
                params["cursor"] = token or start
            answer = validated(_Notifications, self.session.get(method, params), method)
            items: list[_Said] = []
            fresh: list[_Notification] = []
            for index, note in enumerate(answer.notifications):
                if floor is not None and (
                    note.indexedAt < floor.at
                    or (note.indexedAt == floor.at and note.uri in floor.uris)
                ):
                    continue
                fresh.append(note)
                if note.reason in REASONS and (said := self._said(method, index, note)):
                    items.append(said)
            top = None
            if fresh:
                newest = max(n.indexedAt for n in fresh)
                uris = [n.uri for n in fresh if n.indexedAt == newest]
                if floor is not None and floor.at == newest:
                    uris = [*floor.uris, *uris]
                top = _Mark(at=newest, uris=uris)
            reached = len(fresh) < len(answer.notifications)
            token = None if reached else answer.cursor
            return Page(items, top=top, resume=answer.cursor, token=token)

        items, progress = read_down(progress, read, pages_within(self.config.max_pages))
        for said in items:
            run.said.setdefault(said.uri, said)
        return {
            k: v.model_dump(mode="json") if isinstance(v, _Mark) else v
            for k, v in progress.to_json().items()
        }

    def _searches(self, state: _State, run: _Run) -> dict[str, Any]:
        method = "app.bsky.feed.searchPosts"
        kept: dict[str, Any] = {}
        for query in self.config.search:
            old = state.search.get(query)
            params: dict[str, Any] = {"q": query, "sort": "latest", "limit": PAGE_LIMIT}
            if old is not None:
                params["since"] = format_instant(old.since - SEARCH_LAG)
            seen = dict(old.seen) if old else {}
            newest = old.since if old else None
            ended = False
            for _page in range(self.config.max_pages):
                answer = validated(_Search, self.session.get(method, params), method)
                for index, view in enumerate(answer.posts):
                    said = self._said(method, index, view)
                    if said is None or said.uri in seen:
                        continue
                    seen[said.uri] = said.at
                    newest = max(newest, said.at) if newest else said.at
                    run.said.setdefault(said.uri, said)
                if not answer.posts or not answer.cursor:
                    ended = True
                    break
                params["cursor"] = answer.cursor
            if not ended:
                run.warnings.append(
                    f"search {query!r}: more than {self.config.max_pages} pages of new posts;"
                    " the oldest of them were not read (raise max_pages or run more often)"
                )
            if newest is not None:
                horizon = newest - SEARCH_LAG
                kept[query] = {
                    "since": format_instant(newest),
                    "seen": {u: format_instant(t) for u, t in sorted(seen.items()) if t >= horizon},
                }
        return kept

    # -- threads --

    def _threads(self, state: _State, run: _Run) -> dict[str, Any]:
        now = datetime.fromtimestamp(self.client.clock(), tz=UTC)
        watch = {root: w for root, w in state.watch.items() if w.until > now or not w.fetched}
        days = timedelta(days=self.config.watch_days)
        for said in list(run.said.values()):
            if self._is_brand(said.author):
                continue
            known = watch.get(said.root) or _Watch(until=said.at + days)
            watch[said.root] = _Watch(
                until=max(known.until, said.at + days),
                posts=list(dict.fromkeys([*known.posts, said.uri]))[-MAX_COMPLAINTS:],
                seen=known.seen,
            )
        due = sorted(watch, key=lambda r: (watch[r].fetched, r))[:MAX_THREADS]
        for root in due:
            found = self._thread(root, watch[root], run)
            seen = list(dict.fromkeys([*watch[root].seen, *found]))[-MAX_SEEN:]
            watch[root] = watch[root].model_copy(update={"seen": seen, "fetched": True})
        return {
            root: w.model_dump(mode="json")
            for root, w in sorted(watch.items())
            if w.until > now or not w.fetched
        }

    def _thread(self, root: str, watched: _Watch, run: _Run) -> list[str]:
        """The uris of the brand's replies (and the complainers' own posts) in a thread not
        gathered before, from its root or, when the root is gone, from each complaint."""
        people = {_author_of(uri) for uri in watched.posts}
        known = {*watched.posts, *watched.seen}
        found: list[str] = []
        if self._subtree(root, people, known, found, run):
            return found
        for uri in watched.posts:
            if uri != root:
                self._subtree(uri, people, known, found, run)
        return found

    def _subtree(
        self, uri: str, people: set[str], known: set[str], found: list[str], run: _Run
    ) -> bool:
        method = "app.bsky.feed.getPostThread"
        params = {"uri": uri, "depth": THREAD_DEPTH, "parentHeight": 0}
        try:
            data = self.session.get(method, params)
        except base.SourceError as exc:
            if exc.status == 400 and exc.code == "NotFound":
                run.unavailable += 1
                return False
            raise
        if not isinstance(data, dict) or not isinstance(data.get("thread"), dict):
            raise base.SourceError(
                f"{method}: expected an object with a thread, got {kind_of(data)}"
            )
        nodes: list[Any] = [data["thread"]]
        first = True
        while nodes:
            node = nodes.pop()
            kind = node.get("$type") if isinstance(node, dict) else None
            if kind != "app.bsky.feed.defs#threadViewPost":
                if kind in ("app.bsky.feed.defs#notFoundPost", "app.bsky.feed.defs#blockedPost"):
                    run.unavailable += 1
                    if first:
                        return False
                    continue
                raise base.SourceError(f"{method}: a thread node of unknown type {kind!r}")
            first = False
            view = validated(_PostView, node.get("post"), f"{method}: post")
            replies = node.get("replies") or []
            if not isinstance(replies, list):
                raise base.SourceError(f"{method}: replies: must be a list, not {kind_of(replies)}")
            nodes.extend(replies)
            said = self._said(method, 0, view)
            if said is None or said.uri in known:
                continue
            brand = self._is_brand(said.author) and said.record.reply is not None
            if brand or said.author.did in people:
                found.append(said.uri)
                run.said.setdefault(said.uri, said)
        return True

    # -- posts --

    def _post(self, said: _Said) -> base.Post:
        author = said.author
        handle = author.handle if re.fullmatch(_HANDLE, author.handle) else None
        reply = said.record.reply
        rkey = said.uri.rsplit("/", 1)[1]
        return base.Post(
            native_id=native_id(said.uri),
            at=said.at,
            author=f"@{handle}" if handle and handle != "handle.invalid" else author.did,
            author_name=(author.displayName or "").strip() or None,
            text=said.record.text,
            url=f"https://bsky.app/profile/{author.did}/post/{rkey}",
            root_id=native_id(reply.root.uri) if reply else native_id(said.uri),
            parent_id=native_id(reply.parent.uri) if reply else None,
            is_brand=True if self._is_brand(author) else None,
        )


SOURCE = base.SourceType(
    settings=BlueskySettings,
    channel="bluesky",
    display="Bluesky",
    connect=connect,
    credentials=("app_password_env",),
    summary="Mentions, replies and quotes of the brand's Bluesky account, and its replies.",
)
