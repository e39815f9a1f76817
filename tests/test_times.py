"""Instants, durations and "now"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from generator.record.times import (
    format_duration,
    format_instant,
    parse_duration,
    parse_instant,
    resolve_now,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, tzinfo=UTC)),
        ("2026-11-20T11:00:00+01:00", datetime(2026, 11, 20, 10, tzinfo=UTC)),
        ("2026-11-20T10:00:00.250Z", datetime(2026, 11, 20, 10, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-20T10:00:00.123456789Z", datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_parse_instant_normalises_to_utc(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected
    assert parse_instant(text).tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["2026-11-20T10:00:00", "2026-11-20", "yesterday", "", "2026-13-01T00:00:00Z", "1700000000"],
)
def test_parse_instant_rejects_times_without_zone_or_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 time with a zone"):
        parse_instant(text)


def test_format_instant_is_canonical() -> None:
    assert format_instant(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert (
        format_instant(parse_instant("2026-01-02T03:04:05.5+00:00"))
        == "2026-01-02T03:04:05.500000Z"
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("30m", 1800), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("1w", 604800)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1x", "h", "0m", "1 hour", "-5m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration_reads_like_a_person() -> None:
    assert format_duration(43 * 60) == "43 min"
    assert format_duration(2 * 3600 + 5 * 60) == "2 h 5 min"
    assert format_duration(3 * 86400 + 4 * 3600 + 59) == "3 d 4 h"
    assert format_duration(30) == "under a minute"
    assert format_duration(None) == "—"


def test_now_prefers_flag_then_source_date_epoch_then_clock() -> None:
    env = {"SOURCE_DATE_EPOCH": "1764000000"}
    assert resolve_now("2026-11-20T10:00:00Z", env) == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert resolve_now(None, env) == datetime.fromtimestamp(1764000000, UTC)
    before = datetime.now(UTC).replace(microsecond=0)
    assert before <= resolve_now(None, {}) <= datetime.now(UTC)
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        resolve_now(None, {"SOURCE_DATE_EPOCH": "soon"})
