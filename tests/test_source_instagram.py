"""Instagram source against a real HTTP server on this machine, answering like the
documented Instagram Graph API: /{ig-user-id} (username), /{ig-user-id}/media newest first,
/{ig-media-id}/comments with replies inline, /{ig-comment-id}/replies, paging.next links,
Graph error bodies and X-Business-Use-Case-Usage."""

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
from generator.gather.sources.instagram import InstagramSettings
from tests.conftest import Connect, Sleeps
from tests.support.contract import Complaint
from tests.support.meta import (
    VERSION,
    buc,
    by_id,
    graph_failure,
    graph_json,
    graph_time,
    ids,
    listing,
    offset_of,
    paths,
)

USER = "17841400000000001"
BRAND = {"id": USER, "username": "acme"}
PAT = {"id": "5550001", "username": "pat.doe"}
SAM = {"id": "5550002", "username": "sam_roe"}
TOKEN = "IGQWR_FAKE_TOKEN_77"
ACCOUNT = f"/{VERSION}/{USER}"
MEDIA = f"{ACCOUNT}/media"
COMMENTS = re.compile(rf"^/{re.escape(VERSION)}/(m[0-9]+)/comments$")
REPLIES = re.compile(rf"^/{re.escape(VERSION)}/(c[0-9]+)/replies$")
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def media(number: int, when: datetime, comments: int | None = None) -> dict[str, Any]:
    """An IG Media as /{ig-user-id}/media gives it with the fields asked for."""
    item: dict[str, Any] = {
        "id": f"m{number}",
        "caption": "New colours are in!",
        "timestamp": graph_time(when),
        "permalink": f"https://www.instagram.com/p/Abc{number}/",
    }
    if comments is not None:
        item["comments_count"] = comments
    return item


def comment(
    number: int,
    when: datetime,
    *,
    by: Mapping[str, str] = PAT,
    text: str = "Still no refund",
    parent: str | None = None,
    hidden: bool = False,
) -> dict[str, Any]:
    """An IG Comment with the fields asked for (from and parent_id since Oct 2021)."""
    item: dict[str, Any] = {
        "id": f"c{number}",
        "text": text,
        "timestamp": graph_time(when),
        "username": by["username"],
        "from": dict(by),
        "hidden": hidden,
    }
    if parent is not None:
        item["parent_id"] = parent
    return item


@dataclass
class FakeInstagram:
    """A professional account: media newest first; a media's top-level comments newest
    first with their replies inline (oldest first), every list paged with paging.next."""

    server: HTTPServer
    media: list[dict[str, Any]] = field(default_factory=list)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_size: int = 2
    headers: dict[str, str] = field(default_factory=dict)

    def install(self) -> FakeInstagram:
        self.server.expect_request(ACCOUNT).respond_with_json({"id": USER, "username": "acme"})
        self.server.expect_request(MEDIA).respond_with_handler(self.list_media)
        self.server.expect_request(COMMENTS).respond_with_handler(self.list_comments)
        self.server.expect_request(REPLIES).respond_with_handler(self.list_replies)
        return self

    def add(self, item: dict[str, Any], *top: dict[str, Any]) -> None:
        self.media.append(item)
        self.comments.setdefault(item["id"], []).extend(top)

    def reply(self, to: str, *replies: dict[str, Any]) -> None:
        self.replies.setdefault(to, []).extend(r | {"parent_id": to} for r in replies)

    def page(self, request: Request, path: str, items: list[dict[str, Any]]) -> Response:
        query = {k: v for k, v in request.args.items() if k != "after"}
        body = listing(
            self.server, path, items, offset=offset_of(request), size=self.page_size, query=query
        )
        return graph_json(body, headers=self.headers)

    def list_media(self, request: Request) -> Response:
        items = sorted(self.media, key=lambda m: m["timestamp"], reverse=True)
        for item in items:
            if "comments_count" in item:
                top = self.comments.get(item["id"], [])
                item["comments_count"] = len(top) + sum(
                    len(self.replies.get(c["id"], [])) for c in top
                )
        return self.page(request, MEDIA, items)

    def with_replies(self, top: dict[str, Any]) -> dict[str, Any]:
        replies = sorted(self.replies.get(top["id"], []), key=lambda r: r["timestamp"])
        if not replies:
            return top
        path = f"/{VERSION}/{top['id']}/replies"
        return top | {"replies": listing(self.server, path, replies, size=self.page_size)}

    def list_comments(self, request: Request) -> Response:
        match = COMMENTS.match(request.path)
        assert match is not None
        top = sorted(
            self.comments.get(match.group(1), []), key=lambda c: c["timestamp"], reverse=True
        )
        return self.page(request, request.path, [self.with_replies(c) for c in top])

    def list_replies(self, request: Request) -> Response:
        match = REPLIES.match(request.path)
        assert match is not None
        replies = sorted(self.replies.get(match.group(1), []), key=lambda r: r["timestamp"])
        return self.page(request, request.path, replies)


