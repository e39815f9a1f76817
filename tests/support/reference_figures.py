"""An independent reference implementation of `api/summary.json` ("The figures").

Written from the design text (DESIGN.md: "Case lifecycle", "The record format",
"The figures") alone, without reading or importing the product's code, so that the two
can be cross-checked. It is written for clarity, not speed: every figure is computed
the plain way, with exact arithmetic (`fractions.Fraction`) for the Kaplan–Meier
survival, so there is no rounding anywhere before the final output.

A case carrying an `outcome` (docs/record-format.md, docs/figures.md "Dates-only cases")
starts in the outcome's state, has no first-response time, stays out of both times and is
counted in the FIG block's `dates_only`.

Input: raw record dicts (one JSON line of `content/cases/*.jsonl` each, already decoded)
and the team's notes as dicts keyed by case id:
    {"status", "at", "agent"?, "reason"?, "body", "history": [{status, at, agent?, reason?, note?}]}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

STATES = ("open", "responded", "resolved", "closed", "hidden", "removed")

# A counting brand event of one of these kinds turns `open` into `responded`.
ANSWER_KINDS = ("reply", "moved_private", "follow_up")
# The first counting brand event of one of these kinds is the first response.
RESPONSE_KINDS = ("reply", "moved_private", "follow_up", "resolved", "closed")
# Kinds whose effect on the state a later (or equal-time) note decision overrides.
OVERRIDDEN_BY_NOTE = ("resolved", "closed", "reopened")

HALF = Fraction(1, 2)
TENTH = Fraction(1, 10)


def parse_time(text: str) -> datetime:
    """An ISO 8601 instant with a zone, as UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"no time zone in {text!r}")
    return moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """UTC as YYYY-MM-DDTHH:MM:SSZ."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds(delta: timedelta) -> Fraction:
    """A time span as an exact number of seconds."""
    return Fraction(delta.days * 86400 + delta.seconds) + Fraction(delta.microseconds, 10**6)


def as_number(value: Fraction) -> int | float:
    """Seconds as published: an int when whole."""
    if value.denominator == 1:
        return int(value)
    return float(value)


def normalise_handle(handle: str) -> str:
    """Handles compare without case and without a leading @."""
    handle = handle.strip()
    if handle.startswith("@"):
        handle = handle[1:]
    return handle.casefold()


@dataclass(frozen=True)
class Event:
    """One event on a case's timeline (from the record or from the team's note)."""

    kind: str
    at: datetime
    by: str
    handle: str | None
    from_note: bool


@dataclass(frozen=True)
class Outcome:
    """What the figures need to know about one existing case."""

    case_id: str
    channel: str
    opened: datetime
    shown_state: str  # with the hidden/removed overlay: counted in `states`
    state: str  # the underlying state: used for resolution
    first_response: datetime | None  # the first counting brand response
    resolved_at: datetime | None  # the resolved event that made the state `resolved`
    outcome: dict[str, Any] | None = None  # the case's outcome: a dates-only case


def _note_decisions(note: dict[str, Any]) -> list[dict[str, Any]]:
    """The history, then the current decision (a stable sort by time comes later)."""
    current = {"status": note["status"], "at": note["at"]}
    return [*note.get("history", []), current]


def case_events(
    case: dict[str, Any], note: dict[str, Any] | None, now: datetime
) -> tuple[list[Event], datetime | None]:
    """The case's events up to now, in timeline order, and T (the note's last word, or None).

    Order: by time; at equal times record events come before note events; record events
    keep their file order and note decisions their history-then-current order.
    """
    record = []
    for raw in case["events"]:
        event = Event(
            kind=raw["kind"],
            at=parse_time(raw["at"]),
            by=raw["by"],
            handle=raw.get("handle"),
            from_note=False,
        )
        if event.at <= now:
            record.append(event)

    from_note = []
    if note is not None:
        for decision in _note_decisions(note):
            event = Event(
                kind=decision["status"],
                at=parse_time(decision["at"]),
                by="brand",
                handle=None,
                from_note=True,
            )
            if event.at <= now:
                from_note.append(event)

    last_word = max((e.at for e in from_note), default=None)
    events = sorted(record + from_note, key=lambda e: (e.at, e.from_note))  # stable
    return events, last_word


def case_outcome(
    case: dict[str, Any],
    note: dict[str, Any] | None,
    *,
    now: datetime,
    bots: dict[str, list[str]],
) -> Outcome | None:
    """Derive one case's state and times; None when the case does not exist yet."""
    channel = case["channel"]
    bot_handles = {normalise_handle(h) for h in bots.get(channel, [])}
    events, last_word = case_events(case, note, now)

    complaints = [e.at for e in events if e.kind == "complaint" and not e.from_note]
    if not complaints:
        return None
    opened = min(complaints)

    def is_bot(event: Event) -> bool:
        return event.handle is not None and normalise_handle(event.handle) in bot_handles

    def counts_as_response(event: Event) -> bool:
        return event.by == "brand" and not is_bot(event) and event.kind in RESPONSE_KINDS

    def overridden(event: Event) -> bool:
        return (
            last_word is not None
            and not event.from_note
            and event.kind in OVERRIDDEN_BY_NOTE
            and event.at >= last_word
        )

    outcome = case.get("outcome")
    state = outcome["state"] if outcome else "open"
    brand_has_responded = state != "open"
    first_response: datetime | None = None
    resolved_at: datetime | None = None
    hidden = False
    removed = False

    for event in events:
        if event.kind in ANSWER_KINDS and counts_as_response(event) and state == "open":
            state = "responded"
        if event.kind == "resolved" and not overridden(event):
            state = "resolved"
            resolved_at = event.at
        if event.kind == "closed" and not overridden(event):
            state = "closed"
        if event.kind == "reopened" and not overridden(event):
            state = "responded" if brand_has_responded else "open"
            hidden = False  # a later reopening lifts an earlier hiding
        if event.kind == "hidden":
            hidden = True
        if event.kind == "removed":
            removed = True

        if counts_as_response(event):
            brand_has_responded = True
            if first_response is None and outcome is None:
                first_response = event.at

    if removed:
        shown_state = "removed"
    elif hidden:
        shown_state = "hidden"
    else:
        shown_state = state

    return Outcome(
        case_id=case["id"],
        channel=channel,
        opened=opened,
        shown_state=shown_state,
        state=state,
        first_response=first_response,
        resolved_at=resolved_at if state == "resolved" else None,
        outcome=outcome,
    )


