"""The Mastodon source against a real HTTP server on 127.0.0.1 answering like Mastodon.

Fixtures follow the documented entities (docs.joinmastodon.org: Status, Account,
Notification; GET /api/v1/notifications, /api/v1/accounts/:id/statuses,
/api/v1/timelines/tag/:hashtag): string ids, ISO 8601 `created_at` with milliseconds and
`Z`, HTML `content`, `Link` pagination with `max_id` (next) and `min_id` (prev) and the
X-RateLimit-* headers.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.sources.base import Context, FetchResult, SourceError
from generator.gather.sources.http import HttpClient
from generator.gather.sources.mastodon import MastodonMentions, MastodonSettings, id_key
from generator.record.times import format_instant
from tests.conftest import Connect, Sleeps
from tests.support.contract import Complaint

SECRET = "FAKE_MASTODON_SECRET_42"
INSTANCE = "https://social.example/"
BRAND_ID = "109"
JSON_TYPE = "application/json; charset=utf-8"


def account(
    aid: str, acct: str, display_name: str = "", followers: int = 12, host: str = "social.example"
) -> dict[str, Any]:
    """A documented Account entity."""
    username = acct.split("@")[0]
    return {
        "id": aid,
        "username": username,
        "acct": acct,
        "display_name": display_name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2019-03-16T00:00:00.000Z",
        "note": "<p>A person.</p>",
        "url": f"https://{host}/@{username}",
        "avatar": f"https://files.{host}/avatars/{aid}.png",
        "avatar_static": f"https://files.{host}/avatars/{aid}.png",
        "header": f"https://files.{host}/headers/{aid}.png",
        "header_static": f"https://files.{host}/headers/{aid}.png",
        "followers_count": followers,
        "following_count": 3,
        "statuses_count": 40,
        "last_status_at": "2024-05-01",
        "emojis": [],
        "fields": [],
    }


BRAND = account(BRAND_ID, "acme", "Acme Support", followers=5000)
ZSC = account("971724", "zsc", "Zsc", followers=80)
HASKAL = account("297420", "haskal@cybre.space", "haskal", followers=300, host="cybre.space")


def status(
    sid: str,
    who: dict[str, Any],
    content: str,
    *,
    at: str = "2024-05-01T10:00:00.000Z",
    reply_to: str | None = None,
    visibility: str = "public",
    spoiler_text: str = "",
    reblog: dict[str, Any] | None = None,
    tags: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A documented Status entity."""
    host = "cybre.space" if "@" in who["acct"] else "social.example"
    return {
        "id": sid,
        "created_at": at,
        "in_reply_to_id": reply_to,
        "in_reply_to_account_id": BRAND_ID if reply_to else None,
        "sensitive": bool(spoiler_text),
        "spoiler_text": spoiler_text,
        "visibility": visibility,
        "language": "en",
        "uri": f"https://{host}/users/{who['username']}/statuses/{sid}",
        "url": f"https://{host}/@{who['username']}/{sid}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "content": content,
        "reblog": reblog,
        "application": {"name": "Web", "website": None},
        "account": who,
        "media_attachments": [],
        "mentions": [
            {
                "id": BRAND_ID,
                "username": "acme",
                "url": "https://social.example/@acme",
                "acct": "acme",
            }
        ],
        "tags": [{"name": t, "url": f"https://social.example/tags/{t}"} for t in tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def mention(nid: str, st: dict[str, Any]) -> dict[str, Any]:
    """A documented Notification entity of type mention."""
    return {
        "id": nid,
        "type": "mention",
        "created_at": st["created_at"],
        "account": st["account"],
        "status": st,
    }


class FakeMastodon:
    """Enough of a Mastodon instance: auth, since_id/max_id paging, Link and rate headers."""

    def __init__(self, server: HTTPServer, page_size: int = 40) -> None:
        self.server = server
        self.page_size = page_size
        self.honour_types = True
        self.me = BRAND
        self.notifications: list[dict[str, Any]] = []
        self.own: list[dict[str, Any]] = []
        self.tags: dict[str, list[dict[str, Any]]] = {}
        server.expect_request(re.compile(r"^/api/v1/")).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        path = request.path
        public = path.startswith("/api/v1/timelines/tag/") or path.endswith("/statuses")
        if not public and request.headers.get("Authorization") != f"Bearer {SECRET}":
            return _json({"error": "The access token is invalid"}, 401)
        if path == "/api/v1/accounts/verify_credentials":
            return _json(self.me)
        if path == "/api/v1/notifications":
            types = request.args.getlist("types[]") if self.honour_types else []
            items = [n for n in self.notifications if not types or n["type"] in types]
        elif path == f"/api/v1/accounts/{self.me['id']}/statuses":
            items = self.own
            if request.args.get("exclude_reblogs") == "true":
                items = [s for s in items if s["reblog"] is None]
        elif path.startswith("/api/v1/timelines/tag/"):
            items = self.tags.get(unquote(path.rsplit("/", 1)[1]), [])
        else:
            return _json({"error": "Record not found"}, 404)
        return self.page(request, items)

    def page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        args = request.args
        chosen = sorted(items, key=lambda i: int(i["id"]), reverse=True)
        if "since_id" in args:
            chosen = [i for i in chosen if int(i["id"]) > int(args["since_id"])]
        if "max_id" in args:
            chosen = [i for i in chosen if int(i["id"]) < int(args["max_id"])]
        limit = min(int(args.get("limit", "20")), self.page_size)
        page = chosen[:limit]
        kept = [(k, v) for k, v in args.items(multi=True) if k not in {"max_id", "since_id"}]
        here = self.server.url_for(request.path)
        links = []
        if page and len(page) == limit:  # like Mastodon: next only after a full page
            links.append(f'<{here}?{urlencode([*kept, ("max_id", page[-1]["id"])])}>; rel="next"')
        if page:
            links.append(f'<{here}?{urlencode([*kept, ("min_id", page[0]["id"])])}>; rel="prev"')
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": "2024-05-01T10:05:00.000Z",
        }
        if links:
            headers["Link"] = ", ".join(links)
        return _json(page, headers=headers)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers, content_type=JSON_TYPE)


