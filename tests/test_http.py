"""The shared HTTP layer against a real local server: redirects, rate limits, waits."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.sources.base import SourceError
from generator.gather.sources.http import (
    HttpClient,
    HttpError,
    MetaUsage,
    hourly_quota,
    meta_pause,
    meta_usage,
    wait_from_headers,
)
from tests.conftest import Sleeps


def test_same_origin_redirects_are_followed_with_credentials(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_response(
        Response(status=301, headers={"location": httpserver.url_for("/new")})
    )
    seen: list[str | None] = []

    def new(request: Request) -> Response:
        seen.append(request.headers.get("Api-Key"))
        return Response(json.dumps({"ok": True}), content_type="application/json")

    httpserver.expect_request("/new").respond_with_handler(new)
    with HttpClient(httpserver.url_for("/"), headers={"Api-Key": "k"}) as client:
        assert client.get("old").data == {"ok": True}
    assert seen == ["k"]


def test_a_redirect_to_another_host_is_not_followed(httpserver: HTTPServer) -> None:
    other = httpserver.url_for("/x").replace("127.0.0.1", "localhost")
    httpserver.expect_request("/old").respond_with_response(
        Response(status=302, headers={"location": other})
    )
    client = HttpClient(httpserver.url_for("/"), headers={"Api-Key": "SECRET_KEY_1"})
    with client, pytest.raises(SourceError) as caught:
        client.get("old")
    assert "redirected to another host; not followed" in str(caught.value)
    assert "SECRET_KEY_1" not in str(caught.value)
    assert len(httpserver.log) == 1


def test_githubs_secondary_rate_limit_is_waited_out(httpserver: HTTPServer) -> None:
    answers = iter(
        [
            Response(
                '{"message": "You have exceeded a secondary rate limit"}',
                403,
                {"retry-after": "60"},
                content_type="application/json",
            ),
            Response("[]", 200, content_type="application/json"),
        ]
    )
    httpserver.expect_request("/issues").respond_with_handler(lambda _r: next(answers))
    sleeps = Sleeps()
    with HttpClient(httpserver.url_for("/"), sleep=sleeps) as client:
        assert client.get("issues").data == []
    assert sleeps == [60.0]
    assert (client.requests, client.retries) == (2, 1)


def test_a_plain_403_is_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/private").respond_with_response(
        Response(
            '{"message": "Resource not accessible by integration"}',
            403,
            content_type="application/json",
        )
    )
    client = HttpClient(httpserver.url_for("/"), sleep=Sleeps())
    with client, pytest.raises(SourceError) as caught:
        client.get("private", params={"access_token": "QUERY_SECRET"})
    message = str(caught.value)
    assert message.endswith("/private: HTTP 403: Resource not accessible by integration")
    assert "QUERY_SECRET" not in message


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "Wed, 01 May 2024 10:00:30 GMT"}, 30.0),
        ({"x-ratelimit-reset": "1714557660"}, 60.0),  # GitHub: epoch seconds
        ({"x-rate-limit-reset": "1714557605"}, 5.0),  # X: epoch seconds
        ({"x-ratelimit-reset": "2024-05-01T10:02:00.000Z"}, 120.0),  # Mastodon: ISO 8601
        ({"x-ratelimit-reset": "42"}, 42.0),  # Reddit: seconds from now
        ({"ratelimit-reset": "1714557610"}, 10.0),  # Bluesky: epoch seconds
        # App Store Connect: a rolling hour with no reset time; none left means an hour
        ({"x-rate-limit": "user-hour-lim:3600;user-hour-rem:0;"}, 3600.0),
        ({"x-rate-limit": "user-hour-lim:3600;user-hour-rem:3121;"}, None),
        ({"x-rate-limit": "user-hour-lim:3600;"}, None),
        (
            {
                "x-business-use-case-usage": '{"1": [{"type": "pages", "call_count": 100, '
                '"total_cputime": 3, "total_time": 5, "estimated_time_to_regain_access": 7}]}'
            },
            420.0,
        ),
        ({"x-app-usage": '{"call_count": 100, "total_cputime": 1, "total_time": 1}'}, None),
        ({}, None),
    ],
)
def test_each_providers_reset_header(headers: dict[str, str], wait: float | None) -> None:
    now = 1714557600.0  # 2024-05-01T10:00:00Z
    assert wait_from_headers(headers, now) == wait


@pytest.mark.parametrize(
    ("value", "quota"),
    [
        ("user-hour-lim:3600;user-hour-rem:3121;", (3600, 3121)),
        ("user-hour-rem:0; user-hour-lim:3500", (3500, 0)),
        ("user-hour-lim:3600", None),
        ("plenty", None),
    ],
)
def test_app_store_connects_hourly_quota_is_read(value: str, quota: tuple[int, int] | None) -> None:
    assert hourly_quota({"x-rate-limit": value}) == quota


def _quota_server(server: HTTPServer, remaining: list[int]) -> None:
    left = iter(remaining)

    def answer(_request: Request) -> Response:
        header = f"user-hour-lim:3600;user-hour-rem:{next(left)};"
        return Response("{}", headers={"X-Rate-Limit": header}, content_type="application/json")

    server.expect_request("/reviews").respond_with_handler(answer)


def test_an_hourly_quota_used_up_stops_before_the_next_request(httpserver: HTTPServer) -> None:
    _quota_server(httpserver, [1, 0, 3600])
    sleeps = Sleeps()
    with HttpClient(httpserver.url_for("/"), sleep=sleeps, clock=lambda: 1000.0) as client:
        client.get("reviews")
        client.get("reviews")  # the answer says none are left
        with pytest.raises(SourceError) as caught:
            client.get("reviews")
    assert str(caught.value).endswith(
        "/reviews: no requests left of the 3600 allowed per rolling hour (X-Rate-Limit"
        " user-hour-rem:0); it resets in 3600 s: not sent, try again later"
    )
    assert caught.value.status == 429
    assert len(httpserver.log) == 2 and sleeps == []


def test_an_hourly_quota_used_up_is_waited_out_when_allowed(httpserver: HTTPServer) -> None:
    _quota_server(httpserver, [0, 3599])
    sleeps = Sleeps()
    moments = iter([1000.0, 1600.0])  # noted at 1000 s; the next request at 1600 s
    client = HttpClient(
        httpserver.url_for("/"), sleep=sleeps, clock=lambda: next(moments), max_wait=3600
    )
    with client:
        client.get("reviews")
        client.get("reviews")
    assert sleeps == [3000.0]  # the rest of the rolling hour
    assert len(httpserver.log) == 2


def test_a_429_with_quota_left_backs_off(httpserver: HTTPServer) -> None:
    # Apple's forums report 429s under parallel load while X-Rate-Limit shows quota left.
    answers = iter(
        [
            Response('{"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED"}]}', 429,
                     {"X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3121;"},
                     content_type="application/json"),
            Response("{}", 200, content_type="application/json"),
        ]
    )  # fmt: skip
    httpserver.expect_request("/reviews").respond_with_handler(lambda _r: next(answers))
    sleeps = Sleeps()
    with HttpClient(httpserver.url_for("/"), sleep=sleeps, jitter=lambda: 0.0) as client:
        assert client.get("reviews").data == {}
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"error": {"code": 403, "message": "The caller does not have permission",
                    "status": "PERMISSION_DENIED"}}, ": The caller does not have permission"),
        ({"errors": [{"status": "401", "code": "NOT_AUTHORIZED",
                      "title": "Authentication credentials are missing or invalid.",
                      "detail": "Provide a properly configured and signed bearer token."}]},
         ": Provide a properly configured and signed bearer token."),
        ({"errors": [{"status": "403", "code": "FORBIDDEN_ERROR"}]}, ": FORBIDDEN_ERROR"),
        ({"errors": []}, ""),
    ],
)  # fmt: skip
def test_google_and_apple_error_bodies_give_the_reason(
    httpserver: HTTPServer, body: object, reason: str
) -> None:
    httpserver.expect_request("/x").respond_with_json(body, status=403)
    client = HttpClient(httpserver.url_for("/"), sleep=Sleeps())
    with client, pytest.raises(SourceError) as caught:
        client.get("x")
    assert str(caught.value).endswith(f"/x: HTTP 403{reason}")
    assert caught.value.status == 403


def test_a_used_up_window_is_waited_out_before_the_next_request(httpserver: HTTPServer) -> None:
    now = 1714557600.0
    answers = iter(
        [
            Response("[1]", 200, {"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "42"},
                     content_type="application/json"),  # Reddit: float, seconds from now
            Response("[2]", 200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 9)},
                     content_type="application/json"),  # GitHub: epoch seconds
            Response("[3]", 200, {"x-ratelimit-remaining": "17"}, content_type="application/json"),
            Response("[4]", 200, content_type="application/json"),
        ]
    )  # fmt: skip
    httpserver.expect_request("/items").respond_with_handler(lambda _r: next(answers))
    sleeps = Sleeps()
    with HttpClient(httpserver.url_for("/"), sleep=sleeps, clock=lambda: now) as client:
        assert [client.get("items").data for _ in range(4)] == [[1], [2], [3], [4]]
    assert sleeps == [42.0, 9.0]  # before the 2nd and 3rd requests, none refused
    assert (client.requests, client.retries) == (4, 0)


def test_a_window_resetting_later_than_max_wait_is_an_error_not_a_long_sleep(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/items").respond_with_json(
        [1], headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1714561200"}
    )
    sleeps = Sleeps()
    client = HttpClient(httpserver.url_for("/"), sleep=sleeps, clock=lambda: 1714557600.0)
    with client:
        client.get("items")
        with pytest.raises(SourceError) as caught:
            client.get("items")
    assert str(caught.value).endswith(
        "/items: rate limit used up; it resets in 3600 s: not sent, try again later"
    )
    assert sleeps == [] and len(httpserver.log) == 1


def test_an_allowed_status_is_an_answer_not_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_json({"message": "Not Found"}, status=404)
    with HttpClient(httpserver.url_for("/"), sleep=Sleeps()) as client:
        answer = client.get("gone", allow=(403, 404))
        assert (answer.status, answer.data) == (404, None)
        with pytest.raises(SourceError, match="HTTP 404"):
            client.get("gone")


def test_json_nested_too_deeply_is_a_clear_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/deep").respond_with_data(
        "[" * 100_000, content_type="application/json"
    )
    with (
        HttpClient(httpserver.url_for("/"), sleep=Sleeps()) as client,
        pytest.raises(SourceError, match="JSON nested too deeply to read"),
    ):
        client.get("deep")


BUC = "x-business-use-case-usage"


@pytest.mark.parametrize(
    ("headers", "usage"),
    [
        ({BUC: '{"111": [{"type": "pages", "call_count": 12, "total_cputime": 3, "total_time": 5,'
               ' "estimated_time_to_regain_access": 0}]}'}, MetaUsage(12.0, 0.0)),
        # several objects and use cases: the worst counts; minutes become seconds
        ({BUC: '{"111": [{"type": "pages", "call_count": 12, "total_cputime": 3, "total_time": 5}],'
               ' "222": [{"type": "instagram", "call_count": 1, "total_cputime": 88.5,'
               ' "total_time": 2, "estimated_time_to_regain_access": 2}]}'}, MetaUsage(88.5, 120.0)),
        ({"x-app-usage": '{"call_count": 80, "total_cputime": 25, "total_time": 25}'}, MetaUsage(80.0, 0.0)),
        ({"x-app-usage": '{"call_count": 10}', BUC: '{"1": [{"call_count": 50}]}'}, MetaUsage(50.0, 0.0)),
        ({"x-app-usage": "not json"}, None),
        ({"x-app-usage": "[1, 2]", BUC: '"text"'}, None),
        ({BUC: '{"1": [{"call_count": "99", "total_time": -4, "total_cputime": true}]}'}, None),
        ({BUC: '{"1": {"call_count": 97}}'}, MetaUsage(97.0, 0.0)),  # one object, not a list
        ({}, None),
    ],
)  # fmt: skip
def test_metas_usage_headers(headers: dict[str, str], usage: MetaUsage | None) -> None:
    assert meta_usage(headers) == usage


@pytest.mark.parametrize(
    ("usage", "pause"),
    [
        (None, None),
        (MetaUsage(79.9, 0), None),
        (MetaUsage(80, 0), 30.0),
        (MetaUsage(90, 0), 120.0),
        (MetaUsage(95, 0), 300.0),
        (MetaUsage(140, 0), 900.0),
        (MetaUsage(10, 60), 60.0),  # the announced regain wins
    ],
)
def test_meta_pause(usage: MetaUsage | None, pause: float | None) -> None:
    assert meta_pause(usage) == pause


def test_a_graph_error_is_one_line_and_keeps_its_code(httpserver: HTTPServer) -> None:
    body = {"error": {"message": "Unsupported get request.\nPlease read the docs",
                      "type": "GraphMethodException", "code": 100, "error_subcode": 33,
                      "error_user_title": "ignored", "fbtrace_id": "AxYz"}}  # fmt: skip
    httpserver.expect_request("/v25.0/1/feed").respond_with_json(body, status=400)
    client = HttpClient(httpserver.url_for("/"), sleep=Sleeps())
    with client, pytest.raises(HttpError) as caught:
        client.get("v25.0/1/feed")
    error = caught.value
    assert str(error).endswith(
        "/v25.0/1/feed: HTTP 400: Unsupported get request. Please read the docs"
        " (GraphMethodException, code 100/33, fbtrace_id AxYz)"
    )
    assert error.status == 400 and error.graph is not None
    assert (error.graph.code, error.graph.subcode) == (100, 33)
    assert len(httpserver.log) == 1


def test_a_graph_error_of_odd_shape_still_reads(httpserver: HTTPServer) -> None:
    body = {"error": {"type": "OAuthException", "code": "4", "message": 7}}
    httpserver.expect_request("/x").respond_with_json(body, 400)
    client = HttpClient(httpserver.url_for("/"), sleep=Sleeps())
    with client, pytest.raises(HttpError) as caught:
        client.get("x")
    assert str(caught.value).endswith("/x: HTTP 400: error (OAuthException, no code)")
    assert len(httpserver.log) == 1  # a code given as text is no rate-limit code


def test_a_usage_pause_comes_before_the_next_request_only(httpserver: HTTPServer) -> None:
    usage = '{"call_count": 91, "total_cputime": 10, "total_time": 10}'
    httpserver.expect_request("/a").respond_with_json({}, headers={"X-App-Usage": usage})
    sleeps = Sleeps()
    with HttpClient(httpserver.url_for("/"), sleep=sleeps) as client:
        client.get("a")
        assert sleeps == []
        client.get("a")
        assert len(sleeps) == 1 and 119.0 <= sleeps[0] <= 120.0  # the rest of the pause
    assert (client.requests, client.retries) == (2, 0)
