"""`heard import --format cfpb`: the CFPB complaint database, in every dialect it is
downloaded in, checked against figures computed here from the raw files with plain csv
code (never heard's), and the published ~97% of timely answers."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from generator import pipeline
from generator.record.store import load_record
from tests.conftest import DATA, SiteFactory, heard, snapshot

SAMPLE = DATA / "cfpb_complaints_sample_2013_2017.csv"
OFFICIAL = DATA / "cfpb_complaints_2016-09-12.csv"
SNAKE = DATA / "cfpb_complaints_2013_snake.csv"
NOW = datetime(2026, 12, 1, tzinfo=UTC)

# The documented mapping (docs/sources.md), written out again here on purpose.
STATE_OF = {
    "Closed with monetary relief": "resolved",
    "Closed with non-monetary relief": "resolved",
    "Closed with explanation": "closed",
    "Closed": "closed",
    "In progress": "responded",
    "Untimely response": "open",
}


def raw_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def column(row: dict[str, str], *names: str) -> str:
    return next(row[n] for n in names if n in row)


def expected(rows: list[dict[str, str]]) -> dict[str, Any]:
    """The figures of a set of raw CFPB rows, computed directly."""
    responses = [
        column(r, "Company response to consumer", "company_response_to_consumer") for r in rows
    ]
    timely = [column(r, "Timely response?", "timely_response") for r in rows]
    states = Counter(STATE_OF[r] for r in responses)
    return {
        "cases": len(rows),
        "timely": timely.count("Yes"),
        "untimely": timely.count("No"),
        "states": {s: states.get(s, 0) for s in ("open", "responded", "resolved", "closed")},
    }


def figures_of(root: Path) -> dict[str, Any]:
    site = pipeline.load_site(root)
    views = pipeline.views_of(site, NOW)
    return pipeline.summary_of(site, views, NOW)


def imported(make_site: SiteFactory, path: Path, *args: str, name: str = "site") -> Path:
    root = make_site(name=name)
    result = heard("import", "--site", root, "--format", "cfpb", *args, path)
    assert result.exit_code == 0, result.stderr
    return root


def assert_matches(fig: dict[str, Any], want: dict[str, Any]) -> None:
    only = fig["dates_only"]
    assert fig["cases"] == only["cases"] == want["cases"]
    assert (only["timely"], only["untimely"]) == (want["timely"], want["untimely"])
    assert only["timely_share"] == pytest.approx(
        want["timely"] / (want["timely"] + want["untimely"])
    )
    assert only["answered_within_days"] == 15
    states = want["states"]
    assert {k: fig["states"][k] for k in states} == states
    assert (only["closed_with_relief"], only["closed_without_relief"]) == (
        states["resolved"],
        states["closed"],
    )
    assert (only["in_progress"], only["no_response"]) == (states["responded"], states["open"])
    # No time can be known: nothing in the Kaplan–Meier times, nothing "waiting".
    for block in ("first_response", "resolution"):
        assert (fig[block]["median_s"], fig[block]["more_than_s"], fig[block]["waiting"]) == (
            None,
            None,
            0,
        )


def test_the_2013_2017_sample_is_97_percent_timely(make_site: SiteFactory) -> None:
    rows = raw_rows(SAMPLE)
    want = expected(rows)
    assert want == {
        "cases": 3186,
        "timely": 3093,
        "untimely": 93,
        "states": {"open": 26, "responded": 3, "resolved": 600, "closed": 2557},
    }
    root = imported(make_site, SAMPLE, "--company", "*")
    fig = figures_of(root)["all_time"]
    assert_matches(fig, want)
    assert fig["dates_only"]["timely_share"] == pytest.approx(0.97, abs=0.005)


@pytest.mark.parametrize(
    ("path", "company"),
    [
        (SAMPLE, "Wells Fargo & Company"),
        (OFFICIAL, "Equifax"),
        (SNAKE, "Bank of America"),
        (SNAKE, "bank of AMERICA"),
    ],
)
def test_one_company_in_each_dialect(make_site: SiteFactory, path: Path, company: str) -> None:
    rows = [r for r in raw_rows(path) if column(r, "Company", "company").lower() == company.lower()]
    root = imported(make_site, path, "--company", company)
    summary = figures_of(root)
    assert_matches(summary["all_time"], expected(rows))
    assert list(summary["channels"]) == ["cfpb"]


def test_cases_carry_days_and_the_companys_response_never_a_time(make_site: SiteFactory) -> None:
    root = imported(make_site, OFFICIAL, "--company", "Equifax")
    record = load_record(root).cases
    case = record["cfpb-2105582"]
    assert (
        case.url
        == "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/2105582"
    )
    assert case.outcome is not None
    assert case.outcome.model_dump(exclude_none=True) == {
        "label": "In progress", "state": "responded", "timely": True, "within_days": 15,
    }  # fmt: skip
    assert [(e.kind, e.by, e.at, e.precision) for e in case.events] == [
        ("complaint", "customer", datetime(2016, 9, 12, 12, tzinfo=UTC), "day"),
        ("note", "system", datetime(2016, 9, 12, 12, tzinfo=UTC), "day"),
    ]
    # Nothing in the record looks like a brand answer with a time.
    assert not [e for c in record.values() for e in c.events if e.by == "brand"]
    public = raw_rows(OFFICIAL)[1]
    assert public["Company public response"].startswith("Company believes")
    answered = load_record(
        imported(make_site, OFFICIAL, "--company", public["Company"], name="b")
    ).cases
    outcome = answered[f"cfpb-{public['Complaint ID']}"].outcome
    assert outcome is not None and outcome.text == public["Company public response"]


def test_rows_without_a_complaint_id_get_stable_ids(make_site: SiteFactory, tmp_path: Path) -> None:
    root = imported(make_site, SAMPLE, "--company", "*")
    ids = sorted(load_record(root).cases)
    assert len(ids) == len(set(ids)) == 3186
    assert all(i.startswith("cfpb-r") for i in ids)
    # The sample holds 11 exact duplicate rows: numbered, never merged.
    assert sum(1 for i in ids if i.count("-") == 2) == 11
    before = snapshot(root / "content")
    again = heard("import", "--site", root, "--format", "cfpb", "--company", "*", SAMPLE)
    assert again.exit_code == 0 and "0 new, 0 updated, 0 new events" in again.stdout
    assert snapshot(root / "content") == before


def test_a_file_of_many_companies_needs_company(make_site: SiteFactory) -> None:
    root = make_site()
    result = heard("import", "--site", root, "--format", "cfpb", SNAKE)
    assert result.exit_code == 1
    assert f"{SNAKE}:3: this file holds complaints about more than one company" in result.stderr
    assert "--company" in result.stderr
    assert not (root / "content").exists()


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_file_of_one_company_needs_no_company(make_site: SiteFactory, tmp_path: Path) -> None:
    rows = [r for r in raw_rows(OFFICIAL) if r["Company"] == "Amex"]
    path = write_csv(tmp_path / "amex.csv", rows)
    root = imported(make_site, path)
    assert figures_of(root)["all_time"]["cases"] == len(rows) == 22


def api_source(row: dict[str, str]) -> dict[str, Any]:
    """An official CSV row as the API's `_source` (dates with the dummy time, as served)."""
    month, day, year = row["Date received"].split("/")
    sent = row["Date sent to company"]
    source: dict[str, Any] = {
        "complaint_id": row["Complaint ID"],
        "date_received": f"{year}-{month}-{day}T12:00:00-05:00",
        "date_sent_to_company": None,
        "company": row["Company"],
        "product": row["Product"],
        "issue": row["Issue"],
        "company_response": row["Company response to consumer"],
        "timely": row["Timely response?"],
        "company_public_response": row["Company public response"] or None,
        "complaint_what_happened": "",
        "has_narrative": False,
    }
    if sent:
        m, d, y = sent.split("/")
        source["date_sent_to_company"] = f"{y}-{m}-{d}T12:00:00-05:00"
    return source


