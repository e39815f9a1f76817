"""The reference figures, checked by hand, then compared with the product on random sites.

`reference_figures.reference_summary` is written from DESIGN.md alone (it never reads the
product's code). The first tests pin it down with examples worked out by hand; the last
one builds random sites with the product's CLI and compares `api/summary.json` with it.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.reference_figures import kaplan_meier, reference_summary
from tests.support.strategies import BRAND, NOW, NOW_TEXT, Site, sites, write_site

MIN = 60
HOUR = 3600
DAY = 86400


def at(offset_s: int) -> str:
    """NOW + offset, as the record writes it."""
    return (NOW + timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def ev(kind: str, offset_s: int, by: str = "brand", **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "at": at(offset_s), "by": by, **extra}


def case(case_id: str, *events: dict[str, Any]) -> dict[str, Any]:
    return {"id": case_id, "channel": case_id.split("-")[0], "events": list(events)}


def complaint(offset_s: int) -> dict[str, Any]:
    return ev("complaint", offset_s, "customer")


def summary(
    cases: list[dict[str, Any]],
    notes: dict[str, dict[str, Any]] | None = None,
    *,
    window_days: int = 30,
    response_target_s: int | None = None,
    bots: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    return reference_summary(
        cases,
        notes or {},
        now=NOW,
        brand=BRAND,
        window_days=window_days,
        response_target_s=response_target_s,
        bots=bots or {},
    )


def states(**counts: int) -> dict[str, int]:
    base = dict.fromkeys(("open", "responded", "resolved", "closed", "hidden", "removed"), 0)
    return {**base, **counts}


EMPTY_FIG: dict[str, Any] = {
    "cases": 0,
    "states": states(),
    "first_response": {
        "median_s": None,
        "p90_s": None,
        "more_than_s": None,
        "answered": 0,
        "waiting": 0,
        "within_target": None,
    },
    "resolution": {
        "median_s": None,
        "p90_s": None,
        "more_than_s": None,
        "resolved": 0,
        "waiting": 0,
    },
    "dates_only": {
        "cases": 0,
        "answered_within_days": None,
        "timely": 0,
        "untimely": 0,
        "timely_share": None,
        "closed_with_relief": 0,
        "closed_without_relief": 0,
        "in_progress": 0,
        "no_response": 0,
    },
}


# --- the Kaplan–Meier estimator on its own ---------------------------------------------


def test_km_all_answered() -> None:
    # 10, 20, 30, 40: S = 3/4, 2/4, 1/4, 0 -> median 20 (S = 1/2), p90 40 (S = 0).
    samples = [(Fraction(t), True) for t in (10, 20, 30, 40)]
    assert kaplan_meier(samples) == (Fraction(20), Fraction(40), None)


def test_km_answer_counts_before_censoring_at_equal_times() -> None:
    # 600 answered, 600 censored, 1200 answered.
    # t=600: at risk 3 (the censored one still counts), 1 event -> S = 2/3.
    # t=1200: at risk 1, 1 event -> S = 0 -> median = p90 = 1200.
    # (Censoring first would give S(600) = 1/2 and a median of 600: flattering, wrong.)
    samples = [(Fraction(600), True), (Fraction(600), False), (Fraction(1200), True)]
    assert kaplan_meier(samples) == (Fraction(1200), Fraction(1200), None)


def test_km_nothing() -> None:
    assert kaplan_meier([]) == (None, None, None)


# --- whole summaries worked out by hand -------------------------------------------------


def test_empty_record() -> None:
    assert summary([], response_target_s=600) == {
        "brand": BRAND,
        "generated_at": NOW_TEXT,
        "window_days": 30,
        "all_time": EMPTY_FIG,
        "window": EMPTY_FIG,
        "channels": {},
    }


def test_median_with_an_unanswered_case() -> None:
    # Four cases opened 2 h ago: answered after 10, 20, 30 min; one not answered
    # (censored at 2 h = 7200 s).
    # KM: t=600: n=4, d=1 -> S=3/4; t=1200: n=3, d=1 -> S=1/2 -> median 1200;
    #     t=1800: n=2, d=1 -> S=1/4; never <= 1/10 -> p90 null.
    # Within a 20 min target: in time 600, 1200 = 2; late answered 1800 = still in the
    # denominator; waiting 7200 > 1200 -> denominator 3 + 1 = 4 -> 0.5.
    record = [
        case("x-1", complaint(-2 * HOUR), ev("reply", -2 * HOUR + 10 * MIN)),
        case("x-2", complaint(-2 * HOUR), ev("moved_private", -2 * HOUR + 20 * MIN)),
        case("x-3", complaint(-2 * HOUR), ev("follow_up", -2 * HOUR + 30 * MIN)),
        case("x-4", complaint(-2 * HOUR), ev("customer_reply", -HOUR, "customer")),
    ]
    result = summary(record, response_target_s=20 * MIN)
    fig = result["all_time"]
    assert fig["cases"] == 4
    assert fig["states"] == states(open=1, responded=3)
    assert fig["first_response"] == {
        "median_s": 1200,
        "p90_s": None,
        "more_than_s": None,
        "answered": 3,
        "waiting": 1,
        "within_target": 0.5,
    }
    # Nothing resolved: all censored at 7200 s -> "more than 7200 s".
    assert fig["resolution"] == {
        "median_s": None,
        "p90_s": None,
        "more_than_s": 7200,
        "resolved": 0,
        "waiting": 4,
    }
    assert result["window"] == fig
    assert result["channels"] == {"x": {"all_time": fig, "window": fig}}


def test_all_censored_says_more_than_the_longest_wait() -> None:
    record = [case("x-1", complaint(-HOUR)), case("mastodon-2", complaint(-3 * HOUR))]
    fig = summary(record, response_target_s=2 * HOUR)["all_time"]
    assert fig["first_response"] == {
        "median_s": None,
        "p90_s": None,
        "more_than_s": 3 * HOUR,
        "answered": 0,
        "waiting": 2,
        # in time 0; denominator 0 answered + 1 waiting longer than 2 h -> 0.0
        "within_target": 0.0,
    }


def test_within_target_null_without_target_or_denominator() -> None:
    # No target -> null; a target but one case waiting less than the target -> 0/0 -> null.
    record = [case("x-1", complaint(-10 * MIN))]
    assert summary(record)["all_time"]["first_response"]["within_target"] is None
    fig = summary(record, response_target_s=HOUR)["all_time"]
    assert fig["first_response"]["within_target"] is None


def test_a_reopened_fix() -> None:
    # Opened 10 h ago; reply after 1 h; resolved after 2 h; the customer reopens after 3 h:
    # back to responded (the brand had answered). Fixed again after 5 h -> resolved at 5 h
    # (the last resolved event), first response 1 h.
    events = [
        complaint(-10 * HOUR),
        ev("reply", -9 * HOUR),
        ev("resolved", -8 * HOUR),
        ev("reopened", -7 * HOUR, "customer"),
        ev("resolved", -5 * HOUR),
    ]
    fig = summary([case("github-1", *events)])["all_time"]
    assert fig["states"] == states(resolved=1)
    assert fig["first_response"]["median_s"] == HOUR
    assert fig["resolution"]["median_s"] == 5 * HOUR
    assert fig["resolution"]["resolved"] == 1

    # Without the second fix it is responded again, and resolution is censored at 10 h.
    fig = summary([case("github-1", *events[:4])])["all_time"]
    assert fig["states"] == states(responded=1)
    assert fig["resolution"] == {
        "median_s": None,
        "p90_s": None,
        "more_than_s": 10 * HOUR,
        "resolved": 0,
        "waiting": 1,
    }


def test_reopened_without_a_brand_answer_goes_back_to_open() -> None:
    # Resolved by the system (not a brand response), then reopened -> open.
    events = [complaint(-HOUR), ev("resolved", -50 * MIN, "system"), ev("reopened", -40 * MIN)]
    fig = summary([case("x-1", *events)])["all_time"]
    assert fig["states"] == states(open=1)
    assert fig["first_response"]["answered"] == 0


def test_a_brand_that_only_closes() -> None:
    # Closed (not fixed) by the brand after 2 h: that is the first response, not a fix.
    events = [complaint(-5 * HOUR), ev("closed", -3 * HOUR)]
    fig = summary([case("x-1", *events)])["all_time"]
    assert fig["states"] == states(closed=1)
    assert fig["first_response"]["median_s"] == 2 * HOUR
    assert fig["first_response"]["p90_s"] == 2 * HOUR
    assert fig["resolution"]["more_than_s"] == 5 * HOUR
    assert fig["resolution"]["resolved"] == 0


def test_hidden_case_is_only_counted_as_hidden() -> None:
    notes = {"x-2": {"status": "hidden", "at": at(-MIN), "reason": "spam", "body": ""}}
    record = [
        case("x-1", complaint(-HOUR), ev("reply", -30 * MIN)),
        case("x-2", complaint(-2 * HOUR)),
    ]
    fig = summary(record, notes)["all_time"]
    assert fig["cases"] == 1
    assert fig["states"] == states(responded=1, hidden=1)
    assert fig["first_response"]["answered"] == 1
    assert fig["first_response"]["waiting"] == 0
    assert fig["first_response"]["median_s"] == 30 * MIN
    assert fig["resolution"]["more_than_s"] == HOUR  # the hidden one's 2 h is not seen


def test_a_reopening_lifts_a_hiding_but_removal_stays() -> None:
    record = [
        case("x-1", complaint(-HOUR), ev("hidden", -50 * MIN, "system"), ev("reopened", -40 * MIN)),
        case(
            "x-2", complaint(-HOUR), ev("removed", -50 * MIN, "system"), ev("reopened", -40 * MIN)
        ),
    ]
    fig = summary(record)["all_time"]
    assert fig["states"] == states(open=1, removed=1)
    assert fig["cases"] == 2


def test_removed_case_still_counts_by_its_events() -> None:
    record = [
        case("x-1", complaint(-HOUR), ev("resolved", -30 * MIN), ev("removed", -MIN, "system"))
    ]
    fig = summary(record)["all_time"]
    assert fig["cases"] == 1
    assert fig["states"] == states(removed=1)
    assert fig["first_response"]["median_s"] == 30 * MIN
    assert fig["resolution"]["median_s"] == 30 * MIN


def test_a_bot_answer_does_not_count() -> None:
    bots = {"x": ["acmebot"]}
    events = [complaint(-HOUR), ev("reply", -59 * MIN, handle="@AcmeBot")]
    fig = summary([case("x-1", *events)], bots=bots)["all_time"]
    assert fig["states"] == states(open=1)
    assert fig["first_response"]["answered"] == 0
    assert fig["first_response"]["more_than_s"] == HOUR
    # The same handle on another channel is not a bot there.
    fig = summary([case("mastodon-1", *events)], bots=bots)["all_time"]
    assert fig["first_response"]["median_s"] == MIN
    # A bot's resolved still sets the state, but is not a response.
    events = [complaint(-HOUR), ev("resolved", -59 * MIN, handle="acmebot")]
    fig = summary([case("x-1", *events)], bots=bots)["all_time"]
    assert fig["states"] == states(resolved=1)
    assert fig["first_response"]["answered"] == 0
    assert fig["resolution"]["median_s"] == MIN


def test_customer_reply_is_not_a_response() -> None:
    events = [complaint(-HOUR), ev("reply", -50 * MIN, "customer"), ev("customer_reply", -40 * MIN)]
    fig = summary([case("x-1", *events)])["all_time"]
    assert fig["states"] == states(open=1)
    assert fig["first_response"]["answered"] == 0


def test_the_note_has_the_last_word() -> None:
    # The team closed it (not fixed) 2 h ago; a gathered "resolved" 1 h ago does not
    # change that. The note's own decision is a brand response (first response at 3 h).
    notes = {
        "x-1": {
            "status": "closed",
            "at": at(-2 * HOUR),
            "body": "We cannot change this.",
            "history": [],
        }
    }
    events = [complaint(-5 * HOUR), ev("resolved", -HOUR, "system")]
    fig = summary([case("x-1", *events)], notes)["all_time"]
    assert fig["states"] == states(closed=1)
    assert fig["first_response"]["median_s"] == 3 * HOUR
    assert fig["resolution"]["resolved"] == 0

    # A note resolving it: resolution at the note's time.
    notes = {"x-1": {"status": "resolved", "at": at(-2 * HOUR), "body": "Fixed.", "history": []}}
    fig = summary([case("x-1", complaint(-5 * HOUR))], notes)["all_time"]
    assert fig["states"] == states(resolved=1)
    assert fig["resolution"]["median_s"] == 3 * HOUR

    # A note dated in the future does not apply yet.
    notes = {"x-1": {"status": "resolved", "at": at(HOUR), "body": "Fixed.", "history": []}}
    fig = summary([case("x-1", complaint(-5 * HOUR))], notes)["all_time"]
    assert fig["states"] == states(open=1)


def test_note_history_then_current() -> None:
    # Resolved by the team at -4 h, then reopened by the team at -2 h: responded again
    # (the team's resolved was a brand response).
    notes = {
        "x-1": {
            "status": "reopened",
            "at": at(-2 * HOUR),
            "body": "",
            "history": [{"status": "resolved", "at": at(-4 * HOUR), "note": "Fixed."}],
        }
    }
    fig = summary([case("x-1", complaint(-5 * HOUR))], notes)["all_time"]
    assert fig["states"] == states(responded=1)
    assert fig["first_response"]["median_s"] == HOUR
    assert fig["resolution"]["resolved"] == 0


def test_future_events_and_cases_do_not_exist_yet() -> None:
    record = [
        case("x-1", complaint(HOUR)),  # opens after now: not there at all
        case("github-2", complaint(-HOUR), ev("reply", MIN)),  # the answer is in the future
        case("github-3", complaint(2 * HOUR), complaint(-2 * HOUR)),  # the earliest counts
    ]
    result = summary(record)
    fig = result["all_time"]
    assert fig["cases"] == 2
    assert fig["states"] == states(open=2)
    assert fig["first_response"]["more_than_s"] == 2 * HOUR
    assert list(result["channels"]) == ["github"]


def test_window() -> None:
    # Window of 7 days: a case opened exactly 7 days ago is in, 7 days and 1 s is out.
    record = [
        case("x-1", complaint(-7 * DAY)),
        case("x-2", complaint(-7 * DAY - 1), ev("reply", -DAY)),
    ]
    result = summary(record, window_days=7)
    assert result["all_time"]["cases"] == 2
    assert result["window"]["cases"] == 1
    assert result["window"]["states"] == states(open=1)
    assert result["window"]["first_response"]["more_than_s"] == 7 * DAY
    assert result["window_days"] == 7


def test_time_zones_and_answers_before_the_opening() -> None:
    # "+02:00" is converted to UTC; a reply dated before the complaint counts as 0 s
    # (a time is never negative).
    opening = {"kind": "complaint", "at": "2026-11-10T13:00:00+02:00", "by": "customer"}
    early = {"at": "2026-11-10T10:30:00Z", "by": "brand"}
    record = [{"id": "x-1", "channel": "x", "events": [opening, {"kind": "reply", **early}]}]
    fig = summary(record)["all_time"]
    assert fig["first_response"]["median_s"] == 0
    assert fig["resolution"]["more_than_s"] == HOUR
    # The same for a fix dated before the complaint: resolved after 0 s, not -30 min.
    record = [{"id": "x-1", "channel": "x", "events": [opening, {"kind": "resolved", **early}]}]
    fig = summary(record)["all_time"]
    assert fig["resolution"]["median_s"] == 0
    assert fig["resolution"]["p90_s"] == 0


# --- the product against the reference ---------------------------------------------------


def build_with_product(site: Site, root: Path) -> dict[str, Any]:
    from click.testing import CliRunner

    from generator.cli import main

    site_dir = root / "site"
    out = root / "out"
    write_site(
        site_dir,
        site.cases,
        site.notes,
        brand=BRAND,
        window_days=site.window_days,
        response_target_s=site.response_target_s,
        bots=site.bots,
    )
    result = CliRunner().invoke(
        main, ["build", "--site", str(site_dir), "--out", str(out), "--now", NOW_TEXT]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    data: dict[str, Any] = json.loads((out / "api" / "summary.json").read_text(encoding="utf-8"))
    return data


def differences(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Where two summaries differ, one line per leaf, for a readable failure."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        lines = []
        for key in sorted(set(actual) | set(expected)):
            lines += differences(
                actual.get(key, "<missing>"), expected.get(key, "<missing>"), f"{path}/{key}"
            )
        return lines
    if actual != expected:
        return [f"{path}: product {actual!r}, reference {expected!r}"]
    return []


def _approx_floats(summary: dict[str, Any]) -> dict[str, Any]:
    """The same summary with every within_target wrapped in pytest.approx."""
    copy: dict[str, Any] = json.loads(json.dumps(summary))
    figs = [copy["all_time"], copy["window"]]
    for per_channel in copy["channels"].values():
        figs += [per_channel["all_time"], per_channel["window"]]
    for fig in figs:
        value = fig["first_response"]["within_target"]
        if value is not None:
            fig["first_response"]["within_target"] = pytest.approx(value)
        share = fig["dates_only"]["timely_share"]
        if share is not None:
            fig["dates_only"]["timely_share"] = pytest.approx(share)
    return copy


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site=sites())
def test_product_matches_the_reference(site: Site) -> None:
    expected = reference_summary(
        site.cases,
        site.notes,
        now=datetime.fromisoformat(NOW_TEXT).astimezone(UTC),
        brand=BRAND,
        window_days=site.window_days,
        response_target_s=site.response_target_s,
        bots=site.bots,
    )
    with tempfile.TemporaryDirectory() as tmp:
        actual = build_with_product(site, Path(tmp))
    assert actual == _approx_floats(expected), "\n".join(differences(actual, expected))
