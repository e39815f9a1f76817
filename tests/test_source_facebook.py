"""Facebook Pages source against a real HTTP server on this machine, answering like the
documented Graph API: /{page-id}/feed with inline comments (filter=stream, newest first),
/{post-id}/comments pages, /{page-id}/visitor_posts, paging.next links, Graph error bodies
and Meta's usage headers (X-Business-Use-Case-Usage, X-App-Usage)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.sources.base import Source, SourceError
from generator.gather.sources.facebook import FacebookSettings
from tests.conftest import BASE_CONFIG, Connect, SiteFactory, Sleeps, heard
from tests.support.contract import Complaint
from tests.support.meta import (
    VERSION,
    app_usage,
    buc,
    by_id,
    graph_failure,
    graph_json,
    graph_time,
    ids,
    listing,
    offset_of,
    parse_graph_time,
    paths,
)

PAGE = "1111"
TOKEN = "EAAB_FAKE_PAGE_TOKEN_42"
FEED = f"/{VERSION}/{PAGE}/feed"
VISITORS = f"/{VERSION}/{PAGE}/visitor_posts"
COMMENTS = re.compile(rf"^/{re.escape(VERSION)}/([0-9_]+)/comments$")
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
BRAND = {"id": PAGE, "name": "Acme"}
PAT = {"id": "987", "name": "Pat Doe"}
SAM = {"id": "654", "name": "Sam Roe"}


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def post(
    number: int,
    when: datetime,
    *,
    by: Mapping[str, str] = PAT,
    message: str | None = "I was charged twice!",
) -> dict[str, Any]:
    """A Page feed item as the Graph API reference shows it."""
    item: dict[str, Any] = {
        "id": f"{PAGE}_{number}",
        "created_time": graph_time(when),
        "from": dict(by),
        "permalink_url": f"https://www.facebook.com/{PAGE}/posts/{number}",
    }
    if message is not None:
        item["message"] = message
    return item


def comment(
    number: int,
    on: int,
    when: datetime,
    *,
    by: Mapping[str, str] = PAT,
    message: str = "Any news?",
    parent: str | None = None,
    hidden: bool = False,
) -> dict[str, Any]:
    """A comment (filter=stream: replies come flat, with their parent)."""
    item: dict[str, Any] = {
        "id": f"{on}_{number}",
        "created_time": graph_time(when),
        "from": dict(by),
        "message": message,
        "is_hidden": hidden,
        "permalink_url": f"https://www.facebook.com/{PAGE}/posts/{on}?comment_id={number}",
    }
    if parent is not None:
        item["parent"] = {"id": parent}
    return item


@dataclass
class FakeFacebook:
    """A Page's Graph API: the feed newest first (since/until on created_time, inclusive),
    each post with its first comments inline (newest first), more comments and visitors'
    posts, every list paged with paging.next."""

    server: HTTPServer
    posts: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_size: int = 2
    comment_page: int = 2
    new_pages_experience: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def install(self) -> FakeFacebook:
        self.server.expect_request(FEED).respond_with_handler(self.feed)
        self.server.expect_request(VISITORS).respond_with_handler(self.visitor_posts)
        self.server.expect_request(COMMENTS).respond_with_handler(self.more_comments)
        return self

    def add(self, item: dict[str, Any], *replies: dict[str, Any]) -> None:
        self.posts.append(item)
        self.comments.setdefault(item["id"], []).extend(replies)

    def window(self, request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        since = int(request.args.get("since", "0"))
        until = int(request.args.get("until", str(2**40)))
        chosen = [
            p for p in items if since <= parse_graph_time(p["created_time"]).timestamp() <= until
        ]
        return sorted(chosen, key=lambda p: (p["created_time"], p["id"]), reverse=True)

    def thread(self, post_id: str) -> list[dict[str, Any]]:
        found = self.comments.get(post_id, [])
        return sorted(found, key=lambda c: (c["created_time"], c["id"]), reverse=True)

    def expand(self, item: dict[str, Any]) -> dict[str, Any]:
        expanded = dict(item)
        thread = self.thread(item["id"])
        if thread:
            path = f"/{VERSION}/{item['id']}/comments"
            query = {"filter": "stream", "order": "reverse_chronological", "limit": "2"}
            expanded["comments"] = listing(
                self.server, path, thread, size=self.comment_page, query=query
            )
        return expanded

    def page(self, request: Request, path: str, items: list[dict[str, Any]]) -> Response:
        query = {k: v for k, v in request.args.items() if k != "after"}
        expanded = [self.expand(p) for p in self.window(request, items)]
        body = listing(
            self.server, path, expanded, offset=offset_of(request), size=self.page_size, query=query
        )
        return graph_json(body, headers=self.headers)

    def feed(self, request: Request) -> Response:
        return self.page(request, FEED, self.posts)

    def visitor_posts(self, request: Request) -> Response:
        if self.new_pages_experience:
            return graph_failure(200, "This endpoint is not supported.", subcode=2069030)
        visitors = [p for p in self.posts if p["from"]["id"] != PAGE]
        return self.page(request, VISITORS, visitors)

    def more_comments(self, request: Request) -> Response:
        match = COMMENTS.match(request.path)
        assert match is not None
        path = request.path
        thread = self.thread(match.group(1))
        query = {k: v for k, v in request.args.items() if k != "after"}
        body = listing(
            self.server,
            path,
            thread,
            offset=offset_of(request),
            size=self.comment_page,
            query=query,
        )
        return graph_json(body, headers=self.headers)


def config(server: HTTPServer, **extra: Any) -> FacebookSettings:
    values = {
        "type": "facebook",
        "page_id": PAGE,
        "page_token_env": "FB_PAGE_TOKEN",
        "api_version": VERSION,
        "base_url": server.url_for("/"),
        **extra,
    }
    return FacebookSettings.model_validate(values)


def connected(server: HTTPServer, connect: Connect, now: datetime = NOW, **extra: Any) -> Source:
    return connect(config(server, **extra), {"FB_PAGE_TOKEN": TOKEN}, clock=now.timestamp)


@pytest.fixture
def source(httpserver: HTTPServer, connect: Connect) -> Source:
    return connected(httpserver, connect)


def clean(error: SourceError) -> str:
    message = str(error)
    assert TOKEN not in message and "EAAB" not in message
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("facebook: ")
    return message


# --- mapping, paging --------------------------------------------------------------------------


def test_visitor_posts_comments_and_the_pages_answers(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeFacebook(httpserver)
    fake.add(
        post(1, at(20, 9), by=BRAND, message="Our new store opens today!"),
        comment(11, 1, at(20, 10), message="The app has been down since Monday"),
        comment(
            12,
            1,
            at(20, 10, 43),
            by=BRAND,
            parent=f"1_{11}",
            message="Sorry! Please DM us your account email.",
        ),
        comment(13, 1, at(20, 11), by=SAM, message="Congratulations!"),
        comment(14, 1, at(20, 12), by=SAM, message="spam spam", hidden=True),
    )
    fake.add(
        post(2, at(21, 8), message="I was charged twice!"),
        comment(21, 2, at(21, 8, 30), by=BRAND, message="We are on it."),
    )
    fake.add(post(3, at(22, 7), message=None))  # a photo without text
    fake.install()

    result = source.fetch({})

    assert ids(result) == sorted(["1_11", "1_12", "1_13", "2_21", f"{PAGE}_2", f"{PAGE}_3"])
    posts = by_id(result)
    complaint = posts["1_11"]  # a visitor's comment on the Page's own post
    assert (complaint.parent_id, complaint.root_id) == (f"{PAGE}_1", None)
    assert (complaint.author, complaint.author_name) == ("987", "Pat Doe")
    assert complaint.is_brand is None and complaint.at == at(20, 10)
    assert complaint.url == f"https://www.facebook.com/{PAGE}/posts/1?comment_id=11"
    answer = posts["1_12"]
    assert (answer.parent_id, answer.is_brand) == ("1_11", True)
    visitor = posts[f"{PAGE}_2"]  # a visitor's post opens its own thread
    assert (visitor.root_id, visitor.parent_id, visitor.text) == (
        f"{PAGE}_2",
        None,
        "I was charged twice!",
    )
    assert visitor.url == f"https://www.facebook.com/{PAGE}/posts/2"
    reply = posts["2_21"]
    assert (reply.parent_id, reply.root_id, reply.is_brand) == (f"{PAGE}_2", f"{PAGE}_2", True)
    assert posts[f"{PAGE}_3"].text is None
    assert f"{PAGE}_1" not in posts  # the Page's own post is no complaint
    assert result.usage == {"hidden": 1}
    assert result.warnings == []

    # The feed (two pages), the visitors' posts, the post's further comments.
    seen = [(r.path, dict(r.args)) for r, _ in httpserver.log]
    assert [p for p, _ in seen] == [FEED, FEED, VISITORS, f"/{VERSION}/{PAGE}_1/comments"]
    first = seen[0][1]
    assert first["limit"] == "25"
    assert first["since"] == str(int((NOW - timedelta(days=14)).timestamp()) - 1)
    assert first["fields"].startswith("id,message,created_time,from,permalink_url,comments.")
    assert "comments.filter(stream).order(reverse_chronological).limit(50)" in first["fields"]
    assert "is_hidden" in first["fields"] and "parent{id}" in first["fields"]
    for request, _ in httpserver.log:  # the token only ever in the Authorization header
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in request.url and "access_token" not in request.args
    assert result.requests == 4 and result.retries == 0
    cursor = result.cursor
    assert cursor["horizon"] == "2026-11-16T12:00:00Z"
    assert cursor["posts"][f"{PAGE}_1"] == {
        "at": "2026-11-20T09:00:00Z",
        "mark": "2026-11-20T11:00:00Z",
        "ids": ["1_13"],
    }
    assert cursor["posts"][f"{PAGE}_3"] == {"at": "2026-11-22T07:00:00Z"}
    assert "backlog" not in cursor and "visitor_posts" not in cursor
    json.dumps(cursor)


def test_an_empty_page_with_a_next_link_is_followed(httpserver: HTTPServer, source: Source) -> None:
    second = {"data": [post(1, at(25))], "paging": {}}
    empty = {"data": [], "paging": {"next": httpserver.url_for(FEED) + "?after=x"}}
    httpserver.expect_oneshot_request(FEED).respond_with_json(empty)
    httpserver.expect_oneshot_request(FEED).respond_with_json(second)
    httpserver.expect_request(VISITORS).respond_with_json({"data": []})
    assert ids(source.fetch({})) == sorted([f"{PAGE}_1"])
    assert paths(httpserver) == [FEED, FEED, VISITORS]


def test_incremental_runs_gather_nothing_twice(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeFacebook(httpserver)
    fake.add(post(1, at(20, 9), by=BRAND, message="News"), comment(11, 1, at(20, 10)))
    fake.add(post(2, at(21, 8)))
    fake.install()
    first = source.fetch({})
    assert ids(first) == sorted(["1_11", f"{PAGE}_2"])

    again = source.fetch(first.cursor)
    assert again.posts == [] and again.cursor == first.cursor

    # New comments on an old post (one in the very second of the last one), a new post.
    fake.comments[f"{PAGE}_1"] += [
        comment(12, 1, at(20, 10), by=SAM, message="Same here"),
        comment(13, 1, at(26, 10), by=BRAND, parent="1_11", message="Fixed now #fixed"),
    ]
    fake.comments[f"{PAGE}_2"] = [comment(21, 2, at(27), by=BRAND, message="Refunded.")]
    fake.add(post(3, at(28)), comment(31, 3, at(28, 1)))
    third = source.fetch(again.cursor)
    assert ids(third) == sorted(["1_12", "1_13", "2_21", "3_31", f"{PAGE}_3"])
    assert source.fetch(third.cursor).posts == []


def test_a_known_posts_comments_stop_at_the_watermark(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeFacebook(httpserver)
    fake.add(post(1, at(20), by=BRAND), *[comment(n, 1, at(20, n)) for n in range(1, 9)])
    fake.install()
    first = source.fetch({})
    assert len(first.posts) == 8  # four pages of two comments
    fake.comments[f"{PAGE}_1"] += [comment(9, 1, at(29)), comment(10, 1, at(29, 1))]
    httpserver.clear_log()
    second = source.fetch(first.cursor)
    assert ids(second) == ["1_10", "1_9"]
    # The inline page (10, 9) is all new; the next (8, 7) reaches back before the
    # watermark (8): the last two pages are not read.
    assert paths(httpserver) == [FEED, VISITORS, f"/{VERSION}/{PAGE}_1/comments"]


def test_the_window_moves_and_old_posts_leave_the_cursor(
    httpserver: HTTPServer, connect: Connect
) -> None:
    fake = FakeFacebook(httpserver)
    fake.add(post(1, at(1)))  # older than the window: never read
    fake.add(post(2, at(20)))
    fake.install()
    first = connected(httpserver, connect).fetch({})
    assert ids(first) == sorted([f"{PAGE}_2"])
    later = NOW + timedelta(days=20)
    fake.comments[f"{PAGE}_2"] = [comment(21, 2, later - timedelta(days=1))]
    second = connected(httpserver, connect, now=later).fetch(first.cursor)
    assert second.posts == []  # the post left the window: its new comment is not read
    assert second.cursor["posts"] == {}
    assert second.cursor["horizon"] == "2026-12-06T12:00:00Z"


def test_a_run_cut_by_max_pages_continues_with_the_older_posts(
    httpserver: HTTPServer, connect: Connect
) -> None:
    fake = FakeFacebook(httpserver, page_size=2)
    for n in range(1, 8):
        fake.add(post(n, at(20 + n)))
    fake.install()
    source = connected(httpserver, connect, max_pages=2)
    first = source.fetch({})
    assert ids(first) == sorted([f"{PAGE}_{n}" for n in (4, 5, 6, 7)])
    assert first.cursor["backlog"] == "2026-11-24T00:00:00Z"
    assert first.warnings and "more than 2 pages of posts" in first.warnings[0]

    httpserver.clear_log()
    second = source.fetch(first.cursor)  # the older posts of the window, up to the backlog
    assert ids(second) == sorted([f"{PAGE}_{n}" for n in (1, 2, 3)])
    asked = dict(httpserver.log[0][0].args)
    assert asked["until"] == str(int(at(24).timestamp()) + 1)
    assert asked["since"] == str(int(at(16, 12).timestamp()) - 1)  # the horizon waited
    assert VISITORS not in paths(httpserver)
    assert "backlog" not in second.cursor

    fake.add(post(8, at(29, 12)))
    third = source.fetch(second.cursor)
    assert ids(third) == sorted([f"{PAGE}_8"])
    assert source.fetch(third.cursor).posts == []


def test_too_many_new_comments_under_one_post_are_warned_about(
    httpserver: HTTPServer, connect: Connect
) -> None:
    fake = FakeFacebook(httpserver, comment_page=2)
    fake.add(post(1, at(20), by=BRAND), *[comment(n, 1, at(21, n)) for n in range(1, 8)])
    fake.install()
    result = connected(httpserver, connect, max_pages=2).fetch({})
    assert ids(result) == sorted(["1_4", "1_5", "1_6", "1_7"])  # the newest two pages
    assert any("1111_1/comments: more than 2 pages of new comments" in w for w in result.warnings)


def test_visitor_posts_on_a_new_pages_experience_page(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeFacebook(httpserver, new_pages_experience=True)
    fake.add(post(1, at(25)))
    fake.install()
    first = source.fetch({})
    assert ids(first) == sorted([f"{PAGE}_1"])
    assert first.cursor["visitor_posts"] is False
    assert len(first.warnings) == 1
    assert first.warnings[0].startswith(f"{VERSION}/{PAGE}/visitor_posts: not available")
    assert "code 200/2069030" in first.warnings[0]
    httpserver.clear_log()
    second = source.fetch(first.cursor)
    assert paths(httpserver) == [FEED]  # not asked again
    assert second.warnings == [] and second.cursor["visitor_posts"] is False


def test_visitor_posts_can_be_turned_off(httpserver: HTTPServer, connect: Connect) -> None:
    FakeFacebook(httpserver).install()
    connected(httpserver, connect, visitor_posts=False).fetch({})
    assert paths(httpserver) == [FEED]


def test_visitor_posts_also_in_the_feed_come_once(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeFacebook(httpserver)
    fake.add(post(1, at(25)), comment(11, 1, at(25, 1), by=BRAND))
    fake.install()
    assert ids(source.fetch({})) == sorted(["1_11", f"{PAGE}_1"])


# --- rate limits: Meta's three dialects --------------------------------------------------------


def test_usage_near_the_limit_slows_the_next_request(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    fake = FakeFacebook(httpserver)
    fake.add(post(1, at(25)))
    fake.headers = app_usage(85, 12, 30)  # X-App-Usage: 85 % of the app's calls
    fake.install()
    assert ids(source.fetch({})) == sorted([f"{PAGE}_1"])
    assert sleeps == [30.0]  # before /visitor_posts, after the feed said 85 %


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        (buc(PAGE, calls=91), 120.0),
        (buc(PAGE, total=96), 300.0),
        (buc(PAGE, calls=40, regain=3), 180.0),  # minutes until access comes back
        (buc(PAGE, calls=10) | app_usage(20), None),
    ],
)
def test_business_use_case_usage(
    httpserver: HTTPServer,
    source: Source,
    sleeps: Sleeps,
    headers: dict[str, str],
    pause: float | None,
) -> None:
    fake = FakeFacebook(httpserver)
    fake.headers = headers
    fake.install()
    source.fetch({})
    assert sleeps == ([] if pause is None else [pause])


def test_usage_beyond_max_wait_stops_the_source_cleanly(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    fake = FakeFacebook(httpserver)
    fake.headers = buc(PAGE, calls=100)
    fake.install()
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert message == (
        f"facebook: http://{httpserver.host}:{httpserver.port}{VISITORS}: 100 % of the rate"
        " limit used; it resets in 900 s: not sent, try again later"
    )
    assert sleeps == [] and paths(httpserver) == [FEED]


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        (4, 403, "(#4) Application request limit reached"),
        (17, 400, "(#17) User request limit reached"),
        (32, 400, "(#32) Page request limit reached"),
        (613, 400, "(#613) Calls to this api have exceeded the rate limit."),
        (80001, 400, "(#80001) There have been too many calls to this Page account."),
    ],
)
def test_graph_rate_limit_errors_are_waited_out(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps, code: int, status: int, message: str
) -> None:
    httpserver.expect_oneshot_request(FEED).respond_with_response(
        graph_failure(code, message, status=status, headers=buc(PAGE, calls=100, regain=2))
    )
    FakeFacebook(httpserver).install()
    source.fetch({})
    assert sleeps == [120.0]  # estimated_time_to_regain_access: 2 minutes
    assert paths(httpserver) == [FEED, FEED, VISITORS]


def test_a_rate_limit_error_without_usage_backs_off(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    httpserver.expect_oneshot_request(FEED).respond_with_response(
        graph_failure(4, "(#4) Application request limit reached", status=403)
    )
    FakeFacebook(httpserver).install()
    source.fetch({})
    assert sleeps == [1.0]


def test_a_long_block_fails_cleanly(httpserver: HTTPServer, source: Source, sleeps: Sleeps) -> None:
    httpserver.expect_request(FEED).respond_with_response(
        graph_failure(
            80001,
            "(#80001) There have been too many calls to this Page account.",
            headers=buc(PAGE, calls=120, regain=60),
        )
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert "HTTP 400: (#80001) There have been too many calls" in message
    assert "(OAuthException, code 80001, fbtrace_id AbCdEfGh123)" in message
    assert message.endswith("rate limited for 3600 s, try again later")
    assert sleeps == []


# --- faults -------------------------------------------------------------------------------------


def test_an_expired_token_is_one_clean_line(httpserver: HTTPServer, source: Source) -> None:
    httpserver.expect_request(FEED).respond_with_response(
        graph_failure(
            190,
            f"Error validating access token: Session has expired ({TOKEN})",
            status=401,
            subcode=463,
        )
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert message == (
        f"facebook: http://{httpserver.host}:{httpserver.port}{FEED}: HTTP 401: Error"
        " validating access token: Session has expired ([redacted]) (OAuthException,"
        " code 190/463, fbtrace_id AbCdEfGh123)"
    )


def test_a_missing_permission_fails_at_once(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    httpserver.expect_request(FEED).respond_with_response(
        graph_failure(
            10, "(#10) This endpoint requires the 'pages_read_engagement' permission", status=403
        )
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert "HTTP 403: (#10) This endpoint requires the 'pages_read_engagement'" in clean(
        caught.value
    )
    assert sleeps == [] and len(httpserver.log) == 1


def test_other_visitor_posts_errors_fail(httpserver: HTTPServer, source: Source) -> None:
    FakeFacebook(httpserver).install()
    httpserver.clear()
    httpserver.expect_request(FEED).respond_with_json({"data": []})
    httpserver.expect_request(VISITORS).respond_with_response(
        graph_failure(100, "Unsupported get request.", kind="GraphMethodException", subcode=33)
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert "(GraphMethodException, code 100/33, fbtrace_id AbCdEfGh123)" in clean(caught.value)


def test_server_errors_and_transient_codes_are_retried(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    httpserver.expect_oneshot_request(FEED).respond_with_data("oops", status=500)
    httpserver.expect_oneshot_request(FEED).respond_with_json({"message": "busy"}, status=429)
    httpserver.expect_oneshot_request(FEED).respond_with_response(
        graph_failure(2, "An unexpected error has occurred. Please retry your request later.")
    )
    FakeFacebook(httpserver).install()
    result = source.fetch({})
    assert sleeps == [1.0, 2.0, 4.0] and result.retries == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"data": [{"id": "1111_1", "created_', "expected JSON, got not JSON (HTTP 200)"),
        ("\x00\xff garbage", "expected JSON, got not JSON (HTTP 200)"),
        (
            "<html><body>Sorry, something went wrong.</body></html>",
            "expected JSON, got an HTML page",
        ),
        ("[]", f"{VERSION}/{PAGE}/feed: must be an object, not a list"),
        ('{"data": {"id": "1"}}', f"{VERSION}/{PAGE}/feed: data: must be a list, not an object"),
        ('{"paging": {}}', f"{VERSION}/{PAGE}/feed: data: missing"),
    ],
)
def test_unreadable_answers(
    httpserver: HTTPServer, source: Source, body: str, expected: str
) -> None:
    httpserver.expect_request(FEED).respond_with_data(body, content_type="application/json")
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert expected in clean(caught.value)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("created_time", "yesterday", "item 1: created_time: not an ISO 8601 time with a zone"),
        ("created_time", 1764400000, "item 1: created_time: not an ISO 8601 time with a zone"),
        ("id", 1111, "item 1: id: must be a string, not a number"),
        ("from", {"name": "Pat"}, "item 1: from.id: missing"),
        ("message", ["x"], "item 1: message: must be a string, not a list"),
    ],
)
def test_wrong_fields_name_the_item(
    httpserver: HTTPServer, source: Source, key: str, value: Any, expected: str
) -> None:
    items = [post(1, at(25)), post(2, at(24))]
    items[1][key] = value
    httpserver.expect_request(FEED).respond_with_json({"data": items})
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == f"facebook: {VERSION}/{PAGE}/feed: {expected}"


def test_a_bad_comment_names_its_post_and_page(httpserver: HTTPServer, source: Source) -> None:
    item = post(1, at(25))
    item["comments"] = {"data": [comment(1, 1, at(25, 1)) | {"is_hidden": "no"}]}
    httpserver.expect_request(FEED).respond_with_json({"data": [item]})
    httpserver.expect_request(VISITORS).respond_with_json({"data": []})
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == (
        f"facebook: {PAGE}_1/comments: item 0: is_hidden: must be true or false, not a string"
    )


@pytest.mark.parametrize(
    "link", ["https://graph.facebook.com/v25.0/1111/feed?after=x", "//evil.example/x"]
)
def test_a_next_link_off_the_api_is_not_followed(
    httpserver: HTTPServer, source: Source, link: str
) -> None:
    httpserver.expect_request(FEED).respond_with_json(
        {"data": [post(1, at(25))], "paging": {"next": link}}
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == (
        f"facebook: {VERSION}/{PAGE}/feed: paging.next is not a URL on this API; not followed"
    )
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        ({"horizon": "last week"}, "facebook: cursor: horizon: not an ISO 8601 time with a zone"),
        ({"posts": {"1_1": {"mark": "2026-11-01T00:00:00Z"}}}, "facebook: cursor: posts.1_1.at: missing"),
        ({"visitor_posts": "no"}, "facebook: cursor: visitor_posts: must be true or false, not a string"),
    ],
)  # fmt: skip
def test_a_damaged_cursor_is_reported(
    source: Source, cursor: dict[str, Any], expected: str
) -> None:
    with pytest.raises(SourceError) as caught:
        source.fetch(cursor)
    assert clean(caught.value) == expected


# --- the pinned version -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "now", "warning"),
    [
        ("v25.0", NOW, None),
        ("v20.0", datetime(2026, 7, 1, tzinfo=UTC),
         "api_version: Graph API v20.0 reaches its end of life on 2026-09-24 (in 85 days); pin a"
         " newer api_version (newest known: v26.0)"),
        ("v19.0", NOW,
         "api_version: Graph API v19.0 passed its end of life on 2026-05-21: Meta answers such"
         " calls with a newer version or refuses them; pin a newer api_version (newest known:"
         " v26.0)"),
        ("v26.0", datetime(2028, 6, 1, tzinfo=UTC),
         "api_version: Graph API v26.0 reaches its expected end of life on 2028-07-28 (in 57"
         " days); pin a newer api_version (newest known: v26.0)"),
        ("v99.0", NOW,
         "api_version: Graph API v99.0 is not in heard's table of versions (v10.0 to v26.0);"
         " check developers.facebook.com/docs/graph-api/changelog/versions, and update heard"
         " or pin a version it knows"),
    ],
)  # fmt: skip
def test_a_version_near_or_past_its_end_of_life_is_warned_about(
    httpserver: HTTPServer, connect: Connect, version: str, now: datetime, warning: str | None
) -> None:
    httpserver.expect_request(re.compile(rf"^/{re.escape(version)}/")).respond_with_json(
        {"data": []}
    )
    result = connected(httpserver, connect, now=now, api_version=version).fetch({})
    assert result.warnings == ([] if warning is None else [warning])
    assert paths(httpserver)[0] == f"/{version}/{PAGE}/feed"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"api_version": None}, "api_version: missing"),
        ({"api_version": "25"}, "api_version: must be a Graph API version like v25.0"),
        ({"page_id": "acme"}, "page_id: must be a numeric Page id"),
        ({"page_token_env": "EAAB123secret"}, "page_token_env: must name an environment variable"),
        ({"window_days": 0}, "window_days: must be at least 1"),
    ],
)
def test_settings(change: dict[str, Any], expected: str) -> None:
    from pydantic import ValidationError

    from generator.errors import describe

    values = {"type": "facebook", "page_id": PAGE, "page_token_env": "FB", "api_version": "v25.0"}
    values |= change
    values = {k: v for k, v in values.items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        FacebookSettings.model_validate(values)
    assert describe(caught.value).startswith(expected)


def test_heard_check_warns_about_the_pinned_version(make_site: SiteFactory) -> None:
    from datetime import date

    from generator import pipeline

    config = BASE_CONFIG + (
        f'\n[[sources]]\ntype = "facebook"\npage_id = "{PAGE}"\npage_token_env = "FB"\n'
        'api_version = "v10.0"\n'
    )
    root = make_site(config=config)
    report = pipeline.check(root, today=date(2026, 12, 1))
    assert report.problems == []
    assert [str(w) for w in report.warnings] == [
        "heard.toml: sources[0].api_version: Graph API v10.0 passed its end of life on"
        " 2023-06-08: Meta answers such calls with a newer version or refuses them; pin a"
        " newer api_version (newest known: v26.0)"
    ]
    early = pipeline.check(root, today=date(2023, 4, 1)).warnings
    assert str(early[0]).startswith(
        "heard.toml: sources[0].api_version: Graph API v10.0 reaches its end of life on"
        " 2023-06-08 (in 68 days)"
    )
    result = heard("check", "--site", root)
    assert result.exit_code == 0  # a warning, not a problem
    assert (
        "warning: heard.toml: sources[0].api_version: Graph API v10.0 passed its end of life"
        in result.stderr
    )


def test_the_token_variable_must_be_set(connect: Connect) -> None:
    settings = FacebookSettings.model_validate(
        {
            "type": "facebook",
            "page_id": PAGE,
            "page_token_env": "FB_PAGE_TOKEN",
            "api_version": VERSION,
        }
    )
    with pytest.raises(SourceError, match="FB_PAGE_TOKEN is not set"):
        connect(settings, {})


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class FacebookScenario:
    """Complaints alternate between visitors' posts and comments on the Page's own post;
    the Page answers each with a comment."""

    type = "facebook"
    channel = "facebook"
    env: Mapping[str, str] = MappingProxyType({"FB_PAGE_TOKEN": "EAAB_FAKE_CONTRACT_TOKEN_9"})
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "facebook"\npage_id = "{PAGE}"\npage_token_env = "FB_PAGE_TOKEN"\n'
            f'api_version = "{VERSION}"\nwindow_days = 3650\nbase_url = "{base_url}"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakeFacebook(server, page_size=10, comment_page=10)
        start = min(c.at for c in complaints) - timedelta(days=1)
        announcement = post(1, start, by=BRAND, message="Our autumn sale starts today")
        fake.add(announcement)
        for number, c in enumerate(complaints, start=2):
            answer = []
            if number % 2:  # a comment under the Page's post
                first = comment(number, 1, c.at, message=c.text)
                fake.comments[announcement["id"]].append(first)
                if c.answer is not None and c.answered_at is not None:
                    fake.comments[announcement["id"]].append(
                        comment(
                            1000 + number,
                            1,
                            c.answered_at,
                            by=BRAND,
                            message=c.answer,
                            parent=first["id"],
                        )
                    )
                continue
            if c.answer is not None and c.answered_at is not None:
                answer = [comment(1000 + number, number, c.answered_at, by=BRAND, message=c.answer)]
            fake.add(post(number, c.at, message=c.text), *answer)
        fake.install()


SCENARIO = FacebookScenario()
