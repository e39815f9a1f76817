"""The published figures: Kaplan–Meier medians that count unanswered complaints.

Definitions are DESIGN.md's "The figures". Every unanswered (unresolved) case is
right-censored at "now", so ignoring a complaint can never make a figure look better.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from generator.lifecycle import CaseView
from generator.model import STATES
from generator.times import format_instant, seconds_between

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


def figures(
    views: Iterable[CaseView], now: datetime, response_target: int | None
) -> dict[str, Any]:
    """One FIG block of api/summary.json for the given cases."""
    states = dict.fromkeys(STATES, 0)
    first: list[Observation] = []
    resolution: list[Observation] = []
    in_time = 0
    for view in views:
        states[view.state] += 1
        if view.hidden:
            continue
        if view.first_response_at is not None:
            took = seconds_between(view.opened, view.first_response_at)
            first.append(Observation(took, True))
            if response_target is not None and took <= response_target:
                in_time += 1
        else:
            first.append(Observation(seconds_between(view.opened, now), False))
        if view.base_state == "resolved" and view.resolved_at is not None:
            resolution.append(Observation(seconds_between(view.opened, view.resolved_at), True))
        else:
            resolution.append(Observation(seconds_between(view.opened, now), False))
    fr = kaplan_meier(first)
    rs = kaplan_meier(resolution)
    within: float | None = None
    if response_target is not None:
        late_waiting = sum(1 for o in first if not o.observed and o.duration > response_target)
        within = _ratio(in_time, fr.events + late_waiting)
    return {
        "cases": len(first),
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
    }


def in_window(view: CaseView, now: datetime, window_days: int) -> bool:
    """Opened within the last `window_days` days (inclusive of the boundary)."""
    return view.opened >= now - timedelta(days=window_days)


def summary(
    views: Sequence[CaseView],
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
    views: Iterable[CaseView], now: datetime, *, resolution: bool = False
) -> list[Bucket]:
    """Counts per time bucket: answered (or fixed) in it, and still waiting that long."""
    bounds = RESOLUTION_BUCKETS if resolution else FIRST_RESPONSE_BUCKETS
    done = [0] * len(bounds)
    waiting = [0] * len(bounds)
    for view in views:
        if view.hidden:
            continue
        end = view.resolved_at if resolution else view.first_response_at
        if resolution and view.base_state != "resolved":
            end = None
        took = seconds_between(view.opened, end if end is not None else now)
        index = next(i for i, (_, top) in enumerate(bounds) if took < top)
        (done if end is not None else waiting)[index] += 1
    return [Bucket(label, d, w) for (label, _), d, w in zip(bounds, done, waiting, strict=True)]


@dataclass(frozen=True, slots=True)
class Month:
    """Figures for the cases opened in one calendar month (UTC)."""

    month: str  # YYYY-MM
    cases: int
    first_response: KaplanMeier
    resolution: KaplanMeier


def monthly(views: Sequence[CaseView], now: datetime, months: int = 12) -> list[Month]:
    """The last `months` calendar months up to now, oldest first, each a cohort by opening."""
    keys: list[str] = []
    year, month = now.year, now.month
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    keys.reverse()
    cohorts: dict[str, list[CaseView]] = {k: [] for k in keys}
    for view in views:
        key = view.opened.strftime("%Y-%m")
        if key in cohorts and not view.hidden:
            cohorts[key].append(view)
    out = []
    for key in keys:
        first, fixed = _observations(cohorts[key], now)
        out.append(Month(key, len(cohorts[key]), kaplan_meier(first), kaplan_meier(fixed)))
    return out


def _observations(
    views: Iterable[CaseView], now: datetime
) -> tuple[list[Observation], list[Observation]]:
    first: list[Observation] = []
    fixed: list[Observation] = []
    for view in views:
        if view.first_response_at is not None:
            first.append(Observation(seconds_between(view.opened, view.first_response_at), True))
        else:
            first.append(Observation(seconds_between(view.opened, now), False))
        if view.base_state == "resolved" and view.resolved_at is not None:
            fixed.append(Observation(seconds_between(view.opened, view.resolved_at), True))
        else:
            fixed.append(Observation(seconds_between(view.opened, now), False))
    return first, fixed
