"""The shipped demo record (content/, heard.toml) is valid, canonical and our own text."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.config import load_config
from generator.record.model import Case, Note, case_to_line

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"
CASES_DIR = CONTENT / "cases"
NOTES_DIR = CONTENT / "notes"
PAGES_DIR = CONTENT / "pages"
TWCS = ROOT.parent / "shared" / "data" / "twcs_head5000.csv"
SHARD_NAME = re.compile(r"^\d{4}-(0[1-9]|1[0-2])\.jsonl$")
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)


def shard_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.jsonl"))


@cache
def shard_lines() -> dict[str, list[str]]:
    return {path.name: path.read_text(encoding="utf-8").splitlines() for path in shard_files()}


@cache
def all_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for lines in shard_lines().values():
        for line in lines:
            case = Case.model_validate_json(line)
            cases[case.id] = case
    return cases


def split_front_matter(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    assert match, f"{path.name}: no YAML front matter"
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict), f"{path.name}: front matter is not a mapping"
    return data, match.group(2)


@cache
def all_notes() -> dict[str, Note]:
    notes: dict[str, Note] = {}
    for path in sorted(NOTES_DIR.glob("*.md")):
        data, body = split_front_matter(path)
        notes[path.stem] = Note.model_validate({"case_id": path.stem, **data, "body": body})
    return notes


def test_shards_exist_and_are_named_by_month() -> None:
    assert shard_files(), "no content/cases/*.jsonl"
    for path in shard_files():
        assert SHARD_NAME.match(path.name), path.name


def test_every_line_is_a_canonical_case() -> None:
    for name, lines in shard_lines().items():
        assert lines, f"{name} is empty"
        for number, line in enumerate(lines, start=1):
            case = Case.model_validate_json(line)
            assert case_to_line(case) == line, f"{name}:{number} is not canonical"


def test_files_end_with_a_newline_and_have_no_blank_lines() -> None:
    for path in shard_files():
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n"), path.name
        assert "\n\n" not in text, path.name
        assert "\r" not in text, path.name


def test_lines_are_sorted_by_id() -> None:
    for name, lines in shard_lines().items():
        ids = [Case.model_validate_json(line).id for line in lines]
        assert ids == sorted(ids), f"{name} is not sorted by id"


def test_each_case_lives_in_its_opening_month() -> None:
    for name, lines in shard_lines().items():
        for line in lines:
            case = Case.model_validate_json(line)
            assert f"{case.shard()}.jsonl" == name, f"{case.id} belongs in {case.shard()}.jsonl"


def test_no_duplicate_ids() -> None:
    ids = [Case.model_validate_json(line).id for lines in shard_lines().values() for line in lines]
    assert len(ids) == len(set(ids))


def test_enough_cases_over_enough_channels() -> None:
    cases = all_cases()
    assert len(cases) >= 50
    assert len({case.channel for case in cases.values()}) >= 4


def test_brand_events_say_so_and_case_ids_match_urls() -> None:
    for case in all_cases().values():
        for event in case.events:
            if event.kind in ("reply", "moved_private", "follow_up"):
                assert event.by == "brand", f"{case.id}: {event.kind} not by the brand"
        native = case.id.removeprefix(f"{case.channel}-")
        assert case.url is not None, case.id
        assert native in case.url, f"{case.id}: native id not in {case.url}"


def test_config_names_every_channel_and_its_bots() -> None:
    config = load_config(ROOT)
    channels = {case.channel for case in all_cases().values()}
    assert channels <= set(config.accounts), channels - set(config.accounts)
    bot_events = [
        (case, event)
        for case in all_cases().values()
        for event in case.events
        if config.is_bot(case.channel, event.handle)
    ]
    assert bot_events, "the demo should show a bot answer that does not count"
    for case, event in bot_events:
        assert not config.is_brand(case.channel, event.handle), case.id


def test_notes_are_valid_and_name_existing_cases() -> None:
    cases = all_cases()
    notes = all_notes()
    assert notes, "no content/notes/*.md"
    for case_id, note in notes.items():
        assert case_id in cases, f"note for unknown case {case_id}"
        for decision in note.decisions:
            assert decision.at > cases[case_id].opened, f"{case_id}: decision before complaint"


def test_hidden_and_removed_notes_have_reasons() -> None:
    statuses = {note.status for note in all_notes().values()}
    assert {"resolved", "closed", "hidden", "removed", "reopened", "note"} <= statuses
    for case_id, note in all_notes().items():
        if note.status in ("hidden", "removed"):
            assert (note.reason or "").strip(), f"{case_id}: {note.status} needs a reason"
    reasons = {note.status: note.reason for note in all_notes().values()}
    assert reasons["hidden"] == "spam"
    assert reasons["removed"] == "author request"


def test_pages_have_titles() -> None:
    names = {path.name for path in PAGES_DIR.glob("*.md")}
    assert {"about.md", "policy.md"} <= names
    for path in PAGES_DIR.glob("*.md"):
        data, body = split_front_matter(path)
        title = data.get("title")
        assert isinstance(title, str), path.name
        assert title.strip(), path.name
        assert body.strip(), path.name


def twcs_texts(limit: int = 500, min_length: int = 30) -> list[str]:
    with TWCS.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        texts = []
        for number, row in enumerate(reader):
            if number >= limit:
                break
            text = (row.get("text") or "").strip()
            if len(text) > min_length:
                texts.append(text)
    return texts


def test_no_dataset_text_in_the_demo_content() -> None:
    if not TWCS.is_file():
        pytest.skip(f"{TWCS} not present")
    texts = twcs_texts()
    assert texts, "the guard read nothing from the dataset"
    shipped = [path for path in CONTENT.rglob("*") if path.is_file()]
    shipped.append(ROOT / "heard.toml")
    for path in shipped:
        content = path.read_text(encoding="utf-8")
        for text in texts:
            assert text not in content, f"{path.relative_to(ROOT)} contains dataset text"
