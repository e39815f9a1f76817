"""`heard import --format open311`: a city's GeoReport v2 requests.json (valid against the
published schemas), and heard's own export, which must come back in the same states and
times."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from generator import pipeline
from generator.record.store import load_record
from tests.conftest import ROOT, SiteFactory, heard, snapshot
from tests.test_open311 import validator

NOW = "2026-11-30T12:00:00Z"
CONFIG = '[site]\ntitle = "City"\nbrand = "City"\ntimezone = "America/Los_Angeles"\n'


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo site, built: its api/ and open311/ files."""
    out = tmp_path_factory.mktemp("demo") / "site"
    result = heard("build", "--site", ROOT, "--out", out, "--now", NOW)
    assert result.exit_code == 0, result.stderr
    return out


def build(root: Path, out: Path) -> Path:
    result = heard("build", "--site", root, "--out", out, "--now", NOW)
    assert result.exit_code == 0, result.stderr
    return out


def test_heards_own_export_comes_back_in_the_same_states_and_times(
    demo: Path, make_site: SiteFactory, tmp_path: Path
) -> None:
    export = demo / "open311/v2/requests.json"
    errors = [
        e.message
        for e in validator("requests.json").iter_errors(json.loads(export.read_text("utf-8")))
    ]
    assert errors == []
    root = make_site(config=(ROOT / "heard.toml").read_text("utf-8"))  # the same policy
    result = heard("import", "--site", root, "--format", "open311", export)
    assert result.exit_code == 0, result.stderr
    again = build(root, tmp_path / "again")
    before = {c["id"]: c for c in json.loads((demo / "api/cases.json").read_text("utf-8"))}
    after = {c["id"]: c for c in json.loads((again / "api/cases.json").read_text("utf-8"))}
    assert len(after) == len(before) == 59
    keys = (
        "state",
        "opened_at",
        "first_response_at",
        "first_response_s",
        "resolved_at",
        "resolution_s",
    )
    for cid, case in before.items():
        back = after[f"open311-{cid}"]
        assert {k: back[k] for k in keys} == {k: case[k] for k in keys}, cid
    # So the figures are the same too (hidden cases are never exported).
    original = json.loads((demo / "api/summary.json").read_text("utf-8"))["all_time"]
    mirrored = json.loads((again / "api/summary.json").read_text("utf-8"))["all_time"]
    for block in ("first_response", "resolution"):
        assert mirrored[block] == original[block], block
    assert {k: v for k, v in mirrored["states"].items() if k != "hidden"} == {
        k: v for k, v in original["states"].items() if k != "hidden"
    }
    before_files = snapshot(root / "content")
    assert heard("import", "--site", root, "--format", "open311", export).exit_code == 0
    assert snapshot(root / "content") == before_files


