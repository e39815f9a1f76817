"""The Open311 GeoReport v2 export, checked against the published JSON Schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from generator.config import parse_config
from generator.record.times import format_instant, parse_instant
from generator.site import open311
from tests.conftest import BASE_CONFIG
from tests.test_feeds import (
    BIG,
    CONFIG,
    HIDDEN_ID,
    NOTE_MD,
    NOW,
    REMOVED_ID,
    REMOVED_SECRETS,
    make_summary,
    sample_views,
)

SCHEMAS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "open311-georeport-v2"
ZONED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return data


def validator(name: str) -> Draft7Validator:
    """A validator whose `$ref`s to sibling files resolve by their bare names."""
    registry: Registry[Any] = Registry().with_resources(
        (n, Resource.from_contents(schema(n), default_specification=DRAFT7))
        for n in ("request.json", "requests.json", "service.json", "services.json")
    )
    return Draft7Validator(schema(name), registry=registry)


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    views = sample_views()
    return dict(open311.files(views, make_summary(views), CONFIG, NOW))


@pytest.fixture(scope="module")
def requests(built: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(built["open311/v2/requests.json"])
    return {r["service_request_id"]: r for r in items}


def test_the_files() -> None:
    views = sample_views()
    paths = [p for p, _ in open311.files(views, make_summary(views), CONFIG, NOW)]
    assert paths == [
        "open311/discovery.json",
        "open311/v2/services.json",
        "open311/v2/requests.json",
    ]


def test_requests_and_services_validate(built: dict[str, bytes]) -> None:
    for name in ("requests.json", "services.json"):
        data = json.loads(built[f"open311/v2/{name}"])
        errors = [e.message for e in validator(name).iter_errors(data)]
        assert errors == [], name
        assert data, name


def test_the_schema_check_can_fail(requests: dict[str, dict[str, Any]]) -> None:
    bad = [
        {**requests["x-2"], "status": "responded"},
        {**requests["x-1"], "description": "x" * 4001},
    ]
    messages = [e.message for e in validator("requests.json").iter_errors(bad)]
    assert len(messages) == 2


def test_statuses_map_to_open_and_closed(requests: dict[str, dict[str, Any]]) -> None:
    states = {cid: view.state for cid, view in ((v.id, v) for v in sample_views())}
    expected = {"open": "open", "responded": "open", "resolved": "closed", "closed": "closed"}
    expected["removed"] = "closed"
    assert {states[cid] for cid in requests} == set(expected)
    for cid, request in requests.items():
        assert request["status"] == expected[states[cid]], cid


def test_status_notes(requests: dict[str, dict[str, Any]]) -> None:
    assert requests["mastodon-3"]["status_notes"] == NOTE_MD  # the note's Markdown, as text
    assert requests["x-4"]["status_notes"] == "We cannot support it."
    assert requests["x-2"]["status_notes"] == "Answered — not fixed yet"
    assert requests["x-1"]["status_notes"] == "Open — no public answer yet"
    assert requests[REMOVED_ID]["status_notes"] == "Removed at the author's request"


def test_request_fields(requests: dict[str, dict[str, Any]]) -> None:
    views = {v.id: v for v in sample_views()}
    fixed = requests["mastodon-3"]
    assert fixed["service_code"] == "mastodon"
    assert fixed["service_name"] == "Complaints on Mastodon"
    assert fixed["description"] == "The app crashes on start"
    assert fixed["agency_responsible"] == "Test Co"
    assert fixed["service_notice"] == "We aim to answer in public within 1 h."
    for cid, request in requests.items():
        assert request["requested_datetime"] == format_instant(views[cid].opened)
        assert request["updated_datetime"] == format_instant(views[cid].last_event_at)
        for key in ("requested_datetime", "updated_datetime"):
            assert ZONED.match(request[key]), (cid, key)
        for key in ("expected_datetime", "address", "zipcode", "lat", "long", "media_url"):
            assert request[key] is None
    opened = [parse_instant(r["requested_datetime"]) for r in requests.values()]
    assert opened == sorted(opened)


def test_long_descriptions_are_cut(requests: dict[str, dict[str, Any]]) -> None:
    text = requests["x-7"]["description"]
    assert len(text) == open311.MAX_DESCRIPTION == 4000
    assert text == BIG[:3999] + "…"
    assert requests["x-1"]["description"].startswith("<script>alert(1)</script>")


def test_hidden_left_out_and_removed_reduced(built: dict[str, bytes]) -> None:
    for path, data in built.items():
        assert HIDDEN_ID.encode() not in data, path
        assert b"HIDDEN-SECRET" not in data, path
        for secret in REMOVED_SECRETS:
            assert secret.encode() not in data, (path, secret)
    requests = {r["service_request_id"]: r for r in json.loads(built["open311/v2/requests.json"])}
    assert HIDDEN_ID not in requests
    assert requests[REMOVED_ID]["description"] is None
    services = json.loads(built["open311/v2/services.json"])
    assert [s["service_code"] for s in services] == ["github", "mastodon", "x"]  # no "reddit"


def test_services(built: dict[str, bytes]) -> None:
    services = {s["service_code"]: s for s in json.loads(built["open311/v2/services.json"])}
    assert services["github"] == {
        "service_code": "github",
        "service_name": "Complaints on GitHub",
        "description": "Public complaints to Test Co on GitHub, and Test Co's public answers.",
        "metadata": False,
        "type": "realtime",
        "keywords": "complaint, github, Test Co",
        "group": "public complaints",
    }


def test_discovery(built: dict[str, bytes]) -> None:
    doc = json.loads(built["open311/discovery.json"])
    assert doc["changeset"] == "2026-11-30T12:00:00Z"
    assert doc["contact"]
    assert doc["key_service"]
    assert doc["endpoints"] == [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "https://test.example/open311/v2/",
            "changeset": "2026-11-30T12:00:00Z",
            "type": "production",
            "formats": ["application/json"],
        }
    ]


def test_no_target_no_notice_and_no_cases_is_an_empty_array() -> None:
    config = parse_config(BASE_CONFIG.replace('response_target = "1h"\n', ""))
    out = dict(open311.files([], make_summary([], config), config, NOW))
    assert json.loads(out["open311/v2/requests.json"]) == []
    assert json.loads(out["open311/v2/services.json"]) == []
    views = sample_views()
    out = dict(open311.files(views, make_summary(views, config), config, NOW))
    assert all(r["service_notice"] is None for r in json.loads(out["open311/v2/requests.json"]))


def test_same_input_same_bytes(built: dict[str, bytes]) -> None:
    views = list(reversed(sample_views()))
    assert dict(open311.files(views, make_summary(views), CONFIG, NOW)) == built
