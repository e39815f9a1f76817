"""`heard import --format nyc311`: NYC Open Data's 311 requests, checked against figures
computed here from the raw file with plain csv code and a Kaplan–Meier written out again
(never heard's code); local times, daylight saving, the SODA JSON and the website CSV."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from generator import pipeline
from generator.record.store import load_record
from tests.conftest import DATA, SiteFactory, heard, snapshot

FILE = DATA / "nyc311_requests_2024-04-15.csv"
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2024, 4, 17, tzinfo=UTC)
CONFIG = '[site]\ntitle = "NYC 311"\nbrand = "New York City"\ntimezone = "America/New_York"\n'


def raw_rows() -> list[dict[str, str]]:
    with FILE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def utc(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=NEW_YORK).astimezone(UTC)


def independent(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Each request's state, first response and closure, by the rules in docs/sources.md."""
    out = []
    for row in rows:
        created = utc(row["created_date"])
        text = row["resolution_description"].strip()
        said = (
            utc(row["resolution_action_updated_date"])
            if row["resolution_action_updated_date"]
            else None
        )
        closed = None
        if row["status"] == "Closed":
            closed = utc(row["closed_date"]) if row["closed_date"] else said
        answered = bool(text) and text != "N/A" and said is not None and said > created
        first = closed if closed else (said if answered else None)
        state = "closed" if closed else "responded" if answered else "open"
        out.append(
            {
                "agency": row["agency"],
                "created": created,
                "first": first,
                "closed": closed,
                "state": state,
            }
        )
    return out


def km_median(samples: list[tuple[float, bool]]) -> tuple[float | None, float | None]:
    """(median, more than): the product-limit estimate, answers before censorings."""
    survival = 1.0
    for t in sorted({d for d, seen in samples if seen}):
        at_risk = sum(1 for d, _ in samples if d >= t)
        events = sum(1 for d, seen in samples if seen and d == t)
        survival *= 1 - events / at_risk
        if survival <= 0.5 + 1e-9:
            return t, None
    return None, max((d for d, _ in samples), default=None)


def durations(requests: list[dict[str, Any]], key: str) -> list[tuple[float, bool]]:
    """(seconds from the request to `key`, or to now when it has not happened; happened)."""
    return [
        (max(0.0, ((r[key] or NOW) - r["created"]).total_seconds()), r[key] is not None)
        for r in requests
    ]


def figures(root: Path) -> dict[str, Any]:
    site = pipeline.load_site(root)
    return pipeline.summary_of(site, pipeline.views_of(site, NOW), NOW)


def imported(make_site: SiteFactory, path: Path, *args: str, name: str = "site") -> Path:
    root = make_site(config=CONFIG, name=name)
    result = heard("import", "--site", root, "--format", "nyc311", *args, path)
    assert result.exit_code == 0, result.stderr
    return root


def test_counts_and_medians_match_an_independent_reading(make_site: SiteFactory) -> None:
    requests = independent(raw_rows())
    states = Counter(r["state"] for r in requests)
    assert states == {"open": 694, "responded": 13, "closed": 293}
    fig = figures(imported(make_site, FILE))["all_time"]
    assert fig["cases"] == 1000
    assert {k: fig["states"][k] for k in states} == dict(states)
    median, more = km_median(durations(requests, "first"))
    assert (fig["first_response"]["median_s"], fig["first_response"]["more_than_s"]) == (
        median,
        more,
    )
    assert fig["first_response"]["answered"] == states["responded"] + states["closed"]
    # Closed is not fixed by default: no fixes, every request still waits for one.
    assert fig["resolution"]["resolved"] == 0


def test_one_agency_closed_as_resolved(make_site: SiteFactory) -> None:
    requests = [r for r in independent(raw_rows()) if r["agency"] == "NYPD"]
    root = imported(make_site, FILE, "--company", "nypd", "--closed-as", "resolved")
    fig = figures(root)["all_time"]
    assert fig["cases"] == len(requests) == 500
    closed = sum(1 for r in requests if r["closed"])
    assert (
        (fig["states"]["resolved"], fig["resolution"]["resolved"]) == (closed, closed) == (284, 284)
    )
    fixed_median, _ = km_median(durations(requests, "closed"))
    first_median, _ = km_median(durations(requests, "first"))
    assert fixed_median is not None and first_median is not None
    assert fig["resolution"]["median_s"] == fixed_median
    assert fig["first_response"]["median_s"] == first_median
    assert (fixed_median, first_median) == (4666, 4615)  # 1 h 17 min, 1 h 16 min


def test_times_are_new_york_local_and_texts_are_the_agencys(make_site: SiteFactory) -> None:
    record = load_record(imported(make_site, FILE)).cases
    closed = record["nyc311-60864060"]  # NYPD, closed
    assert closed.title == "Noise - Commercial: Loud Talking"
    assert closed.tags == ["NYPD"]
    assert [(e.kind, e.at, e.by) for e in closed.events] == [
        ("complaint", datetime(2024, 4, 16, 4, 39, 26, tzinfo=UTC), "customer"),
        ("closed", datetime(2024, 4, 16, 4, 55, 55, tzinfo=UTC), "brand"),
    ]
    assert (
        closed.events[1].text
        == "The Police Department responded to the complaint and took action to fix the condition."
    )
    # DOT's referral stamped at the second the request was made: a notice, not an answer.
    auto = record["nyc311-60879417"]
    assert [(e.kind, e.by) for e in auto.events] == [("complaint", "customer"), ("note", "system")]
    # HPD writes its update as a date at midnight: shown to the day, not an answer.
    hpd = next(c for c in record.values() if c.tags == ["HPD"])
    assert [(e.kind, e.precision) for e in hpd.events] == [("note", "day"), ("complaint", None)]
    # Nothing of a street address or coordinates reaches the record.
    dumped = json.dumps([c.model_dump(mode="json") for c in record.values()])
    assert "40.676792" not in dumped and "133 AVENUE" not in dumped