def kaplan_meier(
    samples: list[tuple[Fraction, bool]],
) -> tuple[Fraction | None, Fraction | None, Fraction | None]:
    """(median, p90, more_than) of (duration, happened) samples; False = right-censored.

    S(t) is the product over distinct event times t_j <= t of (1 - d_j / n_j), where n_j
    counts every sample with duration >= t_j: a censoring at t_j is still at risk at t_j
    (an answer counts before a censoring at equal times).
    """
    survival = Fraction(1)
    median: Fraction | None = None
    p90: Fraction | None = None
    for t in sorted({duration for duration, happened in samples if happened}):
        at_risk = sum(1 for duration, _ in samples if duration >= t)
        events = sum(1 for duration, happened in samples if happened and duration == t)
        survival *= 1 - Fraction(events, at_risk)
        if median is None and survival <= HALF:
            median = t
        if p90 is None and survival <= TENTH:
            p90 = t
    more_than: Fraction | None = None
    if median is None and samples:
        more_than = max(duration for duration, _ in samples)
    return median, p90, more_than


def _optional(value: Fraction | None) -> int | float | None:
    return None if value is None else as_number(value)


def figures(
    outcomes: list[Outcome], *, now: datetime, response_target_s: int | None
) -> dict[str, Any]:
    """One FIG block for the given cases (hidden ones only appear in states.hidden)."""
    states = dict.fromkeys(STATES, 0)
    for outcome in outcomes:
        states[outcome.shown_state] += 1

    shown = [o for o in outcomes if o.shown_state != "hidden"]
    counted = [o for o in shown if o.outcome is None]
    undated = [o for o in shown if o.outcome is not None]

    response: list[tuple[Fraction, bool]] = []
    for outcome in counted:
        if outcome.first_response is not None:
            duration = max(Fraction(0), seconds(outcome.first_response - outcome.opened))
            response.append((duration, True))
        else:
            response.append((seconds(now - outcome.opened), False))

    resolution: list[tuple[Fraction, bool]] = []
    for outcome in counted:
        if outcome.state == "resolved" and outcome.resolved_at is not None:
            duration = max(Fraction(0), seconds(outcome.resolved_at - outcome.opened))
            resolution.append((duration, True))
        else:
            resolution.append((seconds(now - outcome.opened), False))

    answered = sum(1 for _, happened in response if happened)
    within_target: float | None = None
    if response_target_s is not None:
        target = Fraction(response_target_s)
        in_time = sum(1 for d, happened in response if happened and d <= target)
        late_waiting = sum(1 for d, happened in response if not happened and d > target)
        denominator = answered + late_waiting
        if denominator:
            within_target = float(Fraction(in_time, denominator))

    r_median, r_p90, r_more = kaplan_meier(response)
    f_median, f_p90, f_more = kaplan_meier(resolution)
    fixed = sum(1 for _, happened in resolution if happened)
    return {
        "cases": len(shown),
        "states": states,
        "first_response": {
            "median_s": _optional(r_median),
            "p90_s": _optional(r_p90),
            "more_than_s": _optional(r_more),
            "answered": answered,
            "waiting": len(response) - answered,
            "within_target": within_target,
        },
        "resolution": {
            "median_s": _optional(f_median),
            "p90_s": _optional(f_p90),
            "more_than_s": _optional(f_more),
            "resolved": fixed,
            "waiting": len(resolution) - fixed,
        },
        "dates_only": dates_only_block(undated),
    }


