"""Reddit: posts that mention the brand, in chosen subreddits or site-wide, with their
comment trees.

Auth is OAuth "application only": ``POST {auth_url}api/v1/access_token`` with HTTP Basic
``client_id:client_secret`` (from the variables named by ``client_id_env`` and
``client_secret_env``) and ``grant_type=client_credentials`` gives a bearer token (an hour)
used on ``{base_url}`` (https://oauth.reddit.com/); it is fetched again a minute before it
expires. Every request carries the configured ``user_agent`` (Reddit blocks generic ones).

Endpoints (every GET with ``raw_json=1``, so text comes unescaped):

* ``GET r/{sub}/search?q=…&restrict_sr=1&type=link&sort=new&t=…&limit=100&after=…`` per
  configured subreddit, or ``GET search?…`` site-wide. Search finds posts only. ``t`` is the
  smallest of day/week/month/year/all that covers the time since the last run (the first
  run uses ``first_run``).
* ``GET comments/{post}?sort=old&limit=500&depth=10`` → ``[Listing(t3), Listing(t1…)]``;
  ``replies`` is ``""`` or a Listing.
* ``GET api/morechildren?link_id=t3_…&children=…&api_type=json&sort=old`` expands the
  ``kind: "more"`` stubs, 100 ids a call; a stub with no ids ("continue this thread") is
  read from ``GET comments/{post}/_/{comment}``. At most ``max_pages`` such calls a post and
  run: the rest come on the next run while the post is still recent.

Mapping: a post is a root post (``native_id`` its base-36 id, so the case is
``reddit-<id>``); a comment answers the post (``parent_id`` ``t3_…``) or another comment
(``t1_…``), ``native_id`` ``<post>-<comment>``. Who is the brand is decided by the shared
code from ``[accounts] reddit`` (bare user names): a moderator or admin
(``distinguished``) is not the brand for that. A post or comment whose text is
``[deleted]`` or ``[removed]`` (or a post with ``removed_by_category``) is skipped and
counted (``deleted`` in the summary); the comments of a skipped post are not read.
``created_utc`` (seconds, a float) is the time; an ``edited`` post keeps it.

Cursor::

    listings  {"r/<sub>" or "search": {newest, newest_ids, gap_after, gap_until,
              gap_until_ids}}: the newest post time seen and the ids at that second; a
              listing stops at the first page reaching them. A run cut by max_pages keeps
              where it stopped (gap_after, a listing `after` token) and the time it must
              reach (gap_until; none on a first run), and the next run continues there.
    posts     {<post id>: {at, seen}}: posts created in the last `reread_days`, with the
              ids of the comments already gathered; their trees are read again each run,
              so a comment on a recent post comes once, when it first appears.

Reddit's listings stop near 1,000 items: a run that finds more new posts than that (or a
gap deeper than that) cannot reach the oldest of them, and says so in a warning.
Comments added to a post more than ``reread_days`` after it was posted are not gathered.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from generator.errors import kind_of, matching
from generator.gather.sources import base
from generator.gather.sources.helpers import ApiModel, Connector, validated
from generator.gather.sources.http import Answer, HttpClient
from generator.record.model import Instant
from generator.record.times import format_instant

PER_PAGE = 100
MORE_BATCH = 100
WEB = "https://www.reddit.com"
GONE = frozenset({"[deleted]", "[removed]"})
TOKEN_MARGIN = 60.0  # fetch a new token this many seconds before the old one expires
WINDOW = 600.0  # Reddit counts requests over 10 minutes: a used-up window may take that long
Period = Literal["day", "week", "month", "year", "all"]
PERIODS: tuple[tuple[Period, int], ...] = (("day", 1), ("week", 7), ("month", 30), ("year", 365))


# --- settings --------------------------------------------------------------------------------

_USER_AGENT = re.compile(
    r"(?P<platform>[A-Za-z0-9][A-Za-z0-9._-]*):(?P<app>[A-Za-z0-9][A-Za-z0-9._-]*)"
    r":(?P<version>v?[0-9][A-Za-z0-9._-]*) \(by /?u/(?P<user>[A-Za-z0-9_-]{3,20})\)"
)
_PLACEHOLDER_APPS = {"app", "appid", "app-id", "myapp", "my-app", "my_app", "bot", "mybot",
                     "script", "test", "yourapp", "your-app", "heard", "praw"}  # fmt: skip
_PLACEHOLDER_USERS = {"username", "user_name", "your_username", "yourusername", "yourname",
                      "your_name", "reddit_username", "name", "user", "me", "example",
                      "kemitche", "operator"}  # fmt: skip


def _user_agent(value: str) -> str:
    found = _USER_AGENT.fullmatch(value)
    if found is None:
        raise ValueError(
            "must describe your app as platform:app-id:version (by /u/reddit_name), like"
            " python:com.acme.complaints:1.0 (by /u/acme_support)"
        )
    app, user = found.group("app").casefold(), found.group("user").casefold()
    if (
        app in _PLACEHOLDER_APPS
        or "example" in re.split(r"[._-]", app)
        or user in _PLACEHOLDER_USERS
    ):
        raise ValueError(
            "is generic (Reddit blocks generic user agents): name your own app id and the"
            " Reddit account that runs it"
        )
    return value


UserAgent = Annotated[str, Field(max_length=256), AfterValidator(_user_agent)]
Subreddit = Annotated[
    str, matching(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}", "a subreddit name without r/ (like BrandApp)")
]


class RedditSettings(base.SourceSettings):
    """Posts mentioning the brand (`query`) in `subreddits` (or site-wide) and their
    comments, read with an approved Reddit app's client credentials.

    - `query`: Reddit search words for the brand (up to 512 characters);
    - `subreddits`: where to search; empty searches all of Reddit;
    - `user_agent`: required, `platform:app-id:version (by /u/name)` naming your app and the
      account that runs it (generic ones are refused, as Reddit blocks them);
    - `client_id_env`, `client_secret_env`: the variables holding the app's credentials;
    - `reread_days`: how long after a post its comments are still looked for;
    - `first_run`: how far back the first run searches;
    - `base_url`, `auth_url`: the API and the token endpoint's host (tests point them at a
      local server).
    """

    type: Literal["reddit"]
    query: Annotated[str, Field(min_length=1, max_length=512)]
    subreddits: list[Subreddit] = Field(default_factory=list)
    user_agent: UserAgent
    client_id_env: base.EnvName
    client_secret_env: base.EnvName
    reread_days: Annotated[int, Field(ge=0, le=30)] = 7
    first_run: Period = "week"
    base_url: base.BaseUrl = "https://oauth.reddit.com/"
    auth_url: base.BaseUrl = "https://www.reddit.com/"


def connect(settings: RedditSettings, context: base.Context) -> RedditSearch:
    """The connector: a token client (HTTP Basic with the app's credentials) and an API
    client, both sending the configured User-Agent."""
    client_id = context.secret(settings, "client_id_env")
    secret = context.secret(settings, "client_secret_env")
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    context.secrets.append(basic)  # scrubbed from every message, whichever client failed
    agent = {"user-agent": settings.user_agent}
    auth = context.client(settings.auth_url, {**agent, "authorization": f"Basic {basic}"})
    api = context.client(settings.base_url, agent)
    api.max_wait = max(api.max_wait, WINDOW)
    return RedditSearch(settings, auth, api, context.secrets)


# --- the answers we read ------------------------------------------------------------------------


def _epoch(value: object) -> datetime:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value < 32_503_680_000  # before the year 3000
    ):
        raise PydanticCustomError("epoch", "not a time in seconds since 1970")
    return datetime.fromtimestamp(value, UTC)


Epoch = Annotated[datetime, BeforeValidator(_epoch)]
Base36 = Annotated[str, matching(r"[0-9a-z]{1,16}", "a Reddit id (base-36)")]
Fullname = Annotated[str, matching(r"t[1-6]_[0-9a-z]{1,16}", "a Reddit fullname like t3_1h2abc")]


class _Token(ApiModel):
    access_token: Annotated[str, Field(min_length=1)]
    token_type: str
    expires_in: Annotated[float, Field(gt=0)] = 3600.0


class _Thing(ApiModel):
    kind: str
    data: dict[str, Any]


class _ListingData(ApiModel):
    children: list[_Thing]
    after: str | None = None


class _Listing(ApiModel):
    kind: Literal["Listing"]
    data: _ListingData


class _RepliesData(ApiModel):
    children: list[Any]


class _Replies(ApiModel):
    """A Listing whose children are validated one by one (comments nest)."""

    kind: Literal["Listing"]
    data: _RepliesData


class _Link(ApiModel):
    """A post (t3)."""

    id: Base36
    author: str | None = None
    title: str
    selftext: str = ""
    created_utc: Epoch
    permalink: str
    removed_by_category: str | None = None

    @property
    def gone(self) -> bool:
        return self.selftext.strip() in GONE or self.removed_by_category is not None


class _Comment(ApiModel):
    """A comment (t1). `replies` is "" or a Listing; `edited` false or a float."""

    id: Base36
    author: str | None = None
    body: str
    created_utc: Epoch
    parent_id: Fullname
    link_id: Fullname
    permalink: str | None = None
    distinguished: str | None = None
    edited: bool | float = False
    replies: Any = ""


class _More(ApiModel):
    """A "more" stub: ids to expand, or none ("continue this thread" under parent_id)."""

    id: str
    parent_id: Fullname
    children: list[Base36] = Field(default_factory=list)


class _MoreErrors(ApiModel):
    errors: list[Any] = Field(default_factory=list)
    data: dict[str, Any] | None = None


class _MoreAnswer(ApiModel):
    json_: _MoreErrors = Field(alias="json")


class _ListingState(ApiModel):
    newest: Instant | None = None
    newest_ids: list[Base36] = Field(default_factory=list)
    gap_after: Fullname | None = None
    gap_until: Instant | None = None
    gap_until_ids: list[Base36] = Field(default_factory=list)


class _Recent(ApiModel):
    at: Instant
    seen: list[Base36] = Field(default_factory=list)


class _State(ApiModel):
    listings: dict[str, _ListingState] = Field(default_factory=dict)
    posts: dict[Base36, _Recent] = Field(default_factory=dict)


# --- one run -------------------------------------------------------------------------------------


@dataclass
class _Pass:
    """One walk down a listing: what it found and where it stopped."""

    links: list[_Link] = field(default_factory=list)
    reached: bool = False  # met a post at or before the bound
    ended: bool = False  # the listing had no more pages
    after: str | None = None  # the `after` of the last page read (to go on from)

    @property
    def done(self) -> bool:
        """Not cut short by max_pages."""
        return self.reached or self.ended


@dataclass
class _Run:
    now: datetime
    state: _State
    result: base.FetchResult = field(default_factory=base.FetchResult)
    links: dict[str, _Link] = field(default_factory=dict)  # new posts, by id
    listings: dict[str, base.Cursor] = field(default_factory=dict)
    recent: dict[str, _Recent] = field(default_factory=dict)
    deleted: int = 0


def _newest(links: list[_Link], newest: datetime | None, ids: set[str]) -> tuple[Any, set[str]]:
    for link in links:
        if newest is None or link.created_utc > newest:
            newest, ids = link.created_utc, {link.id}
        elif link.created_utc == newest:
            ids = ids | {link.id}
    return newest, ids


def _before(link: _Link, bound: datetime | None, ids: set[str]) -> bool:
    """Whether a post is at or before a bound (already seen), by time then id."""
    if bound is None:
        return False
    return link.created_utc < bound or (link.created_utc == bound and link.id in ids)


class RedditSearch(Connector[RedditSettings]):
    """Reddit posts mentioning the brand and their comments (see the module docstring)."""

    def __init__(
        self, config: RedditSettings, auth: HttpClient, api: HttpClient, secrets: list[str]
    ) -> None:
        super().__init__(config, api, auth)
        self.auth = auth
        self.secrets = secrets
        self.expires_at: float | None = None

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """New posts and the comments of recent ones."""
        state = validated(_State, dict(cursor), "cursor")
        run = _Run(datetime.fromtimestamp(self.client.clock(), UTC), state)
        for key, path, params in self._searches():
            self._listing(run, key, path, params, state.listings.get(key, _ListingState()))
        window = run.now - timedelta(days=self.config.reread_days)
        reads: dict[str, _Recent] = {
            pid: old for pid, old in state.posts.items() if old.at >= window
        }
        for pid, link in sorted(run.links.items(), key=lambda kv: (kv[1].created_utc, kv[0])):
            if link.gone:
                run.deleted += 1
                continue
            if pid not in state.posts:  # known when a run cut short left a gap across it
                run.result.posts.append(self._link_post(link))
            reads.setdefault(pid, _Recent(at=link.created_utc))
        for pid, recent in reads.items():
            seen = self._thread(run, pid, set(recent.seen))
            if recent.at >= window:
                run.recent[pid] = _Recent(at=recent.at, seen=sorted(seen))
        run.result.cursor = {
            "listings": run.listings,
            "posts": {
                pid: {"at": format_instant(r.at), "seen": r.seen}
                for pid, r in sorted(run.recent.items())
            },
        }
        if run.deleted:
            run.result.usage["deleted"] = run.deleted
        return run.result

    # -- searching --

    def _searches(self) -> list[tuple[str, str, dict[str, Any]]]:
        query = {"q": self.config.query, "type": "link", "sort": "new", "limit": PER_PAGE}
        if not self.config.subreddits:
            return [("search", "search", query)]
        return [
            (f"r/{sub.casefold()}", f"r/{sub}/search", {**query, "restrict_sr": 1})
            for sub in dict.fromkeys(self.config.subreddits)
        ]

    def _listing(
        self, run: _Run, key: str, path: str, params: dict[str, Any], old: _ListingState
    ) -> None:
        """One search: new posts down to the last run's newest, then a gap left open."""
        budget = [self.config.max_pages]
        ids = set(old.newest_ids)
        top = self._pass(path, params, None, old.newest, ids, budget)
        links = list(top.links)
        gap: tuple[str | None, datetime | None, set[str]] | None = None  # after, until, ids
        if not top.done:
            # Cut short: everything below down to the old bound (and an older gap) waits.
            if old.gap_after is not None:
                gap = (top.after, old.gap_until, set(old.gap_until_ids))
            else:
                gap = (top.after, old.newest, ids)
        else:
            if not top.reached and old.newest is not None:
                self._unreachable(run, key, old.newest)
            if old.gap_after is not None:
                until, until_ids = old.gap_until, set(old.gap_until_ids)
                rest = self._pass(path, params, old.gap_after, until, until_ids, budget)
                links += rest.links
                if not rest.done:
                    gap = (rest.after, until, until_ids)
                elif not rest.reached and until is not None:
                    self._unreachable(run, key, until)
        new: base.Cursor = {}
        newest, newest_ids = _newest(links, old.newest, ids)
        if newest is not None:
            new.update(newest=format_instant(newest), newest_ids=sorted(newest_ids))
        if gap is not None:
            new["gap_after"] = gap[0]
            if gap[1] is not None:
                new.update(gap_until=format_instant(gap[1]), gap_until_ids=sorted(gap[2]))
        run.listings[key] = new
        for link in links:
            run.links.setdefault(link.id, link)

    def _unreachable(self, run: _Run, key: str, bound: datetime) -> None:
        run.result.warnings.append(
            f"{self.name}: {key}: Reddit's listing ended (it serves about 1,000 posts) before"
            f" reaching the posts of {format_instant(bound)}; older matches are not gathered"
        )

    def _pass(
        self,
        path: str,
        params: dict[str, Any],
        after: str | None,
        bound: datetime | None,
        ids: set[str],
        budget: list[int],
    ) -> _Pass:
        """Pages of a listing from `after` until a post at or before `bound` (or its end);
        with no bound, back to the `first_run` period."""
        found = _Pass(after=after)
        period = self.config.first_run if bound is None else self._period(bound)
        page = 0
        while budget[0] > 0:
            budget[0] -= 1
            page += 1
            query = {**params, "t": period, **({"after": found.after} if found.after else {})}
            where = path if page == 1 and after is None else f"{path} (after {found.after})"
            listing = validated(_Listing, self._get(path, query).data, where)
            for index, thing in enumerate(listing.data.children):
                if thing.kind != "t3":
                    raise base.SourceError(f"{where}: item {index}: kind: must be 't3', a post")
                link = validated(_Link, thing.data, f"{where}: item {index}")
                if _before(link, bound, ids):
                    found.reached = True
                else:
                    found.links.append(link)
            next_after = listing.data.after
            if not listing.data.children or not next_after:
                found.ended = True
                return found
            found.after = next_after
            if found.reached:
                return found
        return found

    def _period(self, bound: datetime) -> Period:
        """The smallest search period `t` reaching back to `bound` (with an hour to spare)."""
        days = (self.client.clock() - bound.timestamp() + 3600) / 86400
        for name, length in PERIODS:
            if days <= length:
                return name
        return "all"

    def _link_post(self, link: _Link) -> base.Post:
        return base.Post(
            native_id=link.id,
            root_id=link.id,
            at=link.created_utc,
            author=_author(link.author),
            title=link.title,
            text=link.selftext.strip() or None,
            url=_web(link.permalink),
        )

    # -- comment trees --

    def _thread(self, run: _Run, pid: str, seen: set[str]) -> set[str]:
        """Gather a post's comments not seen before; returns every id now seen."""
        params = {"sort": "old", "limit": 500, "depth": 10}
        where = f"comments/{pid}"
        answer = self._get(where, params, allow=(403, 404))
        if answer.status in (403, 404):
            run.result.warnings.append(
                f"{self.name}: {where}: HTTP {answer.status}; its comments were not read"
            )
            return seen
        comments: dict[str, _Comment] = {}
        stubs: list[_More] = []
        self._tree(self._comment_things(answer.data, where), where, comments, stubs)
        calls = self.config.max_pages
        while stubs and calls > 0:
            stub = stubs.pop(0)
            ids = [c for c in stub.children if c not in comments and c not in seen]
            if not stub.children:
                calls -= 1
                parent = stub.parent_id.split("_", 1)[1]
                more_at = f"comments/{pid}/_/{parent}"
                things = self._comment_things(self._get(more_at, params).data, more_at)
                self._tree(things, more_at, comments, stubs)
            for start in range(0, len(ids), MORE_BATCH):
                if calls <= 0:
                    stubs.insert(0, stub)
                    break
                calls -= 1
                self._more(pid, ids[start : start + MORE_BATCH], comments, stubs)
        if stubs:
            run.result.warnings.append(
                f"{self.name}: {where}: more comments than {self.config.max_pages} calls could"
                " load; the rest are read on the next run while the post is recent"
            )
        for comment in sorted(comments.values(), key=lambda c: (c.created_utc, c.id)):
            if comment.id in seen or comment.link_id != f"t3_{pid}":
                continue
            seen.add(comment.id)
            if comment.body.strip() in GONE:
                run.deleted += 1
                continue
            run.result.posts.append(self._comment_post(pid, comment))
        return seen

    def _tree(
        self, things: list[Any], where: str, comments: dict[str, _Comment], stubs: list[_More]
    ) -> None:
        """Flatten things (comments whose `replies` nest Listings, and "more" stubs) into
        comments by id and stubs, without recursion however deep the nesting."""
        pending = _numbered(things, where)
        while pending:
            raw, at = pending.pop()
            thing = validated(_Thing, raw, at)
            if thing.kind == "more":
                stubs.append(validated(_More, thing.data, at))
                continue
            if thing.kind != "t1":
                raise base.SourceError(f"{at}: kind: must be 't1' or 'more', a comment")
            comment = validated(_Comment, thing.data, at)
            comments.setdefault(comment.id, comment)
            if comment.replies not in ("", None):
                label = f"{where} (replies to {comment.id})"
                children = validated(_Replies, comment.replies, label).data.children
                pending += [
                    (raw, f"{label}: item {i}") for i, raw in reversed(list(enumerate(children)))
                ]

    def _comment_things(self, data: Any, where: str) -> list[Any]:
        """The comment things of a `comments/…` answer: [post listing, comment listing]."""
        if not isinstance(data, list) or len(data) != 2:
            raise base.SourceError(
                f"{where}: expected [post listing, comment listing], got {kind_of(data)}"
            )
        return validated(_Replies, data[1], where).data.children

    def _more(
        self, pid: str, ids: list[str], comments: dict[str, _Comment], stubs: list[_More]
    ) -> None:
        where = "api/morechildren"
        params = {"link_id": f"t3_{pid}", "children": ",".join(ids), "api_type": "json",
                  "sort": "old"}  # fmt: skip
        answer = validated(_MoreAnswer, self._get(where, params).data, where).json_
        if answer.errors:
            raise base.SourceError(
                f"{where}: Reddit answered with an error: {answer.errors[0]!r:.120}"
            )
        things = (answer.data or {}).get("things")
        if not isinstance(things, list):
            raise base.SourceError(
                f"{where}: json.data.things: must be a list, not {kind_of(things)}"
            )
        self._tree(things, f"{where}: json.data.things", comments, stubs)

    def _comment_post(self, pid: str, comment: _Comment) -> base.Post:
        kind, parent = comment.parent_id.split("_", 1)
        return base.Post(
            native_id=f"{pid}-{comment.id}",
            root_id=pid,
            parent_id=pid if kind == "t3" else f"{pid}-{parent}",
            at=comment.created_utc,
            author=_author(comment.author),
            text=comment.body.strip() or None,
            url=_web(comment.permalink),
        )

    # -- plumbing --

    def _login(self) -> None:
        where = "api/v1/access_token"
        before = self.auth.clock()
        data = self.auth.post(where, data={"grant_type": "client_credentials"}).data
        if isinstance(data, dict) and isinstance(data.get("error"), str | int):
            raise base.SourceError(
                f"{where}: Reddit refused the app's credentials ({str(data['error'])[:60]});"
                " check the client id and secret, and that the app is approved"
            )
        token = validated(_Token, data, where)
        if token.token_type.casefold() != "bearer":
            raise base.SourceError(
                f"{where}: token_type: must be bearer, not {token.token_type[:20]!r}"
            )
        self.secrets.append(token.access_token)
        self.client.set_header("authorization", f"bearer {token.access_token}")
        self.expires_at = before + token.expires_in

    def _get(self, path: str, params: Mapping[str, Any], allow: tuple[int, ...] = ()) -> Answer:
        if self.expires_at is None or self.client.clock() >= self.expires_at - TOKEN_MARGIN:
            self._login()
        return self.client.get(path, {**params, "raw_json": 1}, allow=allow)


def _numbered(things: list[Any], where: str) -> list[tuple[Any, str]]:
    """Things with where they are ("…: item 3"), last first (a stack pops the first)."""
    return [(raw, f"{where}: item {i}") for i, raw in reversed(list(enumerate(things)))]


def _author(name: str | None) -> str | None:
    return None if not name or name in GONE else name


def _web(permalink: str | None) -> str | None:
    if permalink and re.fullmatch(r"/[^\s?#]*", permalink):
        return WEB + permalink
    return None


SOURCE = base.SourceType(
    settings=RedditSettings,
    channel="reddit",
    display="Reddit",
    connect=connect,
    credentials=("client_id_env", "client_secret_env"),
    summary="Posts mentioning the brand in chosen subreddits (or site-wide) and their comments.",
)
