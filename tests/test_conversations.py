"""The shared meaning of gathered posts: threads, answers, DMs, fixes, praise, redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from generator.config import parse_config
from generator.gather.redact import CARD, EMAIL, PHONE, Redactor, luhn
from generator.gather.sources.base import Post, Signal
from generator.gather.threads import Outcome, Threader, native_to_id
from generator.record.model import Case
from tests.conftest import BASE_CONFIG

T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
CONFIG = parse_config(
    BASE_CONFIG.replace('x = ["TestCare"]', 'x = ["TestCare"]\ngithub = ["acme-care"]')
    + '\n[gather]\nredact = ["\\\\bORD-\\\\d{6}\\\\b"]\n'
)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def post(nid: str, minutes: int, author: str, text: str, **extra: Any) -> Post:
    return Post(native_id=nid, at=at(minutes), author=author, text=text, **extra)


def run(posts: list[Post], signals: list[Signal] | None = None, cases: dict[str, Case] | None = None,
        channel: str = "x") -> tuple[dict[str, Case], Outcome]:  # fmt: skip
    record = {} if cases is None else cases
    threader = Threader(CONFIG, record, at(1000))
    outcome = threader.apply(channel, posts, signals or [])
    return record, outcome


def kinds(case: Case) -> list[tuple[str, str]]:
    return [(e.kind, e.by) for e in case.events]


def test_a_thread_with_answers_dm_follow_up_and_fix() -> None:
    posts = [
        post("1", 0, "linda", "My bill is wrong, charged twice!", url="https://x.example/linda/1"),
        post("2", 5, "TestCare", "Sorry Linda, please DM us your account number", parent_id="1"),
        post("3", 9, "linda", "Done", parent_id="2"),
        post("4", 60, "TestCare", "Refund is on its way", parent_id="3"),
        post("5", 61, "TestCare", "And it will show in 2 days", parent_id="4"),
        post("6", 2000, "TestCare", "Billing bug closed #Fixed", parent_id="5"),
        post("7", 3, "TestBot", "Thanks! Ticket 42 created", parent_id="1"),
    ]
    record, outcome = run(posts)
    assert list(record) == ["x-1"]
    case = record["x-1"]
    assert kinds(case) == [
        ("complaint", "customer"),
        ("reply", "brand"),  # the bot: kept, and the lifecycle will not count it
        ("moved_private", "brand"),
        ("customer_reply", "customer"),
        ("reply", "brand"),
        ("follow_up", "brand"),
        ("resolved", "brand"),
    ]
    assert case.events[1].handle == "TestBot"
    assert case.author is not None and case.author.handle == "linda"
    assert outcome.new_cases == 1


def test_gathering_the_same_posts_again_adds_nothing() -> None:
    posts = [post("1", 0, "a", "Broken app"), post("2", 5, "TestCare", "On it", parent_id="1")]
    record, _ = run(posts)
    before = dict(record)
    again, outcome = run(posts, cases=record)
    assert again == before
    assert outcome.new_events == 0
    edited = [post("2", 5, "TestCare", "On it (edited)", parent_id="1")]
    assert run(edited, cases=record)[0] == before


def test_replies_join_cases_gathered_earlier() -> None:
    record, _ = run([post("1", 0, "a", "No signal since Monday")])
    run([post("9", 30, "TestCare", "Which postcode?", parent_id="1")], cases=record)
    assert kinds(record["x-1"]) == [("complaint", "customer"), ("reply", "brand")]


def test_praise_is_kept_apart_and_its_replies_too() -> None:
    record, outcome = run(
        [
            post("1", 0, "fan", "Thank you, the new app is great"),
            post("2", 1, "TestCare", "Thanks so much!", parent_id="1"),
            post("3", 2, "grump", "Thanks for nothing, still no refund"),
        ]
    )
    assert list(record) == ["x-3"]
    assert [p.native_id for p in outcome.praise] == ["1"]


def test_the_brands_own_handle_is_never_a_complaint_word() -> None:
    """The sample config's `@help@social.example`: "help" is a complaint word, but a
    mention of the brand is not something the customer said."""
    config = parse_config(
        BASE_CONFIG.replace("[accounts]\n", '[accounts]\nmastodon = ["@help@social.example"]\n')
    )
    record: dict[str, Case] = {}
    outcome = Threader(config, record, at(1000)).apply(
        "mastodon",
        [
            post("1", 0, "@ann@social.example", "@help thanks, great service!"),
            post("2", 1, "@bo@other.example", "@help@social.example love the new app"),
            post("3", 2, "@cy@social.example", "@help the app won't start, please help"),
        ],
        [],
    )
    assert [p.native_id for p in outcome.praise] == ["1", "2"]
    assert list(record) == ["mastodon-3"]


def test_a_sources_own_verdict_on_praise_wins_over_the_text() -> None:
    record, outcome = run(
        [
            post("1", 0, "rev1", "Thanks! Great app", praise=False, rating=2, title="2 stars"),
            post("2", 1, "rev2", "Why is this still broken?", praise=True, rating=5),
        ]
    )
    assert list(record) == ["x-1"]
    assert [p.native_id for p in outcome.praise] == ["2"]


def test_brand_posts_outside_a_thread_are_not_complaints() -> None:
    record, outcome = run([post("1", 0, "TestCare", "Maintenance tonight 2-4am")])
    assert record == {}
    assert outcome.skipped == {"brand post outside a known thread": 1}


def test_source_knowledge_of_the_brand_wins() -> None:
    posts = [
        post("7", 0, "someone", "Crash on start", root_id="7", title="App crashes"),
        post("7-c1", 10, "maintainer", "Fixed in 5.3", parent_id="7", root_id="7", is_brand=True),
    ]
    signals = [Signal("7", "resolved", at(20), by_brand=True), Signal("99", "closed", at(5), True)]
    record, outcome = run(posts, signals, channel="github")
    assert kinds(record["github-7"]) == [
        ("complaint", "customer"),
        ("reply", "brand"),
        ("resolved", "brand"),
    ]
    assert record["github-7"].title == "App crashes"
    assert outcome.skipped == {"status of an unknown thread": 1}
    again, _ = run([], signals, cases=record, channel="github")
    assert len(again["github-7"].events) == 3  # a repeated signal is not a new event


def test_personal_data_is_redacted_before_storage() -> None:
    text = (
        "Email me at jo.bloggs@mail.example, call +44 7700 900123, card 4539 1488 0343 6467, "
        "order ORD-123456; see https://x.example/a/status/1860012345678901234"
    )
    record, _ = run([post("1", 0, "jo", text, author_name="Jo jo@mail.example")])
    stored = record["x-1"].events[0].text
    assert stored == (
        f"Email me at {EMAIL}, call {PHONE}, card {CARD}, order [removed]; "
        "see https://x.example/a/status/1860012345678901234"
    )
    assert record["x-1"].author is not None
    assert record["x-1"].author.name == f"Jo {EMAIL}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@linda@example.social said so", "@linda@example.social said so"),
        ("on 2026-11-30 at 10:00", "on 2026-11-30 at 10:00"),
        ("version 5.3.1, £12.99, ticket 12345", "version 5.3.1, £12.99, ticket 12345"),
        ("not a card 4111 1111 1111 1112", "not a card 4111 1111 1111 1112"),
        ("(555) 123-4567", PHONE),
        ("4111-1111-1111-1111", CARD),
    ],
)
def test_redaction_leaves_what_is_not_personal(text: str, expected: str) -> None:
    assert Redactor()(text) == expected


def test_luhn() -> None:
    assert luhn("4111111111111111")
    assert not luhn("4111111111111112")


def test_unsafe_native_ids_become_stable_hashes() -> None:
    assert native_to_id("reviews", "tag:example.com,2026:review/1") == native_to_id(
        "reviews", "tag:example.com,2026:review/1"
    )
    assert native_to_id("reviews", "tag:example.com,2026:review/1").startswith("reviews-h")
    assert native_to_id("github", "412") == "github-412"


def test_praise_is_redacted_like_every_post() -> None:
    _, outcome = run([post("1", 0, "fan", "Thank you, great app! Write me at fan@mail.example")])
    [kept] = outcome.praise
    assert kept.text == "Thank you, great app! Write me at [email removed]"


def test_a_signed_brand_answer_names_its_agent() -> None:
    record, _ = run(
        [
            post("1", 0, "linda", "Still no refund?"),
            post("2", 5, "TestCare", "Sorry Linda, it is on its way today ^JM", parent_id="1"),
            post("3", 6, "linda", "Thanks ^_^", parent_id="2"),
        ]
    )
    agents = [(e.by, e.agent) for e in record["x-1"].events]
    assert agents == [("customer", None), ("brand", "JM"), ("customer", None)]
