"""X (Twitter) API v2: mentions of the brand's accounts and the brand's replies to them.

Endpoints (``base_url``, default ``https://api.x.com/``), app-only Bearer token:

* ``GET 2/users/by/username/{username}``: each configured account's id, once (kept in the
  cursor; one user read each).
* ``GET 2/users/{id}/mentions?since_id&until_id&pagination_token&max_results``: what people
  said to the brand, newest first. X serves only the newest 800 mentions.
* ``GET 2/tweets/search/recent?query=from:BrandCare (conversation_id:A OR …)``: the brand's
  posts in the conversations of those mentions, batched as long as the query stays within
  X's 512 characters. Recent search covers the last 7 days only, so a conversation is
  watched for ``watch_days`` (at most 7) after its newest mention; one first gathered later
  than that is searched once.

Every request asks for ``tweet.fields=created_at,author_id,conversation_id,
in_reply_to_user_id,referenced_tweets,edit_history_tweet_ids,note_tweet``,
``expansions=author_id`` and ``user.fields=username,name,public_metrics`` (followers are
the author's reach).

Mapping: a post's ``native_id`` is its first id (``edit_history_tweet_ids[0]``), so an
edited post is the same post, dated by its original id (X ids carry their creation time);
``root_id`` its ``conversation_id``; ``parent_id`` the ``replied_to`` post. A post by one of
the configured accounts is the brand's. Text comes as X sends it with ``&amp;``, ``&lt;``
and ``&gt;`` decoded (the only entities X escapes); a long post's full ``note_tweet`` text
wins. ``errors[]`` beside ``data`` is a partial success (deleted, protected or suspended
posts or authors): those are skipped and counted (``unavailable``).

Cost. X bills every post and user a response returns (``reads``); ``max_reads_per_run`` caps
a run: before each request the source asks for no more than the budget left can pay (a
page of n posts costs at most n post reads and n author reads), and when even the smallest
page would not fit it stops cleanly, keeps its cursor at what it stored and says so in a
warning. ``FetchResult.usage`` reports the reads of every run. Out of credits (HTTP 402) and
the monthly cap (HTTP 429 ``usage-capped``) are one-line errors, never retried.

Cursor::

    accounts  {username (lower case): user id}
    mentions  {user id: {mark, resume, top}}  (see helpers.Progress; ids as strings)
    watch     {conversation id: {since, until}}: conversations whose brand replies are
              searched, the newest brand post id read in each (or its first mention) and
              when watching ends
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from generator.errors import matching
from generator.gather.sources import base
from generator.gather.sources.helpers import (
    ApiModel,
    Connector,
    Page,
    Progress,
    Reader,
    pages_within,
    read_down,
    validated,
)
from generator.record.model import Instant
from generator.record.times import format_instant

TWEET_FIELDS = (
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,"
    "edit_history_tweet_ids,note_tweet"
)
FIELDS = {
    "tweet.fields": TWEET_FIELDS,
    "expansions": "author_id",
    "user.fields": "username,name,public_metrics",
}
QUERY_LIMIT = 512  # recent search query length for pay-per-use (and Basic/Pro) apps
SEARCH_WINDOW = timedelta(days=7)
_SAFETY = timedelta(minutes=10)  # a since_id this close to 7 days old is not sent
MENTIONS_MIN, SEARCH_MIN, PAGE_MAX = 5, 10, 100
SNOWFLAKE_EPOCH_MS = 1288834974657

XId = Annotated[str, matching(r"[0-9]{1,20}", "an X id (digits)")]
Username = Annotated[str, matching(r"[A-Za-z0-9_]{1,50}", "an X username (letters, digits, _)")]


# --- the answers we read --------------------------------------------------------------------


class _Ref(ApiModel):
    type: str
    id: XId


class _Note(ApiModel):
    text: str


class _Tweet(ApiModel):
    id: XId
    text: str
    created_at: Instant
    author_id: XId
    conversation_id: XId | None = None
    referenced_tweets: list[_Ref] = Field(default_factory=list)
    edit_history_tweet_ids: list[XId] = Field(default_factory=list)
    note_tweet: _Note | None = None

    @property
    def key(self) -> str:
        """The post's first id: an edited post stays one post."""
        return self.edit_history_tweet_ids[0] if self.edit_history_tweet_ids else self.id

    @property
    def parent(self) -> str | None:
        return next((r.id for r in self.referenced_tweets if r.type == "replied_to"), None)