def dates_only_block(undated: list[Outcome]) -> dict[str, Any]:
    """Counts of the dates-only cases: timely or not, and by (underlying) state."""
    days = {o.outcome.get("within_days") for o in undated if o.outcome}
    days.discard(None)
    timely = sum(1 for o in undated if o.outcome and o.outcome.get("timely") is True)
    untimely = sum(1 for o in undated if o.outcome and o.outcome.get("timely") is False)
    answered = timely + untimely
    return {
        "cases": len(undated),
        "answered_within_days": days.pop() if len(days) == 1 else None,
        "timely": timely,
        "untimely": untimely,
        "timely_share": float(Fraction(timely, answered)) if answered else None,
        "closed_with_relief": sum(1 for o in undated if o.state == "resolved"),
        "closed_without_relief": sum(1 for o in undated if o.state == "closed"),
        "in_progress": sum(1 for o in undated if o.state == "responded"),
        "no_response": sum(1 for o in undated if o.state == "open"),
    }


def reference_summary(
    cases: list[dict[str, Any]],
    notes: dict[str, dict[str, Any]],
    *,
    now: datetime,
    brand: str,
    window_days: int,
    response_target_s: int | None,
    bots: dict[str, list[str]],
) -> dict[str, Any]:
    """`api/summary.json` for the given record, notes, now and policy."""
    now = now.astimezone(UTC)
    outcomes = []
    for case in cases:
        outcome = case_outcome(case, notes.get(case["id"]), now=now, bots=bots)
        if outcome is not None:
            outcomes.append(outcome)

    window_start = now - timedelta(days=window_days)

    def block(selected: list[Outcome]) -> dict[str, Any]:
        recent = [o for o in selected if o.opened >= window_start]
        return {
            "all_time": figures(selected, now=now, response_target_s=response_target_s),
            "window": figures(recent, now=now, response_target_s=response_target_s),
        }

    everything = block(outcomes)
    channels = {}
    for channel in sorted({o.channel for o in outcomes}):
        channels[channel] = block([o for o in outcomes if o.channel == channel])

    return {
        "brand": brand,
        "generated_at": format_time(now),
        "window_days": window_days,
        "all_time": everything["all_time"],
        "window": everything["window"],
        "channels": channels,
    }
