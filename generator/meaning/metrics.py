"""The published figures: Kaplan–Meier medians that count unanswered complaints.

Definitions are DESIGN.md's "The figures". Every unanswered (unresolved) case is
right-censored at "now", so ignoring a complaint can never make a figure look better.
Dates-only cases (an outcome without a time) are left out of the times and counted apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from generator.meaning.lifecycle import Facts
from generator.record.model import STATES
from generator.record.times import format_instant, seconds_between

Seconds = float | int
# KM survival is a product of floats; values this close to a threshold count as reaching it
# (an exact 1/2 computed as 0.5000000000000001 must still be "0.5 or below").
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Observation:
    """A duration and whether it ended in the event (True) or was censored at now (False)."""

    duration: Seconds
    observed: bool


@dataclass(frozen=True, slots=True)
class KaplanMeier:
    """The quantities published for one set of observations."""

    median: Seconds | None
    p90: Seconds | None
    more_than: Seconds | None
    events: int
    censored: int


def kaplan_meier(observations: Sequence[Observation]) -> KaplanMeier:
    """Product-limit estimate: the first times where survival falls to 0.5 / 0.1 or below.

    At equal times events are processed before censorings (those censored at t are
    still at risk at t).
    """
    events = sum(1 for o in observations if o.observed)
    censored = len(observations) - events
    if not observations:
        return KaplanMeier(None, None, None, 0, 0)
    ordered = sorted(observations, key=lambda o: o.duration)
    at_risk = len(ordered)
    survival = 1.0
    median: Seconds | None = None
    p90: Seconds | None = None
    i = 0
    while i < len(ordered):
        t = ordered[i].duration
        d = c = 0
        while i < len(ordered) and ordered[i].duration == t:
            if ordered[i].observed:
                d += 1
            else:
                c += 1
            i += 1
        if d:
            survival *= 1 - d / at_risk
            if median is None and survival <= 0.5 + _EPS:
                median = t
            if p90 is None and survival <= 0.1 + _EPS:
                p90 = t
                break
        at_risk -= d + c
    longest = max(o.duration for o in observations)
    return KaplanMeier(median, p90, None if median is not None else longest, events, censored)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def observe(view: Facts, now: datetime) -> tuple[Observation, Observation]:
    """A case's time to first response and time to a fix; unanswered or unfixed ones are
    censored at now (`closed` is not a fix)."""
    answered = view.first_response_at
    fixed = view.resolved_at if view.base_state == "resolved" else None
    return (
        Observation(seconds_between(view.opened, answered or now), answered is not None),
        Observation(seconds_between(view.opened, fixed or now), fixed is not None),
    )


def figures(views: Iterable[Facts], now: datetime, response_target: int | None) -> dict[str, Any]:
    """One FIG block of api/summary.json for the given cases."""
    states = dict.fromkeys(STATES, 0)
    first: list[Observation] = []
    resolution: list[Observation] = []
    in_time = 0
    undated: list[Facts] = []
    for view in views:
        states[view.state] += 1
        if view.hidden:
            continue
        if view.dates_only:
            undated.append(view)
            continue
        answer, fix = observe(view, now)
        first.append(answer)
        resolution.append(fix)
        if answer.observed and response_target is not None and answer.duration <= response_target:
            in_time += 1
    fr = kaplan_meier(first)
    rs = kaplan_meier(resolution)
    within: float | None = None
    if response_target is not None:
        late_waiting = sum(1 for o in first if not o.observed and o.duration > response_target)
        within = _ratio(in_time, fr.events + late_waiting)
    return {
        "cases": len(first) + len(undated),
        "states": states,
        "first_response": {
            "median_s": fr.median,
            "p90_s": fr.p90,
            "more_than_s": fr.more_than,
            "answered": fr.events,
            "waiting": fr.censored,
            "within_target": within,
        },
        "resolution": {
            "median_s": rs.median,
            "p90_s": rs.p90,
            "more_than_s": rs.more_than,
            "resolved": rs.events,
            "waiting": rs.censored,
        },
        "dates_only": dates_only(undated),
    }


# A dates-only case's state, as the figures name it for a complaint database's categories.
_DATES_ONLY_STATES = {
    "resolved": "closed_with_relief",
    "closed": "closed_without_relief",
    "responded": "in_progress",
    "open": "no_response",
}


def dates_only(views: Sequence[Facts]) -> dict[str, Any]:
    """What can be known of cases whose answer has no time (not hidden): how many were
    answered within the source's deadline, and where they stand."""
    block: dict[str, Any] = {"cases": len(views), "answered_within_days": None}
    deadlines = {v.within_days for v in views} - {None}
    if len(deadlines) == 1:
        block["answered_within_days"] = deadlines.pop()
    timely = [v.timely for v in views]
    block["timely"] = timely.count(True)
    block["untimely"] = timely.count(False)
    block["timely_share"] = _ratio(block["timely"], block["timely"] + block["untimely"])
    counts = dict.fromkeys(_DATES_ONLY_STATES.values(), 0)
    for view in views:
        counts[_DATES_ONLY_STATES[view.base_state]] += 1
    block.update(counts)
    return block