@pytest.mark.parametrize("shape", ["search", "export"])
def test_the_apis_json_reads_like_the_csv(
    make_site: SiteFactory, tmp_path: Path, shape: str
) -> None:
    rows = [r for r in raw_rows(OFFICIAL) if r["Company"] == "Equifax"]
    hits = [
        {"_id": r["Complaint ID"], "_source": api_source(r), "sort": [1, r["Complaint ID"]]}
        for r in rows
    ]
    if shape == "search":
        doc: Any = {
            "_meta": {"total_record_count": 1, "break_points": {"2": [1, "x"]}},
            "aggregations": {"product": {"buckets": [{"key": "x", "doc_count": 1}]}},
            "hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits},
        }
    else:
        doc = hits
    path = tmp_path / "complaints.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    from_json = load_record(imported(make_site, path, "--company", "EQUIFAX", name="j")).cases
    from_csv = load_record(imported(make_site, OFFICIAL, "--company", "Equifax", name="c")).cases
    assert from_json.keys() == from_csv.keys()
    for cid, case in from_csv.items():
        other = from_json[cid]
        assert other.outcome == case.outcome
        assert [(e.kind, e.at) for e in other.events] == [(e.kind, e.at) for e in case.events]


def test_a_later_extract_updates_the_answer_and_an_older_one_changes_nothing(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    row = next(r for r in raw_rows(OFFICIAL) if r["Company response to consumer"] == "In progress")
    old = write_csv(tmp_path / "old.csv", [row])
    new = write_csv(
        tmp_path / "new.csv",
        [{**row, "Company response to consumer": "Closed with monetary relief"}],
    )
    root = imported(make_site, old)
    assert heard("import", "--site", root, "--format", "cfpb", new).exit_code == 0
    case = load_record(root).cases[f"cfpb-{row['Complaint ID']}"]
    assert case.outcome is not None and (case.outcome.label, case.outcome.state) == (
        "Closed with monetary relief",
        "resolved",
    )
    before = snapshot(root / "content")
    assert heard("import", "--site", root, "--format", "cfpb", old).exit_code == 0
    assert snapshot(root / "content") == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"Company response to consumer": "Closed with a shrug"},
            "Company response to consumer: unknown company response 'Closed with a shrug'",
        ),
        ({"Date received": "13/45/2016"}, "Date received: not a date like 7/29/2013"),
        ({"Date received": ""}, "Date received: empty"),
        ({"Timely response?": "Maybe"}, "Timely response?: must be Yes or No"),
        (
            {"Consumer complaint narrative": "bad \x00 byte"},
            "Consumer complaint narrative: contains a NUL character",
        ),
    ],
)
def test_a_bad_value_names_file_line_and_column(
    make_site: SiteFactory, tmp_path: Path, change: dict[str, str], message: str
) -> None:
    rows = [r for r in raw_rows(OFFICIAL) if r["Company"] == "Amex"]
    rows[2] = {**rows[2], **change}
    path = write_csv(tmp_path / "bad.csv", rows)
    root = make_site()
    result = heard("import", "--site", root, "--format", "cfpb", path)
    assert result.exit_code == 1
    assert f"{path}:4: {message}" in result.stderr
    assert not (root / "content").exists()  # all or nothing


