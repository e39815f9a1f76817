"""The X source against a real HTTP server on 127.0.0.1 answering like X API v2.

The fake follows the documented shapes (docs.x.com "GET /2/users/:id/mentions", "GET
/2/tweets/search/recent", "GET /2/users/by/username/:username"; tweepy's client.py for the
parameters): string ids that are snowflakes (creation time in the high bits), only the
requested ``tweet.fields``/``user.fields`` in the answer, ``includes.users`` for the
``author_id`` expansion, ``meta`` with ``newest_id``/``oldest_id``/``next_token``, mentions
paged by ``pagination_token`` and search by ``next_token``, ``max_results`` bounds (5–100,
10–100), the 800 newest mentions, the 512-character query, 400 for a ``since_id`` older than
the 7-day search window, ``&``/``<``/``>`` escaped in text, partial ``errors[]``, the
``x-rate-limit-*`` headers, and billing per post and user returned.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.config import parse_config
from generator.gather.sources.base import FetchResult, SourceError
from generator.gather.sources.x import XSettings, snowflake_time
from generator.record.times import format_instant
from tests.conftest import Connect, Sleeps, heard
from tests.support.contract import Complaint, complaints, site_config

TOKEN = "AAAAAAAAAAAAAAAAAAAAAFAKE%2Fbearer%3DX_SECRET_42"
ENV = {"X_BEARER_TOKEN": TOKEN}
BRAND = "BrandCare"
BRAND_ID = "777"
EPOCH_MS = 1288834974657
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
INVALID = "https://api.twitter.com/2/problems/invalid-request"


def snowflake(at: datetime, seq: int = 0) -> str:
    """An X id made at `at` (as X makes them: milliseconds since its epoch, shifted)."""
    return str(((int(at.timestamp() * 1000) - EPOCH_MS) << 22) + seq)


def problem(status: int, detail: str, **extra: Any) -> Response:
    body = {"title": "Invalid Request", "detail": detail, "type": INVALID, **extra}
    return Response(json.dumps(body), status, content_type="application/problem+json")


class FakeX:
    """Enough of X API v2: users, mentions, recent search, billing and rate-limit headers."""

    def __init__(self, server: HTTPServer, now: datetime = NOW) -> None:
        self.now = now
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: list[dict[str, Any]] = []  # internal: with "_mentions", "_hidden"
        self.billed = 0
        self.queries: list[str] = []
        self.partial: list[dict[str, Any]] = []  # errors[] added to list answers
        self.seq = 0
        self.user(BRAND_ID, BRAND, "Brand Care", followers=90_000)
        server.expect_request(re.compile(r"^/2/")).respond_with_handler(self.handle)

    # -- building the world --

    def user(self, uid: str, username: str, name: str = "", followers: int = 10) -> str:
        self.users[uid] = {
            "id": uid,
            "username": username,
            "name": name or username,
            "created_at": "2012-01-01T00:00:00.000Z",
            "protected": False,
            "public_metrics": {
                "followers_count": followers,
                "following_count": 5,
                "tweet_count": 100,
                "listed_count": 0,
                "like_count": 1,
            },
        }
        return uid

    def post(
        self,
        author: str,
        text: str,
        at: datetime,
        *,
        reply_to: dict[str, Any] | None = None,
        mentions: Sequence[str] = (),
    ) -> dict[str, Any]:
        self.seq += 1
        tid = snowflake(at, self.seq)
        item: dict[str, Any] = {
            "id": tid,
            "text": html.escape(text, quote=False),  # X escapes & < > (and nothing else)
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "author_id": author,
            "conversation_id": reply_to["conversation_id"] if reply_to else tid,
            "edit_history_tweet_ids": [tid],
            "lang": "en",
            "possibly_sensitive": False,
            "_mentions": set(mentions),
        }
        if reply_to is not None:
            item["in_reply_to_user_id"] = reply_to["author_id"]
            item["referenced_tweets"] = [{"type": "replied_to", "id": reply_to["id"]}]
        self.tweets.append(item)
        return item

    def edit(self, original: dict[str, Any], text: str, at: datetime) -> dict[str, Any]:
        """A new version of a post: a new id, the same edit history head."""
        self.seq += 1
        tid = snowflake(at, self.seq)
        original["_hidden"] = True
        item = {**original, "id": tid, "text": html.escape(text, quote=False)}
        item["created_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        item["edit_history_tweet_ids"] = [*original["edit_history_tweet_ids"], tid]
        item.pop("_hidden")
        self.tweets.append(item)
        return item

    # -- answering --

    def handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response(
                json.dumps({"title": "Unauthorized", "type": "about:blank", "status": 401,
                            "detail": "Unauthorized"}),
                401, content_type="application/problem+json",
            )  # fmt: skip
        path = request.path
        if match := re.fullmatch(r"/2/users/by/username/(\w+)", path):
            return self.lookup(match.group(1))
        if match := re.fullmatch(r"/2/users/(\d+)/mentions", path):
            return self.mentions(request, match.group(1))
        if path == "/2/tweets/search/recent":
            return self.search(request)
        return Response(json.dumps({"title": "Not Found Error"}), 404)

    def headers(self) -> dict[str, str]:
        reset = int(self.now.timestamp()) + 900
        return {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "449",
            "x-rate-limit-reset": str(reset),
        }

    def lookup(self, username: str) -> Response:
        for found in self.users.values():
            if found["username"].lower() == username.lower():
                self.billed += 1
                body: dict[str, Any] = {"data": {k: found[k] for k in ("id", "name", "username")}}
                return Response(json.dumps(body), headers=self.headers(),
                                content_type="application/json")  # fmt: skip
        body = {"errors": [{
            "value": username, "detail": f"Could not find user with username: [{username}].",
            "title": "Not Found Error", "resource_type": "user", "parameter": "username",
            "resource_id": username, "type": "https://api.twitter.com/2/problems/resource-not-found",
        }]}  # fmt: skip
        return Response(json.dumps(body), headers=self.headers(), content_type="application/json")

    def visible(self) -> list[dict[str, Any]]:
        return sorted((t for t in self.tweets if not t.get("_hidden")), key=lambda t: -int(t["id"]))

    def mentions(self, request: Request, uid: str) -> Response:
        size = int(request.args.get("max_results", "10"))
        if not 5 <= size <= 100:
            return problem(400, f"The `max_results` query parameter value [{size}] is not "
                           "between 5 and 100")  # fmt: skip
        items = [t for t in self.visible() if uid in t["_mentions"]][:800]
        return self.page(request, items, size, "pagination_token")

    def search(self, request: Request) -> Response:
        query = request.args["query"]
        self.queries.append(query)
        if len(query) > 512:
            return problem(400, "query too long")
        leftover = re.sub(r"from:\w+|conversation_id:\d+|\bOR\b|[() ]", "", query)
        assert leftover == "", query
        size = int(request.args.get("max_results", "10"))
        if not 10 <= size <= 100:
            return problem(400, f"The `max_results` query parameter value [{size}] is not "
                           "between 10 and 100")  # fmt: skip
        since = request.args.get("since_id")
        if since and snowflake_time(since) < self.now - timedelta(days=7):
            return problem(400, "Invalid 'since_id'", errors=[{"parameters": {"since_id": [since]},
                           "message": "Please use a 'since_id' that is larger than 1"}])  # fmt: skip
        froms = {u.lower() for u in re.findall(r"from:(\w+)", query)}
        threads = set(re.findall(r"conversation_id:(\d+)", query))
        items = [
            t
            for t in self.visible()
            if self.users[t["author_id"]]["username"].lower() in froms
            and t["conversation_id"] in threads
        ]
        return self.page(request, items, size, "next_token")

    def page(
        self, request: Request, items: list[dict[str, Any]], size: int, token_name: str
    ) -> Response:
        args = request.args
        if "since_id" in args:
            items = [t for t in items if int(t["id"]) > int(args["since_id"])]
        if "until_id" in args:
            items = [t for t in items if int(t["id"]) < int(args["until_id"])]
        start = int(args.get(token_name, "t0")[1:])
        chosen = items[start : start + size]
        fields = set(args.get("tweet.fields", "").split(",")) | {"id", "text",
                                                                 "edit_history_tweet_ids"}  # fmt: skip
        user_fields = set(args.get("user.fields", "").split(",")) | {"id", "name", "username"}
        data = [{k: v for k, v in t.items() if k in fields} for t in chosen]
        authors = list(dict.fromkeys(t["author_id"] for t in chosen))
        body: dict[str, Any] = {"meta": {"result_count": len(chosen)}}
        if chosen:
            body["data"] = data
            body["meta"].update(newest_id=chosen[0]["id"], oldest_id=chosen[-1]["id"])
            if "author_id" in args.get("expansions", ""):
                body["includes"] = {
                    "users": [
                        {k: v for k, v in self.users[a].items() if k in user_fields}
                        for a in authors
                    ]
                }
                self.billed += len(authors)
            self.billed += len(chosen)
        if start + size < len(items):
            body["meta"]["next_token"] = f"t{start + size}"
        if self.partial:
            body["errors"] = list(self.partial)
        return Response(json.dumps(body), headers=self.headers(), content_type="application/json")


def settings(base_url: str, **extra: Any) -> XSettings:
    return XSettings.model_validate(
        {
            "type": "x",
            "accounts": [BRAND],
            "bearer_token_env": "X_BEARER_TOKEN",
            "max_reads_per_run": 1000,
            "base_url": base_url,
            **extra,
        }
    )


def at(hours: float) -> datetime:
    """An hour offset from a day before NOW (inside the 7-day search window)."""
    return NOW - timedelta(days=1) + timedelta(hours=hours)


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeX:
    made = FakeX(httpserver)
    made.user("42", "shopper42", "Pat Shopper", followers=120)
    made.user("43", "grumpy", "Grumpy", followers=3)
    return made


def run(connect: Connect, httpserver: HTTPServer, cursor: Mapping[str, Any] | None = None,
        **extra: Any) -> FetchResult:  # fmt: skip
    source = connect(settings(httpserver.url_for("/"), **extra), ENV,
                     clock=lambda: NOW.timestamp())  # fmt: skip
    return source.fetch(cursor or {})


def paths(httpserver: HTTPServer) -> list[str]:
    return [request.path for request, _ in httpserver.log]


# --- settings and credentials ---------------------------------------------------------------


def test_the_budget_and_the_token_variable_are_required() -> None:
    base = '[site]\ntitle = "T"\nbrand = "B"\nbase_url = "https://t.example/"\n\n'
    with pytest.raises(Exception, match=r"heard.toml:6: sources\[0\].max_reads_per_run: required"):
        parse_config(base + '[[sources]]\ntype = "x"\naccounts = ["A"]\nbearer_token_env = "T"\n')
    with pytest.raises(Exception, match="bearer_token_env: required"):
        parse_config(base + '[[sources]]\ntype = "x"\naccounts = ["A"]\nmax_reads_per_run = 100\n')
    config = parse_config(
        base + '[[sources]]\ntype = "x"\naccounts = ["BrandCare"]\n'
        'bearer_token_env = "X_BEARER_TOKEN"\nmax_reads_per_run = 500\n'
    )
    assert config.sources[0].credential_variables() == [("bearer_token_env", "X_BEARER_TOKEN")]


def test_the_bearer_token_comes_from_the_named_variable(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    run(connect, httpserver)
    assert {r.headers["Authorization"] for r, _ in httpserver.log} == {f"Bearer {TOKEN}"}
    with pytest.raises(SourceError, match=r"^x: X_BEARER_TOKEN is not set$"):
        connect(settings(httpserver.url_for("/")), {})


# --- documented shapes ----------------------------------------------------------------------


def test_mentions_and_the_brands_replies_become_posts(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    complaint = fake.post("42", "@BrandCare order #4411 never arrived & I'm <angry>", at(1),
                          mentions=[BRAND_ID])  # fmt: skip
    answer = fake.post(BRAND_ID, "@shopper42 Sorry! Please DM us your order number.",
                       at(1) + timedelta(minutes=43), reply_to=complaint)  # fmt: skip
    again = fake.post("42", "@BrandCare done", at(2), reply_to=answer, mentions=[BRAND_ID])
    other = fake.post("43", "@BrandCare why is the app down?", at(3), mentions=[BRAND_ID])
    result = run(connect, httpserver)

    assert paths(httpserver) == [
        f"/2/users/by/username/{BRAND}",
        f"/2/users/{BRAND_ID}/mentions",
        "/2/tweets/search/recent",
    ]
    mentions = httpserver.log[1][0].args
    assert mentions["tweet.fields"].split(",") == [
        "created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets",
        "edit_history_tweet_ids", "note_tweet",
    ]  # fmt: skip
    assert mentions["expansions"] == "author_id"
    assert mentions["user.fields"] == "username,name,public_metrics"
    assert mentions["max_results"] == "100"
    assert "since_id" not in mentions
    search = httpserver.log[2][0].args
    assert search["query"] == (
        f"from:{BRAND} (conversation_id:{complaint['id']} OR conversation_id:{other['id']})"
    )
    assert search["since_id"] == complaint["id"]

    by_id = {p.native_id: p for p in result.posts}
    assert list(by_id) == [complaint["id"], answer["id"], again["id"], other["id"]]
    first = by_id[complaint["id"]]
    assert first.text == "@BrandCare order #4411 never arrived & I'm <angry>"
    assert first.at == at(1)
    assert (first.author, first.author_name, first.reach) == ("@shopper42", "Pat Shopper", 120)
    assert first.url == f"https://x.com/shopper42/status/{complaint['id']}"
    assert (first.root_id, first.parent_id, first.is_brand) == (complaint["id"], None, None)
    reply = by_id[answer["id"]]
    assert (reply.author, reply.is_brand, reply.reach) == ("@BrandCare", True, 90_000)
    assert (reply.root_id, reply.parent_id) == (complaint["id"], complaint["id"])
    assert by_id[again["id"]].parent_id == answer["id"]

    assert result.cursor["accounts"] == {"brandcare": BRAND_ID}
    assert result.cursor["mentions"] == {BRAND_ID: {"mark": other["id"]}}
    assert result.cursor["watch"] == {
        complaint["id"]: {"since": answer["id"], "until": format_instant(at(2) + timedelta(7))},
        other["id"]: {"since": other["id"], "until": format_instant(at(3) + timedelta(7))},
    }
    # reads as X bills them: 1 user looked up, 3 mentions + 2 authors, 1 reply + 1 author
    assert result.usage == {"reads": 8} and fake.billed == 8
    assert (result.requests, result.warnings) == (3, [])


def test_a_second_run_reads_only_what_is_new(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    complaint = fake.post("42", "@BrandCare still broken?", at(1), mentions=[BRAND_ID])
    first = run(connect, httpserver)
    assert [p.native_id for p in first.posts] == [complaint["id"]]

    httpserver.clear_log()
    fake.billed = 0
    nothing = run(connect, httpserver, first.cursor)
    assert nothing.posts == []
    assert paths(httpserver) == [f"/2/users/{BRAND_ID}/mentions", "/2/tweets/search/recent"]
    assert httpserver.log[0][0].args["since_id"] == complaint["id"]
    assert httpserver.log[1][0].args["since_id"] == complaint["id"]
    assert nothing.usage == {"reads": 0} and fake.billed == 0
    assert nothing.cursor == first.cursor

    # the brand answers later; a new mention arrives: both, once
    answer = fake.post(BRAND_ID, "@shopper42 fixed now #fixed", at(5), reply_to=complaint)
    newer = fake.post("43", "@BrandCare hello?", at(6), mentions=[BRAND_ID])
    httpserver.clear_log()
    later = run(connect, httpserver, nothing.cursor)
    assert [p.native_id for p in later.posts] == [answer["id"], newer["id"]]
    assert later.cursor["watch"][complaint["id"]]["since"] == answer["id"]
    assert run(connect, httpserver, later.cursor).posts == []


def test_mentions_page_by_pagination_token_and_max_pages_leaves_a_gap_read_next_run(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    said = [fake.post("42", f"@BrandCare problem {n}", at(n / 20), mentions=[BRAND_ID])
            for n in range(250)]  # fmt: skip
    ids = [t["id"] for t in said]
    first = run(connect, httpserver, max_pages=2, max_reads_per_run=5000)
    assert [p.native_id for p in first.posts] == ids[50:]  # the newest two hundred
    tokens = [r.args.get("pagination_token") for r, _ in httpserver.log if "mentions" in r.path]
    assert tokens == [None, "t100"]
    assert first.cursor["mentions"][BRAND_ID] == {"resume": ids[50], "top": ids[249]}

    fresh = fake.post("42", "@BrandCare newest", at(13), mentions=[BRAND_ID])
    httpserver.clear_log()
    second = run(connect, httpserver, first.cursor, max_pages=2, max_reads_per_run=5000)
    asked = [r.args for r, _ in httpserver.log if "mentions" in r.path]
    assert (asked[0].get("until_id"), asked[0].get("since_id")) == (ids[50], None)
    assert asked[1]["since_id"] == ids[249]
    assert [p.native_id for p in second.posts] == [*ids[:50], fresh["id"]]
    assert second.cursor["mentions"][BRAND_ID] == {"mark": fresh["id"]}


# --- the read budget ------------------------------------------------------------------------


def test_the_budget_stops_cleanly_and_the_next_run_goes_on(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    said = [fake.post(uid, f"@BrandCare issue {n}", at(n / 10), mentions=[BRAND_ID])
            for n, uid in enumerate(["42", "43"] * 15)]  # fmt: skip
    ids = [t["id"] for t in said]
    first = run(connect, httpserver, max_reads_per_run=25)
    # 1 lookup; a page of n posts may cost 2n reads: 12 (14 read), then 5 (7 read), then none
    sizes = [r.args["max_results"] for r, _ in httpserver.log if "mentions" in r.path]
    assert sizes == ["12", "5"]
    assert [p.native_id for p in first.posts] == ids[-17:]
    assert first.usage == {"reads": 22} and fake.billed == 22
    assert first.cursor["mentions"][BRAND_ID] == {"resume": ids[-17], "top": ids[-1]}
    assert first.warnings == [
        "read budget of 25 reached (max_reads_per_run): stopped before every new mention was"
        " read; the rest is read next run"
    ]
    assert not any("search" in r.path for r, _ in httpserver.log)

    reads, posts, cursor = [first.usage["reads"]], [*first.posts], first.cursor
    for _ in range(5):
        fake.billed = 0
        more = run(connect, httpserver, cursor, max_reads_per_run=25)
        assert more.usage["reads"] == fake.billed <= 25
        reads.append(more.usage["reads"])
        posts += more.posts
        cursor = more.cursor
        if not more.warnings:
            break
    assert reads == [22, 16, 0]
    assert sorted(p.native_id for p in posts) == sorted(ids)  # every mention, once
    assert cursor["mentions"][BRAND_ID] == {"mark": ids[-1]}
    assert len(cursor["watch"]) == 30


def test_a_budget_spent_before_the_replies_keeps_their_watch(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    said = [fake.post("42", f"@BrandCare issue {n}", at(n), mentions=[BRAND_ID])
            for n in range(3)]  # fmt: skip
    first = run(connect, httpserver)
    replies = [fake.post(BRAND_ID, "@shopper42 on it", at(10), reply_to=t) for t in said]
    new = [fake.post("43", f"@BrandCare me too {n}", at(11), mentions=[BRAND_ID])
           for n in range(5)]  # fmt: skip
    # mentions: a page of 10 (5 posts, 1 author read); 14 left cannot pay a search page (20)
    second = run(connect, httpserver, first.cursor, max_reads_per_run=20)
    assert [p.native_id for p in second.posts] == [t["id"] for t in new]
    assert second.usage == {"reads": 6}
    assert second.warnings == [
        "read budget of 20 reached (max_reads_per_run): stopped before the brand's replies in"
        " every conversation; the rest is read next run"
    ]
    for t in said:
        assert second.cursor["watch"][t["id"]] == first.cursor["watch"][t["id"]]
    third = run(connect, httpserver, second.cursor)
    assert [p.native_id for p in third.posts] == [t["id"] for t in replies]
    assert third.warnings == []


def test_the_smallest_budget_pays_one_search_page() -> None:
    with pytest.raises(Exception, match="greater than or equal to 20"):
        settings("https://api.x.com/", max_reads_per_run=19)


# --- the brand's replies --------------------------------------------------------------------


def test_conversations_are_batched_within_512_characters(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    said = [fake.post("42", f"@BrandCare n{n}", at(n / 4), mentions=[BRAND_ID]) for n in range(30)]
    for t in said[::3]:
        fake.post(BRAND_ID, "@shopper42 DM us", at(20), reply_to=t)
    result = run(connect, httpserver, max_reads_per_run=5000)
    assert len(fake.queries) == 3
    assert all(len(q) <= 512 for q in fake.queries)
    searched = {c for q in fake.queries for c in re.findall(r"conversation_id:(\d+)", q)}
    assert searched == {t["id"] for t in said}
    brand = [p for p in result.posts if p.is_brand]
    assert len(brand) == 10


def test_two_accounts_share_each_query(httpserver: HTTPServer, connect: Connect) -> None:
    fake = FakeX(httpserver)
    fake.user("778", "BrandHelp")
    fake.user("42", "shopper42")
    complaint = fake.post("42", "@BrandHelp broken", at(1), mentions=["778"])
    fake.post("778", "@shopper42 looking", at(2), reply_to=complaint)
    result = run(connect, httpserver, accounts=[BRAND, "BrandHelp"])
    assert fake.queries == [f"(from:{BRAND} OR from:BrandHelp) conversation_id:{complaint['id']}"]
    assert result.cursor["accounts"] == {"brandcare": BRAND_ID, "brandhelp": "778"}
    assert [p.is_brand for p in result.posts] == [None, True]


def test_a_conversation_older_than_the_search_window_is_searched_once_without_since_id(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    old = NOW - timedelta(days=20)
    complaint = fake.post("42", "@BrandCare from long ago", old, mentions=[BRAND_ID])
    fake.post(BRAND_ID, "@shopper42 sorry, DM us", old + timedelta(hours=1), reply_to=complaint)
    first = run(connect, httpserver)
    assert len(first.posts) == 2
    search = next(r.args for r, _ in httpserver.log if "search" in r.path)
    assert "since_id" not in search  # X refuses a since_id older than 7 days
    assert first.cursor["watch"][complaint["id"]]["until"] == format_instant(NOW)
    httpserver.clear_log()
    later = connect(settings(httpserver.url_for("/")), ENV,
                    clock=lambda: NOW.timestamp() + 60).fetch(first.cursor)  # fmt: skip
    assert later.posts == [] and later.cursor["watch"] == {}
    assert paths(httpserver) == [f"/2/users/{BRAND_ID}/mentions"]


def test_edited_posts_keep_their_first_id_and_time(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    complaint = fake.post("42", "@BrandCare refund pls", at(1), mentions=[BRAND_ID])
    edited = fake.edit(complaint, "@BrandCare refund please, order 12", at(1.5))
    answer = fake.post(BRAND_ID, "@shopper42 DM us", at(2), reply_to=edited)
    result = run(connect, httpserver)
    first, reply = result.posts
    assert first.native_id == complaint["id"]
    assert first.text == "@BrandCare refund please, order 12"
    assert first.at == at(1)  # the original id's time, not the edit's
    assert first.url == f"https://x.com/shopper42/status/{complaint['id']}"
    assert (reply.native_id, reply.parent_id) == (answer["id"], complaint["id"])


def test_partial_errors_are_skipped_and_counted(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    fake.post("42", "@BrandCare hi?", at(1), mentions=[BRAND_ID])
    fake.partial = [{"value": "1", "detail": "Could not find tweet with id: [1].",
                     "title": "Not Found Error", "resource_type": "tweet",
                     "type": "https://api.twitter.com/2/problems/resource-not-found"}]  # fmt: skip
    result = run(connect, httpserver)
    assert len(result.posts) == 1
    assert result.usage == {"reads": 3, "unavailable": 2}  # one per list answer


def test_a_long_post_reads_its_note_tweet(httpserver: HTTPServer, connect: Connect) -> None:
    long = {"id": "1865000000000000101", "text": "@BrandCare first 280 characters…",
            "created_at": "2026-11-30T09:12:44.000Z", "author_id": "42",
            "conversation_id": "1865000000000000101",
            "edit_history_tweet_ids": ["1865000000000000101"],
            "note_tweet": {"text": "@BrandCare first 280 characters and the rest &amp; more"}}  # fmt: skip
    httpserver.expect_request(f"/2/users/{BRAND_ID}/mentions").respond_with_json(
        {"data": [long], "includes": {"users": [{"id": "42", "username": "pat", "name": "P"}]},
         "meta": {"result_count": 1, "newest_id": long["id"], "oldest_id": long["id"]}}
    )  # fmt: skip
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        {"meta": {"result_count": 0}}
    )
    result = run(connect, httpserver, {"accounts": {"brandcare": BRAND_ID}})
    assert result.posts[0].text == "@BrandCare first 280 characters and the rest & more"
    assert result.posts[0].reach is None


# --- rate limits, credits and faults --------------------------------------------------------

MENTIONS = f"/2/users/{BRAND_ID}/mentions"
KNOWN = {"accounts": {"brandcare": BRAND_ID}}
EMPTY = {"meta": {"result_count": 0}}


def test_429_waits_until_x_rate_limit_reset(
    httpserver: HTTPServer, connect: Connect, sleeps: Sleeps
) -> None:
    reset = int(NOW.timestamp()) + 42
    httpserver.expect_ordered_request(MENTIONS).respond_with_json(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
         "status": 429}, status=429,
        headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                 "x-rate-limit-reset": str(reset)},
    )  # fmt: skip
    httpserver.expect_ordered_request(MENTIONS).respond_with_json(EMPTY)
    result = run(connect, httpserver, KNOWN)
    assert sleeps == [42.0]
    assert (result.requests, result.retries) == (2, 1)  # no conversation to search


def test_a_reset_too_far_away_fails_the_source_cleanly(
    httpserver: HTTPServer, connect: Connect, sleeps: Sleeps
) -> None:
    httpserver.expect_request(MENTIONS).respond_with_json(
        {"title": "Too Many Requests", "detail": "Too Many Requests"}, status=429,
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW.timestamp()) + 900)},
    )  # fmt: skip
    with pytest.raises(SourceError) as caught:
        run(connect, httpserver, KNOWN)
    assert str(caught.value) == (
        f"x: http://127.0.0.1:{httpserver.port}{MENTIONS}: HTTP 429: Too Many Requests"
        "; rate limited for 900 s, try again later"
    )
    assert sleeps == [] and len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (402, {"account_id": 1243608864848629761, "title": "CreditsDepleted",
               "detail": "Your enrolled account [1243608864848629761] does not have any credits"
               " to fulfill this request.", "type": "https://api.twitter.com/2/problems/credits"},
         "HTTP 402 CreditsDepleted: the X app has no credits left; buy credits in the X"
         " Developer Console (console.x.com)"),
        (429, {"account_id": "1", "product_name": "standard-basic", "title": "UsageCapExceeded",
               "period": "Monthly", "scope": "Product",
               "detail": "Usage cap exceeded: Monthly product cap",
               "type": "https://api.twitter.com/2/problems/usage-capped"},
         "HTTP 429 UsageCapExceeded: the X app's monthly read cap is reached; it resets with"
         " the billing cycle (or ask X for more)"),
    ],
)  # fmt: skip
def test_out_of_credits_and_the_monthly_cap_are_one_line_and_never_retried(
    httpserver: HTTPServer,
    connect: Connect,
    sleeps: Sleeps,
    status: int,
    body: dict[str, Any],
    expected: str,
) -> None:
    httpserver.expect_request(MENTIONS).respond_with_json(
        body, status=status, headers={"x-rate-limit-remaining": "449",
                                      "x-rate-limit-reset": str(int(NOW.timestamp()) + 60)}
    )  # fmt: skip
    with pytest.raises(SourceError) as caught:
        run(connect, httpserver, KNOWN)
    assert str(caught.value) == f"x: http://127.0.0.1:{httpserver.port}{MENTIONS}: {expected}"
    assert len(httpserver.log) == 1 and sleeps == []


def test_a_failure_after_reads_says_how_many(
    fake: FakeX, httpserver: HTTPServer, connect: Connect
) -> None:
    fake.post("42", "@BrandCare hi?", at(1), mentions=[BRAND_ID])
    httpserver.clear()
    httpserver.expect_request(MENTIONS).respond_with_handler(fake.handle)
    httpserver.expect_request("/2/tweets/search/recent").respond_with_data("nope", status=400)
    with pytest.raises(SourceError, match=r"/2/tweets/search/recent: HTTP 400 \(after 2 reads\)$"):
        run(connect, httpserver, KNOWN)


def test_an_unknown_account_is_named(fake: FakeX, httpserver: HTTPServer, connect: Connect) -> None:
    with pytest.raises(SourceError) as caught:
        run(connect, httpserver, accounts=["NoSuchBrand"])
    assert str(caught.value) == (
        "x: 2/users/by/username/NoSuchBrand: no such X account (or suspended): @NoSuchBrand"
    )


def test_a_wrong_token_is_not_retried_and_never_shown(
    httpserver: HTTPServer, connect: Connect
) -> None:
    httpserver.expect_request(MENTIONS).respond_with_json(
        {"title": "Unauthorized", "detail": f"Bearer {TOKEN} is not valid", "status": 401},
        status=401,
    )
    with pytest.raises(SourceError) as caught:
        run(connect, httpserver, KNOWN)
    assert str(caught.value).endswith(f"{MENTIONS}: HTTP 401: [redacted] is not valid")
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ([], "expected a JSON object, got a list"),
        ({"data": {"id": "1"}}, "data: must be a list, not an object"),
        ({"data": [{"id": 1, "text": "x"}]}, "data: item 0: id: must be a string, not a number"),
        ({"data": [{"id": "1", "text": "x", "author_id": "2"}]},
         "data: item 0: created_at: missing"),
        ({"data": [{"id": "1", "text": "x", "author_id": "2", "created_at": "yesterday"}]},
         "data: item 0: created_at: not an ISO 8601 time"),
        ({"data": [], "includes": {"users": [{"id": "2", "username": "a b"}]}},
         "includes.users: item 0: username: must be an X username"),
        ({"meta": {"newest_id": "../x"}}, "meta.newest_id: must be an X id"),
    ],
)  # fmt: skip
def test_wrong_shapes_name_the_endpoint_and_field(
    httpserver: HTTPServer, connect: Connect, answer: Any, expected: str
) -> None:
    httpserver.expect_request(MENTIONS).respond_with_json(answer)
    with pytest.raises(SourceError) as caught:
        run(connect, httpserver, KNOWN)
    assert str(caught.value).startswith(f"x: 2/users/{BRAND_ID}/mentions: {expected}")


def test_a_broken_cursor_is_named(httpserver: HTTPServer, connect: Connect) -> None:
    with pytest.raises(SourceError, match=r"^x: cursor: watch.1.since: missing"):
        run(connect, httpserver, {"watch": {"1": {"until": "2026-11-30T00:00:00Z"}}})


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class XScenario:
    """Each complaint a mention of @BrandCare; its answer the brand's reply, found by recent
    search in the complaint's conversation."""

    type = "x"
    channel = "x"
    env: Mapping[str, str] = MappingProxyType(ENV)
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[accounts]\nx = ["{BRAND}"]\n\n[[sources]]\ntype = "x"\nbase_url = "{base_url}"\n'
            f'accounts = ["{BRAND}"]\nbearer_token_env = "X_BEARER_TOKEN"\n'
            "max_reads_per_run = 10000\n"
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakeX(server, now=datetime.now(UTC))
        for number, c in enumerate(complaints, start=1):
            uid = fake.user(str(1000 + number), f"customer{number}")
            said = fake.post(uid, c.text, c.at, mentions=[BRAND_ID])
            if c.answer is not None and c.answered_at is not None:
                fake.post(BRAND_ID, f"@customer{number} {c.answer}", c.answered_at, reply_to=said)


SCENARIO = XScenario()


def test_the_gather_summary_shows_the_reads_and_the_budget_warning(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    SCENARIO.serve(httpserver, complaints([f"Order {n} missing?" for n in range(30)], answered=5))
    root = tmp_path / "site"
    root.mkdir()
    config = site_config(SCENARIO, httpserver.url_for("/")).replace(
        "max_reads_per_run = 10000", "max_reads_per_run = 40"
    )
    (root / "heard.toml").write_text(config, "utf-8")
    first = heard("gather", "--site", root, "--now", "2026-11-30T12:00:00Z", env=dict(ENV))
    assert first.exit_code == 0, first.stderr
    line = next(ln for ln in first.output.splitlines() if ln.startswith("x "))
    assert re.search(r"  39 reads$", line)  # 1 user, 19 mentions and 19 authors: 39 of 40
    assert "warning: x: read budget of 40 reached (max_reads_per_run)" in first.stderr
    state = json.loads((root / "content/state/x.json").read_text("utf-8"))
    assert set(state["cursor"]["mentions"][BRAND_ID]) == {"resume", "top"}
