"""Reddit source against a real HTTP server on this machine, answering like Reddit's API as
PRAW and prawcore read it: the client-credentials token endpoint (HTTP Basic), search
Listings paged with `after`, `comments/{id}` as [Listing(t3), Listing(t1…)] with nested
`replies` ("" when empty), `kind: "more"` stubs expanded by `api/morechildren`
(`{"json": {"errors": [], "data": {"things": […]}}}`), and X-Ratelimit-* headers (float
remaining, reset in seconds from now)."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.run import gather
from generator.gather.sources.base import FetchResult, Post, Source, SourceError
from generator.gather.sources.reddit import RedditSettings
from generator.record.store import load_record
from tests.conftest import BASE_CONFIG, Connect, SiteFactory, Sleeps, fetch_runs, snapshot
from tests.support.contract import Complaint

CLIENT_ID = "p-jcoLKBynTLew"
SECRET = "gko_LXELoV07ZBNUXrvWZfzE3aI_SECRET"
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6IlRPS0VOX0ZBS0Ui"
ENV = {"REDDIT_CLIENT_ID": CLIENT_ID, "REDDIT_CLIENT_SECRET": SECRET}
AGENT = "python:com.acme.complaints:1.0 (by /u/acme_care)"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp()
SUB = "AcmeApp"
SEARCH = f"/r/{SUB}/search"


def at(day: int, hour: int = 0, minute: int = 0) -> float:
    """created_utc: seconds since 1970, a float as Reddit sends it."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC).timestamp()


def link(
    pid: str, created: float, *, text: str = "The app lost my data", **extra: Any
) -> dict[str, Any]:
    """A t3 `data` shaped like Reddit's (the fields heard reads and some it ignores)."""
    return {
        "id": pid, "name": f"t3_{pid}", "subreddit": extra.pop("sub", SUB),
        "subreddit_name_prefixed": f"r/{SUB}", "author": extra.pop("author", "pat_doe"),
        "author_fullname": "t2_abc12", "title": extra.pop("title", f"Problem {pid}"),
        "selftext": text, "selftext_html": None, "created_utc": created, "created": created,
        "permalink": f"/r/{SUB}/comments/{pid}/problem/", "url": f"https://www.reddit.com/r/{SUB}/comments/{pid}/problem/",
        "is_self": True, "score": 3, "ups": 3, "num_comments": 0, "over_18": False,
        "edited": False, "distinguished": None, "stickied": False, "removed_by_category": None,
        **extra,
    }  # fmt: skip


