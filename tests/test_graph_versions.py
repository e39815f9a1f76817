"""The Graph API version table and the notices about a pinned version's end of life, and
the watermark the Meta sources keep per re-read thread."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from generator.gather.sources.helpers import (
    GRAPH_VERSIONS,
    Watermark,
    _version_key,
    graph_version_warning,
)


def test_the_table_is_consistent() -> None:
    ordered = sorted(GRAPH_VERSIONS, key=_version_key)
    releases = [GRAPH_VERSIONS[v][0] for v in ordered]
    assert releases == sorted(releases)
    for version in ordered:
        released, sunset = GRAPH_VERSIONS[version]
        if sunset is not None:  # each lives about two years
            assert timedelta(days=700) < sunset - released < timedelta(days=1000), version


@pytest.mark.parametrize(
    ("today", "warned"),
    [
        (date(2028, 4, 29), False),  # 91 days before v25.0's end of life
        (date(2028, 4, 30), True),  # 90 days before
        (date(2028, 7, 29), True),  # the day itself
        (date(2028, 7, 30), True),  # past it
    ],
)
def test_the_notice_starts_90_days_before(today: date, warned: bool) -> None:
    assert (graph_version_warning("v25.0", today) is not None) is warned


def test_the_watermark() -> None:
    t = datetime(2026, 11, 20, 10, tzinfo=UTC)
    mark = Watermark()
    assert mark.is_new(t, "a")
    mark.advance(t, "a")
    assert not mark.is_new(t, "a") and mark.is_new(t, "b")  # same second, another id
    assert not mark.is_new(t - timedelta(seconds=1), "c")
    before = mark.copy()
    mark.advance(t, "b")
    mark.advance(t - timedelta(hours=1), "old")  # never moves back
    assert (mark.at, mark.ids) == (t, {"a", "b"})
    assert before.ids == {"a"}
    mark.advance(t + timedelta(seconds=1), "c")
    assert mark.ids == {"c"}