def config(server: HTTPServer, **extra: Any) -> InstagramSettings:
    values = {
        "type": "instagram",
        "user_id": USER,
        "token_env": "IG_TOKEN",
        "api_version": VERSION,
        "base_url": server.url_for("/"),
        **extra,
    }
    return InstagramSettings.model_validate(values)


def connected(server: HTTPServer, connect: Connect, now: datetime = NOW, **extra: Any) -> Source:
    return connect(config(server, **extra), {"IG_TOKEN": TOKEN}, clock=now.timestamp)


@pytest.fixture
def source(httpserver: HTTPServer, connect: Connect) -> Source:
    return connected(httpserver, connect)


def clean(error: SourceError) -> str:
    message = str(error)
    assert TOKEN not in message and "IGQWR" not in message
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("instagram: ")
    return message


# --- mapping, paging ------------------------------------------------------------------------


def test_comments_replies_and_the_brands_answers(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeInstagram(httpserver)
    fake.add(
        media(1, at(20), comments=0),
        comment(1, at(20, 1), text="Still no refund after 3 weeks"),
        comment(2, at(20, 2), by=SAM, text="Love it!"),
        comment(3, at(20, 3), by=SAM, text="buy followers here", hidden=True),
    )
    fake.reply(
        "c1",
        comment(11, at(20, 1, 43), by=BRAND, text="Sorry Pat, please check your DMs."),
        comment(12, at(20, 2), by=SAM, text="@pat.doe same here"),
        comment(13, at(20, 4), by={"id": "x", "username": "ACME"}, text="Refund sent."),
    )
    fake.reply("c3", comment(31, at(20, 5), text="hidden thread"))
    fake.add(media(2, at(19), comments=0))  # no comments: not asked for
    fake.install()

    result = source.fetch({})

    assert ids(result) == ["c1", "c11", "c12", "c13", "c2"]
    posts = by_id(result)
    top = posts["c1"]
    assert (top.parent_id, top.root_id, top.author, top.is_brand) == ("m1", None, "pat.doe", None)
    assert top.text == "Still no refund after 3 weeks" and top.at == at(20, 1)
    assert top.url == "https://www.instagram.com/p/Abc1/"
    answer = posts["c11"]
    assert (answer.parent_id, answer.root_id, answer.is_brand) == ("c1", "c1", True)
    assert posts["c12"].is_brand is None
    assert posts["c13"].is_brand is True  # the account's username, any case
    assert result.usage == {"hidden": 1}
    assert result.warnings == []
    seen = [(r.path, dict(r.args)) for r, _ in httpserver.log]
    assert [p for p, _ in seen] == [
        ACCOUNT,
        MEDIA,
        f"/{VERSION}/m1/comments",
        f"/{VERSION}/m1/comments",
        f"/{VERSION}/c1/replies",
    ]
    assert seen[0][1] == {"fields": "id,username"}
    assert seen[1][1] == {"fields": "id,caption,timestamp,permalink,comments_count", "limit": "25"}
    assert seen[2][1]["fields"] == (
        "id,text,timestamp,username,from,hidden,parent_id,"
        "replies{id,text,timestamp,username,from,hidden,parent_id}"
    )
    for request, _ in httpserver.log:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "access_token" not in request.args
    cursor = result.cursor
    assert cursor == {
        "horizon": "2026-11-16T12:00:00Z",
        "media": {
            "m1": {"at": "2026-11-20T00:00:00Z", "mark": "2026-11-20T04:00:00Z", "ids": ["c13"]},
            "m2": {"at": "2026-11-19T00:00:00Z"},
        },
    }
    json.dumps(cursor)


def test_later_runs_gather_only_what_is_new(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeInstagram(httpserver)
    fake.add(media(1, at(20), comments=0), comment(1, at(20, 1)))
    fake.add(media(2, at(21), comments=0))
    fake.install()
    first = source.fetch({})
    assert ids(first) == ["c1"]
    assert source.fetch(first.cursor).posts == []

    fake.reply("c1", comment(11, at(27), by=BRAND, text="Refunded today."))  # on an old comment
    fake.comments["m2"].append(comment(2, at(27, 1)))
    fake.add(media(3, at(28), comments=0), comment(3, at(28, 1)))
    third = source.fetch(first.cursor)
    assert ids(third) == ["c11", "c2", "c3"]
    assert source.fetch(third.cursor).posts == []


def test_media_older_than_the_window_end_the_list(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeInstagram(httpserver, page_size=2)
    for n, day in enumerate((29, 25, 14, 10, 5, 1), start=1):
        fake.add(media(n, at(day), comments=0), comment(n, at(day, 1)))
    fake.install()
    result = source.fetch({})
    assert ids(result) == ["c1", "c2"]
    # The second page (14th, 10th) reaches back before the window: no third page.
    assert paths(httpserver).count(MEDIA) == 2
    assert sorted(result.cursor["media"]) == ["m1", "m2"]


def test_too_many_pages_of_media_are_warned_about(httpserver: HTTPServer, connect: Connect) -> None:
    fake = FakeInstagram(httpserver, page_size=1)
    for n in range(1, 4):
        fake.add(media(n, at(20 + n), comments=0))
    fake.install()
    result = connected(httpserver, connect, max_pages=2).fetch({})
    assert any("media: more than 2 pages of media" in w for w in result.warnings)


def test_the_login_chooses_the_host(connect: Connect) -> None:
    for login, host in (("facebook", "graph.facebook.com"), ("instagram", "graph.instagram.com")):
        settings = InstagramSettings.model_validate(
            {
                "type": "instagram",
                "user_id": USER,
                "token_env": "IG_TOKEN",
                "api_version": VERSION,
                "login": login,
            }
        )
        made = connect(settings, {"IG_TOKEN": TOKEN})
        assert made.client.base_url == f"https://{host}/"  # type: ignore[attr-defined]


# --- rate limits and faults ----------------------------------------------------------------


def test_instagram_business_use_case_limit_is_waited_out(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    fake = FakeInstagram(httpserver)
    fake.add(media(1, at(25), comments=0), comment(1, at(25, 1)))
    fake.install()
    httpserver.expect_oneshot_request(MEDIA).respond_with_response(
        graph_failure(
            80002,
            "(#80002) There have been too many calls to this Instagram account.",
            headers=buc(USER, calls=100, regain=4, kind="instagram"),
        )
    )
    assert ids(source.fetch({})) == ["c1"]
    assert sleeps == [240.0]


def test_usage_headers_slow_the_run(httpserver: HTTPServer, source: Source, sleeps: Sleeps) -> None:
    fake = FakeInstagram(httpserver)
    fake.add(media(1, at(25), comments=0), comment(1, at(25, 1)))
    fake.headers = buc(USER, calls=82, kind="instagram")
    fake.install()
    source.fetch({})
    assert sleeps == [30.0]  # after the media list, before the comments


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (graph_failure(190, "Invalid OAuth access token - Cannot parse access token", status=400),
         "HTTP 400: Invalid OAuth access token - Cannot parse access token (OAuthException, code 190"),
        (graph_failure(10, "Application does not have permission for this action", status=403),
         "HTTP 403: Application does not have permission for this action"),
        (Response('{"id": "1784', content_type="application/json"), "expected JSON, got not JSON"),
        (Response("<!DOCTYPE html><title>Error</title>", content_type="text/html"),
         "expected JSON, got an HTML page (HTTP 200)"),
        (Response("[]", content_type="application/json"), f"{VERSION}/{USER}: must be an object, not a list"),
        (Response('{"id": "1"}', content_type="application/json"), f"{VERSION}/{USER}: username: missing"),
    ],
)  # fmt: skip
def test_account_faults(
    httpserver: HTTPServer, source: Source, answer: Response, expected: str
) -> None:
    httpserver.expect_request(ACCOUNT).respond_with_response(answer)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert expected in clean(caught.value)


def test_a_bad_reply_names_its_comment(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeInstagram(httpserver)
    fake.add(media(1, at(25), comments=0), comment(1, at(25, 1)))
    fake.reply("c1", comment(11, at(25, 2)) | {"timestamp": "soon"})
    fake.install()
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == (
        "instagram: c1/replies: item 0: timestamp: not an ISO 8601 time with a zone"
    )


def test_a_retried_server_error(httpserver: HTTPServer, source: Source, sleeps: Sleeps) -> None:
    httpserver.expect_oneshot_request(ACCOUNT).respond_with_data("Service Unavailable", status=503)
    FakeInstagram(httpserver).install()
    assert source.fetch({}).posts == []
    assert sleeps == [1.0]


def test_a_version_past_its_end_of_life_is_warned_about(
    httpserver: HTTPServer, connect: Connect
) -> None:
    httpserver.expect_request(f"/v18.0/{USER}").respond_with_json({"id": USER, "username": "acme"})
    httpserver.expect_request(f"/v18.0/{USER}/media").respond_with_json({"data": []})
    result = connected(httpserver, connect, api_version="v18.0").fetch({})
    assert result.warnings == [
        "api_version: Graph API v18.0 passed its end of life on 2026-01-26: Meta answers such"
        " calls with a newer version or refuses them; pin a newer api_version (newest known:"
        " v26.0)"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"api_version": None}, "api_version: missing"),
        ({"user_id": "@acme"}, "user_id: must be a numeric Instagram user id"),
        ({"login": "tiktok"}, "login: must be 'facebook' or 'instagram'"),
        ({"token_env": "IGQWRsecret"}, "token_env: must name an environment variable"),
    ],
)
def test_settings(change: dict[str, Any], expected: str) -> None:
    from pydantic import ValidationError

    from generator.errors import describe

    values = {"type": "instagram", "user_id": USER, "token_env": "IG", "api_version": "v25.0"}
    values = {k: v for k, v in (values | change).items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        InstagramSettings.model_validate(values)
    assert describe(caught.value).startswith(expected)


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class InstagramScenario:
    """Complaints are top-level comments on the account's media (three per media); the
    account answers each with a reply."""

    type = "instagram"
    channel = "instagram"
    env: Mapping[str, str] = MappingProxyType({"IG_TOKEN": "IGQWR_FAKE_CONTRACT_TOKEN_5"})
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "instagram"\nuser_id = "{USER}"\ntoken_env = "IG_TOKEN"\n'
            f'api_version = "{VERSION}"\nwindow_days = 3650\nbase_url = "{base_url}"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakeInstagram(server, page_size=10)
        for number, c in enumerate(complaints, start=1):
            if number % 3 == 1:
                fake.add(media(number, c.at - timedelta(hours=1), comments=0))
            fake.comments[fake.media[-1]["id"]].append(comment(number, c.at, text=c.text))
            if c.answer is not None and c.answered_at is not None:
                fake.reply(
                    f"c{number}", comment(1000 + number, c.answered_at, by=BRAND, text=c.answer)
                )
        fake.install()


SCENARIO = InstagramScenario()