def source(**settings: Any) -> MastodonSettings:
    return MastodonSettings.model_validate(
        {"type": "mastodon", "base_url": INSTANCE, "token_env": "MASTODON_TOKEN", **settings}
    )


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", SECRET)


ClientFactory = Callable[..., HttpClient]


@pytest.fixture
def make_client(httpserver: HTTPServer, sleeps: Sleeps) -> Iterator[ClientFactory]:
    made: list[HttpClient] = []

    def factory(config: MastodonSettings | None = None, **options: Any) -> HttpClient:
        # The settings name the instance (handles are @user@social.example); the client
        # talks to the local server, with the token connect() would send.
        token = Context(os.environ).optional_secret(config or source(), "token_env")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        options.setdefault("jitter", lambda: 0.0)
        client = HttpClient(httpserver.url_for("/"), headers=headers, sleep=sleeps, **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def paths(httpserver: HTTPServer) -> list[str]:
    return [request.path for request, _ in httpserver.log]


def fetch_error(config: MastodonSettings, client: HttpClient) -> str:
    with pytest.raises(SourceError) as caught:
        MastodonMentions(config, client).fetch({})
    message = str(caught.value)
    assert "\n" not in message
    assert SECRET not in message
    assert message.startswith(f"{config.key}: ")
    return message


# --- credentials ---------------------------------------------------------------------------


def test_the_named_variable_is_the_token_connect_sends(
    httpserver: HTTPServer, connect: Connect
) -> None:
    fake = FakeMastodon(httpserver)
    fake.tags["acmefail"] = [status("500", ZSC, "<p>down again #acmefail</p>")]
    here = source(base_url=httpserver.url_for("/"), hashtags=["acmefail"])
    connect(here, {"MASTODON_TOKEN": SECRET}).fetch({})
    assert {r.headers.get("Authorization") for r, _ in httpserver.log} == {f"Bearer {SECRET}"}
    for env in ({}, {"MASTODON_TOKEN": ""}, {"MASTODON_TOKEN": "  "}):
        with pytest.raises(SourceError, match=r"^mastodon: MASTODON_TOKEN is not set$"):
            connect(source(), env)
    with pytest.raises(SourceError) as caught:
        connect(source(), {"MASTODON_TOKEN": SECRET + "\nX-Evil: 1"})
    assert SECRET not in str(caught.value)
    assert "MASTODON_TOKEN holds characters no credential has" in str(caught.value)


def test_the_token_is_sent_only_when_the_variable_is_set(
    httpserver: HTTPServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeMastodon(httpserver)
    fake.tags["acmefail"] = [status("500", ZSC, "<p>down again #acmefail</p>")]
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    with pytest.raises(SourceError, match="MASTODON_TOKEN is not set"):
        make_client(source(hashtags=["acmefail"]))
    assert httpserver.log == []

    config = source(token_env=None, hashtags=["acmefail"])
    monkeypatch.setenv("MASTODON_TOKEN", SECRET)  # set, but not named: never read
    result = MastodonMentions(config, make_client(config)).fetch({})
    assert [p.native_id for p in result.posts] == ["500"]
    assert all("Authorization" not in r.headers for r, _ in httpserver.log)


# --- documented shapes, first and incremental fetches ---------------------------------------


@pytest.mark.usefixtures("secret_env")
def test_mentions_and_own_posts_with_a_token(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    fake = FakeMastodon(httpserver)
    fake.honour_types = False  # like a server older than 3.5
    fake.notifications = [
        mention(
            "34975861",
            status(
                "103186126728896492",
                ZSC,
                '<p><span class="h-card"><a href="https://social.example/@acme" '
                'class="u-url mention">@<span>acme</span></a></span> my order never '
                "arrived &amp; nobody answers</p><p>Order 42</p>",
                at="2019-11-23T07:49:01.940Z",
            ),
        ),
        mention(
            "34975900",
            status(
                "103186200000000000",
                HASKAL,
                "<p>@acme still broken</p>",
                at="2019-11-23T08:00:00.000Z",
            ),
        ),
        {  # other notification types are not mentions even if a server ignores types[]
            "id": "34975950",
            "type": "favourite",
            "created_at": "2019-11-23T08:10:00.000Z",
            "account": HASKAL,
            "status": status("103186300000000000", BRAND, "<p>hello</p>"),
        },
    ]
    fake.own = [
        status(
            "103186150000000000",
            BRAND,
            "<p>@zsc sorry! DM us your order number</p>",
            at="2019-11-23T07:55:00.000Z",
            reply_to="103186126728896492",
        )
    ]
    config = source()
    result = MastodonMentions(config, make_client(config)).fetch({})

    assert paths(httpserver) == [
        "/api/v1/accounts/verify_credentials",
        "/api/v1/notifications",
        f"/api/v1/accounts/{BRAND_ID}/statuses",
    ]
    for request, _ in httpserver.log:
        assert request.headers["Authorization"] == f"Bearer {SECRET}"
    notes = httpserver.log[1][0].args
    assert notes.getlist("types[]") == ["mention"]
    assert notes["limit"] == "40"
    assert "since_id" not in notes
    own = httpserver.log[2][0].args
    assert own["exclude_reblogs"] == "true"
    assert own["limit"] == "40"

    first, answer, second = result.posts
    assert first.native_id == "103186126728896492"
    assert first.at == datetime(2019, 11, 23, 7, 49, 1, 940000, tzinfo=UTC)
    assert first.author == "@zsc@social.example"
    assert first.author_name == "Zsc"
    assert first.reach == 80
    assert first.text == "@acme my order never arrived & nobody answers\n\nOrder 42"
    assert first.url == "https://social.example/@zsc/103186126728896492"
    assert first.parent_id is None
    assert first.is_brand is None
    assert answer.author == "@acme@social.example"
    assert answer.is_brand is True
    assert answer.parent_id == "103186126728896492"
    assert answer.reach == 5000
    assert second.author == "@haskal@cybre.space"
    assert second.url == "https://cybre.space/@haskal/103186200000000000"
    assert result.cursor == {"mentions": "34975950", "own": "103186150000000000"}
    assert (result.requests, result.retries) == (3, 0)


@pytest.mark.usefixtures("secret_env")
def test_incremental_fetch_gathers_nothing_twice(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    fake = FakeMastodon(httpserver, page_size=2)
    fake.notifications = [
        mention(str(10 + i), status(str(1000 + i), ZSC, f"<p>complaint {i}</p>")) for i in range(3)
    ]
    fake.own = [status("1500", BRAND, "<p>answer</p>", reply_to="1000")]
    fake.tags["acmefail"] = [status("1600", HASKAL, "<p>#acmefail</p>", tags=("acmefail",))]
    config = source(hashtags=["acmefail"])
    gatherer = MastodonMentions(config, make_client(config))

    first = gatherer.fetch({})
    assert sorted(p.native_id for p in first.posts) == ["1000", "1001", "1002", "1500", "1600"]
    assert first.cursor == {"mentions": "12", "own": "1500", "tags": {"acmefail": "1600"}}
    assert next(p for p in first.posts if p.native_id == "1600").tags == ("acmefail",)

    httpserver.clear_log()
    again = gatherer.fetch(first.cursor)
    assert again.posts == []
    assert again.cursor == first.cursor
    since = {r.path: r.args.get("since_id") for r, _ in httpserver.log}
    assert since == {
        "/api/v1/accounts/verify_credentials": None,
        "/api/v1/notifications": "12",
        f"/api/v1/accounts/{BRAND_ID}/statuses": "1500",
        "/api/v1/timelines/tag/acmefail": "1600",
    }

    # three new mentions span two pages; the next link drops since_id (as Mastodon's does),
    # so the source stops at the first item it already has
    fake.notifications += [
        mention(str(20 + i), status(str(2000 + i), ZSC, f"<p>new {i}</p>")) for i in range(3)
    ]
    fake.own.append(status("2100", BRAND, "<p>on it</p>", reply_to="2000"))
    third = gatherer.fetch(again.cursor)
    assert sorted(p.native_id for p in third.posts) == ["2000", "2001", "2002", "2100"]
    assert third.cursor == {"mentions": "22", "own": "2100", "tags": {"acmefail": "1600"}}
    assert gatherer.fetch(third.cursor).posts == []


def test_pagination_follows_link_next_over_three_pages_and_max_pages(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    fake = FakeMastodon(httpserver, page_size=2)
    fake.tags["acme"] = [status(str(100 + i), ZSC, f"<p>post {i}</p>") for i in range(5)]
    config = source(token_env=None, hashtags=["acme"])
    result = MastodonMentions(config, make_client(config)).fetch({})
    assert sorted(p.native_id for p in result.posts) == ["100", "101", "102", "103", "104"]
    assert [r.args.get("max_id") for r, _ in httpserver.log] == [None, "103", "101"]
    assert result.cursor == {"tags": {"acme": "104"}}
    assert result.requests == 3

    httpserver.clear_log()
    capped = source(token_env=None, hashtags=["acme"], max_pages=2)
    result = MastodonMentions(capped, make_client(capped)).fetch({})
    assert sorted(p.native_id for p in result.posts) == ["101", "102", "103", "104"]
    assert len(httpserver.log) == 2


@pytest.mark.usefixtures("secret_env")
def test_a_next_link_to_another_host_is_not_followed(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    page = [status("7", ZSC, "<p>hi</p>")]
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(BRAND)
    httpserver.expect_request("/api/v1/notifications").respond_with_json(
        [mention("1", page[0])],
        headers={"Link": '<https://evil.example/api/v1/notifications?max_id=1>; rel="next"'},
    )
    message = fetch_error(source(), make_client())
    assert "api/v1/notifications: the next page is on another host" in message
    assert paths(httpserver) == ["/api/v1/accounts/verify_credentials", "/api/v1/notifications"]


# --- what is gathered and how it reads ------------------------------------------------------


def test_reblogs_private_and_direct_statuses_are_skipped(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    fake = FakeMastodon(httpserver)
    original = status("300", HASKAL, "<p>original</p>", tags=("acme",))
    fake.tags["acme"] = [
        status("301", ZSC, "<p>public</p>"),
        status("302", ZSC, "<p>unlisted</p>", visibility="unlisted"),
        status("303", ZSC, "<p>followers only</p>", visibility="private"),
        status("304", ZSC, "<p>a private message</p>", visibility="direct"),
        status("305", ZSC, "", reblog=original),
        status("306", ZSC, "<p>local only</p>", visibility="local"),
    ]
    config = source(token_env=None, hashtags=["acme"])
    result = MastodonMentions(config, make_client(config)).fetch({})
    assert [p.native_id for p in result.posts] == ["301", "302"]
    assert result.cursor == {"tags": {"acme": "306"}}  # skipped ones are not asked again


def test_html_content_becomes_text_and_a_content_warning_leads(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    fake = FakeMastodon(httpserver)
    fake.tags["acme"] = [
        status(
            "401",
            ZSC,
            '<p>Refund <script>alert("x")</script>please<br>now</p>'
            '<p><a href="javascript:alert(1)" onclick="steal()">link</a> &lt;b&gt;</p>',
        ),
        status("402", ZSC, "<p>the details</p>", spoiler_text="billing rant"),
        status("403", ZSC, "", spoiler_text="only a warning"),
    ]
    config = source(token_env=None, hashtags=["acme"])
    result = MastodonMentions(config, make_client(config)).fetch({})
    texts = {p.native_id: p.text for p in result.posts}
    assert texts["401"] == "Refund please\nnow\n\nlink <b>"
    assert "<script" not in str(texts) and "alert(" not in str(texts)
    assert texts["402"] == "billing rant\n\nthe details"
    assert texts["403"] == "only a warning"


def test_hashtags_without_a_token(httpserver: HTTPServer, make_client: ClientFactory) -> None:
    fake = FakeMastodon(httpserver)
    fake.tags["acme"] = [status("501", ZSC, "<p>#acme help</p>")]
    fake.tags["acme_fail"] = [
        status("501", ZSC, "<p>#acme help</p>"),
        status("502", BRAND, "<p>we're on it</p>", reply_to="501"),
    ]
    config = source(token_env=None, hashtags=["acme", "acme_fail"])
    result = MastodonMentions(config, make_client(config)).fetch({})
    assert paths(httpserver) == ["/api/v1/timelines/tag/acme", "/api/v1/timelines/tag/acme_fail"]
    assert [p.native_id for p in result.posts] == ["501", "502"]
    assert all(p.is_brand is None for p in result.posts)  # unknown without credentials
    assert result.cursor == {"tags": {"acme": "501", "acme_fail": "502"}}


def test_id_order() -> None:
    assert id_key("99") < id_key("100") < id_key("103186126728896492")
    assert id_key("9n2ciuRjZeDp4dXvFk") < id_key("A9n2ciuRjZeDp4dXvFk")
    assert sorted(["b", "aa", "a"], key=id_key) == ["a", "b", "aa"]


# --- faults ---------------------------------------------------------------------------------


def tag_config() -> MastodonSettings:
    return source(token_env=None, hashtags=["acme"])


TAG = "/api/v1/timelines/tag/acme"


def test_429_retry_after_then_success(
    httpserver: HTTPServer, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    httpserver.expect_ordered_request(TAG).respond_with_json(
        {"error": "Too many requests"}, status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request(TAG).respond_with_json([status("1", ZSC, "<p>x</p>")])
    result = MastodonMentions(tag_config(), make_client(tag_config())).fetch({})
    assert [p.native_id for p in result.posts] == ["1"]
    assert sleeps == [7.0]
    assert len(httpserver.log) == 2
    assert (result.requests, result.retries) == (2, 1)


def test_429_waits_until_the_iso_8601_rate_limit_reset(
    httpserver: HTTPServer, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    now = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC).timestamp()
    httpserver.expect_ordered_request(TAG).respond_with_json(
        {"error": "Too many requests"},
        status=429,
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2024-05-01T10:02:30.000Z",
        },
    )
    httpserver.expect_ordered_request(TAG).respond_with_json([])
    result = MastodonMentions(tag_config(), make_client(tag_config(), clock=lambda: now)).fetch({})
    assert result.posts == []
    assert sleeps == [150.0]
    assert len(httpserver.log) == 2


def test_server_errors_back_off_then_succeed(
    httpserver: HTTPServer, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    for code in (500, 502, 503):
        httpserver.expect_ordered_request(TAG).respond_with_data("oops", status=code)
    httpserver.expect_ordered_request(TAG).respond_with_json([status("1", ZSC, "<p>x</p>")])
    result = MastodonMentions(tag_config(), make_client(tag_config())).fetch({})
    assert [p.native_id for p in result.posts] == ["1"]
    assert sleeps == [1.0, 2.0, 4.0]
    assert result.retries == 3


def test_persistent_503_gives_up_after_bounded_attempts(
    httpserver: HTTPServer, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    httpserver.expect_request(TAG).respond_with_data("unavailable", status=503)
    message = fetch_error(tag_config(), make_client(tag_config(), max_retries=3))
    assert re.search(r"/api/v1/timelines/tag/acme: HTTP 503 \(gave up after 4 attempts\)$", message)
    assert len(httpserver.log) == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_timeout_is_a_source_error(httpserver: HTTPServer, make_client: ClientFactory) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return _json([])

    httpserver.expect_request(TAG).respond_with_handler(slow)
    try:
        message = fetch_error(tag_config(), make_client(tag_config(), timeout=0.2, max_retries=1))
    finally:
        release.set()
        deadline = time.monotonic() + 5
        while len(httpserver.log) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # let the server finish both requests before the next test
    assert message.endswith("/api/v1/timelines/tag/acme: timed out (gave up after 2 attempts)")


@pytest.mark.usefixtures("secret_env")
@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            '[{"id": "1", "type": "mention", "status": {"id"',
            JSON_TYPE,
            "expected JSON, got not JSON",
        ),
        (
            "<!DOCTYPE html><html><body><h1>We're sorry, something went wrong</h1></body></html>",
            "text/html",
            "expected JSON, got an HTML page (HTTP 200)",
        ),
        (
            '{"error": "nope"}',
            JSON_TYPE,
            "api/v1/notifications: expected a JSON array, got an object",
        ),
        ('["x"]', JSON_TYPE, "api/v1/notifications: item 0: must be an object, not a string"),
    ],
)
def test_unusable_answers(
    httpserver: HTTPServer,
    make_client: ClientFactory,
    body: str,
    content_type: str,
    expected: str,
) -> None:
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(BRAND)
    httpserver.expect_request("/api/v1/notifications").respond_with_data(
        body, content_type=content_type
    )
    assert expected in fetch_error(source(), make_client())


def _broken(path: tuple[str | int, ...], value: Any) -> list[dict[str, Any]]:
    items = copy.deepcopy(
        [
            mention("1", status("11", ZSC, "<p>fine</p>")),
            mention("2", status("12", HASKAL, "<p>broken</p>")),
        ]
    )
    target: Any = items[1]
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return items


@pytest.mark.usefixtures("secret_env")
@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("status", "created_at"), "yesterday", "status.created_at: not an ISO 8601 time"),
        (("status", "created_at"), "2024-05-01T10:00:00", "status.created_at: not an ISO 8601"),
        (("status", "id"), 12, "status.id: must be a string, not a number"),
        (("status", "id"), "../../admin", "status.id: not an id"),
        (("status", "content"), KeyError, "status.content: missing"),
        (("status", "content"), None, "status.content: must be a string, not null"),
        (("status", "account"), [], "status.account: must be an object, not a list"),
        (("status", "account", "acct"), "a b", "status.account.acct: not an account name"),
        (
            ("status", "account", "followers_count"),
            "80",
            "followers_count: must be a whole number, not a string",
        ),
        (("status", "tags"), {"name": "x"}, "status.tags: must be a list, not an object"),
        (("id",), None, "item 1: id: must be a string, not null"),
    ],
)
def test_wrong_field_types_name_the_item_and_field(
    httpserver: HTTPServer,
    make_client: ClientFactory,
    path: tuple[str, ...],
    value: Any,
    expected: str,
) -> None:
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(BRAND)
    httpserver.expect_request("/api/v1/notifications").respond_with_json(_broken(path, value))
    message = fetch_error(source(), make_client())
    assert message.startswith("mastodon: api/v1/notifications: item 1: ")
    assert expected in message


@pytest.mark.usefixtures("secret_env")
def test_broken_credentials_answer(httpserver: HTTPServer, make_client: ClientFactory) -> None:
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(
        {"id": 109, "acct": "acme"}
    )
    message = fetch_error(source(), make_client())
    assert message == (
        "mastodon: api/v1/accounts/verify_credentials: id: must be a string, not a number"
    )


@pytest.mark.usefixtures("secret_env")
def test_a_server_echoing_the_token_never_leaks_it(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    httpserver.expect_request("/api/v1/accounts/verify_credentials").respond_with_json(
        {"error": f"The access token Bearer {SECRET} is invalid"}, status=401
    )
    message = fetch_error(source(), make_client())
    assert "HTTP 401: The access token [redacted] is invalid" in message
    assert len(httpserver.log) == 1  # 401 is not retried


def test_fetch_result_is_a_fetch_result(httpserver: HTTPServer, make_client: ClientFactory) -> None:
    FakeMastodon(httpserver)
    result = MastodonMentions(tag_config(), make_client(tag_config())).fetch({"tags": {"acme": 5}})
    assert isinstance(result, FetchResult)
    assert result.posts == []
    assert result.cursor == {"tags": {"acme": "5"}}
    assert httpserver.log[0][0].args["since_id"] == "5"


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class MastodonScenario:
    """Each complaint a mention of the brand; its answer the brand's own reply status."""

    type = "mastodon"
    channel = "mastodon"
    env: Mapping[str, str] = MappingProxyType({"MASTODON_TOKEN": SECRET})
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "mastodon"\nbase_url = "{base_url}"\n'
            'token_env = "MASTODON_TOKEN"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakeMastodon(server)
        for number, c in enumerate(complaints, start=1):
            said = status(
                str(1000 + number), ZSC, f"<p>{html.escape(c.text)}</p>", at=format_instant(c.at)
            )
            fake.notifications.append(mention(str(number), said))
            if c.answer is not None and c.answered_at is not None:
                fake.own.append(
                    status(
                        str(5000 + number),
                        BRAND,
                        f"<p>{html.escape(c.answer)}</p>",
                        at=format_instant(c.answered_at),
                        reply_to=said["id"],
                    )
                )


SCENARIO = MastodonScenario()
