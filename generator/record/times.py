"""Instants (UTC, ISO 8601 with a zone), durations ("1h30m") and the build's "now"."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime

NOT_AN_INSTANT = "not an ISO 8601 time with a zone"
MIN_YEAR, MAX_YEAR = 1900, 9998
_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_ISO_SHAPE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})$"
)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 date-time that carries a zone; return it in UTC.

    Raises ValueError with the message used in every error line.
    """
    if not isinstance(text, str) or not _ISO_SHAPE.match(text.strip()):
        raise ValueError(NOT_AN_INSTANT)
    value = text.strip()
    frac = re.search(r"\.(\d+)", value)
    if frac and len(frac.group(1)) > 6:  # Python keeps microseconds; drop the rest
        value = value.replace(frac.group(0), "." + frac.group(1)[:6], 1)
    year = int(value[:4])
    if not MIN_YEAR <= year <= MAX_YEAR:  # four-digit years only: file names depend on it
        raise ValueError(f"year {year} is out of range ({MIN_YEAR} to {MAX_YEAR})")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
        if parsed.tzinfo is None:
            raise ValueError(NOT_AN_INSTANT)
        utc = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(NOT_AN_INSTANT) from None
    if not MIN_YEAR <= utc.year <= MAX_YEAR:  # a zone moved it across the edge of the range
        raise ValueError(f"year {utc.year} is out of range ({MIN_YEAR} to {MAX_YEAR})")
    return utc


def format_instant(moment: datetime) -> str:
    """The canonical record form: UTC, `Z`, microseconds only when present."""
    # isoformat (C) writes microseconds only when present, as the record form wants; it is
    # several times faster than strftime, and a build formats millions of instants.
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def seconds_between(start: datetime, end: datetime) -> float | int:
    """Whole seconds as an int when exact, else a float."""
    delta = (end - start).total_seconds()
    return int(delta) if delta.is_integer() else delta


def parse_duration(text: str) -> int:
    """Parse "90s", "45m", "1h", "1h30m", "2d", "1w" into seconds."""
    cleaned = text.strip().replace(" ", "")
    if not cleaned or _DURATION.sub("", cleaned):
        raise ValueError(f"not a duration like 1h, 30m or 2d: {text!r}")
    total = sum(int(n) * _UNIT_SECONDS[u.lower()] for n, u in _DURATION.findall(cleaned))
    if total <= 0:
        raise ValueError(f"a duration must be longer than zero: {text!r}")
    return total


def format_duration(seconds: float | None) -> str:
    """A short human duration: "43 min", "2 h 5 min", "3 d 4 h", "under a minute"."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return "under a minute" if s >= 0 else "—"
    minutes, _ = divmod(s, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def resolve_now(now: str | None, environ: Mapping[str, str] | None = None) -> datetime:
    """`--now`, else SOURCE_DATE_EPOCH, else the clock (truncated to the second)."""
    env = os.environ if environ is None else environ
    if now:
        return parse_instant(now)
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        if not epoch.isdigit():
            raise ValueError(f"SOURCE_DATE_EPOCH is not a whole number of seconds: {epoch!r}")
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)
