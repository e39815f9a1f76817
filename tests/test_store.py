"""The record on disk: located errors, canonical shards, atomic writes, notes and pages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generator.record.model import Case, Note
from generator.record.store import (
    atomic_write_many,
    load_notes,
    load_pages,
    load_record,
    note_text,
    parse_note,
    save_note,
    save_record,
)
from tests.conftest import SiteFactory, case, ev


def good(n: int, month: str = "2026-11") -> dict[str, object]:
    return case(f"x-{n}", ev("complaint", f"{month}-0{1 + n % 9}T10:00:00Z", text=f"post {n}"))


def test_bad_line_names_file_line_and_field(make_site: SiteFactory) -> None:
    lines: list[dict[str, object] | str] = [good(i) for i in range(16)]
    bad = case(
        "x-99",
        ev("complaint", "2026-11-01T10:00:00Z"),
        ev("reply", "2026-11-01T11:00:00Z", "brand"),
        ev("note", "2026-11-01 12:00", "brand"),
    )
    lines.append(bad)
    root = make_site({"2026-11": lines})
    record = load_record(root)
    assert [str(p) for p in record.problems] == [
        "content/cases/2026-11.jsonl:17: events[2].at: not an ISO 8601 time with a zone"
    ]
    assert len(record.cases) == 16


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "{not json",
            "not valid JSON: Expecting property name enclosed in double quotes (column 2)",
        ),
        ("[1, 2]", "a record line must be a JSON object"),
        (
            json.dumps(case("x-1", ev("complaint", "2026-11-01T10:00:00Z", by="robot"))),
            "events[0].by: must be 'customer', 'brand' or 'system'",
        ),
        (
            json.dumps(case("x-1", ev("complain", "2026-11-01T10:00:00Z"))),
            "events[0].kind: must be 'complaint', 'reply', 'customer_reply', 'moved_private', "
            "'follow_up', 'resolved', 'closed', 'reopened', 'hidden', 'removed' or 'note'",
        ),
        (
            json.dumps(case("x-1", ev("reply", "2026-11-01T10:00:00Z", "brand"))),
            "events: a case needs a complaint event",
        ),
        (
            json.dumps({**case("x-1", ev("complaint", "2026-11-01T10:00:00Z")), "colour": 1}),
            "colour: unknown field",
        ),
        (
            json.dumps(
                {**case("x-1", ev("complaint", "2026-11-01T10:00:00Z")), "id": "x/../../etc"}
            ),
            "id must be '<channel>-<native id>' using letters, digits, '.', '_', '~', '-'",
        ),
        (
            json.dumps(
                case("x-1", ev("complaint", "2026-11-01T10:00:00Z", url="javascript:alert(1)"))
            ),
            "events[0].url: must be an http(s) URL",
        ),
        (
            json.dumps(case("x-1", ev("complaint", "2026-11-01T10:00:00Z", text="\ud800"))),
            "events[0].text: contains an invalid (lone surrogate) character",
        ),
        (
            json.dumps(
                {**case("x-1", ev("complaint", "2026-11-01T10:00:00Z")), "author": {"reach": "9"}}
            ),
            "author.reach: must be a whole number, not a string",
        ),
    ],
)
def test_each_kind_of_bad_line(make_site: SiteFactory, line: str, message: str) -> None:
    root = make_site({"2026-11": [good(1), line]})
    assert [str(p) for p in load_record(root).problems] == [
        f"content/cases/2026-11.jsonl:2: {message}"
    ]


def test_non_utf8_line_is_located(make_site: SiteFactory) -> None:
    root = make_site({"2026-11": [good(1)]})
    path = root / "content/cases/2026-11.jsonl"
    path.write_bytes(path.read_bytes() + b'{"id": "\xff"}\n')
    assert [str(p) for p in load_record(root).problems] == [
        "content/cases/2026-11.jsonl:2: not UTF-8 (byte 9)"
    ]


def test_save_record_is_canonical_sorted_sharded_and_incremental(make_site: SiteFactory) -> None:
    root = make_site()
    cases = [
        Case.model_validate(good(3, "2026-10")),
        Case.model_validate(good(2)),
        Case.model_validate(good(1)),
    ]
    assert save_record(root, cases) == ["2026-10.jsonl", "2026-11.jsonl"]
    nov = (root / "content/cases/2026-11.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["id"] for x in nov] == ["x-1", "x-2"]
    assert nov[0] == (
        '{"id": "x-1", "channel": "x", "events": [{"kind": "complaint", '
        '"at": "2026-11-02T10:00:00Z", "by": "customer", "text": "post 1"}]}'
    )
    assert save_record(root, cases) == []  # nothing changed, nothing written
    assert save_record(root, cases[1:]) == ["2026-10.jsonl"]  # the emptied shard goes
    assert not (root / "content/cases/2026-10.jsonl").exists()


def test_a_failed_multi_file_write_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "blocker" / "b.jsonl"
    a.write_bytes(b"old a\n")
    (tmp_path / "blocker").write_bytes(b"a file where a folder should be")
    with pytest.raises(OSError):
        atomic_write_many({a: b"new a\n", b: b"x"})
    assert a.read_bytes() == b"old a\n"
    assert not b.exists()
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


NOTE = """---
status: resolved
at: "2026-11-03T10:00:00Z"
agent: JM
---
We **fixed** it.
"""


def test_note_round_trip(tmp_path: Path) -> None:
    note = parse_note(NOTE, "x-1", "n.md")
    assert isinstance(note, Note)
    assert (note.status, note.agent, note.body) == ("resolved", "JM", "We **fixed** it.")
    save_note(tmp_path, note)
    again = load_notes(tmp_path)[0]["x-1"]
    assert again == note
    assert note_text(again) == note_text(note)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "n.md:1: a note starts with YAML front matter between '---' lines"),
        (
            "---\nstatus: [\n---\n",
            "n.md:3: invalid YAML front matter: expected the node content, but found '<stream end>'",
        ),
        (
            "---\nstatus: fixed\nat: '2026-11-03T10:00:00Z'\n---\nx\n",
            "n.md:2: status: must be 'resolved', 'closed', 'hidden', 'removed', 'reopened' or 'note'",
        ),
        (
            "---\nstatus: note\nat: 2026-11-03 10:00\n---\nx\n",
            "n.md:3: at: not an ISO 8601 time with a zone",
        ),
        (
            "---\nstatus: hidden\nat: '2026-11-03T10:00:00Z'\n---\n",
            "n.md:2: reason: a hidden case needs a reason",
        ),
        (
            "---\nstatus: resolved\nat: '2026-11-03T10:00:00Z'\n---\n",
            "n.md:2: body: a resolved note must say what changed",
        ),
        (
            "---\nstatus: note\nat: '2026-11-03T10:00:00Z'\nmood: great\n---\n",
            "n.md:4: mood: unknown field",
        ),
        ("---\n- a\n---\n", "n.md:1: the front matter must be a mapping of keys to values"),
    ],
)
def test_bad_notes_are_located(text: str, message: str) -> None:
    out = parse_note(text, "x-1", "n.md")
    assert isinstance(out, list)
    assert [str(p) for p in out] == [message]


def test_unquoted_yaml_timestamp_with_zone_is_accepted() -> None:
    out = parse_note("---\nstatus: note\nat: 2026-11-03T10:00:00Z\n---\nhi\n", "x-1", "n.md")
    assert isinstance(out, Note)


def test_pages_with_titles(tmp_path: Path) -> None:
    pages = tmp_path / "content" / "pages"
    pages.mkdir(parents=True)
    (pages / "about.md").write_text("---\ntitle: About us\n---\nHello\n", encoding="utf-8")
    (pages / "policy.md").write_text("No front matter\n", encoding="utf-8")
    (pages / "Bad Name.md").write_text("x", encoding="utf-8")
    found, problems = load_pages(tmp_path)
    assert [(p.slug, p.title) for p in found] == [("about", "About us"), ("policy", "Policy")]
    assert [str(p) for p in problems] == [
        "content/pages/Bad Name.md: page names use a-z, 0-9 and '-'"
    ]


def test_temp_files_do_not_linger_after_success(tmp_path: Path) -> None:
    atomic_write_many({tmp_path / "a": b"1", tmp_path / "b": b"2"})
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]
