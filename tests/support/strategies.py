"""Hypothesis strategies for random but valid records, notes and configs, and a site writer.

Times are whole seconds around a fixed NOW, mostly drawn from a small set of offsets so
that equal times (and times exactly on the window's edge or at "now") happen often.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

NOW_TEXT = "2026-11-10T12:00:00Z"
NOW = datetime(2026, 11, 10, 12, 0, 0, tzinfo=UTC)
BRAND = "Acme"
CHANNELS = ("x", "mastodon", "github")

EVENT_KINDS = (
    "complaint",
    "reply",
    "customer_reply",
    "moved_private",
    "follow_up",
    "resolved",
    "closed",
    "reopened",
    "hidden",
    "removed",
    "note",
)
BYS = ("customer", "brand", "system")
NOTE_STATUSES = ("resolved", "closed", "hidden", "removed", "reopened", "note")

# Who usually does what; sometimes a record says something odd, and that must still work.
USUAL_BY = {
    "complaint": ("customer",),
    "customer_reply": ("customer",),
    "reply": ("brand",),
    "moved_private": ("brand",),
    "follow_up": ("brand",),
    "resolved": ("brand", "system"),
    "closed": ("brand", "system", "customer"),
    "reopened": ("customer", "brand", "system"),
    "hidden": ("system",),
    "removed": ("system",),
    "note": ("brand",),
}

DAY = 86400
HOUR = 3600
# Offsets from NOW in seconds: window edges for 1, 7 and 30 days, "now" itself, a few
# points just around it, and some in the future (ignored until they happen).
OFFSETS = (
    -40 * DAY,
    -31 * DAY,
    -30 * DAY,
    -30 * DAY + 1,
    -7 * DAY,
    -3 * DAY,
    -DAY - 1,
    -DAY,
    -5 * HOUR,
    -2 * HOUR,
    -HOUR,
    -1200,
    -600,
    -1,
    0,
    1,
    HOUR,
    2 * DAY,
)

# Typical delays after the complaint, in seconds.
DELAYS = (0, 1, 60, 600, 1200, HOUR, 2 * HOUR, DAY)

# Brand handles: some of these are bots under some configs (case and "@" vary on purpose).
HANDLES = ("@acme", "@AcmeBot", "acmebot", "@helper_bot", "Helper_Bot")
BOT_CHOICES = ("@acmebot", "ACMEBOT", "helper_bot", "@Helper_bot", "@nobody")


def format_time(moment: datetime) -> str:
    """UTC as YYYY-MM-DDTHH:MM:SSZ."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def times() -> st.SearchStrategy[str]:
    """A UTC instant near NOW, with frequent ties."""
    offsets = st.one_of(
        st.sampled_from(OFFSETS),
        st.sampled_from(OFFSETS),
        st.sampled_from(OFFSETS),
        st.integers(min_value=-35 * DAY, max_value=DAY),
    )
    return offsets.map(lambda s: format_time(NOW + timedelta(seconds=s)))


@st.composite
def events(draw: st.DrawFn, kind: str | None = None) -> dict[str, Any]:
    """One event dict of the record format."""
    if kind is None:
        kind = draw(st.sampled_from(EVENT_KINDS))
    odd = draw(st.integers(min_value=0, max_value=7)) == 0
    by = draw(st.sampled_from(BYS if odd else USUAL_BY[kind]))
    event: dict[str, Any] = {"kind": kind, "at": draw(times()), "by": by}
    if by == "brand" and draw(st.booleans()):
        event["handle"] = draw(st.sampled_from(HANDLES))
    if by == "brand" and draw(st.booleans()):
        event["agent"] = draw(st.sampled_from(("JM", "Sam", "A.B.")))
    if draw(st.booleans()):
        event["text"] = draw(st.sampled_from(("Thanks!", "This is broken.", "Fixed now", "")))
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        event["url"] = f"https://example.com/post/{draw(st.integers(1, 10**6))}"
    return event


@st.composite
def cases(draw: st.DrawFn, number: int, channel: str) -> dict[str, Any]:
    """One case dict of the record format: 1–6 events, at least one complaint."""
    first = draw(events(kind="complaint"))
    others = draw(st.lists(events(), min_size=0, max_size=5))
    opened = datetime.fromisoformat(first["at"])
    for event in others:
        # Often a step follows the complaint by a typical delay (equal delays across cases
        # make equal durations); otherwise its time stays independent (even before it).
        if draw(st.booleans()):
            delay = draw(st.sampled_from(DELAYS))
            event["at"] = format_time(opened + timedelta(seconds=delay))
    ordered = draw(st.permutations([first, *others]))
    case: dict[str, Any] = {"id": f"{channel}-{number}", "channel": channel}
    if draw(st.booleans()):
        case["url"] = f"https://example.com/{channel}/{number}"
    if draw(st.booleans()):
        case["title"] = draw(
            st.sampled_from(("Billing is wrong", "App crashes", "Où est ma commande ?"))
        )
    if draw(st.booleans()):
        author: dict[str, Any] = {"handle": f"@user{number}"}
        if draw(st.booleans()):
            author["name"] = "Linda"
        if draw(st.booleans()):
            author["reach"] = draw(st.integers(min_value=0, max_value=100_000))
        case["author"] = author
    if draw(st.booleans()):
        case["tags"] = draw(st.lists(st.sampled_from(("billing", "app", "delivery")), unique=True))
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        case["outcome"] = draw(outcomes())
    case["events"] = ordered
    return case


