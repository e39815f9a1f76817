"""Merging is idempotent and order-insensitive where it must be."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.record.model import Case, merge_cases
from tests.conftest import case, ev

times = st.sampled_from([f"2026-11-2{d}T1{h}:00:00Z" for d in range(5) for h in range(3)])
events = st.builds(
    lambda kind, at, by, text: ev(kind, at, by, **({"text": text} if text else {})),
    st.sampled_from(["reply", "customer_reply", "moved_private", "resolved", "note"]),
    times,
    st.sampled_from(["brand", "customer"]),
    st.sampled_from([None, "a", "b"]),
)


@st.composite
def copies(draw: st.DrawFn) -> tuple[Case, Case]:
    def one() -> Case:
        extra: dict[str, Any] = {}
        if draw(st.booleans()):
            extra["tags"] = draw(
                st.lists(st.sampled_from(["billing", "app", "outage"]), unique=True)
            )
        if draw(st.booleans()):
            extra["title"] = draw(st.sampled_from(["One", "Two"]))
        if draw(st.booleans()):
            extra["author"] = {"handle": draw(st.sampled_from(["@a", "@b"]))}
        evs = [ev("complaint", "2026-11-20T10:00:00Z"), *draw(st.lists(events, max_size=5))]
        return Case.model_validate(case("x-1", *evs, **extra))

    return one(), one()


@settings(max_examples=300)
@given(copies())
def test_merging_twice_changes_nothing(pair: tuple[Case, Case]) -> None:
    old, new = pair
    once = merge_cases(old, new)
    assert merge_cases(once, new) == once
    assert merge_cases(once, once) == once
    # nothing recorded is lost
    kept = {e.model_dump_json() for e in once.events}
    assert {e.model_dump_json() for e in old.events} <= kept
    assert {e.model_dump_json() for e in new.events} <= kept
    assert [e.at for e in once.events] == sorted(e.at for e in once.events)