def in_window(view: Facts, now: datetime, window_days: int) -> bool:
    """Opened within the last `window_days` days (inclusive of the boundary)."""
    return view.opened >= now - timedelta(days=window_days)


def summary(
    views: Sequence[Facts],
    now: datetime,
    *,
    brand: str,
    window_days: int,
    response_target: int | None,
) -> dict[str, Any]:
    """The whole api/summary.json document, in the design's key order."""
    window = [v for v in views if in_window(v, now, window_days)]
    channels: dict[str, dict[str, Any]] = {}
    for channel in sorted({v.channel for v in views}):
        mine = [v for v in views if v.channel == channel]
        channels[channel] = {
            "all_time": figures(mine, now, response_target),
            "window": figures([v for v in window if v.channel == channel], now, response_target),
        }
    return {
        "brand": brand,
        "generated_at": format_instant(now),
        "window_days": window_days,
        "all_time": figures(views, now, response_target),
        "window": figures(window, now, response_target),
        "channels": channels,
    }


FIRST_RESPONSE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("under 15 min", 15 * 60),
    ("15–60 min", 3600),
    ("1–4 h", 4 * 3600),
    ("4–24 h", 86400),
    ("1–3 days", 3 * 86400),
    ("3–7 days", 7 * 86400),
    ("over 7 days", 10**12),
)
RESOLUTION_BUCKETS: tuple[tuple[str, int], ...] = (
    ("under 1 day", 86400),
    ("1–3 days", 3 * 86400),
    ("3–7 days", 7 * 86400),
    ("1–4 weeks", 28 * 86400),
    ("over 4 weeks", 10**12),
)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bar of a distribution: how many took this long, and how many still wait."""

    label: str
    done: int
    waiting: int


def distribution(
    views: Iterable[Facts], now: datetime, *, resolution: bool = False
) -> list[Bucket]:
    """Counts per time bucket: answered (or fixed) in it, and still waiting that long."""
    bounds = RESOLUTION_BUCKETS if resolution else FIRST_RESPONSE_BUCKETS
    done = [0] * len(bounds)
    waiting = [0] * len(bounds)
    for view in views:
        if view.hidden or view.dates_only:
            continue
        seen = observe(view, now)[1 if resolution else 0]
        index = next(i for i, (_, top) in enumerate(bounds) if seen.duration < top)
        (done if seen.observed else waiting)[index] += 1
    return [Bucket(label, d, w) for (label, _), d, w in zip(bounds, done, waiting, strict=True)]


@dataclass(frozen=True, slots=True)
class Month:
    """Figures for the cases opened in one calendar month (UTC)."""

    month: str  # YYYY-MM
    cases: int
    first_response: KaplanMeier
    resolution: KaplanMeier


def monthly(views: Sequence[Facts], now: datetime, months: int = 12) -> list[Month]:
    """The last `months` calendar months up to now, oldest first, each a cohort by opening."""
    keys: list[str] = []
    year, month = now.year, now.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    keys.reverse()
    cohorts: dict[str, list[Facts]] = {k: [] for k in keys}
    for view in views:
        key = view.opened.strftime("%Y-%m")
        if key in cohorts and not view.hidden and not view.dates_only:
            cohorts[key].append(view)
    out = []
    for key in keys:
        pairs = [observe(view, now) for view in cohorts[key]]
        first = kaplan_meier([answer for answer, _ in pairs])
        fixed = kaplan_meier([fix for _, fix in pairs])
        out.append(Month(key, len(cohorts[key]), first, fixed))
    return out