class _Metrics(ApiModel):
    followers_count: Annotated[int, Field(ge=0)] | None = None


class _User(ApiModel):
    id: XId
    username: Username
    name: str | None = None
    public_metrics: _Metrics | None = None


class _Includes(ApiModel):
    users: list[_User] = Field(default_factory=list)


class _Meta(ApiModel):
    newest_id: XId | None = None
    oldest_id: XId | None = None
    next_token: str | None = None


class _List(ApiModel):
    data: list[_Tweet] = Field(default_factory=list)
    includes: _Includes = Field(default_factory=_Includes)
    meta: _Meta = Field(default_factory=_Meta)
    errors: list[dict[str, Any]] = Field(default_factory=list)


class _UserAnswer(ApiModel):
    data: _User | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class _Watch(ApiModel):
    since: XId
    until: Instant


class _State(ApiModel):
    accounts: dict[str, XId] = Field(default_factory=dict)
    mentions: dict[XId, dict[str, XId]] = Field(default_factory=dict)
    watch: dict[XId, _Watch] = Field(default_factory=dict)


# --- settings and declaration -----------------------------------------------------------------


class XSettings(base.SourceSettings):
    """Mentions of the brand's X accounts and the brand's replies in those conversations.

    `accounts`: the brand's usernames (without @); `bearer_token_env`: the variable holding
    the app's Bearer token; `max_reads_per_run`: the most posts and users one run may read
    (X bills each); `watch_days`: how long after its newest mention a conversation is
    searched for the brand's replies (recent search reaches 7 days back).
    """

    type: Literal["x"]
    accounts: Annotated[list[Username], Field(min_length=1, max_length=20)]
    bearer_token_env: base.EnvName
    max_reads_per_run: Annotated[int, Field(ge=2 * SEARCH_MIN, le=10_000_000)]
    watch_days: Annotated[int, Field(ge=1, le=7)] = 7
    base_url: base.BaseUrl = "https://api.x.com/"


def connect(settings: XSettings, context: base.Context) -> XMentions:
    """The connector, with the Bearer token from the variable named by `bearer_token_env`."""
    token = context.secret(settings, "bearer_token_env")
    client = context.client(settings.base_url, bearer=token)
    client.refuse = refuse
    return XMentions(settings, client)


def refuse(status: int, body: Any) -> str | None:
    """X's answers that no retry can fix: out of credits, the monthly cap."""
    fields = body if isinstance(body, dict) else {}
    kind = f"{fields.get('type', '')} {fields.get('title', '')}"
    if status == 402 or "credits" in kind.lower():
        return (
            f"HTTP {status} CreditsDepleted: the X app has no credits left; buy credits in"
            " the X Developer Console (console.x.com)"
        )
    if status == 429 and ("usage-capped" in kind or "UsageCapExceeded" in kind):
        return (
            "HTTP 429 UsageCapExceeded: the X app's monthly read cap is reached; it resets"
            " with the billing cycle (or ask X for more)"
        )
    return None


# --- the source -----------------------------------------------------------------------------


def snowflake_time(post_id: str) -> datetime:
    """When an X id was made (X ids carry their creation time in milliseconds)."""
    millis = (int(post_id) >> 22) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def unescape(text: str) -> str:
    """X's text with the three entities it escapes decoded, once."""
    return re.sub(r"&(amp|lt|gt);", lambda m: html.unescape(m.group(0)), text)


