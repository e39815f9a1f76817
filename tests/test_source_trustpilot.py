"""Trustpilot source against a real HTTP server on this machine, answering like the public
Business Units API: `v1/business-units/{id}/reviews` with the `apikey` header, `page`,
`perPage` (≤ 100) and `orderBy=createdat.desc`, `{"reviews": [...]}` (an empty list past
the last page), each review with `stars`, `consumer.displayName` and, once the company
answered, `companyReply {text, createdAt, updatedAt}`. No rate-limit headers."""

from __future__ import annotations

import json
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
from generator.gather.sources.trustpilot import TrustpilotSettings
from generator.record.store import load_record
from generator.record.times import format_instant
from tests.conftest import BASE_CONFIG, Connect, SiteFactory, Sleeps, fetch_runs, snapshot
from tests.support.contract import Complaint

KEY = "tp_FAKE_API_KEY_4f9a1c"
UNIT = "46d6a890ffa235a75b00021d"
REVIEWS = f"/v1/business-units/{UNIT}/reviews"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def when(day: int, hour: int = 0, minute: int = 0) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:00.000Z"


def review(
    rid: str,
    created: str,
    stars: int = 1,
    *,
    reply: str | None = None,
    replied: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A review shaped like the API's (fields heard reads and some it ignores)."""
    item: dict[str, Any] = {
        "links": [{"href": f"https://api.trustpilot.com/v1/reviews/{rid}", "method": "GET",
                   "rel": "reviews"}],
        "id": rid, "stars": stars, "title": extra.pop("title", f"Review {rid}"),
        "text": extra.pop("text", "Waited 5 weeks for my refund."), "language": "en",
        "location": None, "createdAt": created, "updatedAt": None, "experiencedAt": created,
        "consumer": {"id": "5e3de1b45fb06f0001790b50", "displayName": extra.pop("name", "R. K."),
                     "displayLocation": "GB", "numberOfReviews": 3},
        "businessUnit": {"id": UNIT, "identifyingName": "acme.example", "displayName": "Acme"},
        "isVerified": True, "numberOfLikes": 0, "status": "active", **extra,
    }  # fmt: skip
    if reply is not None:
        item["companyReply"] = {"text": reply, "createdAt": replied, "updatedAt": None}
    return item


@dataclass
class FakeTrustpilot:
    """The reviews endpoint: newest first, `perPage` (≤ 100) a page, [] past the end."""

    server: HTTPServer
    reviews: list[dict[str, Any]] = field(default_factory=list)

    def install(self) -> FakeTrustpilot:
        self.server.expect_request(REVIEWS).respond_with_handler(self.handle)
        return self

    def handle(self, request: Request) -> Response:
        if request.headers.get("apikey") != KEY:
            fault = {"fault": {"faultstring": "Invalid ApiKey",
                               "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}}  # fmt: skip
            return Response(json.dumps(fault), 401, content_type="application/json")
        per_page = int(request.args.get("perPage", "20"))
        assert 1 <= per_page <= 100
        assert request.args.get("orderBy") == "createdat.desc"
        ordered = sorted(self.reviews, key=lambda r: (r["createdAt"], r["id"]), reverse=True)
        page = int(request.args.get("page", "1"))
        chunk = ordered[(page - 1) * per_page : page * per_page]
        return Response(json.dumps({"reviews": chunk}), content_type="application/json")


def settings(server: HTTPServer, **extra: Any) -> TrustpilotSettings:
    values = {"type": "trustpilot", "business_unit_id": UNIT, "api_key_env": "TRUSTPILOT_KEY",
              "base_url": server.url_for("/"), **extra}  # fmt: skip
    return TrustpilotSettings.model_validate(values)


@pytest.fixture
def clock() -> list[float]:
    return [NOW.timestamp()]


@pytest.fixture
def trustpilot(
    httpserver: HTTPServer, connect: Connect, clock: list[float]
) -> Callable[..., Source]:
    def make(**extra: Any) -> Source:
        environ = {"TRUSTPILOT_KEY": KEY}
        return connect(settings(httpserver, **extra), environ, clock=lambda: clock[0])

    return make


def by_id(result: FetchResult) -> dict[str, Post]:
    return {p.native_id: p for p in result.posts}


def pages(server: HTTPServer) -> list[int]:
    return [int(r.args["page"]) for r, _ in server.log]


def clean(error: SourceError) -> str:
    message = str(error)
    assert KEY not in message and "\n" not in message
    assert message.startswith("trustpilot: ")
    return message


def many(count: int, day: int = 1, prefix: str = "r") -> list[dict[str, Any]]:
    """`count` reviews a minute apart from `day` on (ids sort with their times)."""
    start = datetime(2026, 11, day, tzinfo=UTC)
    return [
        review(f"{prefix}{n:05d}", format_instant(start + timedelta(minutes=n)))
        for n in range(count)
    ]


# --- mapping --------------------------------------------------------------------------------------


def test_reviews_replies_and_the_star_threshold(
    httpserver: HTTPServer, trustpilot: Callable[..., Source]
) -> None:
    fake = FakeTrustpilot(httpserver)
    fake.reviews = [
        review("a1", when(20, 8), 1, reply="Sorry – we've emailed you.", replied=when(21, 10, 5),
               text="Refund ignored for 5 weeks.", name=" R. K. "),
        review("a2", when(20, 9), 3),
        review("a3", when(20, 10), 4, title="", text="Quick delivery"),
        review("a4", when(20, 11), 5, reply="Thank you!", replied=when(20, 12)),
        review("a5", when(20, 12), 2, reply="We are on it", replied=None),
    ]  # fmt: skip
    fake.reviews[0]["companyReply"]["updatedAt"] = when(25, 9)  # edited later: not the time
    fake.install()
    result = trustpilot().fetch({})

    posts = by_id(result)
    assert sorted(posts) == ["a1", "a1-reply", "a2", "a3", "a4", "a4-reply", "a5"]
    first = posts["a1"]
    assert (first.title, first.text, first.author, first.author_name) == (
        "Review a1", "Refund ignored for 5 weeks.", None, "R. K."
    )  # fmt: skip
    assert (first.rating, first.praise, first.is_brand) == (1, False, False)
    assert first.at == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert first.url == "https://www.trustpilot.com/reviews/a1"
    assert (first.root_id, first.parent_id) == ("a1", None)
    assert [(posts[r].rating, posts[r].praise) for r in ("a2", "a3", "a4", "a5")] == [
        (3, False), (4, True), (5, True), (2, False)
    ]  # fmt: skip
    assert posts["a3"].title is None
    answer = posts["a1-reply"]
    assert (answer.parent_id, answer.root_id, answer.is_brand) == ("a1", "a1", True)
    assert answer.at == datetime(2026, 11, 21, 10, 5, tzinfo=UTC)  # createdAt, not updatedAt
    assert answer.text == "Sorry – we've emailed you."
    assert result.warnings == [
        "trustpilot: 1 company replies had no createdAt and were not gathered"
    ]

    assert [(r.path, dict(r.args.items())) for r, _ in httpserver.log] == [
        (REVIEWS, {"page": "1", "perPage": "100", "orderBy": "createdat.desc"}),
        (REVIEWS, {"page": "2", "perPage": "100", "orderBy": "createdat.desc"}),
    ]  # a first run reads until a page is empty
    assert httpserver.log[0][0].headers["apikey"] == KEY
    assert result.cursor == {
        "newest": "2026-11-20T12:00:00Z", "newest_ids": ["a5"],
        "replied": {"a1": "2026-11-20T08:00:00Z", "a4": "2026-11-20T11:00:00Z"},
    }  # fmt: skip
    json.dumps(result.cursor)


def test_a_first_run_reads_to_an_empty_page(
    httpserver: HTTPServer, trustpilot: Callable[..., Source]
) -> None:
    fake = FakeTrustpilot(httpserver)
    fake.reviews = many(230)
    fake.install()
    result = trustpilot().fetch({})
    assert len(result.posts) == 230 and pages(httpserver) == [1, 2, 3, 4]
    assert result.warnings == []


@pytest.mark.parametrize(("threshold", "complaints"), [(1, [1]), (3, [1, 2, 3]), (4, [1, 2, 3, 4]), (5, [1, 2, 3, 4, 5])])  # fmt: skip
def test_the_star_threshold_divides_complaints_from_praise(
    httpserver: HTTPServer, trustpilot: Callable[..., Source], threshold: int, complaints: list[int]
) -> None:
    fake = FakeTrustpilot(httpserver)
    fake.reviews = [review(f"s{n}", when(20, n), n) for n in range(1, 6)]
    fake.install()
    result = trustpilot(star_threshold=threshold).fetch({})
    assert sorted(p.rating or 0 for p in result.posts if p.praise is False) == complaints


# --- the cursor -------------------------------------------------------------------------------------


def test_a_reply_added_later_is_gathered_once(
    httpserver: HTTPServer, trustpilot: Callable[..., Source], clock: list[float]
) -> None:
    fake = FakeTrustpilot(httpserver)
    fake.reviews = [review("a1", when(20, 8), 1), review("a2", when(20, 9), 2),
                    review("old", when(1, 9), 1)]  # fmt: skip
    fake.install()
    source = trustpilot()
    first = source.fetch({})
    assert sorted(by_id(first)) == ["a1", "a2", "old"]

    assert source.fetch(first.cursor).posts == []  # nothing new, nothing twice
    fake.reviews[0]["companyReply"] = {"text": "Please DM us", "createdAt": when(29, 9)}
    fake.reviews[2]["companyReply"] = {"text": "Sorry", "createdAt": when(29, 9)}  # too old
    fake.reviews.append(review("a3", when(30, 1), 5))
    third = source.fetch(first.cursor)
    assert sorted(by_id(third)) == ["a1-reply", "a3"]
    assert by_id(third)["a1-reply"].at == datetime(2026, 11, 29, 9, tzinfo=UTC)
    assert third.cursor["replied"] == {"a1": "2026-11-20T08:00:00Z"}
    assert source.fetch(third.cursor).posts == []

    # Past the window, a review is no longer read for replies.
    clock[0] = (NOW + timedelta(days=20)).timestamp()
    fake.reviews[1]["companyReply"] = {"text": "Late", "createdAt": when(30, 9)}
    later = source.fetch(third.cursor)
    assert later.posts == [] and later.cursor["replied"] == {}


def test_reviews_in_the_same_second_as_the_newest_come_once(
    httpserver: HTTPServer, trustpilot: Callable[..., Source]
) -> None:
    fake = FakeTrustpilot(httpserver)
    fake.reviews = [review("b1", when(20, 8))]
    fake.install()
    source = trustpilot(reread_days=0)
    first = source.fetch({})
    fake.reviews.append(review("b2", when(20, 8)))
    second = source.fetch(first.cursor)
    assert [p.native_id for p in second.posts] == ["b2"]
    assert second.cursor["newest_ids"] == ["b1", "b2"]
    assert source.fetch(second.cursor).posts == []


def test_the_first_run_reads_back_max_pages_only(
    httpserver: HTTPServer, trustpilot: Callable[..., Source]
) -> None:
    fake = FakeTrustpilot(httpserver)
    fake.reviews = many(250)
    fake.install()
    result = trustpilot(max_pages=2).fetch({})
    assert len(result.posts) == 200 and "gap" not in result.cursor
    assert result.warnings == [
        "trustpilot: the first run read the newest 200 reviews (max_pages); older ones are not"
        " gathered"
    ]


def flooded(
    httpserver: HTTPServer, trustpilot: Callable[..., Source], older: int
) -> tuple[FakeTrustpilot, Source, FetchResult, FetchResult]:
    """`older` reviews gathered by a first run, then 650 new ones, more than the second
    run's three pages can hold: it leaves a gap."""
    fake = FakeTrustpilot(httpserver)
    fake.reviews = many(older, day=2)
    fake.install()
    source = trustpilot(max_pages=3, reread_days=0)
    first = source.fetch({})
    fake.reviews += many(650, day=10, prefix="n")
    return fake, source, first, source.fetch(first.cursor)


def test_a_run_cut_by_max_pages_leaves_a_gap_the_next_runs_fill(
    httpserver: HTTPServer, trustpilot: Callable[..., Source]
) -> None:
    fake, source, first, second = flooded(httpserver, trustpilot, 50)
    gap = second.cursor["gap"]
    assert (gap["bottom"], gap["top_ids"], gap["above"]) == (
        first.cursor["newest"],
        ["n00350"],
        299,
    )
    assert "more new reviews than 3 pages hold" in second.warnings[0]
    gathered = [p.native_id for p in first.posts + second.posts]

    fake.reviews += many(30, day=20, prefix="m")  # and a few more each later run
    httpserver.clear_log()
    third = source.fetch(second.cursor)
    assert pages(httpserver) == [1, 4, 5]  # new ones, then a jump over the pages it has
    assert third.cursor["gap"]["top_ids"] == ["n00180"]
    rest, cursor = fetch_runs(source, third.cursor, 5)
    gathered += [p.native_id for p in third.posts] + rest
    assert "gap" not in cursor
    assert sorted(gathered) == sorted(r["id"] for r in fake.reviews)  # all, each once


def test_a_jump_that_lands_too_low_reads_on_in_order(
    httpserver: HTTPServer, trustpilot: Callable[..., Source]
) -> None:
    fake, source, first, second = flooded(httpserver, trustpilot, 10)
    del fake.reviews[-200:]  # the newest 200 are deleted: the gap moves up two pages
    fake.reviews += many(150, day=20, prefix="m")
    rest, cursor = fetch_runs(source, second.cursor, 8)
    gathered = [p.native_id for p in first.posts + second.posts] + rest
    assert "gap" not in cursor
    assert sorted(set(gathered)) == sorted(
        {r["id"] for r in fake.reviews} | {f"n{n:05d}" for n in range(450, 650)}
    )
    assert len(gathered) == len(set(gathered))  # and none twice


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        ({"newest": "today"}, "trustpilot: cursor: newest: not an ISO 8601 time with a zone"),
        ({"gap": {"top": "2026-11-20T08:00:00Z"}}, "trustpilot: cursor: gap.bottom: missing"),
        ({"replied": ["a1"]}, "trustpilot: cursor: replied: must be an object, not a list"),
    ],
)
def test_a_damaged_cursor_is_reported(
    trustpilot: Callable[..., Source], cursor: dict[str, Any], expected: str
) -> None:
    with pytest.raises(SourceError) as caught:
        trustpilot().fetch(cursor)
    assert clean(caught.value) == expected


# --- faults ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, "HTTP 401: Trustpilot refused the API key"),
        (403, "HTTP 403: the API key may not read this business unit (Trustpilot's API needs a paid plan"),
        (404, "HTTP 404: no such business unit"),
    ],
)  # fmt: skip
def test_refusals_say_what_to_check(
    httpserver: HTTPServer,
    trustpilot: Callable[..., Source],
    sleeps: Sleeps,
    status: int,
    expected: str,
) -> None:
    httpserver.expect_request(REVIEWS).respond_with_json(
        {"fault": {"faultstring": f"Invalid ApiKey {KEY}"}}, status=status
    )
    with pytest.raises(SourceError) as caught:
        trustpilot().fetch({})
    assert f"{REVIEWS.lstrip('/')}: {expected}" in clean(caught.value)
    assert sleeps == [] and len(httpserver.log) == 1