@st.composite
def outcomes(draw: st.DrawFn) -> dict[str, Any]:
    """A case's outcome: a source's category of the answer, without its time."""
    label, state = draw(st.sampled_from(OUTCOMES))
    outcome: dict[str, Any] = {"label": label, "state": state}
    timely = draw(st.sampled_from((True, False, None)))
    if timely is not None:
        outcome["timely"] = timely
    if timely is not None or draw(st.booleans()):
        outcome["within_days"] = draw(st.sampled_from((15, 15, 30)))
    return outcome


OUTCOMES = (
    ("Closed with monetary relief", "resolved"),
    ("Closed with explanation", "closed"),
    ("In progress", "responded"),
    ("Untimely response", "open"),
)


@st.composite
def decisions(draw: st.DrawFn) -> dict[str, Any]:
    """One decision of the team: status, at, agent?, reason?, note? (a history entry)."""
    status = draw(st.sampled_from(NOTE_STATUSES))
    decision: dict[str, Any] = {"status": status, "at": draw(times())}
    if draw(st.booleans()):
        decision["agent"] = draw(st.sampled_from(("JM", "Sam")))
    if status in ("hidden", "removed") or draw(st.integers(min_value=0, max_value=3)) == 0:
        decision["reason"] = draw(st.sampled_from(("spam", "abuse", "author's request")))
    if status in ("resolved", "closed") or draw(st.booleans()):
        decision["note"] = draw(st.sampled_from(("We fixed the bug.", "We cannot change this.")))
    return decision


@st.composite
def notes(draw: st.DrawFn) -> dict[str, Any]:
    """A note dict: the current decision (its note text is the body) and its history."""
    current = draw(decisions())
    note: dict[str, Any] = {"status": current["status"], "at": current["at"]}
    for key in ("agent", "reason"):
        if key in current:
            note[key] = current[key]
    note["body"] = current.get("note", "")
    note["history"] = draw(st.lists(decisions(), min_size=0, max_size=3))
    return note


@dataclass
class Site:
    """A random record, notes and config."""

    cases: list[dict[str, Any]]
    notes: dict[str, dict[str, Any]]
    window_days: int
    response_target_s: int | None
    bots: dict[str, list[str]] = field(default_factory=dict)


@st.composite
def sites(draw: st.DrawFn, max_cases: int = 8) -> Site:
    """A whole random site: unique `<channel>-<n>` ids, some notes, a config."""
    count = draw(st.integers(min_value=0, max_value=max_cases))
    record = []
    team_notes: dict[str, dict[str, Any]] = {}
    for number in range(1, count + 1):
        channel = draw(st.sampled_from(CHANNELS))
        case = draw(cases(number, channel))
        record.append(case)
        if draw(st.integers(min_value=0, max_value=2)) == 0:
            team_notes[case["id"]] = draw(notes())
    bots = draw(
        st.dictionaries(
            st.sampled_from(CHANNELS),
            st.lists(st.sampled_from(BOT_CHOICES), max_size=2, unique=True),
            max_size=3,
        )
    )
    return Site(
        cases=record,
        notes=team_notes,
        window_days=draw(st.sampled_from((1, 7, 30))),
        response_target_s=draw(st.sampled_from((None, 60, 600, 1200, HOUR, DAY))),
        bots=bots,
    )


def _opened(case: dict[str, Any]) -> datetime:
    return min(
        datetime.fromisoformat(e["at"]).astimezone(UTC)
        for e in case["events"]
        if e["kind"] == "complaint"
    )


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def write_site(
    root: Path,
    cases: list[dict[str, Any]],
    notes: dict[str, dict[str, Any]],
    *,
    brand: str,
    window_days: int,
    response_target_s: int | None,
    bots: dict[str, list[str]],
) -> None:
    """Write heard.toml, content/cases/YYYY-MM.jsonl and content/notes/<id>.md under root."""
    root.mkdir(parents=True, exist_ok=True)
    config = [
        "[site]",
        f"title = {json.dumps(brand + ' heard')}",
        f"brand = {json.dumps(brand)}",
        "",
        "[bots]",
        *(f"{channel} = {_toml_list(handles)}" for channel, handles in sorted(bots.items())),
        "",
        "[policy]",
        f"window_days = {window_days}",
    ]
    if response_target_s is not None:
        config.append(f'response_target = "{response_target_s}s"')
    (root / "heard.toml").write_text("\n".join(config) + "\n", encoding="utf-8")

    cases_dir = root / "content" / "cases"
    notes_dir = root / "content" / "notes"
    cases_dir.mkdir(parents=True, exist_ok=True)
    notes_dir.mkdir(parents=True, exist_ok=True)

    shards: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        shards.setdefault(_opened(case).strftime("%Y-%m"), []).append(case)
    for month, in_month in sorted(shards.items()):
        lines = [json.dumps(c, ensure_ascii=False) for c in sorted(in_month, key=lambda c: c["id"])]
        (cases_dir / f"{month}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    for case_id, note in sorted(notes.items()):
        front = [
            "---",
            f"status: {note['status']}",
            f"at: {json.dumps(note['at'])}",
        ]
        for key in ("agent", "reason"):
            if note.get(key):
                front.append(f"{key}: {json.dumps(note[key])}")
        history = note.get("history", [])
        if history:
            front.append("history:")
            front.extend(f"  - {json.dumps(decision, ensure_ascii=False)}" for decision in history)
        front.append("---")
        body = note.get("body", "")
        text = "\n".join(front) + "\n" + (body + "\n" if body else "")
        (notes_dir / f"{case_id}.md").write_text(text, encoding="utf-8")
