"""`heard import` merges shard by shard (bounded memory) with the same result as merging the
whole record at once: new cases, updated cases, a case whose opening moves to an earlier
month, an id repeated in the export; and all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.errors import ProblemsError
from generator.pipeline import import_cases
from generator.record.model import Case, merge_cases
from generator.record.store import load_record, render_shards
from tests.conftest import case, demo_copy, ev, snapshot


def record_site(tmp_path: Path) -> Path:
    return demo_copy(tmp_path)


def write(path: Path, *cases: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in cases), "utf-8")
    return path


def test_shard_by_shard_equals_the_whole_record(tmp_path: Path) -> None:
    root = record_site(tmp_path)
    before = load_record(root)
    known = json.loads((root / "content/cases/2026-11.jsonl").read_text("utf-8").split("\n")[0])
    earlier = dict(known)  # the same case, with a complaint a month earlier: it moves shard
    earlier["events"] = [ev("complaint", "2026-10-02T08:00:00Z", text="It began here")]
    export = write(
        tmp_path / "in.jsonl",
        case("x-new1", ev("complaint", "2026-11-03T10:00:00Z", text="new one")),
        earlier,
        case("x-new2", ev("complaint", "2025-01-03T10:00:00Z", text="an old month")),
        case(
            "x-new1",
            ev("complaint", "2026-11-03T10:00:00Z", text="new one"),
            ev("reply", "2026-11-03T11:00:00Z", "brand", text="on it"),
        ),
    )
    report = import_cases(root, export)
    after = load_record(root)
    assert report.read == 3 and report.new_cases == 2 and report.updated_cases == 1
    # what merging the whole record in memory gives
    expected = dict(before.cases)
    for line in export.read_text("utf-8").splitlines():
        incoming = Case.model_validate_json(line)
        expected[incoming.id] = (
            merge_cases(expected[incoming.id], incoming) if incoming.id in expected else incoming
        )
    files = {p.name: p.read_bytes() for p in (root / "content/cases").glob("*.jsonl")}
    assert files == render_shards(expected.values())
    assert set(after.cases) == set(expected)
    assert after.cases[known["id"]].shard() == "2026-10"
    assert "2025-01.jsonl" in report.files
    again = snapshot(root)
    import_cases(root, export)  # idempotent
    assert snapshot(root) == again


def test_a_bad_line_imports_nothing(tmp_path: Path) -> None:
    root = record_site(tmp_path)
    before = snapshot(root)
    export = tmp_path / "in.jsonl"
    good = case("x-new1", ev("complaint", "2026-11-03T10:00:00Z", text="new one"))
    export.write_text(json.dumps(good) + "\n" + '{"id": "x-2", "channel": "x"}\n', "utf-8")
    with pytest.raises(ProblemsError):
        import_cases(root, export)
    assert snapshot(root) == before
