"""Google Play source against a real HTTP server on this machine, answering like the
documented Play Developer API: the OAuth 2.0 token endpoint taking a service account's
RS256 JWT assertion (checked with the public half of a throwaway key) and
`reviews.list` (comments with userComment / developerComment, `lastModified.seconds` as a
string, `tokenPagination.nextPageToken`), with Google's error bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import jwt
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.run import gather
from generator.gather.sources.base import FetchResult, Post, Source, SourceError
from generator.gather.sources.google_play import GooglePlaySettings
from generator.record.store import load_record
from tests.conftest import Connect, Sleeps
from tests.support.contract import Complaint
from tests.support.keys import rsa_key, service_account

PACKAGE = "com.acme.app"
REVIEWS = f"/androidpublisher/v3/applications/{PACKAGE}/reviews"
TOKEN = "/token"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"


def env(server: HTTPServer, name: str = "default") -> dict[str, str]:
    return {"GOOGLE_PLAY_SERVICE_ACCOUNT": service_account(server.url_for(TOKEN), name)}


def stamp(moment: datetime) -> dict[str, Any]:
    """A protobuf Timestamp as the JSON API writes it: seconds as a string."""
    return {"seconds": str(int(moment.timestamp())), "nanos": moment.microsecond * 1000}


def review(
    rid: str,
    stars: int = 2,
    *,
    text: str = "Login loop after the update",
    at: datetime = NOW - timedelta(days=1),
    reply: str | None = None,
    replied: datetime | None = None,
) -> dict[str, Any]:
    """A Review as `reviews.list` returns it (the fields of the documented example)."""
    comments: list[dict[str, Any]] = [
        {
            "userComment": {
                "text": text,
                "lastModified": stamp(at),
                "starRating": stars,
                "reviewerLanguage": "en",
                "device": "trltecan",
                "androidOsVersion": 34,
                "appVersionCode": 4201,
                "appVersionName": "4.2.1",
                "thumbsUpCount": 3,
                "thumbsDownCount": 0,
            }
        }
    ]
    if reply is not None:
        moment = replied or at + timedelta(hours=1)
        comments.append({"developerComment": {"text": reply, "lastModified": stamp(moment)}})
    return {"reviewId": rid, "authorName": "A User", "comments": comments}


@dataclass
class FakePlay:
    """The token endpoint (checks the signed assertion) and the reviews list: newest first,
    `page_size` a page, an opaque next-page token, the granted token required."""

    server: HTTPServer
    reviews: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    public: str = field(default_factory=lambda: rsa_key()[1])
    access: str = "ya29.FAKE-play-access-token"
    assertions: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def install(self) -> FakePlay:
        self.server.expect_request(TOKEN, method="POST").respond_with_handler(self.token)
        self.server.expect_request(REVIEWS, method="GET").respond_with_handler(self.list)
        return self

    def token(self, request: Request) -> Response:
        if request.form.get("grant_type") != GRANT:
            return oauth_error("unsupported_grant_type")
        assertion = request.form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, self.public, algorithms=["RS256"],
                                audience=self.server.url_for(TOKEN),
                                options={"verify_exp": False, "verify_iat": False})  # fmt: skip
        except jwt.PyJWTError:
            return oauth_error("invalid_grant", "Invalid JWT Signature.")
        self.assertions.append((header, claims))
        if claims.get("scope") != "https://www.googleapis.com/auth/androidpublisher":
            return oauth_error("invalid_scope")
        if claims["exp"] - claims["iat"] > 3600:
            return oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token")
        body = {"access_token": self.access, "expires_in": 3599, "token_type": "Bearer"}
        return Response(json.dumps(body), content_type="application/json")

    def list(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.access}":
            return google_error(401, "Request had invalid authentication credentials.")
        size = min(int(request.args.get("maxResults", "10")), self.page_size)
        start = int(request.args.get("token", "0"))
        ordered = sorted(self.reviews, reverse=True,
                         key=lambda r: int(r["comments"][0]["userComment"]["lastModified"]["seconds"]))  # fmt: skip
        body: dict[str, Any] = {
            "reviews": ordered[start : start + size],
            "pageInfo": {"totalResults": len(ordered), "resultPerPage": size, "startIndex": start},
        }
        if start + size < len(ordered):
            body["tokenPagination"] = {"nextPageToken": str(start + size)}
        return Response(json.dumps(body), content_type="application/json")


def oauth_error(error: str, description: str | None = None) -> Response:
    body = {"error": error, **({"error_description": description} if description else {})}
    return Response(json.dumps(body), 400, content_type="application/json")


def google_error(status: int, message: str) -> Response:
    body = {"error": {"code": status, "message": message, "errors": [{"message": message}]}}
    return Response(json.dumps(body), status, content_type="application/json")


def settings(server: HTTPServer, **extra: Any) -> GooglePlaySettings:
    values = {"type": "google_play", "package": PACKAGE, "base_url": server.url_for("/"), **extra}
    return GooglePlaySettings.model_validate(values)


def clock(moment: datetime = NOW) -> dict[str, Any]:
    return {"clock": lambda: moment.timestamp()}


@pytest.fixture
def source(httpserver: HTTPServer, connect: Connect) -> Source:
    return connect(settings(httpserver), env(httpserver), **clock())


def by_id(result: FetchResult) -> dict[str, Post]:
    return {p.native_id: p for p in result.posts}


def clean(error: SourceError, server: HTTPServer) -> str:
    message = str(error)
    private = json.loads(env(server)["GOOGLE_PLAY_SERVICE_ACCOUNT"])["private_key"]
    for line in private.splitlines():
        assert line not in message
    assert "ya29" not in message and "eyJ" not in message
    assert "\n" not in message and message.startswith("google_play: ")
    return message


# --- mapping, token, paging -----------------------------------------------------------------


def test_first_fetch_maps_reviews_and_developer_replies(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakePlay(httpserver)
    fake.reviews = [
        review("gp:AOqpTOF1", 2, at=datetime(2026, 11, 28, 9, 30, 0, 250000, tzinfo=UTC),
               reply="Fixed in 4.2.1.", replied=datetime(2026, 11, 28, 11, tzinfo=UTC)),
        review("gp:AOqpTOF2", 5, text="Great app\tSo fast since the update"),
        review("gp:AOqpTOF3", 3, text="Slow\t"),
    ]  # fmt: skip
    fake.install()

    result = source.fetch({})

    posts = by_id(result)
    assert sorted(posts) == ["gp:AOqpTOF1", "gp:AOqpTOF1-reply", "gp:AOqpTOF2", "gp:AOqpTOF3"]
    first = posts["gp:AOqpTOF1"]
    assert first.at == datetime(2026, 11, 28, 9, 30, 0, 250000, tzinfo=UTC)
    assert (first.text, first.title, first.author_name) == ("Login loop after the update", None,
                                                          "A User")  # fmt: skip
    assert (first.rating, first.praise, first.root_id) == (2, False, "gp:AOqpTOF1")
    answer = posts["gp:AOqpTOF1-reply"]
    assert (answer.parent_id, answer.is_brand, answer.text) == ("gp:AOqpTOF1", True,
                                                              "Fixed in 4.2.1.")  # fmt: skip
    assert answer.at == datetime(2026, 11, 28, 11, tzinfo=UTC)
    # a title and body written apart come joined by a tab
    assert (posts["gp:AOqpTOF2"].title, posts["gp:AOqpTOF2"].text) == (
        "Great app", "So fast since the update")  # fmt: skip
    assert (posts["gp:AOqpTOF2"].praise, posts["gp:AOqpTOF3"].praise) == (True, False)
    assert posts["gp:AOqpTOF3"].title is None
    # the signed assertion: RS256, the key's id, the service account, the scope, the endpoint
    header, claims = fake.assertions[0]
    assert header["alg"] == "RS256" and header["kid"].startswith("0f1e2d3c")
    assert claims["iss"] == "heard@acme-play.iam.gserviceaccount.com"
    assert claims["aud"] == httpserver.url_for(TOKEN)
    assert claims["exp"] - claims["iat"] == 3600
    # two pages of the list after the token
    paths = [(r.path, dict(r.args.items())) for r, _ in httpserver.log]
    assert paths == [(TOKEN, {}), (REVIEWS, {"maxResults": "100"}),
                     (REVIEWS, {"maxResults": "100", "token": "2"})]  # fmt: skip
    assert result.cursor == {"last_run": "2026-11-30T12:00:00Z"}
    assert (result.requests, result.warnings) == (3, [])


def test_every_run_reads_the_week_again_so_later_replies_come(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakePlay(httpserver)
    fake.reviews = [review("r1", 1), review("r2", 1, at=NOW - timedelta(days=3))]
    fake.install()
    first = source.fetch({})
    assert sorted(by_id(first)) == ["r1", "r2"]
    fake.reviews[1]["comments"].append(
        {"developerComment": {"text": "Sorry!", "lastModified": stamp(NOW - timedelta(hours=2))}}
    )
    second = source.fetch(first.cursor)
    assert sorted(by_id(second)) == ["r1", "r2", "r2-reply"]  # known ones come again
    assert by_id(second)["r2-reply"].at == NOW - timedelta(hours=2)


@pytest.mark.parametrize(
    ("last_run", "warning"),
    [
        (NOW - timedelta(days=1), None),
        (NOW - timedelta(days=6, hours=12), "the last good run was 6.5 days ago; Google Play"
         " serves only the last 7 days of reviews, so run it at least daily"),
        (NOW - timedelta(days=9), "the last good run was 9.0 days ago; Google Play serves only"
         " the last 7 days of reviews, so run it at least daily (some reviews were missed)"),
    ],
)  # fmt: skip
def test_a_stale_last_run_warns(
    httpserver: HTTPServer, source: Source, last_run: datetime, warning: str | None
) -> None:
    FakePlay(httpserver).install()
    result = source.fetch({"last_run": last_run.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert result.warnings == ([warning] if warning else [])


def test_the_key_files_token_uri_is_used_unless_token_url_is_set(
    httpserver: HTTPServer, connect: Connect
) -> None:
    FakePlay(httpserver).install()
    other = httpserver.url_for("/other-token")
    httpserver.expect_request("/other-token").respond_with_response(oauth_error("invalid_grant"))
    connect(settings(httpserver), env(httpserver), **clock()).fetch({})
    assert httpserver.log[0][0].path == TOKEN
    httpserver.clear_log()
    with pytest.raises(SourceError):
        connect(settings(httpserver, token_url=other), env(httpserver), **clock()).fetch({})
    assert httpserver.log[0][0].path == "/other-token"


def test_max_pages_cuts_a_run_with_a_warning(httpserver: HTTPServer, connect: Connect) -> None:
    fake = FakePlay(httpserver)
    fake.reviews = [review(f"r{n}", at=NOW - timedelta(hours=n)) for n in range(5)]
    fake.install()
    result = connect(settings(httpserver, max_pages=2), env(httpserver), **clock()).fetch({})
    assert sorted(by_id(result)) == ["r0", "r1", "r2", "r3"]
    assert result.warnings == [
        "stopped after max_pages (2) pages of 100 reviews; older reviews were not gathered"
        " (raise max_pages)"
    ]


def test_a_review_without_a_user_comment_is_counted(httpserver: HTTPServer, source: Source) -> None:
    fake = FakePlay(httpserver)
    lonely = review("r2", reply="Thanks")
    lonely["comments"] = lonely["comments"][1:]
    fake.reviews = [review("r1")]
    fake.install()
    httpserver.clear()
    httpserver.expect_request(TOKEN).respond_with_handler(fake.token)
    httpserver.expect_request(REVIEWS).respond_with_json({"reviews": [review("r1"), lonely]})
    result = source.fetch({})
    assert sorted(by_id(result)) == ["r1"]
    assert result.warnings == ["1 reviews without a user comment were skipped"]


# --- credentials and faults -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "GOOGLE_PLAY_SERVICE_ACCOUNT is not set"),
        ("{not json", "GOOGLE_PLAY_SERVICE_ACCOUNT does not hold a service account key file (JSON)"),
        ('{"type": "authorized_user", "client_id": "x"}',
         "GOOGLE_PLAY_SERVICE_ACCOUNT: type: must be 'service_account' (and 2 more problems)"),
        ('{"type": "service_account", "client_email": "a@b.c"}',
         "GOOGLE_PLAY_SERVICE_ACCOUNT: private_key: missing (a service account key file)"),
        ("caf\u00e9", "GOOGLE_PLAY_SERVICE_ACCOUNT holds characters no key file has"),
    ],
)  # fmt: skip
def test_a_broken_key_file_is_a_clear_error(
    httpserver: HTTPServer, connect: Connect, value: str, expected: str
) -> None:
    with pytest.raises(SourceError) as caught:
        connect(settings(httpserver), {"GOOGLE_PLAY_SERVICE_ACCOUNT": value})
    assert str(caught.value).startswith(f"google_play: {expected}")


def test_a_private_key_that_is_not_rsa_fails_before_any_request(
    httpserver: HTTPServer, connect: Connect
) -> None:
    key = json.loads(env(httpserver)["GOOGLE_PLAY_SERVICE_ACCOUNT"])
    key["private_key"] = (
        "-----BEGIN PRIVATE KEY-----\n" + "QUJD" * 20 + "\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(SourceError) as caught:
        connect(settings(httpserver), {"GOOGLE_PLAY_SERVICE_ACCOUNT": json.dumps(key)}).fetch({})
    assert str(caught.value) == (
        "google_play: GOOGLE_PLAY_SERVICE_ACCOUNT: private_key is not an RSA private key (PEM)"
        " (a service account key file)"
    )
    assert "QUJD" not in str(caught.value) and len(httpserver.log) == 0


def test_a_key_google_does_not_know_is_refused(httpserver: HTTPServer, connect: Connect) -> None:
    FakePlay(httpserver).install()
    with pytest.raises(SourceError) as caught:
        connect(settings(httpserver), env(httpserver, "stranger"), **clock()).fetch({})
    assert f"{TOKEN}: HTTP 400: invalid_grant" in str(caught.value)
    assert [r.path for r, _ in httpserver.log] == [TOKEN]


def test_forbidden_says_which_permission(httpserver: HTTPServer, source: Source) -> None:
    fake = FakePlay(httpserver)
    httpserver.expect_request(REVIEWS).respond_with_response(
        google_error(403, "The current user has insufficient permissions to perform the"
                          " requested operation.")
    )  # fmt: skip
    fake.install()
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value, httpserver)
    assert "HTTP 403: The current user has insufficient permissions" in message
    assert message.endswith('with "Reply to reviews"')


def test_429_and_5xx_are_retried(httpserver: HTTPServer, source: Source, sleeps: Sleeps) -> None:
    httpserver.expect_oneshot_request(REVIEWS).respond_with_response(
        google_error(429, "Quota exceeded")
    )
    httpserver.expect_oneshot_request(REVIEWS).respond_with_data("oops", status=502)
    fake = FakePlay(httpserver)
    fake.reviews = [review("r1")]
    fake.install()
    assert sorted(by_id(source.fetch({}))) == ["r1"]
    assert sleeps == [1.0, 2.0]


def test_a_persistent_429_gives_up(httpserver: HTTPServer, source: Source, sleeps: Sleeps) -> None:
    httpserver.expect_request(REVIEWS).respond_with_response(google_error(429, "Quota exceeded"))
    FakePlay(httpserver).install()
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert "HTTP 429: Quota exceeded (gave up after 5 attempts)" in clean(caught.value, httpserver)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"reviews": [{"reviewId": "r1", "comm', "expected JSON, got not JSON"),
        (b"\xff\xfe\x00garbage", "expected JSON, got not JSON"),
        ("<html><body>Not Found</body></html>", "expected JSON, got an HTML page"),
        ('{"reviews": {}}', "reviews: must be a list, not an object"),
    ],
)
def test_unreadable_answers(
    httpserver: HTTPServer, source: Source, body: str | bytes, expected: str
) -> None:
    httpserver.expect_request(REVIEWS).respond_with_data(body, content_type="application/json")
    FakePlay(httpserver).install()
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert expected in clean(caught.value, httpserver)


def _user(**change: Any) -> dict[str, Any]:
    item = review("r2")
    item["comments"][0]["userComment"].update(change)
    return item


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (_user(lastModified={"seconds": "soon", "nanos": 0}),
         "comments: item 0: userComment.lastModified.seconds: not a count of seconds since 1970"),
        (_user(lastModified={"nanos": 5}), "comments: item 0: userComment.lastModified.seconds: missing"),
        (_user(starRating=0), "comments: item 0: userComment.starRating: must be at least 1"),
        (_user(text=["Login", "loop"]), "comments: item 0: userComment.text: must be a string, not a list"),
    ],
)  # fmt: skip
def test_wrong_fields_name_the_item_and_field(
    httpserver: HTTPServer, source: Source, item: dict[str, Any], expected: str
) -> None:
    fake = FakePlay(httpserver)
    httpserver.expect_request(REVIEWS).respond_with_json({"reviews": [review("r1"), item]})
    fake.install()
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value, httpserver).startswith(
        f"google_play: {REVIEWS[1:]}: reviews: item 1: {expected}"
    )


def test_seconds_given_as_a_number_are_read(httpserver: HTTPServer, source: Source) -> None:
    item = review("r1")
    item["comments"][0]["userComment"]["lastModified"] = {"seconds": 1764480000}
    fake = FakePlay(httpserver)
    httpserver.expect_request(REVIEWS).respond_with_json({"reviews": [item]})
    fake.install()
    assert source.fetch({}).posts[0].at == datetime(2025, 11, 30, 5, 20, tzinfo=UTC)


def test_settings_check_the_package_name(httpserver: HTTPServer) -> None:
    with pytest.raises(ValueError, match="package"):
        settings(httpserver, package="acme app")


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class GooglePlayScenario:
    """Each complaint a one-star review; the brand's answer the developer's reply."""

    type = "google_play"
    channel = "google_play"
    env: Mapping[str, str] = MappingProxyType(
        {"GOOGLE_PLAY_SERVICE_ACCOUNT": service_account(GOOGLE_TOKEN, "contract")}
    )
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "google_play"\npackage = "{PACKAGE}"\nbase_url = "{base_url}"\n'
            f'token_url = "{base_url}token"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakePlay(server, page_size=10, public=rsa_key("contract")[1])
        for c in complaints:
            fake.reviews.append(
                review(c.key, 1, text=c.text, at=c.at, reply=c.answer, replied=c.answered_at)
            )
        fake.install()


SCENARIO = GooglePlayScenario()


def test_praise_read_again_is_kept_apart_once(httpserver: HTTPServer, tmp_path: Any) -> None:
    fake = FakePlay(httpserver)
    fake.reviews = [
        review("happy", 5, text="Love the new widget", reply="Thank you!"),
        review("sad", 1, text="Crashes on start"),
    ]
    fake.install()
    root = tmp_path / "site"
    root.mkdir()
    (root / "heard.toml").write_text(
        '[site]\ntitle = "T"\nbrand = "B"\nbase_url = "https://b.example/"\n\n'
        + GooglePlayScenario().config(httpserver.url_for("/")),
        encoding="utf-8",
    )
    environ = env(httpserver)
    fast = {"sleep": lambda _s: None}
    first = gather(root, NOW, environ=environ, client_options=fast)
    assert [(s.error, s.new_cases, s.praise) for s in first.sources] == [(None, 1, 1)]
    praise = (root / "content/praise/2026-11.jsonl").read_text("utf-8")
    assert praise.count('"post_id": "happy"') == 1 and "Thank you!" not in praise
    # Play serves the same week again: nothing is counted or written twice
    second = gather(root, NOW + timedelta(hours=1), environ=environ, client_options=fast)
    assert [(s.error, s.new_events, s.praise) for s in second.sources] == [(None, 0, 0)]
    assert (root / "content/praise/2026-11.jsonl").read_text("utf-8") == praise
    assert sorted(load_record(root).cases) == ["google_play-sad"]