def request(
    rid: str,
    status: str,
    requested: str,
    updated: str | None,
    notes: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A service request shaped as GeoReport v2 documents it."""
    return {
        "service_request_id": rid,
        "status": status,
        "status_notes": notes,
        "service_name": "Pothole",
        "service_code": "001",
        "description": "A pothole on Main St",
        "agency_responsible": "Public Works",
        "service_notice": None,
        "requested_datetime": requested,
        "updated_datetime": updated,
        "expected_datetime": None,
        "address": "8TH AVE and JUDAH ST",
        "address_id": "545483",
        "zipcode": "94122",
        "lat": 37.762221815,
        "long": -122.4651145,
        "media_url": None,
        **extra,
    }


CITY = [
    request(
        "638344",
        "closed",
        "2010-04-14T06:37:38-08:00",
        "2010-04-16T09:00:00-08:00",
        "Filled the pothole.",
    ),
    request(
        "638349",
        "open",
        "2010-04-19T06:37:38-08:00",
        "2010-04-19T10:00:00-08:00",
        "Crew scheduled.",
    ),
    request("638350", "open", "2010-04-19T07:00:00-08:00", "2010-04-19T07:00:00-08:00", None),
    request("SR#9/2", "closed", "2010-04-20T08:00:00", None, "Duplicate."),
]


def city_file(tmp_path: Path, items: list[dict[str, Any]]) -> Path:
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    return path


def test_a_citys_requests(make_site: SiteFactory, tmp_path: Path) -> None:
    assert [e.message for e in validator("requests.json").iter_errors(CITY[:3])] == []
    root = make_site(config=CONFIG)
    result = heard("import", "--site", root, "--format", "open311", city_file(tmp_path, CITY))
    assert result.exit_code == 0, result.stderr
    cases = load_record(root).cases
    closed = cases["open311-638344"]
    assert (closed.title, closed.tags) == ("Pothole", ["Public Works"])
    assert [(e.kind, e.at, e.text) for e in closed.events] == [
        ("complaint", datetime(2010, 4, 14, 14, 37, 38, tzinfo=UTC), "A pothole on Main St"),
        ("closed", datetime(2010, 4, 16, 17, tzinfo=UTC), "Filled the pothole."),
    ]
    answered = cases["open311-638349"]
    assert [(e.kind, e.by) for e in answered.events] == [
        ("complaint", "customer"),
        ("reply", "brand"),
    ]
    assert [e.kind for e in cases["open311-638350"].events] == ["complaint"]
    # An id with other characters stays distinct and safe; no time: outcome only.
    odd = cases["open311-SR~239~2F2"]
    assert odd.events[0].at == datetime(2010, 4, 20, 15, tzinfo=UTC)  # local, Los Angeles (PDT)
    assert odd.outcome is not None and (odd.outcome.state, odd.outcome.text) == (
        "closed",
        "Duplicate.",
    )
    assert "8TH AVE" not in "".join(
        p.read_text("utf-8") for p in (root / "content").rglob("*.jsonl")
    )
    site = pipeline.load_site(root)
    now = datetime(2010, 5, 1, tzinfo=UTC)
    fig: Any = pipeline.summary_of(site, pipeline.views_of(site, now), now)["all_time"]
    assert fig["states"] == {
        "open": 1,
        "responded": 1,
        "resolved": 0,
        "closed": 2,
        "hidden": 0,
        "removed": 0,
    }
    assert fig["dates_only"]["cases"] == 1


def test_closed_as_resolved(make_site: SiteFactory, tmp_path: Path) -> None:
    root = make_site(config=CONFIG)
    path = city_file(tmp_path, CITY[:1])
    assert (
        heard(
            "import", "--site", root, "--format", "open311", "--closed-as", "resolved", path
        ).exit_code
        == 0
    )
    assert [e.kind for e in load_record(root).cases["open311-638344"].events] == [
        "complaint",
        "resolved",
    ]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"status": "pending"}, ":4: status: must be open or closed"),
        ({"requested_datetime": "yesterday"}, ":4: requested_datetime: not a W3C date and time"),
        ({"requested_datetime": None}, ":4: requested_datetime: missing"),
        ({"service_request_id": ""}, ":4: service_request_id: missing or not an id"),
        ({"description": "x\x00y"}, ":4: description: contains a NUL character"),
        ({"description": ["a list"]}, ":4: description: must be a string"),
    ],
)
def test_a_bad_request_names_its_line_and_field(
    make_site: SiteFactory, tmp_path: Path, item: dict[str, Any], message: str
) -> None:
    bad = {**CITY[1], **item}
    path = tmp_path / "requests.json"
    path.write_text(
        "[\n" + json.dumps(CITY[0]) + ",\n\n" + json.dumps(bad) + "\n]", encoding="utf-8"
    )
    root = make_site(config=CONFIG)
    result = heard("import", "--site", root, "--format", "open311", path)
    assert result.exit_code == 1
    assert f"{path}{message}" in result.stderr
    assert not (root / "content").exists()


def test_xml_and_truncated_json_are_refused(make_site: SiteFactory, tmp_path: Path) -> None:
    xml = tmp_path / "requests.xml"
    xml.write_text("<?xml version='1.0'?><service_requests/>", encoding="utf-8")
    result = heard("import", "--site", make_site(config=CONFIG), "--format", "open311", xml)
    assert result.exit_code == 1 and "not JSON" in result.stderr
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(CITY)[:-40], encoding="utf-8")
    result = heard(
        "import", "--site", make_site(config=CONFIG, name="b"), "--format", "open311", cut
    )
    assert result.exit_code == 1 and f"{cut}:1: not valid JSON" in result.stderr