def comment(
    cid: str, pid: str, created: float, *, parent: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A t1 `data` (its `replies` filled in by the fake)."""
    return {
        "id": cid, "name": f"t1_{cid}", "link_id": f"t3_{pid}", "parent_id": parent or f"t3_{pid}",
        "author": extra.pop("author", "sam_r"), "body": extra.pop("body", "Same here."),
        "body_html": "<div>…</div>", "created_utc": created, "created": created,
        "permalink": f"/r/{SUB}/comments/{pid}/problem/{cid}/", "score": 1, "depth": 0,
        "edited": extra.pop("edited", False), "distinguished": extra.pop("distinguished", None),
        "stickied": False, "subreddit": SUB, "replies": "", **extra,
    }  # fmt: skip


def listing(children: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": after, "before": None, "dist": len(children),
                                        "modhash": "", "geo_filter": "", "children": children}}  # fmt: skip


def basic() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()


@dataclass
class FakeReddit:
    """Reddit's token endpoint, search, comment trees and morechildren, with its limits:
    search answers `page` posts a page and stops after `cap` (Reddit: about 1,000); a
    comment tree shows `inline` top-level comments and `depth` levels, the rest as "more"
    stubs."""

    server: HTTPServer
    links: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    page: int = 100
    cap: int = 1000
    inline: int = 500
    depth: int = 10
    now: Callable[[], float] = time.time
    expires_in: int = 3600
    remaining: list[str] = field(default_factory=list)  # X-Ratelimit-Remaining per answer
    tokens: int = 0

    def install(self) -> FakeReddit:
        self.server.expect_request("/api/v1/access_token", method="POST").respond_with_handler(
            self.token
        )
        for path in (SEARCH, "/search", f"/r/{SUB.lower()}/search", "/r/Other/search"):
            self.server.expect_request(path).respond_with_handler(self.search)
        self.server.expect_request("/api/morechildren").respond_with_handler(self.more)
        self.server.expect_request(re.compile(r"^/comments/\w+$")).respond_with_handler(self.tree)
        self.server.expect_request(re.compile(r"^/comments/\w+/_/\w+$")).respond_with_handler(
            self.continued
        )
        return self

    def headers(self) -> dict[str, str]:
        left = self.remaining.pop(0) if self.remaining else "598.0"
        return {"x-ratelimit-used": "2", "x-ratelimit-remaining": left, "x-ratelimit-reset": "412"}

    def answer(self, body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body), status, headers=self.headers(),
                        content_type="application/json; charset=UTF-8")  # fmt: skip

    def token(self, request: Request) -> Response:
        if request.headers.get("Authorization") != basic():
            return self.answer({"message": "Unauthorized", "error": 401}, 401)
        if request.form.get("grant_type") != "client_credentials":
            return self.answer({"error": "unsupported_grant_type"})
        self.tokens += 1
        return self.answer({"access_token": TOKEN, "token_type": "bearer",
                            "expires_in": self.expires_in, "scope": "*"})  # fmt: skip

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"bearer {TOKEN}"

    def search(self, request: Request) -> Response:
        if not self.authorized(request):
            return self.answer({"message": "Unauthorized", "error": 401}, 401)
        items = sorted(self.links, key=lambda d: (d["created_utc"], d["id"]), reverse=True)
        if request.path.startswith("/r/"):
            sub = request.path.split("/")[2].casefold()
            items = [d for d in items if d["subreddit"].casefold() == sub]
        period = {"day": 1, "week": 7, "month": 30, "year": 365}.get(request.args.get("t", "all"))
        if period is not None:
            items = [d for d in items if d["created_utc"] >= self.now() - period * 86400]
        items = items[: self.cap]
        start = 0
        if "after" in request.args:
            names = [d["name"] for d in items]
            start = names.index(request.args["after"]) + 1 if request.args["after"] in names else 0
        chunk = items[start : start + self.page]
        more = start + self.page < len(items)
        after = chunk[-1]["name"] if chunk and more else None
        return self.answer(listing([{"kind": "t3", "data": d} for d in chunk], after))

    def thing(self, data: dict[str, Any], level: int) -> dict[str, Any]:
        """A comment with its replies nested (down to `depth`, then "continue" stubs)."""
        kids = [c for c in self.comments if c["parent_id"] == f"t1_{data['id']}"]
        item = dict(data, depth=level)
        if not kids:
            item["replies"] = ""
        elif level + 1 >= self.depth:
            stub = {"count": 0, "name": "t1__", "id": "_", "parent_id": f"t1_{data['id']}",
                    "depth": level + 1, "children": []}  # fmt: skip
            item["replies"] = listing([{"kind": "more", "data": stub}])
        else:
            item["replies"] = listing([self.thing(k, level + 1) for k in kids])
        return {"kind": "t1", "data": item}

    def post(self, pid: str) -> dict[str, Any]:
        return listing([{"kind": "t3", "data": d} for d in self.links if d["id"] == pid])

    def tree(self, request: Request) -> Response:
        if not self.authorized(request):
            return self.answer({"message": "Unauthorized", "error": 401}, 401)
        pid = request.path.split("/")[2]
        top = [c for c in self.comments if c["link_id"] == f"t3_{pid}"
               and c["parent_id"] == f"t3_{pid}"]  # fmt: skip
        top.sort(key=lambda c: (c["created_utc"], c["id"]))  # sort=old
        shown = [self.thing(c, 0) for c in top[: self.inline]]
        hidden = [c["id"] for c in top[self.inline :]]
        if hidden:
            stub = {"count": len(hidden), "name": f"t1_{hidden[0]}", "id": hidden[0],
                    "parent_id": f"t3_{pid}", "depth": 0, "children": hidden}  # fmt: skip
            shown.append({"kind": "more", "data": stub})
        return self.answer([self.post(pid), listing(shown)])

    def continued(self, request: Request) -> Response:
        """`comments/{post}/_/{comment}`: "continue this thread" below a comment."""
        _, _, pid, _, cid = request.path.split("/")
        parent = next(c for c in self.comments if c["id"] == cid)
        return self.answer([self.post(pid), listing([self.thing(parent, 0)])])

    def more(self, request: Request) -> Response:
        wanted = request.args["children"].split(",")
        assert len(wanted) <= 100
        pid = request.args["link_id"].removeprefix("t3_")
        found = [dict(c, replies="") for c in self.comments
                 if c["id"] in wanted and c["link_id"] == f"t3_{pid}"]  # fmt: skip
        things = [{"kind": "t1", "data": c} for c in found]
        return self.answer({"json": {"errors": [], "data": {"things": things}}})


def settings(server: HTTPServer, **extra: Any) -> RedditSettings:
    values = {
        "type": "reddit", "query": "acme app", "subreddits": [SUB], "user_agent": AGENT,
        "client_id_env": "REDDIT_CLIENT_ID", "client_secret_env": "REDDIT_CLIENT_SECRET",
        "base_url": server.url_for("/"), "auth_url": server.url_for("/"), **extra,
    }  # fmt: skip
    return RedditSettings.model_validate(values)


@pytest.fixture
def clock() -> list[float]:
    return [NOW]


@pytest.fixture
def reddit(httpserver: HTTPServer, connect: Connect, clock: list[float]) -> Callable[..., Source]:
    def make(**extra: Any) -> Source:
        return connect(settings(httpserver, **extra), ENV, clock=lambda: clock[0])

    return make


def fake(server: HTTPServer, **options: Any) -> FakeReddit:
    return FakeReddit(server, now=lambda: NOW, **options)


def by_id(result: FetchResult) -> dict[str, Post]:
    return {p.native_id: p for p in result.posts}


def requested(server: HTTPServer) -> list[tuple[str, str, dict[str, str]]]:
    return [(r.method, r.path, dict(r.args.items())) for r, _ in server.log]


def searched(server: HTTPServer) -> list[str]:
    """The `t` of each search request."""
    return [a["t"] for _, p, a in requested(server) if p.endswith("search")]


def clean(error: SourceError) -> str:
    message = str(error)
    for secret in (CLIENT_ID, SECRET, TOKEN, basic().split()[1]):
        assert secret not in message
    assert "\n" not in message and message.startswith("reddit: ")
    return message


# --- mapping ------------------------------------------------------------------------------------


def test_a_first_run_logs_in_searches_and_threads_the_comments(
    httpserver: HTTPServer, reddit: Callable[..., Source]
) -> None:
    r = fake(httpserver)
    r.links = [
        link("1h2abc", at(29, 9), text="After 4.2 the app lost my data &amp; <b>notes</b>"),
        link("1h2abd", at(29, 10), author="[deleted]", text=""),
        link("1h2abe", at(29, 11), text="[removed]"),
        link("1h2abf", at(29, 12), text="[deleted]"),
    ]
    r.comments = [
        comment("m9aaa", "1h2abc", at(29, 10), author="acme_care", body="Sorry! Please DM us."),
        comment(
            "m9aab", "1h2abc", at(29, 11), parent="t1_m9aaa", body="Sent.", edited=1764500000.5
        ),
        comment("m9aac", "1h2abc", at(29, 12), author="modbot", distinguished="moderator"),
        comment("m9aad", "1h2abc", at(29, 13), author="[deleted]", body="[deleted]"),
        comment("m9aae", "1h2abc", at(29, 14), parent="t1_m9aad", body="Reply to a gone one"),
        comment("m9aaf", "1h2abe", at(29, 14), body="Never read: its post was removed"),
    ]
    r.install()
    result = reddit().fetch({})

    posts = by_id(result)
    assert sorted(posts) == ["1h2abc", "1h2abc-m9aaa", "1h2abc-m9aab", "1h2abc-m9aac",
                             "1h2abc-m9aae", "1h2abd"]  # fmt: skip
    root = posts["1h2abc"]
    assert (root.root_id, root.parent_id, root.title) == ("1h2abc", None, "Problem 1h2abc")
    assert root.text == "After 4.2 the app lost my data &amp; <b>notes</b>"  # raw_json: as typed
    assert root.url == f"https://www.reddit.com/r/{SUB}/comments/1h2abc/problem/"
    assert root.at == datetime(2026, 11, 29, 9, tzinfo=UTC) and root.author == "pat_doe"
    assert root.is_brand is None  # the brand is decided from [accounts] reddit
    assert (posts["1h2abd"].author, posts["1h2abd"].text) == (None, None)  # a link post
    answer = posts["1h2abc-m9aaa"]
    assert (answer.parent_id, answer.root_id, answer.author) == ("1h2abc", "1h2abc", "acme_care")
    assert answer.url == f"https://www.reddit.com/r/{SUB}/comments/1h2abc/problem/m9aaa/"
    assert posts["1h2abc-m9aab"].parent_id == "1h2abc-m9aaa"
    assert posts["1h2abc-m9aac"].is_brand is None  # a moderator is not the brand
    assert posts["1h2abc-m9aae"].parent_id == "1h2abc-m9aad"  # threads by its root anyway
    assert result.usage == {"deleted": 3}  # two removed posts, one deleted comment
    assert result.warnings == []

    sent = requested(httpserver)
    assert [(m, p) for m, p, _ in sent] == [
        ("POST", "/api/v1/access_token"), ("GET", SEARCH),
        ("GET", "/comments/1h2abc"), ("GET", "/comments/1h2abd"),
    ]  # fmt: skip
    assert sent[1][2] == {"q": "acme app", "type": "link", "sort": "new", "limit": "100",
                          "restrict_sr": "1", "t": "week", "raw_json": "1"}  # fmt: skip
    assert sent[2][2] == {"sort": "old", "limit": "500", "depth": "10", "raw_json": "1"}
    token_request = httpserver.log[0][0]
    assert token_request.headers["Authorization"] == basic()
    assert token_request.form.to_dict() == {"grant_type": "client_credentials"}
    assert {r.headers["User-Agent"] for r, _ in httpserver.log} == {AGENT}
    assert {r.headers["Authorization"] for r, _ in httpserver.log[1:]} == {f"bearer {TOKEN}"}
    assert result.requests == 4 and result.retries == 0
    assert result.cursor == {
        "listings": {"r/acmeapp": {"newest": "2026-11-29T12:00:00Z", "newest_ids": ["1h2abf"]}},
        "posts": {
            "1h2abc": {"at": "2026-11-29T09:00:00Z",
                       "seen": ["m9aaa", "m9aab", "m9aac", "m9aad", "m9aae"]},
            "1h2abd": {"at": "2026-11-29T10:00:00Z", "seen": []},
        },
    }  # fmt: skip
    json.dumps(result.cursor)


def test_more_stubs_are_expanded_100_ids_a_call_and_deep_threads_continued(
    httpserver: HTTPServer, reddit: Callable[..., Source]
) -> None:
    r = fake(httpserver, inline=3, depth=3)
    r.links = [link("p1", at(29, 9))]
    r.comments = [comment(f"c{n:03d}", "p1", at(29, 10) + n) for n in range(230)]
    chain = ["d0", "d1", "d2", "d3", "d4"]  # a reply chain deeper than the tree shows
    for n, cid in enumerate(chain):
        parent = "t1_c000" if n == 0 else f"t1_{chain[n - 1]}"
        r.comments.append(comment(cid, "p1", at(29, 11) + n, parent=parent, body=f"depth {n}"))
    r.install()
    result = reddit().fetch({})

    posts = by_id(result)
    assert len(posts) == 1 + 230 + 5
    assert posts["p1-d4"].parent_id == "p1-d3" and posts["p1-d2"].parent_id == "p1-d1"
    more = [a for _, p, a in requested(httpserver) if p == "/api/morechildren"]
    assert [len(a["children"].split(",")) for a in more] == [100, 100, 27]
    assert all(a["link_id"] == "t3_p1" and a["api_type"] == "json" for a in more)
    assert "/comments/p1/_/d1" in [p for _, p, _ in requested(httpserver)]
    assert result.warnings == []


def test_expanding_stops_at_max_pages_calls_and_the_rest_comes_next_run(
    httpserver: HTTPServer, reddit: Callable[..., Source]
) -> None:
    r = fake(httpserver, inline=1)
    r.links = [link("p1", at(29, 9))]
    r.comments = [comment(f"c{n:03d}", "p1", at(29, 10) + n) for n in range(251)]
    r.install()
    source = reddit(max_pages=2)
    first = source.fetch({})
    assert len(first.posts) == 1 + 1 + 200
    assert "more comments than 2 calls could load" in first.warnings[0]
    second = source.fetch(first.cursor)
    assert len(second.posts) == 50
    assert set(by_id(first)).isdisjoint(by_id(second))
    assert source.fetch(second.cursor).posts == []


def test_site_wide_search(httpserver: HTTPServer, reddit: Callable[..., Source]) -> None:
    r = fake(httpserver)
    r.links = [link("p1", at(29, 9), sub="Other"), link("p2", at(29, 10))]
    r.install()
    result = reddit(subreddits=[]).fetch({})
    assert sorted(p.native_id for p in result.posts) == ["p1", "p2"]
    search = requested(httpserver)[1]
    assert search[1] == "/search" and "restrict_sr" not in search[2]
    assert list(result.cursor["listings"]) == ["search"]


# --- the cursor ---------------------------------------------------------------------------------


def test_later_runs_gather_only_what_is_new(
    httpserver: HTTPServer, reddit: Callable[..., Source], clock: list[float]
) -> None:
    r = fake(httpserver)
    r.links = [link("p1", at(29, 9)), link("p2", at(29, 9), title="Same second")]
    r.comments = [comment("c1", "p1", at(29, 10))]
    r.install()
    source = reddit()
    first = source.fetch({})
    assert sorted(by_id(first)) == ["p1", "p1-c1", "p2"]
    assert first.cursor["listings"]["r/acmeapp"]["newest_ids"] == ["p1", "p2"]

    httpserver.clear_log()
    again = source.fetch(first.cursor)
    assert again.posts == [] and again.cursor == first.cursor
    assert searched(httpserver) == ["week"]  # reaches the last run's newest, 27 hours ago

    # A new post in the same second as the newest, a new comment on a recent post.
    r.links.append(link("p3", at(29, 9)))
    r.comments.append(comment("c2", "p1", at(30, 8), parent="t1_c1", author="acme_care"))
    third = source.fetch(again.cursor)
    assert sorted(by_id(third)) == ["p1-c2", "p3"]
    assert source.fetch(third.cursor).posts == []

    # Eight days on, p1 is no longer recent: its tree is not read, its cursor entry goes.
    clock[0] = NOW + 8 * 86400
    r.now = lambda: clock[0]
    r.comments.append(comment("c3", "p1", at(30, 9)))
    httpserver.clear_log()
    later = source.fetch(third.cursor)
    assert later.posts == [] and later.cursor["posts"] == {}
    assert [p for _, p, _ in requested(httpserver)] == ["/api/v1/access_token", SEARCH]
    assert searched(httpserver) == ["month"]  # (and a new token: the old one had expired)


def test_a_run_cut_by_max_pages_goes_on_where_it_stopped(
    httpserver: HTTPServer, reddit: Callable[..., Source]
) -> None:
    r = fake(httpserver, page=2)
    r.links = [link(f"p{n}", at(20, n)) for n in range(1, 8)]  # seven posts, two a page
    r.install()
    source = reddit(max_pages=2, first_run="month", reread_days=0)
    first = source.fetch({})
    assert sorted(p.native_id for p in first.posts) == ["p4", "p5", "p6", "p7"]
    state = first.cursor["listings"]["r/acmeapp"]
    assert state == {"newest": "2026-11-20T07:00:00Z", "newest_ids": ["p7"], "gap_after": "t3_p4"}

    # Meanwhile five more posts: the top takes this run's two pages, the gap waits.
    r.links += [link(f"q{n}", at(21, n)) for n in range(1, 6)]
    second = source.fetch(first.cursor)
    assert sorted(p.native_id for p in second.posts) == ["q2", "q3", "q4", "q5"]
    state = second.cursor["listings"]["r/acmeapp"]
    assert state["gap_after"] == "t3_q2" and "gap_until" not in state  # joined the older gap

    rest, cursor = fetch_runs(source, second.cursor, 5)
    gathered = [p.native_id for p in first.posts + second.posts] + rest
    assert sorted(set(gathered)) == sorted(d["id"] for d in r.links)
    assert "gap_after" not in cursor["listings"]["r/acmeapp"]


def test_a_cut_after_the_first_run_remembers_how_far_down_to_go(
    httpserver: HTTPServer, reddit: Callable[..., Source]
) -> None:
    r = fake(httpserver, page=2)
    r.links = [link("p1", at(20, 1))]
    r.install()
    source = reddit(max_pages=2, reread_days=0, first_run="month")
    first = source.fetch({})
    r.links += [link(f"q{n}", at(21, n)) for n in range(1, 7)]
    second = source.fetch(first.cursor)
    assert sorted(p.native_id for p in second.posts) == ["q3", "q4", "q5", "q6"]
    assert second.cursor["listings"]["r/acmeapp"] == {
        "newest": "2026-11-21T06:00:00Z", "newest_ids": ["q6"], "gap_after": "t3_q3",
        "gap_until": "2026-11-20T01:00:00Z", "gap_until_ids": ["p1"],
    }  # fmt: skip
    third = source.fetch(second.cursor)
    assert sorted(p.native_id for p in third.posts) == ["q1", "q2"]
    assert third.cursor["listings"]["r/acmeapp"]["gap_after"] == "t3_q1"  # p1 not seen yet
    fourth = source.fetch(third.cursor)
    assert fourth.posts == [] and fourth.warnings == []
    assert "gap_after" not in fourth.cursor["listings"]["r/acmeapp"]


def test_a_listing_that_ends_before_the_last_newest_says_so(
    httpserver: HTTPServer, reddit: Callable[..., Source]
) -> None:
    r = fake(httpserver, page=2, cap=4)  # Reddit: about 1,000
    r.links = [link("p1", at(20, 1))]
    r.install()
    source = reddit(first_run="month")
    first = source.fetch({})
    r.links += [link(f"q{n}", at(21, n)) for n in range(1, 7)]
    second = source.fetch(first.cursor)
    assert sorted(p.native_id for p in second.posts) == ["q3", "q4", "q5", "q6"]
    assert second.warnings == [
        "reddit: r/acmeapp: Reddit's listing ended (it serves about 1,000 posts) before reaching"
        " the posts of 2026-11-20T01:00:00Z; older matches are not gathered"
    ]


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        ({"posts": {"p1": {"at": "yesterday"}}}, "reddit: cursor: posts.p1.at: not an ISO 8601 time with a zone"),
        ({"listings": {"r/acmeapp": {"gap_after": "p4"}}},
         "reddit: cursor: listings.r/acmeapp.gap_after: must be a Reddit fullname like t3_1h2abc"),
    ],
)  # fmt: skip
def test_a_damaged_cursor_is_reported(
    reddit: Callable[..., Source], cursor: dict[str, Any], expected: str
) -> None:
    with pytest.raises(SourceError) as caught:
        reddit().fetch(cursor)
    assert clean(caught.value) == expected


# --- the token ----------------------------------------------------------------------------------


def test_the_token_is_fetched_again_before_it_expires(
    httpserver: HTTPServer, connect: Connect
) -> None:
    r = fake(httpserver, expires_in=120)
    r.links = [link("p1", at(29, 9)), link("p2", at(29, 10))]
    r.install()
    ticking = iter(range(0, 10_000, 40))

    def tick() -> float:
        return NOW + next(ticking)

    result = connect(settings(httpserver), ENV, clock=tick).fetch({})  # time passes
    assert sorted(by_id(result)) == ["p1", "p2"]
    assert r.tokens >= 2
    assert [p for _, p, _ in requested(httpserver)].count("/api/v1/access_token") == r.tokens


@pytest.mark.parametrize(
    ("environ", "answer", "expected"),
    [
        ({**ENV, "REDDIT_CLIENT_SECRET": "wrong"}, None, "access_token: HTTP 401: Unauthorized"),
        (ENV, {"error": "invalid_grant"},
         "Reddit refused the app's credentials (invalid_grant); check the client id and secret"),
        (ENV, {"access_token": TOKEN, "token_type": "mac", "expires_in": 3600},
         "api/v1/access_token: token_type: must be bearer, not 'mac'"),
        (ENV, {"access_token": "", "token_type": "bearer"},
         "api/v1/access_token: access_token: must not be empty"),
    ],
)  # fmt: skip
def test_a_refused_token_is_a_clear_error(
    httpserver: HTTPServer,
    connect: Connect,
    environ: dict[str, str],
    answer: dict[str, Any] | None,
    expected: str,
) -> None:
    if answer is not None:
        httpserver.expect_request("/api/v1/access_token").respond_with_json(answer)
    else:
        fake(httpserver).install()
    with pytest.raises(SourceError) as caught:
        connect(settings(httpserver), environ).fetch({})
    message = clean(caught.value)
    assert expected in message
    assert len(httpserver.log) == 1  # a refusal is not retried


@pytest.mark.parametrize("missing", ["REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"])
def test_both_credentials_must_be_set(
    httpserver: HTTPServer, connect: Connect, missing: str
) -> None:
    environ = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(SourceError, match=f"reddit: {missing} is not set"):
        connect(settings(httpserver), environ)


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "problem"),
    [
        ("heard (+https://pypi.org/project/heard/)", "must describe your app as platform:app-id:version"),
        ("python-requests/2.32", "must describe your app"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "must describe your app"),
        ("python:acme:1.0 (by /u/ab)", "must describe your app"),  # no such Reddit name
        ("python:myapp:1.0 (by /u/acme_care)", "is generic"),
        ("android:com.example.myredditapp:v1.2.3 (by /u/kemitche)", "is generic"),
        ("python:com.acme.complaints:1.0 (by /u/your_username)", "is generic"),
    ],
)  # fmt: skip
def test_a_generic_user_agent_is_refused(agent: str, problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RedditSettings.model_validate(
            {
                "type": "reddit",
                "query": "acme",
                "user_agent": agent,
                "client_id_env": "A",
                "client_secret_env": "B",
            }
        )
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "agent",
    [
        AGENT,
        "linux:acme-watch:v2.0.1 (by u/Acme_Support)",
        "web:acme.support:3 (by /u/acme-care)",
        "python:com.examplebank.care:1.0 (by /u/examplebank)",
    ],
)
def test_descriptive_user_agents_are_accepted(agent: str) -> None:
    values = {"type": "reddit", "query": "acme", "user_agent": agent,
              "client_id_env": "A", "client_secret_env": "B"}  # fmt: skip
    assert RedditSettings.model_validate(values).user_agent == agent


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"subreddits": ["r/AcmeApp"]}, "a subreddit name without r/"),
        ({"query": "x" * 513}, "at most 512 characters"),
        ({"query": ""}, "at least 1 character"),
        ({"client_id_env": "abc123secret"}, "must name an environment variable"),
        ({"reread_days": 31}, "less than or equal to 30"),
        ({"first_run": "decade"}, "'day', 'week', 'month', 'year' or 'all'"),
    ],
)
def test_settings_are_checked(httpserver: HTTPServer, extra: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(httpserver, **extra)
    assert problem in str(caught.value)


# --- rate limits and faults ---------------------------------------------------------------------


def test_a_used_up_window_waits_for_the_reset_before_the_next_call(
    httpserver: HTTPServer, reddit: Callable[..., Source], sleeps: Sleeps
) -> None:
    r = fake(httpserver, remaining=["599.0", "0.0"])  # the search answer uses the window up
    r.links = [link("p1", at(29, 9))]
    r.install()
    assert sorted(by_id(reddit().fetch({}))) == ["p1"]
    assert sleeps == [412.0]  # X-Ratelimit-Reset: seconds from now, waited before comments/p1
    assert len(httpserver.log) == 3  # and no request was refused for it


def test_a_429_waits_the_reset_seconds_then_retries(
    httpserver: HTTPServer, reddit: Callable[..., Source], sleeps: Sleeps
) -> None:
    r = fake(httpserver)
    r.links = [link("p1", at(29, 9))]
    httpserver.expect_ordered_request("/api/v1/access_token").respond_with_handler(r.token)
    httpserver.expect_ordered_request(SEARCH).respond_with_json(
        {"message": "Too Many Requests", "error": 429}, status=429,
        headers={"x-ratelimit-used": "600", "x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "37"},
    )  # fmt: skip
    r.install()
    result = reddit().fetch({})
    assert sorted(by_id(result)) == ["p1"]
    assert sleeps == [37.0] and result.retries == 1


@pytest.mark.parametrize("status", [403, 401])
def test_a_refused_search_fails_at_once(
    httpserver: HTTPServer, reddit: Callable[..., Source], sleeps: Sleeps, status: int
) -> None:
    r = fake(httpserver)
    httpserver.expect_ordered_request("/api/v1/access_token").respond_with_handler(r.token)
    httpserver.expect_ordered_request(SEARCH).respond_with_json(
        {"message": "Forbidden", "error": status, "reason": f"bearer {TOKEN}"}, status=status
    )
    with pytest.raises(SourceError) as caught:
        reddit().fetch({})
    assert f"{SEARCH}: HTTP {status}: Forbidden" in clean(caught.value)
    assert sleeps == []


def test_server_errors_are_retried_with_backoff(
    httpserver: HTTPServer, reddit: Callable[..., Source], sleeps: Sleeps
) -> None:
    r = fake(httpserver)
    r.links = [link("p1", at(29, 9))]
    httpserver.expect_ordered_request("/api/v1/access_token").respond_with_handler(r.token)
    for status in (500, 502, 503):
        httpserver.expect_ordered_request(SEARCH).respond_with_data("busy", status=status)
    r.install()
    result = reddit().fetch({})
    assert sorted(by_id(result)) == ["p1"]
    assert sleeps == [1.0, 2.0, 4.0] and result.retries == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"kind": "Listing", "data": {"children": [{"kind": "t3", "da', "expected JSON, got not JSON"),
        ("<html><body>Our CDN was unable to reach our servers</body></html>", "expected JSON, got an HTML page"),
        ("\x00\xff garbage", "expected JSON, got not JSON"),
        ('{"kind": "Listing", "data": {"children": "none"}}', "data.children: must be a list, not a string"),
        ('{"kind": "t3", "data": {}}', "kind: must be 'Listing'"),
        ("[]", "must be an object, not a list"),
    ],
)  # fmt: skip
def test_unreadable_search_answers(
    httpserver: HTTPServer, reddit: Callable[..., Source], body: str, expected: str
) -> None:
    r = fake(httpserver)
    httpserver.expect_ordered_request("/api/v1/access_token").respond_with_handler(r.token)
    httpserver.expect_ordered_request(SEARCH).respond_with_data(
        body, content_type="application/json"
    )
    with pytest.raises(SourceError) as caught:
        reddit().fetch({})
    message = clean(caught.value)
    assert expected in message and SEARCH.lstrip("/") in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"created_utc": "2026-11-29"}, "item 1: created_utc: not a time in seconds since 1970"),
        ({"created_utc": float("nan")}, "item 1: created_utc: not a time in seconds since 1970"),
        ({"id": "../x"}, "item 1: id: must be a Reddit id (base-36)"),
        ({"title": None}, "item 1: title: must be a string, not null"),
        ({"permalink": 7}, "item 1: permalink: must be a string, not a number"),
    ],
)  # fmt: skip
def test_wrong_post_fields_name_the_item_and_field(
    httpserver: HTTPServer, reddit: Callable[..., Source], change: dict[str, Any], expected: str
) -> None:
    r = fake(httpserver)
    items = [link("p1", at(29, 9)), link("p2", at(29, 8))]
    items[1].update(change)
    httpserver.expect_request(SEARCH).respond_with_json(
        listing([{"kind": "t3", "data": d} for d in items])
    )
    r.install()
    with pytest.raises(SourceError) as caught:
        reddit().fetch({})
    assert clean(caught.value) == f"reddit: r/{SUB}/search: {expected}"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"parent_id": "m9"}, "comments/p1: item 0: parent_id: must be a Reddit fullname like t3_1h2abc"),
        ({"body": None}, "comments/p1: item 0: body: must be a string, not null"),
        ({"replies": {"kind": "Listing"}}, "comments/p1 (replies to c1): data: missing"),
        ({"edited": "yes"}, "comments/p1: item 0: edited"),
    ],
)  # fmt: skip
def test_wrong_comment_fields_name_the_comment_and_field(
    httpserver: HTTPServer, reddit: Callable[..., Source], change: dict[str, Any], expected: str
) -> None:
    r = fake(httpserver)
    r.links = [link("p1", at(29, 9))]
    r.comments = [comment("c1", "p1", at(29, 10))]
    r.install()
    broken = r.thing

    def thing(data: dict[str, Any], level: int) -> dict[str, Any]:
        item = broken(data, level)
        item["data"].update(change)
        return item

    r.thing = thing  # type: ignore[method-assign]
    with pytest.raises(SourceError) as caught:
        reddit().fetch({})
    assert expected in clean(caught.value)


def test_morechildren_errors_are_reported(
    httpserver: HTTPServer, reddit: Callable[..., Source]
) -> None:
    r = fake(httpserver, inline=0)
    r.links = [link("p1", at(29, 9))]
    r.comments = [comment("c1", "p1", at(29, 10))]
    httpserver.expect_request("/api/morechildren").respond_with_json(
        {"json": {"errors": [["RATELIMIT", "you are doing that too much", "ratelimit"]]}}
    )
    r.install()
    with pytest.raises(SourceError) as caught:
        reddit().fetch({})
    assert "api/morechildren: Reddit answered with an error: ['RATELIMIT'" in clean(caught.value)


def test_a_post_whose_comments_are_gone_is_a_warning_not_a_failure(
    httpserver: HTTPServer, reddit: Callable[..., Source]
) -> None:
    r = fake(httpserver)
    r.links = [link("p1", at(29, 9))]
    httpserver.expect_request("/comments/p1").respond_with_json(
        {"message": "Not Found", "error": 404}, status=404
    )
    r.install()
    result = reddit().fetch({})
    assert [p.native_id for p in result.posts] == ["p1"]
    assert result.warnings == ["reddit: comments/p1: HTTP 404; its comments were not read"]
    assert result.cursor["posts"] == {"p1": {"at": "2026-11-29T09:00:00Z", "seen": []}}


def test_a_deeply_nested_tree_is_walked_without_recursion(
    httpserver: HTTPServer, reddit: Callable[..., Source]
) -> None:
    r = fake(httpserver, depth=200)
    r.links = [link("p1", at(29, 9))]
    for n in range(120):  # Reddit nests 10 deep; JSON itself cannot nest much deeper
        parent = f"t1_c{n - 1}" if n else None
        r.comments.append(comment(f"c{n}", "p1", at(29, 10) + n, parent=parent))
    r.install()
    posts = by_id(reddit().fetch({}))
    assert len(posts) == 121 and posts["p1-c119"].parent_id == "p1-c118"


def test_source_names(httpserver: HTTPServer, connect: Connect) -> None:
    plain = connect(settings(httpserver), ENV)
    assert (plain.name, plain.channel) == ("reddit", "reddit")


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class RedditScenario:
    """Each complaint a post in r/AcmeApp; its answer a comment by the brand's account."""

    type = "reddit"
    channel = "reddit"
    env: Mapping[str, str] = MappingProxyType(
        {"REDDIT_CLIENT_ID": "CONTRACT_ID_1x9", "REDDIT_CLIENT_SECRET": "CONTRACT_SECRET_7q2"}
    )
    answers = True

    def config(self, base_url: str) -> str:
        return (
            '[accounts]\nreddit = ["acme_care"]\n\n'
            f'[[sources]]\ntype = "reddit"\nquery = "acme"\nsubreddits = ["{SUB}"]\n'
            f'user_agent = "{AGENT}"\nfirst_run = "all"\n'
            'client_id_env = "REDDIT_CLIENT_ID"\nclient_secret_env = "REDDIT_CLIENT_SECRET"\n'
            f'base_url = "{base_url}"\nauth_url = "{base_url}"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        r = _ScenarioReddit(server, page=25)
        for number, c in enumerate(complaints, start=1):
            pid = f"{c.key}x{number}"
            r.links.append(link(pid, c.at.timestamp(), text=c.text, title=f"Problem {number}"))
            if c.answer is not None and c.answered_at is not None:
                r.comments.append(comment(f"a{number}", pid, c.answered_at.timestamp(),
                                          author="acme_care", body=c.answer))  # fmt: skip
        r.install()


class _ScenarioReddit(FakeReddit):
    """The fake with the scenario's credentials."""

    def token(self, request: Request) -> Response:
        env = RedditScenario.env
        expected = base64.b64encode(
            f"{env['REDDIT_CLIENT_ID']}:{env['REDDIT_CLIENT_SECRET']}".encode()
        ).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return self.answer({"message": "Unauthorized", "error": 401}, 401)
        self.tokens += 1
        return self.answer({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600})


SCENARIO = RedditScenario()


# --- end to end ------------------------------------------------------------------------------------


def test_gathered_twice_a_later_brand_comment_answers_and_a_moderator_does_not(
    httpserver: HTTPServer, make_site: SiteFactory
) -> None:
    r = fake(httpserver)
    r.links = [link("p1", at(29, 9), text="Sync lost my notes")]
    r.comments = [comment("m1", "p1", at(29, 9, 20), author="AcmeApp_mod",
                          distinguished="moderator", body="Reported to the team.")]  # fmt: skip
    r.install()
    base = httpserver.url_for("/")
    config = BASE_CONFIG.replace('x = ["TestCare"]', 'x = ["TestCare"]\nreddit = ["acme_care"]') + (
        f'\n[[sources]]\ntype = "reddit"\nquery = "acme"\nsubreddits = ["{SUB}"]\n'
        f'user_agent = "{AGENT}"\nclient_id_env = "REDDIT_CLIENT_ID"\n'
        f'client_secret_env = "REDDIT_CLIENT_SECRET"\nbase_url = "{base}"\nauth_url = "{base}"\n'
    )
    root = make_site(config=config)
    options = {"sleep": lambda _s: None, "clock": lambda: NOW}
    moment = datetime.fromtimestamp(NOW, UTC)
    gather(root, moment, environ=ENV, client_options=options)
    case = load_record(root).cases["reddit-p1"]
    assert [(e.kind, e.by) for e in case.events] == [
        ("complaint", "customer"), ("customer_reply", "customer")
    ]  # fmt: skip

    # The brand answers the post 2 h 43 min after it was made, on the next run.
    r.comments.append(comment("b1", "p1", at(29, 11, 43), author="acme_care",
                              body="Sorry! Please DM us your account email."))  # fmt: skip
    gather(root, moment + timedelta(hours=1), environ=ENV, client_options=options)
    case = load_record(root).cases["reddit-p1"]
    answer = [e for e in case.events if e.by == "brand"]
    assert [e.kind for e in answer] == ["moved_private"]
    assert answer[0].at - case.events[0].at == timedelta(hours=2, minutes=43)
    assert answer[0].handle == "acme_care"
    before = snapshot(root / "content/cases")
    gather(root, moment + timedelta(hours=2), environ=ENV, client_options=options)
    assert snapshot(root / "content/cases") == before
