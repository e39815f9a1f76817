"""App Store source against a real HTTP server on this machine, answering like the
documented App Store Connect API: `GET /v1/apps/{id}/customerReviews` with `include=response`
(JSON:API `data`, `included`, `links.next`), ES256 JWTs checked with the public half of a
throwaway key, the `X-Rate-Limit` header on every answer, and Apple's error bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.sources.app_store import AppStoreSettings
from generator.gather.sources.base import FetchResult, Post, Source, SourceError
from tests.conftest import Connect, Sleeps
from tests.support.contract import Complaint
from tests.support.keys import ec_key, rsa_key

APP = "1234567890"
REVIEWS = f"/v1/apps/{APP}/customerReviews"
KEY_ID, ISSUER = "2X9R4HXF34", "57246542-96fe-1a63-e053-0824d011072a"
PRIVATE, PUBLIC = ec_key()
ENV = MappingProxyType({"APP_STORE_CONNECT_KEY": PRIVATE})
PACIFIC = timezone(timedelta(hours=-8))
CREATED = datetime(2026, 11, 25, 15, tzinfo=UTC)
RESPONDED = datetime(2026, 11, 26, 18, tzinfo=UTC)


def when(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def apple_time(moment: datetime) -> str:
    """Apple writes times with the offset of Cupertino: 2026-11-25T07:30:00-08:00."""
    return moment.astimezone(PACIFIC).isoformat()


def review(
    rid: str,
    rating: int = 1,
    *,
    body: str | None = "Crashes on launch.",
    title: str | None = "Crashes",
    created: datetime = CREATED,
    response: str | None = None,
) -> dict[str, Any]:
    """A customerReviews resource as the list returns it with include=response."""
    item: dict[str, Any] = {
        "type": "customerReviews",
        "id": rid,
        "attributes": {
            "rating": rating,
            "title": title,
            "body": body,
            "reviewerNickname": "tired_user",
            "createdDate": apple_time(created),
            "territory": "USA",
        },
        "relationships": {
            "response": {
                "links": {
                    "self": f"https://api.appstoreconnect.apple.com/v1/customerReviews/{rid}/relationships/response",
                    "related": f"https://api.appstoreconnect.apple.com/v1/customerReviews/{rid}/response",
                }
            }
        },
        "links": {"self": f"https://api.appstoreconnect.apple.com/v1/customerReviews/{rid}"},
    }
    if response is not None:
        item["relationships"]["response"]["data"] = {
            "type": "customerReviewResponses",
            "id": response,
        }
    return item


def response(
    resp_id: str, text: str = "Fixed in 4.2.1.", *, at: datetime = RESPONDED,
    state: str = "PUBLISHED",
) -> dict[str, Any]:  # fmt: skip
    """A customerReviewResponses resource in `included`."""
    return {
        "type": "customerReviewResponses",
        "id": resp_id,
        "attributes": {
            "responseBody": text,
            "lastModifiedDate": apple_time(at),
            "state": state,
        },
        "links": {
            "self": f"https://api.appstoreconnect.apple.com/v1/customerReviewResponses/{resp_id}"
        },
    }


@dataclass
class FakeAppStore:
    """Reviews newest first, `page_size` a page, `links.next` with a cursor, the published
    and pending responses included; every request must carry a valid ES256 JWT, and every
    answer says how many requests are left this hour."""

    server: HTTPServer
    reviews: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    public: str = PUBLIC
    issuer: str | None = ISSUER
    quota: list[int] = field(default_factory=lambda: [3600])
    tokens: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def install(self) -> FakeAppStore:
        self.server.expect_request(REVIEWS, method="GET").respond_with_handler(self.list)
        return self

    def limit(self) -> dict[str, str]:
        left = self.quota.pop(0) if len(self.quota) > 1 else self.quota[0]
        return {"X-Rate-Limit": f"user-hour-lim:3600;user-hour-rem:{left};"}

    def refuse(self, detail: str) -> Response:
        body = {"errors": [{"id": "9f1", "status": "401", "code": "NOT_AUTHORIZED",
                            "title": "Authentication credentials are missing or invalid.",
                            "detail": detail}]}  # fmt: skip
        return Response(json.dumps(body), 401, content_type="application/json")

    def check_token(self, request: Request) -> str | None:
        """Why the bearer token is refused, or None if Apple would take it."""
        bearer = request.headers.get("Authorization", "")
        if not bearer.startswith("Bearer "):
            return "no bearer token"
        token = bearer.removeprefix("Bearer ")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, self.public, algorithms=["ES256"],
                                audience="appstoreconnect-v1", options={"verify_exp": False})  # fmt: skip
        except jwt.PyJWTError as exc:
            return f"not a valid token: {exc}"
        self.tokens.append((header, claims))
        if header.get("kid") != KEY_ID or header.get("alg") != "ES256":
            return "wrong key id"
        if self.issuer is not None and claims.get("iss") != self.issuer:
            return "wrong issuer"
        if self.issuer is None and claims.get("sub") != "user":
            return "an individual key's token needs sub=user"
        if not 0 < claims["exp"] - claims["iat"] <= 20 * 60:
            return "tokens may live 20 minutes at most"
        return None

    def list(self, request: Request) -> Response:
        refused = self.check_token(request)
        if refused is not None:
            return self.refuse(refused)
        assert request.args["sort"] == "-createdDate"
        assert request.args["include"] == "response"
        size = min(int(request.args["limit"]), 200, self.page_size)
        start = int(request.args.get("cursor", "0"))
        ordered = sorted(self.reviews, key=lambda r: _utc(r["attributes"]["createdDate"]),
                         reverse=True)  # fmt: skip
        page = ordered[start : start + size]
        wanted = {
            r["relationships"]["response"]["data"]["id"]
            for r in page
            if "data" in r["relationships"]["response"]
        }
        body: dict[str, Any] = {
            "data": page,
            "included": [r for r in self.responses if r["id"] in wanted],
            "links": {"self": self.server.url_for(REVIEWS)},
            "meta": {"paging": {"total": len(ordered), "limit": size}},
        }
        if not body["included"]:
            del body["included"]
        if start + size < len(ordered):
            query = {**request.args, "cursor": str(start + size)}
            body["links"]["next"] = f"{self.server.url_for(REVIEWS)}?{urlencode(query)}"
        return Response(json.dumps(body), headers=self.limit(), content_type="application/json")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def settings(server: HTTPServer, **extra: Any) -> AppStoreSettings:
    values = {
        "type": "app_store",
        "app_id": APP,
        "key_id": KEY_ID,
        "issuer_id": ISSUER,
        "base_url": server.url_for("/"),
        **extra,
    }
    return AppStoreSettings.model_validate(values)


@pytest.fixture
def source(httpserver: HTTPServer, connect: Connect) -> Source:
    return connect(settings(httpserver), dict(ENV))


def by_id(result: FetchResult) -> dict[str, Post]:
    return {p.native_id: p for p in result.posts}


def clean(error: SourceError) -> str:
    message = str(error)
    for line in PRIVATE.splitlines():
        assert line not in message
    assert "eyJ" not in message  # no token
    assert "\n" not in message and message.startswith("app_store: ")
    return message


# --- mapping, tokens, paging ----------------------------------------------------------------


def test_first_fetch_maps_reviews_and_published_responses(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeAppStore(httpserver)
    fake.reviews = [
        review("r1", 1, created=when(25, 15), response="p1"),
        review("r2", 2, created=when(24, 9), response="p2"),  # its response is pending
        review("r3", 5, title="Love it", body="Works great", created=when(23, 9)),
        review("r4", 3, title=None, created=when(22, 9), response="p4"),
    ]
    fake.responses = [
        response("p1", "Fixed in 4.2.1.", at=when(26, 18)),
        response("p2", "We're on it", state="PENDING_PUBLISH"),
        response("p4", "Thanks for the report", at=when(22, 20)),
    ]
    fake.install()

    result = source.fetch({})

    posts = by_id(result)
    assert sorted(posts) == ["r1", "r1-reply", "r2", "r3", "r4", "r4-reply"]
    first = posts["r1"]
    assert (first.title, first.text, first.author_name) == ("Crashes", "Crashes on launch.",
                                                          "tired_user")  # fmt: skip
    assert first.at == when(25, 15) and first.at.tzinfo is not None  # -08:00 read as UTC
    assert (first.rating, first.praise, first.root_id) == (1, False, "r1")
    answer = posts["r1-reply"]
    assert (answer.parent_id, answer.is_brand, answer.text) == ("r1", True, "Fixed in 4.2.1.")
    assert answer.at == when(26, 18)
    assert (posts["r3"].praise, posts["r4"].praise, posts["r4"].title) == (True, False, None)
    # two pages followed through links.next, each with a valid token
    assert [r.args.get("cursor") for r, _ in httpserver.log] == [None, "2"]
    assert dict(httpserver.log[0][0].args) == {"sort": "-createdDate", "limit": "200",
                                               "include": "response"}  # fmt: skip
    header, claims = fake.tokens[0]
    assert header == {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}
    assert (claims["iss"], claims["aud"]) == (ISSUER, "appstoreconnect-v1")
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert result.cursor == {"newest": "2026-11-25T15:00:00Z"}
    assert (result.requests, result.warnings) == (2, [])


def test_an_individual_key_signs_as_the_user(httpserver: HTTPServer, connect: Connect) -> None:
    fake = FakeAppStore(httpserver, issuer=None)
    fake.reviews = [review("r1")]
    fake.install()
    result = connect(settings(httpserver, issuer_id=None), dict(ENV)).fetch({})
    assert sorted(by_id(result)) == ["r1"]
    assert "iss" not in fake.tokens[0][1] and fake.tokens[0][1]["sub"] == "user"


def test_a_new_token_is_signed_before_the_old_one_expires(
    httpserver: HTTPServer, connect: Connect
) -> None:
    fake = FakeAppStore(httpserver, page_size=1)
    fake.reviews = [review(f"r{n}", created=when(20 + n)) for n in range(3)]
    fake.install()
    moments = iter([1_700_000_000.0, 1_700_000_300.0, 1_700_000_900.0])
    result = connect(settings(httpserver), dict(ENV), clock=lambda: next(moments)).fetch({})
    assert len(result.posts) == 3
    issued = [claims["iat"] for _, claims in fake.tokens]
    assert issued == [1_700_000_000, 1_700_000_000, 1_700_000_900]  # renewed on the third


def test_a_later_response_to_a_known_review_is_gathered(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeAppStore(httpserver)
    fake.reviews = [review("r1", created=when(10)), review("r2", created=when(20))]
    fake.responses = [response("p1", "Working on it", state="PENDING_PUBLISH")]
    fake.reviews[0]["relationships"]["response"]["data"] = {
        "type": "customerReviewResponses", "id": "p1"}  # fmt: skip
    fake.install()
    first = source.fetch({})
    assert sorted(by_id(first)) == ["r1", "r2"]  # pending: not public yet

    fake.responses = [response("p1", "Fixed in 4.3", at=when(27, 8))]  # now published
    second = source.fetch(first.cursor)
    assert by_id(second)["r1-reply"].at == when(27, 8)


def test_paging_stops_at_the_reread_window(httpserver: HTTPServer, connect: Connect) -> None:
    fake = FakeAppStore(httpserver, page_size=1)
    fake.reviews = [review("old", created=when(1)), review("new", created=when(29))]
    fake.install()
    source = connect(settings(httpserver, reread_days=7), dict(ENV))
    first = source.fetch({})
    assert sorted(by_id(first)) == ["new", "old"]
    httpserver.clear_log()
    second = source.fetch(first.cursor)
    assert sorted(by_id(second)) == ["new"]
    assert len(httpserver.log) == 2  # the second page held the first review too old


def test_max_pages_cuts_the_first_run_with_a_warning(
    httpserver: HTTPServer, connect: Connect
) -> None:
    fake = FakeAppStore(httpserver, page_size=1)
    fake.reviews = [review(f"r{n}", created=when(20 + n)) for n in range(3)]
    fake.install()
    result = connect(settings(httpserver, max_pages=2), dict(ENV)).fetch({})
    assert sorted(by_id(result)) == ["r1", "r2"]
    assert result.warnings == [
        "stopped after max_pages (2) pages of 200 reviews; older reviews were not gathered"
        " (raise max_pages)"
    ]


@pytest.mark.parametrize(
    "link", ["https://evil.example/v1/apps/1/customerReviews?cursor=2", "//evil.example/x"]
)
def test_a_next_link_off_the_api_is_not_followed(
    httpserver: HTTPServer, source: Source, link: str
) -> None:
    body = {"data": [review("r1")], "links": {"self": "x", "next": link}}
    httpserver.expect_request(REVIEWS).respond_with_json(body)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == (
        f"app_store: {REVIEWS[1:]}: links.next is not a URL on this API; not followed"
    )
    assert len(httpserver.log) == 1


# --- the X-Rate-Limit dialect ---------------------------------------------------------------


def test_no_requests_left_this_hour_stops_cleanly(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    fake = FakeAppStore(httpserver, page_size=1, quota=[1, 0, 0])
    fake.reviews = [review(f"r{n}", created=when(20 + n)) for n in range(4)]
    fake.install()
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert message.startswith(f"app_store: http://127.0.0.1:{httpserver.port}{REVIEWS}: no")
    assert "no requests left of the 3600 allowed per rolling hour" in message
    assert len(httpserver.log) == 2  # the third request was never sent
    assert sleeps == []


def test_a_429_with_none_left_fails_cleanly(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    body = {"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED",
                        "title": "The request rate limit has been reached.",
                        "detail": "We've received too many requests for this API."}]}  # fmt: skip
    httpserver.expect_request(REVIEWS).respond_with_json(
        body, status=429, headers={"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:0;"}
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert "HTTP 429: We've received too many requests for this API." in message
    assert "rate limited for 3600 s, try again later" in message
    assert len(httpserver.log) == 1 and sleeps == []


# --- faults ---------------------------------------------------------------------------------


def test_the_private_key_variable_must_be_set(httpserver: HTTPServer, connect: Connect) -> None:
    with pytest.raises(SourceError, match="app_store: APP_STORE_CONNECT_KEY is not set"):
        connect(settings(httpserver), {})


@pytest.mark.parametrize(
    "key",
    [
        "-----BEGIN PRIVATE KEY-----\nTk9UIEEgS0VZ\n-----END PRIVATE KEY-----",
        rsa_key()[0],  # an RSA key cannot sign ES256
        "not-a-key-at-all",
    ],
)
def test_a_wrong_private_key_is_a_clear_error(
    httpserver: HTTPServer, connect: Connect, key: str
) -> None:
    with pytest.raises(SourceError) as caught:
        connect(settings(httpserver), {"APP_STORE_CONNECT_KEY": key}).fetch({})
    message = str(caught.value)
    assert message == (
        "app_store: APP_STORE_CONNECT_KEY does not hold an App Store Connect private key"
        " (the text of the .p8 file, an EC P-256 key in PEM)"
    )
    assert len(httpserver.log) == 0


def test_a_key_apple_does_not_know_is_refused_with_a_hint(
    httpserver: HTTPServer, connect: Connect
) -> None:
    FakeAppStore(httpserver, public=ec_key("other")[1]).install()
    with pytest.raises(SourceError) as caught:
        connect(settings(httpserver), dict(ENV)).fetch({})
    message = clean(caught.value)
    assert "HTTP 401: not a valid token: Signature verification failed" in message
    assert message.endswith("check key_id, issuer_id and the key")


def test_forbidden_names_the_role(httpserver: HTTPServer, source: Source) -> None:
    body = {"errors": [{"status": "403", "code": "FORBIDDEN_ERROR",
                        "title": "This request is forbidden for security reasons",
                        "detail": "The API key in use does not allow this request"}]}  # fmt: skip
    httpserver.expect_request(REVIEWS).respond_with_json(body, status=403)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert "HTTP 403: The API key in use does not allow this request" in message
    assert message.endswith("the API key's role may not read this app's customer reviews")


def test_server_errors_are_retried(httpserver: HTTPServer, source: Source, sleeps: Sleeps) -> None:
    httpserver.expect_oneshot_request(REVIEWS).respond_with_data("busy", status=503)
    fake = FakeAppStore(httpserver)
    fake.reviews = [review("r1")]
    fake.install()
    assert sorted(by_id(source.fetch({}))) == ["r1"]
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"data": [{"type": "customerReviews", "id": "r1", "attri', "expected JSON, got not JSON"),
        (b"\x89PNG\x00\xff", "expected JSON, got not JSON"),
        ("<!DOCTYPE html><html></html>", "expected JSON, got an HTML page"),
        ('{"errors": []}', f"{REVIEWS[1:]}: data: missing"),
        ('{"data": {"type": "customerReviews"}}', f"{REVIEWS[1:]}: data: must be a list, not an object"),
    ],
)  # fmt: skip
def test_unreadable_answers(
    httpserver: HTTPServer, source: Source, body: str | bytes, expected: str
) -> None:
    httpserver.expect_request(REVIEWS).respond_with_data(body, content_type="application/json")
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert expected in clean(caught.value)


def _attribute(key: str, value: Any) -> dict[str, Any]:
    item = review("r2")
    item["attributes"][key] = value
    return item


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ({"data": [review("r1"), _attribute("rating", 6)]},
         "data: item 1: attributes.rating: must be at most 5"),
        ({"data": [review("r1"), _attribute("rating", "1")]},
         "data: item 1: attributes.rating: must be a whole number, not a string"),
        ({"data": [review("r1"), _attribute("createdDate", "2026-11-25T07:30:00")]},
         "data: item 1: attributes.createdDate: not an ISO 8601 time with a zone"),
        ({"data": [review("r1", response="p1")],
          "included": [{"type": "customerReviewResponses", "id": "p1",
                        "attributes": {"responseBody": "Hi", "state": "PUBLISHED"}}]},
         "included: item 0: attributes: lastModifiedDate: missing"),
    ],
)  # fmt: skip
def test_wrong_fields_name_the_item_and_field(
    httpserver: HTTPServer, source: Source, page: dict[str, Any], expected: str
) -> None:
    httpserver.expect_request(REVIEWS).respond_with_json(page)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == f"app_store: {REVIEWS[1:]}: {expected}"


def test_settings_check_ids(httpserver: HTTPServer) -> None:
    with pytest.raises(ValueError, match="app_id"):
        settings(httpserver, app_id="com.acme.app")
    with pytest.raises(ValueError, match="issuer_id"):
        settings(httpserver, issuer_id="acme")


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class AppStoreScenario:
    """Each complaint a one-star review; the brand's answer its published response."""

    type = "app_store"
    channel = "app_store"
    env: Mapping[str, str] = MappingProxyType({"APP_STORE_CONNECT_KEY": ec_key("contract")[0]})
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "app_store"\napp_id = "{APP}"\nkey_id = "{KEY_ID}"\n'
            f'issuer_id = "{ISSUER}"\nbase_url = "{base_url}"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakeAppStore(server, page_size=10, public=ec_key("contract")[1])
        for c in complaints:
            resp_id = f"{c.key}-response" if c.answer else None
            fake.reviews.append(review(c.key, 1, title=None, body=c.text, created=c.at,
                                       response=resp_id))  # fmt: skip
            if c.answer is not None and c.answered_at is not None:
                fake.responses.append(response(f"{c.key}-response", c.answer, at=c.answered_at))
        fake.install()


SCENARIO = AppStoreScenario()