@dataclass
class _Run:
    """What one fetch has read so far, and what it may still read."""

    budget: int
    reads: int = 0
    unavailable: int = 0
    stopped: str | None = None  # what the budget stopped, for the warning
    tweets: list[_Tweet] = field(default_factory=list)
    users: dict[str, _User] = field(default_factory=dict)
    brand: set[str] = field(default_factory=set)  # the configured accounts' user ids

    def page_size(self, smallest: int) -> int | None:
        """The largest page the budget left can pay (a post and its author each), or None."""
        size = min(PAGE_MAX, (self.budget - self.reads) // 2)
        return size if size >= smallest else None


class XMentions(Connector[XSettings]):
    """An X source (see the module docstring)."""

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """Everything new since `cursor`, within the read budget."""
        run = _Run(self.config.max_reads_per_run)
        try:
            new_cursor = self._gather(validated(_State, dict(cursor), "cursor"), run)
        except base.SourceError as exc:
            spent = f" (after {run.reads} reads)" if run.reads else ""
            raise base.SourceError(f"{exc}{spent}", status=exc.status) from None
        usage = {"reads": run.reads}
        if run.unavailable:
            usage["unavailable"] = run.unavailable
        warnings = []
        if run.stopped:
            warnings.append(
                f"read budget of {self.config.max_reads_per_run} reached (max_reads_per_run):"
                f" stopped before {run.stopped}; the rest is read next run"
            )
        return base.FetchResult(
            posts=self._posts(run), cursor=new_cursor, usage=usage, warnings=warnings
        )

    def _gather(self, state: _State, run: _Run) -> base.Cursor:
        accounts = self._accounts(state, run)
        brand_ids = run.brand = set(accounts.values())
        mentions: dict[str, dict[str, str]] = {}
        for account_id in accounts.values():
            old = state.mentions.get(account_id, {})
            progress = Progress(old.get("mark"), old.get("resume"), old.get("top"))
            read = self._reader(f"2/users/{account_id}/mentions", run)
            more = pages_within(
                self.config.max_pages,
                lambda: self._affords(run, MENTIONS_MIN, "every new mention was read"),
            )
            items, progress = read_down(progress, read, more)
            run.tweets.extend(items)
            mentions[account_id] = progress.to_json()
        watch = self._watch(state.watch, run, brand_ids)
        self._replies(watch, run)
        new: base.Cursor = {"accounts": dict(sorted(accounts.items()))}
        new["mentions"] = {k: v for k, v in sorted(mentions.items()) if v}
        new["watch"] = {
            conv: {"since": w.since, "until": format_instant(w.until)}
            for conv, w in sorted(watch.items(), key=lambda kv: int(kv[0]))
        }
        return new

    # -- budget --

    def _affords(self, run: _Run, smallest: int, what: str) -> bool:
        if run.page_size(smallest) is not None:
            return True
        run.stopped = run.stopped or what
        return False

    # -- accounts --

    def _accounts(self, state: _State, run: _Run) -> dict[str, str]:
        """Each configured username's user id (looked up once, then kept in the cursor)."""
        found: dict[str, str] = {}
        for username in self.config.accounts:
            known = state.accounts.get(username.lower())
            if known is not None:
                found[username.lower()] = known
                continue
            if run.reads + 1 > run.budget:
                run.stopped = run.stopped or f"looking up @{username}"
                continue
            path = f"2/users/by/username/{username}"
            data = self.client.get(path, {"user.fields": "username"}).data
            answer = validated(_UserAnswer, data, path)
            if answer.data is None:
                raise base.SourceError(f"{path}: no such X account (or suspended): @{username}")
            run.reads += 1
            found[username.lower()] = answer.data.id
        return found

    # -- mentions --

    def _reader(self, path: str, run: _Run) -> Reader[_Tweet]:
        def read(floor: str | None, start: str | None, token: str | None) -> Page[_Tweet]:
            size = run.page_size(MENTIONS_MIN) or MENTIONS_MIN
            params: dict[str, Any] = {**FIELDS, "max_results": size}
            if floor is not None:
                params["since_id"] = floor
            if start is not None:
                params["until_id"] = start
            if token is not None:
                params["pagination_token"] = token
            answer = self._list(path, params, run)
            return Page(
                answer.data,
                top=answer.meta.newest_id,
                resume=answer.meta.oldest_id,
                token=answer.meta.next_token,
            )

        return read

    def _list(self, path: str, params: Mapping[str, Any], run: _Run) -> _List:
        answer = validated(_List, self.client.get(path, params).data, path)
        run.reads += len(answer.data) + len(answer.includes.users)
        run.unavailable += len(answer.errors)
        for user in answer.includes.users:
            run.users[user.id] = user
        return answer

    # -- the brand's replies --

    def _watch(
        self, old: Mapping[str, _Watch], run: _Run, brand_ids: set[str]
    ) -> dict[str, _Watch]:
        """Conversations to search: those still watched and those of new mentions."""
        now = datetime.fromtimestamp(self.client.clock(), tz=UTC)
        watch = {conv: w for conv, w in old.items() if w.until > now}
        days = timedelta(days=self.config.watch_days)
        for tweet in run.tweets:
            if tweet.author_id in brand_ids:
                continue
            conv = tweet.conversation_id or tweet.key
            until = max(tweet.created_at + days, now)  # searched at least once
            known = watch.get(conv)
            if known is None:
                watch[conv] = _Watch(since=tweet.key, until=until)
            else:
                since = min(known.since, tweet.key, key=int)
                watch[conv] = _Watch(since=since, until=max(known.until, until))
        return watch

    def _replies(self, watch: dict[str, _Watch], run: _Run) -> None:
        """Search the watched conversations for the brand's posts, in batches that fit a
        query; a batch read to its end moves its conversations' `since` to its newest post."""
        now = self.client.clock()
        usernames = self.config.accounts
        ordered = sorted(watch, key=lambda conv: (int(watch[conv].since), int(conv)))
        for batch in _batches(ordered, usernames):
            since = min((watch[c].since for c in batch), key=int)
            params: dict[str, Any] = {"query": _query(batch, usernames), **FIELDS}
            if _searchable(since, now):
                params["since_id"] = since
            newest: str | None = None
            for _page in range(self.config.max_pages):
                size = run.page_size(SEARCH_MIN)
                if size is None:
                    run.stopped = run.stopped or "the brand's replies in every conversation"
                    return
                answer = self._list("2/tweets/search/recent", {**params, "max_results": size}, run)
                run.tweets.extend(answer.data)
                newest = newest or answer.meta.newest_id
                if answer.meta.next_token is None:
                    break
                params["next_token"] = answer.meta.next_token
            else:
                continue  # max_pages: the batch is read again from `since` next run
            if newest is not None:
                for conv in batch:
                    latest = max(watch[conv].since, newest, key=int)
                    watch[conv] = _Watch(since=latest, until=watch[conv].until)

    # -- posts --

    def _posts(self, run: _Run) -> list[base.Post]:
        alias: dict[str, str] = {}
        newest: dict[str, _Tweet] = {}
        for tweet in run.tweets:
            for old in tweet.edit_history_tweet_ids:
                alias[old] = tweet.key
            known = newest.get(tweet.key)
            if known is None or int(tweet.id) > int(known.id):
                newest[tweet.key] = tweet
        posts = [self._post(t, alias, run.brand, run.users) for t in newest.values()]
        return sorted(posts, key=lambda p: (p.at, int(p.native_id)))

    def _post(
        self, tweet: _Tweet, alias: Mapping[str, str], brand: set[str], users: Mapping[str, _User]
    ) -> base.Post:
        user = users.get(tweet.author_id)
        key = tweet.key
        at = tweet.created_at if key == tweet.id else snowflake_time(key)
        text = tweet.note_tweet.text if tweet.note_tweet else tweet.text
        parent = tweet.parent
        name = user.name.strip() if user and user.name else None
        metrics = user.public_metrics if user else None
        return base.Post(
            native_id=key,
            at=at,
            author=f"@{user.username}" if user else None,
            author_name=name or None,
            reach=metrics.followers_count if metrics else None,
            text=unescape(text),
            url=f"https://x.com/{user.username if user else 'i/web'}/status/{key}",
            root_id=alias.get(tweet.conversation_id or key, tweet.conversation_id or key),
            parent_id=alias.get(parent, parent) if parent else None,
            is_brand=True if tweet.author_id in brand else None,
        )


def _searchable(since: str, now: float) -> bool:
    """Whether recent search accepts `since` as since_id (younger than its 7 days)."""
    limit = datetime.fromtimestamp(now, tz=UTC) - SEARCH_WINDOW + _SAFETY
    return snowflake_time(since) > limit


def _query(conversations: Sequence[str], usernames: Sequence[str]) -> str:
    authors = " OR ".join(f"from:{u}" for u in usernames)
    threads = " OR ".join(f"conversation_id:{c}" for c in conversations)
    if len(usernames) > 1:
        authors = f"({authors})"
    if len(conversations) > 1:
        threads = f"({threads})"
    return f"{authors} {threads}"


def _batches(conversations: Sequence[str], usernames: Sequence[str]) -> list[list[str]]:
    """The conversations in order, cut into batches whose query fits QUERY_LIMIT."""
    batches: list[list[str]] = []
    for conv in conversations:
        if batches and len(_query([*batches[-1], conv], usernames)) <= QUERY_LIMIT:
            batches[-1].append(conv)
        else:
            batches.append([conv])
    return batches


SOURCE = base.SourceType(
    settings=XSettings,
    channel="x",
    display="X",
    connect=connect,
    credentials=("bearer_token_env",),
    summary="Mentions of the brand's X accounts and its replies to them (paid API: a read budget).",
)