def test_a_missing_column_names_the_header_line(make_site: SiteFactory, tmp_path: Path) -> None:
    rows = [
        {k: v for k, v in r.items() if k != "Company response to consumer"}
        for r in raw_rows(OFFICIAL)[:3]
    ]
    path = write_csv(tmp_path / "cut.csv", rows)
    result = heard("import", "--site", make_site(), "--format", "cfpb", "--company", "*", path)
    assert result.exit_code == 1
    assert f"{path}:1: Company response to consumer: missing from the header" in result.stderr


def test_a_cfpb_file_imported_as_another_format_says_which_it_looks_like(
    make_site: SiteFactory,
) -> None:
    result = heard("import", "--site", make_site(), "--format", "nyc311", OFFICIAL)
    assert result.exit_code == 1
    assert "this file looks like --format cfpb" in result.stderr


def test_the_site_says_what_can_be_known_and_shows_no_median(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = imported(make_site, OFFICIAL, "--company", "Equifax")
    out = tmp_path / "out"
    assert (
        heard("build", "--site", root, "--out", out, "--now", "2026-12-01T00:00:00Z").exit_code == 0
    )
    summary = json.loads((out / "api/summary.json").read_text("utf-8"))
    assert summary["channels"]["cfpb"]["all_time"]["first_response"]["median_s"] is None
    stats = (out / "stats.html").read_text("utf-8")
    assert "Known by dates only" in stats
    assert "100% answered within 15 days (94 of 94)" in stats
    assert "not known (dates only)" in stats
    home = (out / "index.html").read_text("utf-8")
    assert "94 complaints are known by dates only" in home
    assert "<strong>not known (dates only)</strong>" in home
    page = (out / "cases/cfpb-2105582.html").read_text("utf-8")
    assert (
        "In progress</bdi>, within 15 days (timely); the date of the answer is not published"
        in page
    )
    assert '<time datetime="2016-09-12T12:00:00Z">12 Sep 2016</time>' in page
    assert "how-we-count.html#dates-only" in home
    assert 'id="dates-only"' in (out / "how-we-count.html").read_text("utf-8")
    detail = json.loads((out / "api/cases/cfpb-2105582.json").read_text("utf-8"))
    assert detail["outcome"]["label"] == "In progress"
    assert detail["first_response_at"] is None
