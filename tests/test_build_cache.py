"""The build is incremental and parallel, and neither changes a byte of the site.

Byte identity: with or without the build cache, with a damaged cache, with one worker or
several; two builds at different "now"s leave every unchanged case's page, JSON and feed
as they were. (No timing here: the bench measures speed.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator.site.cache import CACHE_DIR
from tests.conftest import demo_copy, heard, snapshot

NOW = "2026-11-30T12:00:00Z"
LATER = "2026-12-02T08:30:00Z"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the demo site (record, notes, pages, config), without a cache."""
    return demo_copy(tmp_path)


def build(site: Path, out: Path, *args: str, now: str = NOW) -> dict[str, bytes]:
    result = heard("build", "--site", site, "--out", out, "--now", now, "--quiet", *args)
    assert result.exit_code == 0, result.stderr
    return snapshot(out)


def cache_files(site: Path) -> list[Path]:
    return sorted(p for p in (site / CACHE_DIR).rglob("*") if p.is_file())


def test_cache_or_not_the_same_bytes(site: Path, tmp_path: Path) -> None:
    cold = build(site, tmp_path / "a")
    assert cache_files(site)
    warm = build(site, tmp_path / "b")  # the cache is full, the output folder new
    again = build(site, tmp_path / "a")  # nothing changed at all
    shutil.rmtree(site / CACHE_DIR)
    deleted = build(site, tmp_path / "c")
    assert warm == cold
    assert again == cold
    assert deleted == cold


@pytest.mark.parametrize(
    "damage",
    ["truncate", "flip", "garbage", "empty", "wrong-shape", "digest-ok-wrong-types"],
)
def test_a_damaged_cache_gives_the_same_bytes(site: Path, tmp_path: Path, damage: str) -> None:
    out = tmp_path / "out"
    clean = build(site, out)
    edit = site / "content/cases/2026-11.jsonl"
    edit.write_bytes(edit.read_bytes())  # same bytes: the cache must still be checked
    for path in cache_files(site):
        data = path.read_bytes()
        if damage == "truncate":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "flip":
            middle = len(data) // 2
            path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :])
        elif damage == "garbage":
            path.write_bytes(b"\x00\xff not a cache file \xfe")
        elif damage == "empty":
            path.write_bytes(b"")
        elif damage == "wrong-shape":
            path.write_bytes(b'heard-build-cache 1 0\n{"cases": 1}')
        else:  # a well-formed file whose contents lie about their types
            import hashlib

            body = json.dumps({"lines": "x", "problems": 7, "cases": {"a": [1, None, 3]}}).encode()
            head = b"heard-build-cache 1 " + hashlib.blake2b(body).hexdigest().encode()
            path.write_bytes(head + b"\n" + body)
    assert build(site, out) == clean
    assert build(site, tmp_path / "fresh") == clean


def test_any_number_of_workers_the_same_bytes(site: Path, tmp_path: Path) -> None:
    one = build(site, tmp_path / "one", "--jobs", "1")
    shutil.rmtree(site / CACHE_DIR)
    three = build(site, tmp_path / "three", "--jobs", "3")
    assert one == three


def test_a_later_now_leaves_every_unchanged_case_as_it_was(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = build(site, out)
    second = build(site, out, now=LATER)
    per_case = [p for p in first if p.startswith(("cases/", "feeds/", "api/cases/"))]
    assert len(per_case) > 100
    for path in per_case:
        assert second[path] == first[path], path
    assert second["index.html"] != first["index.html"]  # the figures did move
    assert second["freshness.js"] != first["freshness.js"]
    # ... and the same later build without a cache agrees byte for byte
    shutil.rmtree(site / CACHE_DIR)
    assert build(site, tmp_path / "cold", now=LATER) == second


def test_one_changed_case_changes_its_outputs_and_the_aggregates(
    site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    before = build(site, out)
    shard = site / "content/cases/2026-11.jsonl"
    lines = shard.read_text("utf-8").splitlines(keepends=True)
    case = json.loads(lines[0])
    case["events"].append(
        {"kind": "follow_up", "at": "2026-11-29T12:00:00Z", "by": "brand", "text": "All good now?"}
    )
    lines[0] = json.dumps(case) + "\n"
    shard.write_text("".join(lines), "utf-8")
    after = build(site, out)
    changed = {p for p in before if before[p] != after.get(p)}
    assert f"cases/{case['id']}.html" in changed
    assert f"api/cases/{case['id']}.json" in changed
    assert f"feeds/{case['id']}.xml" in changed
    assert "feed.xml" in changed  # its latest step moved
    others = {p for p in changed if p.startswith("cases/")} - {f"cases/{case['id']}.html"}
    assert others == set()
    shutil.rmtree(site / CACHE_DIR)
    assert build(site, tmp_path / "cold") == after


def test_a_case_that_becomes_hidden_loses_its_files(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = build(site, out)
    case_id = json.loads((site / "content/cases/2026-10.jsonl").read_text("utf-8").split("\n")[0])[
        "id"
    ]
    assert f"cases/{case_id}.html" in before
    note = site / "content/notes" / f"{case_id}.md"
    note.write_text('---\nstatus: hidden\nat: "2026-11-29T00:00:00Z"\nreason: spam\n---\n', "utf-8")
    after = build(site, out)
    assert f"cases/{case_id}.html" not in after
    assert f"feeds/{case_id}.xml" not in after
    shutil.rmtree(site / CACHE_DIR)
    assert build(site, tmp_path / "cold") == after


def test_files_deleted_from_the_output_come_back(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = build(site, out)
    case_page = next(p for p in first if p.startswith("cases/"))
    for name in (case_page, "lookup/00.js", "index.html", "static/style.css"):
        (out / name).unlink()
    assert build(site, out, now=LATER) == build(site, tmp_path / "cold", now=LATER)
    assert (out / case_page).read_bytes() == first[case_page]