def test_a_wrong_key_is_refused(httpserver: HTTPServer, connect: Connect) -> None:
    FakeTrustpilot(httpserver).install()
    source = connect(settings(httpserver), {"TRUSTPILOT_KEY": "not-the-key"})
    with pytest.raises(SourceError, match="HTTP 401: Trustpilot refused the API key"):
        source.fetch({})


def test_a_429_without_headers_backs_off_exponentially(
    httpserver: HTTPServer, trustpilot: Callable[..., Source], sleeps: Sleeps
) -> None:
    for _ in range(2):
        httpserver.expect_ordered_request(REVIEWS).respond_with_json(
            {"message": "Too many requests"}, status=429
        )
    fake = FakeTrustpilot(httpserver)
    fake.reviews = [review("a1", when(20, 8))]
    fake.install()
    result = trustpilot().fetch({})
    assert [p.native_id for p in result.posts] == ["a1"]
    assert sleeps == [1.0, 2.0] and result.retries == 2


def test_server_errors_are_retried_then_given_up(
    httpserver: HTTPServer, trustpilot: Callable[..., Source], sleeps: Sleeps
) -> None:
    httpserver.expect_request(REVIEWS).respond_with_data("upstream error", status=503)
    with pytest.raises(SourceError) as caught:
        trustpilot().fetch({})
    assert "HTTP 503 (gave up after 5 attempts)" in clean(caught.value)
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"reviews": [{"id": "a1", "stars": 1, "crea', "expected JSON, got not JSON"),
        ("<html><body>Service Unavailable</body></html>", "expected JSON, got an HTML page"),
        ("\x89PNG\x00\xff", "expected JSON, got not JSON"),
        ('{"reviews": null}', "reviews: must be a list, not null"),
        ('{"links": []}', "reviews: missing"),
        ('[{"id": "a1"}]', "must be an object, not a list"),
    ],
)  # fmt: skip
def test_unreadable_answers(
    httpserver: HTTPServer, trustpilot: Callable[..., Source], body: str, expected: str
) -> None:
    httpserver.expect_request(REVIEWS).respond_with_data(body, content_type="application/json")
    with pytest.raises(SourceError) as caught:
        trustpilot().fetch({})
    message = clean(caught.value)
    assert expected in message and REVIEWS.lstrip("/") in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"stars": 6}, "reviews: item 1: stars: must be at most 5"),
        ({"stars": "1"}, "reviews: item 1: stars: must be a whole number, not a string"),
        ({"createdAt": "20/11/2026"}, "reviews: item 1: createdAt: not an ISO 8601 time with a zone"),
        ({"id": "../../x"}, "reviews: item 1: id: must be a Trustpilot id (letters and digits)"),
        ({"companyReply": {"text": "x", "createdAt": 5}}, "reviews: item 1: companyReply.createdAt: not an ISO 8601 time"),
        ({"consumer": "R. K."}, "reviews: item 1: consumer: must be an object, not a string"),
    ],
)  # fmt: skip
def test_wrong_fields_name_the_item_and_field(
    httpserver: HTTPServer, trustpilot: Callable[..., Source], change: dict[str, Any], expected: str
) -> None:
    items = [review("a1", when(20, 9)), review("a2", when(20, 8))]
    items[1].update(change)
    httpserver.expect_request(REVIEWS).respond_with_json({"reviews": items})
    with pytest.raises(SourceError) as caught:
        trustpilot().fetch({})
    assert expected in clean(caught.value)


