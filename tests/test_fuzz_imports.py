"""Fuzzing the new importers (cfpb, nyc311, open311, csv with a map) like test_fuzz.py
fuzzes the others: each starts from a valid export written by tests/support/importers.py
and is mutated as text, as bytes and (JSON) as a structure; the column map and the
options are fuzzed too. The only acceptable outcomes: success (and a second import changes
nothing), or one-line errors naming the file; never a traceback, never a partial write.
HEARD_FUZZ_SCALE=10 for longer hunts.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from generator.errors import HeardError
from generator.gather.imports.csvrows import Table
from generator.gather.imports.jsonstream import json_items
from tests.conftest import heard, snapshot
from tests.support.importers import IMPORTERS, CsvMap, Importer, Item
from tests.test_fuzz import (
    CSV_TOKENS,
    JSON_KEYS,
    JSON_TOKENS,
    JSON_VALUES,
    TIME_TOKENS,
    TOML_TOKENS,
    assert_polite,
    check_import,
    encode,
    fresh_site,
    fuzz,
    mutate_tree,
    mutated_bytes,
    mutated_text,
    text_or_bytes,
    tmp_files,
    workdir,
    write_site,
)

ITEMS = [Item("Charged twice, ORD-123456"), Item("Still broken", "App"), Item("", "Other")]
BY_FORMAT = {i.format: i for i in IMPORTERS}
IMPORT_TOKENS = (
    *CSV_TOKENS,
    *JSON_TOKENS,
    "Closed with monetary relief",
    "In progress",
    "Untimely response",
    "13/45/2016",
    "02/29/2023",
    "2024-03-10T02:30:00.000",
    "2024-11-03T01:30:00.000",
    "04/16/2024 13:03:15 PM",
    "Closed",
    "closed",
    "open",
    "0000-00-00T00:00:00",
    "99999-01-01T00:00:00Z",
)
KEYS = (*JSON_KEYS, "hits", "_source", "status", "extended_attributes", "heard_state",
        "heard_outcome", "requested_datetime", "updated_datetime", "service_request_id",
        "unique_key", "created_date", "complaint_id", "date_received", "company_response")  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean site that has had an import (so it has its record manifest too)."""
    base = tmp_path_factory.mktemp("template")
    site = write_site(base / "site")
    seed = base / "seed.jsonl"
    seed.write_text(
        '{"id": "x-1", "channel": "x", "events": [{"kind": "complaint", '
        '"at": "2026-11-20T10:00:00Z", "by": "customer"}]}\n',
        encoding="utf-8",
    )
    assert heard("import", "--site", site, seed).exit_code == 0
    return site


def seed(importer: Importer, folder: Path) -> bytes:
    return importer.write(folder, ITEMS).read_bytes()


SEEDS: dict[str, str] = {}


def seed_text(name: str) -> str:
    """The valid export of a format, as text (written once)."""
    if name not in SEEDS:
        with workdir() as folder:
            SEEDS[name] = seed(BY_FORMAT[name], folder).decode("utf-8")
    return SEEDS[name]


@st.composite
def json_structure(draw: st.DrawFn, name: str) -> bytes:
    """The format's JSON export after 1-4 structural edits."""
    data = mutate_tree(draw, json.loads(seed_text(name)), draw(st.integers(1, 4)), JSON_VALUES, KEYS, IMPORT_TOKENS)  # fmt: skip
    try:
        text = json.dumps(
            data, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from((None, 1)))
        )
    except (TypeError, ValueError):  # a Raw fragment json.dumps cannot write
        text = json.dumps(str(data))
    return encode(text)


def export(name: str) -> st.SearchStrategy[bytes]:
    base = text_or_bytes(seed_text(name), IMPORT_TOKENS)
    if name in ("nyc311", "open311"):
        return base | json_structure(name)
    return base


def run_import(template: Path, name: str, data: bytes, extra: list[str]) -> None:
    importer = BY_FORMAT[name]
    with workdir() as root:
        site = fresh_site(root, template)
        source = root / ("in.json" if name in ("nyc311", "open311") else "in.csv")
        source.write_bytes(data)
        check_import(site, source, [*importer.args(root), *extra])


OPTIONS = st.sampled_from(
    (
        [],
        ["--timezone", "America/New_York"],
        ["--timezone", "Nowhere/Else"],
        ["--company", "*"],
        ["--company", "dsny"],
        ["--closed-as", "resolved"],
    )
)


@fuzz(60)
@given(data=export("cfpb"), extra=OPTIONS)
def test_import_cfpb(template: Path, data: bytes, extra: list[str]) -> None:
    run_import(template, "cfpb", data, extra)


@fuzz(60)
@given(data=export("nyc311"), extra=OPTIONS)
def test_import_nyc311(template: Path, data: bytes, extra: list[str]) -> None:
    run_import(template, "nyc311", data, extra)


@fuzz(60)
@given(data=export("open311"), extra=OPTIONS)
def test_import_open311(template: Path, data: bytes, extra: list[str]) -> None:
    run_import(template, "open311", data, extra)


@fuzz(60)
@given(data=export("csv"), extra=OPTIONS)
def test_import_csv_with_a_map(template: Path, data: bytes, extra: list[str]) -> None:
    run_import(template, "csv", data, extra)


@fuzz(80)
@given(text=mutated_text(CsvMap.MAP, (*TOML_TOKENS, *TIME_TOKENS, "%Y", "%H:%M", '"iso"')))
def test_fuzzed_column_maps(template: Path, text: str) -> None:
    with workdir() as root:
        site = fresh_site(root, template)
        data = CsvMap().write(root, ITEMS)
        mapping = root / "fuzzed.toml"
        mapping.write_bytes(encode(text))
        before = snapshot(site)
        result = heard("import", "--site", site, "--format", "csv", "--map", mapping, data)
        assert_polite(result)
        assert tmp_files(site) == []
        if result.exit_code == 1:
            assert snapshot(site) == before
            assert str(mapping) in result.stderr or str(data) in result.stderr, result.stderr
            event("map refused")
        else:
            event("map accepted")


def _library_outcome(run: Any) -> None:
    try:
        for _ in run():
            pass
    except HeardError as exc:
        message = str(exc)
        assert message.splitlines() == [message], repr(message)
        assert message.startswith("f:"), message


@fuzz(150)
@given(
    data=mutated_text(seed_text("open311"), JSON_TOKENS).map(encode)
    | mutated_bytes(encode(seed_text("nyc311")))
    | st.binary(max_size=200),
    paths=st.sampled_from(([()], [(), ("hits", "hits")], [("hits", "hits")])),
)
def test_the_json_list_reader(data: bytes, paths: list[tuple[str, ...]]) -> None:
    _library_outcome(lambda: json_items(io.BytesIO(data), "f", paths))


@fuzz(150)
@given(data=text_or_bytes(seed_text("cfpb"), CSV_TOKENS))
def test_the_csv_table_reader(data: bytes) -> None:
    _library_outcome(lambda: iter(Table(io.BytesIO(data), "f", what="columns")))