def test_the_timezone_comes_from_the_option_else_the_site(make_site: SiteFactory) -> None:
    utc_site = make_site(name="utc")
    assert heard("import", "--site", utc_site, "--format", "nyc311", FILE).exit_code == 0
    as_utc = load_record(utc_site).cases["nyc311-60879417"].events[0].at
    assert as_utc == datetime(2024, 4, 16, 3, 3, 15, tzinfo=UTC)
    option = make_site(name="option")
    result = heard(
        "import", "--site", option, "--format", "nyc311", "--timezone", "America/New_York", FILE
    )
    assert result.exit_code == 0
    assert load_record(option).cases["nyc311-60879417"].events[0].at == as_utc + timedelta(hours=4)
    bad = heard("import", "--site", option, "--format", "nyc311", "--timezone", "Mars/Base", FILE)
    assert bad.exit_code == 1 and "--timezone: unknown time zone 'Mars/Base'" in bad.stderr


def small(
    tmp_path: Path, *rows: tuple[str, str, str, str], header: tuple[str, ...] | None = None
) -> Path:
    """A 311 CSV: unique_key, created_date, closed_date, status (+ a resolution)."""
    names = header or (
        "unique_key",
        "created_date",
        "closed_date",
        "status",
        "agency",
        "resolution_description",
        "resolution_action_updated_date",
    )
    path = tmp_path / "small.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for key, created, closed, status in rows:
            writer.writerow(
                [key, created, closed, status, "DSNY", "Collected." if closed else "", closed]
            )
    return path


def test_daylight_saving_is_resolved_as_documented(make_site: SiteFactory, tmp_path: Path) -> None:
    path = small(
        tmp_path,
        ("1", "2024-11-03T01:30:00.000", "", "Open"),  # happens twice: the first (EDT)
        ("2", "2024-03-10T02:30:00.000", "", "Open"),  # never happens: read as EST
        ("3", "2024-03-10T03:30:00.000", "", "Open"),
    )
    record = load_record(imported(make_site, path)).cases
    assert record["nyc311-1"].events[0].at == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    assert record["nyc311-2"].events[0].at == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
    assert record["nyc311-3"].events[0].at == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)


def test_the_website_export_reads_like_the_api_csv(make_site: SiteFactory, tmp_path: Path) -> None:
    header = (
        "Unique Key",
        "Created Date",
        "Closed Date",
        "Status",
        "Agency",
        "Resolution Description",
        "Resolution Action Updated Date",
    )
    path = small(
        tmp_path, ("7", "04/16/2024 03:03:15 AM", "04/16/2024 01:10:00 PM", "Closed"), header=header
    )
    case = load_record(imported(make_site, path)).cases["nyc311-7"]
    assert [(e.kind, e.at) for e in case.events] == [
        ("complaint", datetime(2024, 4, 16, 7, 3, 15, tzinfo=UTC)),
        ("closed", datetime(2024, 4, 16, 17, 10, tzinfo=UTC)),
    ]


def test_the_soda_json_reads_like_the_csv(make_site: SiteFactory, tmp_path: Path) -> None:
    items = []
    for row in raw_rows():
        item: dict[str, Any] = {k: v for k, v in row.items() if v != "" and k != "location"}
        if row["latitude"]:
            item["location"] = {
                "latitude": row["latitude"],
                "longitude": row["longitude"],
                "human_address": "{}",
            }
        items.append(item)
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    from_json = load_record(imported(make_site, path, name="json")).cases
    from_csv = load_record(imported(make_site, FILE, name="csv")).cases
    assert from_json == from_csv


def test_importing_twice_changes_nothing(make_site: SiteFactory) -> None:
    root = imported(make_site, FILE)
    before = snapshot(root / "content")
    again = heard("import", "--site", root, "--format", "nyc311", FILE)
    assert (
        again.exit_code == 0 and "1000 cases read, 0 new, 0 updated, 0 new events" in again.stdout
    )
    assert snapshot(root / "content") == before


def test_a_bad_time_names_the_line_the_row_starts_on(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    text = FILE.read_text("utf-8")
    lines = text.split("\n")
    # Row 2 (the first data row) spans lines 2-4: its location holds two newlines.
    assert lines[1].startswith('"60879417"') and lines[4].startswith('"60872531"')
    lines[4] = lines[4].replace("2024-04-16T02:05:59.000", "2024-13-16T02:05:59.000", 1)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    root = make_site(config=CONFIG)
    result = heard("import", "--site", root, "--format", "nyc311", path)
    assert result.exit_code == 1
    assert f"{path}:5: created_date: not a time like 2024-04-16T03:03:15.000" in result.stderr
    assert not (root / "content").exists()


@pytest.mark.parametrize("missing", ["unique_key", "status"])
def test_a_missing_column_names_the_header(
    make_site: SiteFactory, tmp_path: Path, missing: str
) -> None:
    rows = raw_rows()[:2]
    path = tmp_path / "cut.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [k for k in rows[0] if k != missing], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    result = heard("import", "--site", make_site(), "--format", "nyc311", path)
    assert (
        result.exit_code == 1 and f"{path}:1: {missing}: missing from the header" in result.stderr
    )