def test_the_key_is_never_shown(httpserver: HTTPServer, trustpilot: Callable[..., Source]) -> None:
    httpserver.expect_request(REVIEWS).respond_with_json(
        {"message": f"quota exceeded for apikey {KEY}"}, status=400
    )
    with pytest.raises(SourceError) as caught:
        trustpilot().fetch({})
    assert "HTTP 400: quota exceeded for apikey [redacted]" in clean(caught.value)


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"star_threshold": 0}, "greater than or equal to 1"),
        ({"star_threshold": 6}, "less than or equal to 5"),
        ({"business_unit_id": "acme.example"}, "a Trustpilot id"),
        ({"api_key_env": "tp_live_123"}, "must name an environment variable"),
    ],
)
def test_settings_are_checked(httpserver: HTTPServer, extra: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(httpserver, **extra)
    assert problem in str(caught.value)


def test_the_key_must_be_set(httpserver: HTTPServer, connect: Connect) -> None:
    with pytest.raises(SourceError, match="trustpilot: TRUSTPILOT_KEY is not set"):
        connect(settings(httpserver), {})


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class TrustpilotScenario:
    """Each complaint a one- or two-star review; its answer the company's reply (edited
    later: the reply's createdAt is what counts)."""

    type = "trustpilot"
    channel = "trustpilot"
    env: Mapping[str, str] = MappingProxyType({"TRUSTPILOT_KEY": KEY})
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "trustpilot"\nbusiness_unit_id = "{UNIT}"\n'
            f'api_key_env = "TRUSTPILOT_KEY"\nbase_url = "{base_url}"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakeTrustpilot(server)
        for number, c in enumerate(complaints, start=1):
            item = review(f"{c.key}x{number}", format_instant(c.at), 1 + number % 2,
                          text=c.text, title=f"Review {number}")  # fmt: skip
            if c.answer is not None and c.answered_at is not None:
                edited = format_instant(c.answered_at + timedelta(days=2))
                item["companyReply"] = {"text": c.answer, "createdAt": format_instant(c.answered_at),
                                        "updatedAt": edited}  # fmt: skip
            fake.reviews.append(item)
        fake.install()


SCENARIO = TrustpilotScenario()


# --- end to end ------------------------------------------------------------------------------------


def test_gathered_twice_a_later_reply_answers_its_case_and_praise_stays_apart(
    httpserver: HTTPServer, make_site: SiteFactory
) -> None:
    fake = FakeTrustpilot(httpserver)
    fake.reviews = [
        review("c1", when(20, 8), 2, text="Refund ignored."),
        review("c2", when(20, 9), 5, text="Lovely people", reply="Thanks!", replied=when(20, 10)),
        review("c3", when(20, 10), 3, text="Meh, slow delivery"),
    ]
    fake.install()
    config = BASE_CONFIG + (
        f'\n[[sources]]\ntype = "trustpilot"\nbusiness_unit_id = "{UNIT}"\n'
        f'api_key_env = "TRUSTPILOT_KEY"\nbase_url = "{httpserver.url_for("/")}"\n'
    )
    root = make_site(config=config)
    options = {"sleep": lambda _s: None, "clock": lambda: NOW.timestamp()}
    env = {"TRUSTPILOT_KEY": KEY}
    gather(root, NOW, environ=env, client_options=options)
    record = load_record(root)
    assert sorted(record.cases) == ["trustpilot-c1", "trustpilot-c3"]  # c2 is praise
    assert "trustpilot-c2" in (root / "content/praise/2026-11.jsonl").read_text("utf-8")

    # The company answers c1 a day, two hours and five minutes later; then edits it.
    fake.reviews[0]["companyReply"] = {"text": "Sorry, please DM us your order number.",
                                       "createdAt": when(21, 10, 5), "updatedAt": when(22, 8)}  # fmt: skip
    later = NOW + timedelta(hours=1)
    gather(root, later, environ=env, client_options=options)
    case = load_record(root).cases["trustpilot-c1"]
    assert [(e.kind, e.by) for e in case.events] == [
        ("complaint", "customer"), ("moved_private", "brand")
    ]  # fmt: skip
    assert case.events[1].at - case.events[0].at == timedelta(days=1, hours=2, minutes=5)
    assert len(load_record(root).cases["trustpilot-c3"].events) == 1
    before = snapshot(root / "content")
    gather(root, later + timedelta(hours=1), environ=env, client_options=options)
    assert {k: v for k, v in snapshot(root / "content").items() if "state/" not in k} == {
        k: v for k, v in before.items() if "state/" not in k
    }
