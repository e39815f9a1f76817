"""Google Business Profile source against a real HTTP server on this machine, answering like
the documented APIs: the OAuth 2.0 token endpoint (refresh token grant) and v4
`accounts.locations.reviews.list` (pageSize ≤ 50, orderBy updateTime desc, nextPageToken),
with Google's error bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.run import gather
from generator.gather.sources.base import FetchResult, Post, Source, SourceError
from generator.gather.sources.google_business import GoogleBusinessSettings
from generator.record.store import load_record
from generator.record.times import format_instant
from tests.conftest import Connect, Sleeps
from tests.support.contract import Complaint

ACCOUNT, LOCATION = "1234567890", "9876543210"
REVIEWS = f"/v4/accounts/{ACCOUNT}/locations/{LOCATION}/reviews"
TOKEN = "/token"
ENV = MappingProxyType(
    {
        "GOOGLE_BUSINESS_CLIENT_ID": "1234-fake.apps.googleusercontent.com",
        "GOOGLE_BUSINESS_CLIENT_SECRET": "GOCSPX-fake-client-secret-5",
        "GOOGLE_BUSINESS_REFRESH_TOKEN": "1//0gFAKE-refresh-token-6",
    }
)
CREATED = datetime(2026, 11, 2, 18, tzinfo=UTC)
STAR_NAMES = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE", None: "STAR_RATING_UNSPECIFIED"}


def when(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def review(
    rid: str,
    stars: int | None = 2,
    *,
    text: str | None = "Waited 40 minutes for a table.",
    created: datetime = CREATED,
    updated: datetime | None = None,
    reply: str | None = None,
    replied: datetime | None = None,
    name: str = "Jo",
) -> dict[str, Any]:
    """A Review as `accounts.locations.reviews.list` returns it."""
    item: dict[str, Any] = {
        "name": f"accounts/{ACCOUNT}/locations/{LOCATION}/reviews/{rid}",
        "reviewId": rid,
        "reviewer": {
            "profilePhotoUrl": "https://lh3.googleusercontent.com/a/photo",
            "displayName": name,
            "isAnonymous": False,
        },
        "starRating": STAR_NAMES[stars],
        "createTime": format_instant(created),
        "updateTime": format_instant(updated or created),
    }
    if text is not None:
        item["comment"] = text
    if reply is not None:
        item["reviewReply"] = {
            "comment": reply,
            "updateTime": format_instant(replied or created + timedelta(hours=1)),
        }
    return item


@dataclass
class FakeGoogle:
    """The token endpoint and the reviews list, as Google answers them: reviews newest
    updateTime first, `page_size` per page (at most the pageSize asked), an opaque
    nextPageToken; every reviews call must carry the access token the endpoint granted."""

    server: HTTPServer
    reviews: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    access: str = "ya29.FAKE-access-token-1"
    env: Mapping[str, str] = field(default_factory=lambda: ENV)
    grants: list[dict[str, str]] = field(default_factory=list)

    def install(self) -> FakeGoogle:
        self.server.expect_request(TOKEN, method="POST").respond_with_handler(self.token)
        self.server.expect_request(REVIEWS, method="GET").respond_with_handler(self.list)
        return self

    def token(self, request: Request) -> Response:
        form = dict(request.form.items())
        self.grants.append(form)
        expected = {
            "grant_type": "refresh_token",
            "client_id": self.env["GOOGLE_BUSINESS_CLIENT_ID"],
            "client_secret": self.env["GOOGLE_BUSINESS_CLIENT_SECRET"],
            "refresh_token": self.env["GOOGLE_BUSINESS_REFRESH_TOKEN"],
        }
        if form != expected:
            body = {"error": "invalid_grant", "error_description": "Bad Request"}
            return Response(json.dumps(body), 400, content_type="application/json")
        granted = {
            "access_token": self.access,
            "expires_in": 3599,
            "scope": "https://www.googleapis.com/auth/business.manage",
            "token_type": "Bearer",
        }
        return Response(json.dumps(granted), content_type="application/json")

    def list(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.access}":
            return google_error(401, "Request had invalid authentication credentials.")
        assert request.args["orderBy"] == "updateTime desc"
        size = min(int(request.args["pageSize"]), 50, self.page_size)
        start = int(request.args.get("pageToken", "CA0=").removeprefix("CA").rstrip("=") or 0)
        ordered = sorted(self.reviews, key=lambda r: r["updateTime"], reverse=True)
        body: dict[str, Any] = {
            "reviews": ordered[start : start + size],
            "averageRating": 3.1,
            "totalReviewCount": len(ordered),
        }
        if start + size < len(ordered):
            body["nextPageToken"] = f"CA{start + size}="
        if not body["reviews"]:
            del body["reviews"]  # Google leaves out empty lists
        return Response(json.dumps(body), content_type="application/json")


def google_error(status: int, message: str) -> Response:
    names = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED"}
    body = {"error": {"code": status, "message": message, "status": names.get(status, "")}}
    return Response(json.dumps(body), status, content_type="application/json")


def settings(server: HTTPServer, **extra: Any) -> GoogleBusinessSettings:
    values = {
        "type": "google_business",
        "account": ACCOUNT,
        "location": LOCATION,
        "base_url": server.url_for("/"),
        "token_url": server.url_for(TOKEN),
        **extra,
    }
    return GoogleBusinessSettings.model_validate(values)


@pytest.fixture
def source(httpserver: HTTPServer, connect: Connect) -> Source:
    return connect(settings(httpserver), dict(ENV))


def by_id(result: FetchResult) -> dict[str, Post]:
    return {p.native_id: p for p in result.posts}


def listed(server: HTTPServer) -> list[dict[str, str]]:
    return [dict(r.args.items()) for r, _ in server.log if r.path == REVIEWS]


def clean(error: SourceError) -> str:
    message = str(error)
    for secret in [*ENV.values(), "ya29.FAKE"]:
        assert secret not in message
    assert "\n" not in message and message.startswith("google_business: ")
    return message


# --- mapping, token, paging -----------------------------------------------------------------


def test_first_fetch_maps_reviews_replies_and_stars(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeGoogle(httpserver)
    fake.reviews = [
        review("AbCd1", 2, created=when(2, 18), reply="Jo, we're sorry.", replied=when(3, 9)),
        review("AbCd2", 5, text="Lovely staff", created=when(3, 12), name="Sam"),
        review("AbCd3", 3, text=None, created=when(4, 8)),  # rating only
        review("AbCd4", None, text="Great, but slow", created=when(5, 8)),
        review("AbCd5", 4, created=when(6, 8), reply="Thank you!", replied=when(6, 9)),
    ]
    fake.install()

    result = source.fetch({})

    posts = by_id(result)
    assert sorted(posts) == ["AbCd1", "AbCd1-reply", "AbCd2", "AbCd3", "AbCd4", "AbCd5",
                             "AbCd5-reply"]  # fmt: skip
    first = posts["AbCd1"]
    assert (first.root_id, first.parent_id, first.at) == ("AbCd1", None, when(2, 18))
    assert (first.text, first.author_name, first.author) == ("Waited 40 minutes for a table.",
                                                            "Jo", None)  # fmt: skip
    assert (first.rating, first.praise, first.is_brand) == (2, False, None)
    answer = posts["AbCd1-reply"]
    assert (answer.root_id, answer.parent_id, answer.is_brand) == ("AbCd1", "AbCd1", True)
    assert (answer.at, answer.text) == (when(3, 9), "Jo, we're sorry.")
    # stars against the default threshold of 3: at or below a complaint, above praise
    assert [(posts[i].rating, posts[i].praise) for i in ("AbCd2", "AbCd3", "AbCd4", "AbCd5")] == [
        (5, True), (3, False), (None, None), (4, True),
    ]  # fmt: skip
    assert posts["AbCd3"].text is None
    # one token exchange, then three pages of two, newest first, each with the token
    assert len(fake.grants) == 1
    pages = listed(httpserver)
    assert [p.get("pageToken") for p in pages] == [None, "CA2=", "CA4="]
    assert pages[0] == {"pageSize": "50", "orderBy": "updateTime desc"}
    assert result.requests == 4 and result.retries == 0
    assert result.cursor == {"newest": "2026-11-06T08:00:00Z"}
    assert result.warnings == []


def test_the_star_threshold_is_a_setting(httpserver: HTTPServer, connect: Connect) -> None:
    fake = FakeGoogle(httpserver)
    fake.reviews = [review(f"r{n}", n, created=when(2, n)) for n in range(1, 6)]
    fake.install()
    strict = connect(settings(httpserver, star_threshold=4), dict(ENV))
    verdicts = {p.native_id: p.praise for p in strict.fetch({}).posts}
    assert verdicts == {"r1": False, "r2": False, "r3": False, "r4": False, "r5": True}
    with pytest.raises(ValueError, match="star_threshold"):
        settings(httpserver, star_threshold=6)


def test_later_runs_reread_the_window_and_gather_replies_written_since(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeGoogle(httpserver)
    old = review("old", 1, created=when(1))  # more than 30 days before the newest below
    old["createTime"] = old["updateTime"] = "2026-09-01T00:00:00Z"
    fake.reviews = [old, review("a", 1, created=when(10)), review("b", 2, created=when(20))]
    fake.install()
    first = source.fetch({})
    assert sorted(by_id(first)) == ["a", "b", "old"]
    assert first.cursor == {"newest": "2026-11-20T00:00:00Z"}

    # The owner answers "a" (its updateTime unchanged) and a new review comes in.
    fake.reviews[1]["reviewReply"] = {"comment": "Sorry!", "updateTime": "2026-11-25T10:00:00Z"}
    fake.reviews.append(review("c", 1, created=when(26)))
    httpserver.clear_log()
    second = source.fetch(first.cursor)
    posts = by_id(second)
    assert "a-reply" in posts and posts["a-reply"].at == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert "c" in posts and "old" not in posts  # "old" is behind the window: not read again
    # paging stopped at the page holding the first review older than the window
    assert [p.get("pageToken") for p in listed(httpserver)] == [None, "CA2="]
    assert second.cursor == {"newest": "2026-11-26T00:00:00Z"}


def test_a_reply_edited_later_is_not_a_second_answer(httpserver: HTTPServer, tmp_path: Any) -> None:
    fake = FakeGoogle(httpserver)
    fake.reviews = [review("r1", 1, created=when(2, 9), reply="Sorry!", replied=when(2, 10))]
    fake.install()
    root = tmp_path / "site"
    root.mkdir()
    (root / "heard.toml").write_text(
        '[site]\ntitle = "T"\nbrand = "B"\nbase_url = "https://b.example/"\n\n'
        f'[[sources]]\ntype = "google_business"\naccount = "{ACCOUNT}"\n'
        f'location = "{LOCATION}"\nbase_url = "{httpserver.url_for("/")}"\n'
        f'token_url = "{httpserver.url_for(TOKEN)}"\n',
        encoding="utf-8",
    )
    fast = {"sleep": lambda _s: None}
    first = gather(root, when(29), environ=ENV, client_options=fast)
    assert [(s.error, s.new_cases, s.new_events) for s in first.sources] == [(None, 1, 2)]
    # Google overwrites the reply and its updateTime when the owner edits it.
    fake.reviews[0]["reviewReply"] = {"comment": "Sorry! Fixed now.",
                                      "updateTime": "2026-11-28T10:00:00Z"}  # fmt: skip
    fake.reviews[0]["updateTime"] = "2026-11-28T10:00:00Z"
    second = gather(root, when(30), environ=ENV, client_options=fast)
    assert [(s.error, s.new_events) for s in second.sources] == [(None, 0)]
    case = load_record(root).cases["google_business-r1"]
    brand = [(e.kind, e.at, e.text) for e in case.events if e.by == "brand"]
    assert brand == [("reply", when(2, 10), "Sorry!")]


def test_max_pages_cuts_the_first_run_with_a_warning(
    httpserver: HTTPServer, connect: Connect
) -> None:
    fake = FakeGoogle(httpserver)
    fake.reviews = [review(f"r{n}", 1, created=when(2, n)) for n in range(6)]
    fake.install()
    result = connect(settings(httpserver, max_pages=2), dict(ENV)).fetch({})
    assert sorted(by_id(result)) == ["r2", "r3", "r4", "r5"]  # the newest four
    assert result.warnings == [
        "stopped after max_pages (2) pages of 50 reviews; older reviews were not gathered"
        " (raise max_pages)"
    ]


# --- credentials and faults -----------------------------------------------------------------


@pytest.mark.parametrize("missing", sorted(ENV))
def test_each_credential_variable_must_be_set(
    httpserver: HTTPServer, connect: Connect, missing: str
) -> None:
    environ = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(SourceError, match=f"google_business: {missing} is not set"):
        connect(settings(httpserver), environ)


def test_a_refused_refresh_token_names_the_token_endpoint(
    httpserver: HTTPServer, connect: Connect
) -> None:
    FakeGoogle(httpserver).install()
    environ = {**ENV, "GOOGLE_BUSINESS_REFRESH_TOKEN": "1//0gREVOKED-token"}
    with pytest.raises(SourceError) as caught:
        connect(settings(httpserver), environ).fetch({})
    message = clean(caught.value)
    assert f"{TOKEN}: HTTP 400: invalid_grant" in message
    assert "REVOKED" not in message
    assert listed(httpserver) == []


def test_a_persistent_429_says_the_project_may_not_be_approved(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    fake = FakeGoogle(httpserver).install()
    httpserver.clear()
    httpserver.expect_request(TOKEN).respond_with_handler(fake.token)
    httpserver.expect_request(REVIEWS).respond_with_response(
        google_error(429, "Quota exceeded for quota metric 'Requests' and limit"
                          " 'Requests per minute' of service 'mybusiness.googleapis.com'")
    )  # fmt: skip
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert "HTTP 429: Quota exceeded" in message and "gave up after 5 attempts" in message
    assert message.endswith(
        "; Google answers 429 to every call until it approves the project's Application for"
        " Basic API Access (quota 0 per minute)"
    )
    assert sleeps == [1.0, 2.0, 4.0, 8.0]  # Google sends no reset header: backoff


def test_a_passing_429_is_retried(httpserver: HTTPServer, source: Source, sleeps: Sleeps) -> None:
    fake = FakeGoogle(httpserver)
    fake.reviews = [review("r1")]
    httpserver.expect_oneshot_request(REVIEWS).respond_with_response(
        google_error(429, "Quota exceeded")
    )
    fake.install()
    result = source.fetch({})
    assert sorted(by_id(result)) == ["r1"]
    assert sleeps == [1.0] and result.retries == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "HTTP 401: Request had invalid authentication credentials."),
        (403, "HTTP 403: The caller does not have permission"),
        (404, "HTTP 404: Requested entity was not found."),
    ],
)
def test_refusals_fail_at_once_with_googles_message(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps, status: int, expected: str
) -> None:
    fake = FakeGoogle(httpserver).install()
    httpserver.clear()
    httpserver.expect_request(TOKEN).respond_with_handler(fake.token)
    message = expected.split(": ", 1)[1]
    httpserver.expect_request(REVIEWS).respond_with_response(google_error(status, message))
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert expected in clean(caught.value)
    assert sleeps == []


def test_server_errors_are_retried(httpserver: HTTPServer, source: Source, sleeps: Sleeps) -> None:
    for status in (500, 503):
        httpserver.expect_oneshot_request(REVIEWS).respond_with_data("oops", status=status)
    fake = FakeGoogle(httpserver)
    fake.reviews = [review("r1")]
    fake.install()
    assert sorted(by_id(source.fetch({}))) == ["r1"]
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (REVIEWS, '{"reviews": [{"reviewId": "r1", "starRat', "expected JSON, got not JSON"),
        (REVIEWS, b"\x00\xff garbage", "expected JSON, got not JSON"),
        (REVIEWS, "<html><body>Error 502</body></html>", "expected JSON, got an HTML page"),
        (TOKEN, '{"access_tok', "expected JSON, got not JSON"),
        (TOKEN, '{"token_type": "Bearer"}', "token endpoint: access_token: missing"),
        (TOKEN, '["ya29.x"]', "token endpoint: must be an object, not a list"),
    ],
)
def test_unreadable_answers(
    httpserver: HTTPServer, source: Source, path: str, body: str | bytes, expected: str
) -> None:
    fake = FakeGoogle(httpserver)
    httpserver.expect_request(path).respond_with_data(body, content_type="application/json")
    fake.install()
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert expected in clean(caught.value)


def broken(key: str, value: Any) -> dict[str, Any]:
    item = review("r3")
    if value is KeyError:
        del item[key]
    else:
        item[key] = value
    return item


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (broken("starRating", 2), "item 1: starRating: must be 'ONE', 'TWO', 'THREE', 'FOUR',"
                                  " 'FIVE' or 'STAR_RATING_UNSPECIFIED'"),
        (broken("starRating", "SIX"), "item 1: starRating: must be 'ONE'"),
        (broken("createTime", "yesterday"), "item 1: createTime: not an ISO 8601 time with a zone"),
        (broken("reviewId", KeyError), "item 1: reviewId: missing"),
        (broken("reviewReply", {"comment": "Hi"}), "item 1: reviewReply.updateTime: missing"),
        (broken("comment", 42), "item 1: comment: must be a string, not a number"),
    ],
)  # fmt: skip
def test_wrong_fields_name_the_item_and_field(
    httpserver: HTTPServer, source: Source, item: dict[str, Any], expected: str
) -> None:
    fake = FakeGoogle(httpserver).install()
    httpserver.clear()
    httpserver.expect_request(TOKEN).respond_with_handler(fake.token)
    body = {"reviews": [review("r1", created=when(9)), item]}
    httpserver.expect_request(REVIEWS).respond_with_json(body)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value).startswith(f"google_business: {REVIEWS[1:]}: reviews: {expected}")


def test_a_damaged_cursor_is_reported(source: Source) -> None:
    with pytest.raises(SourceError) as caught:
        source.fetch({"newest": "last week"})
    assert (
        clean(caught.value) == "google_business: cursor: newest: not an ISO 8601 time with a zone"
    )


def test_settings_refuse_odd_ids(httpserver: HTTPServer) -> None:
    with pytest.raises(ValueError, match="location"):
        settings(httpserver, location="22/../../other")


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class GoogleBusinessScenario:
    """Each complaint a one-star review; the brand's answer the owner's reply."""

    type = "google_business"
    channel = "google_business"
    env: Mapping[str, str] = MappingProxyType(
        {
            "GOOGLE_BUSINESS_CLIENT_ID": "contract-client-id-31",
            "GOOGLE_BUSINESS_CLIENT_SECRET": "contract-client-secret-32",
            "GOOGLE_BUSINESS_REFRESH_TOKEN": "contract-refresh-token-33",
        }
    )
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "google_business"\naccount = "{ACCOUNT}"\n'
            f'location = "{LOCATION}"\nbase_url = "{base_url}"\ntoken_url = "{base_url}token"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakeGoogle(server, page_size=10, env=self.env)
        for c in complaints:
            fake.reviews.append(
                review(c.key, 1, text=c.text, created=c.at, reply=c.answer, replied=c.answered_at)
            )
        fake.install()


SCENARIO = GoogleBusinessScenario()


def test_a_429_of_the_token_endpoint_gets_no_approval_hint(
    httpserver: HTTPServer, source: Source
) -> None:
    httpserver.expect_request(TOKEN).respond_with_response(google_error(429, "Slow down"))
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert message.endswith(f"{TOKEN}: HTTP 429: Slow down (gave up after 5 attempts)")
