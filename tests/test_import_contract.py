"""What every importer keeps (tests/support/importers.py writes each format): personal
data never reaches content/ nor the site, hostile text stays text, a bad row imports
nothing, importing twice changes nothing, and files are read as streams."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.gather.imports.csvrows import Table
from generator.gather.imports.jsonstream import CHUNK, json_items
from generator.record.store import load_record
from tests.conftest import BASE_CONFIG, heard, snapshot, write_lines
from tests.support.hostile import PAYLOADS, collapse, html_problems, scan
from tests.support.importers import IMPORTERS, Importer, Item
from tests.support.personal import PERSONAL, leaks

CONFIG = BASE_CONFIG + "\n[gather]\nredact = ['\\bORD-\\d{6}\\b']\n"
NOW = "2026-12-01T00:00:00Z"
each_importer = pytest.mark.parametrize("importer", IMPORTERS, ids=lambda i: i.format)


def site(folder: Path) -> Path:
    root = folder / "site"
    root.mkdir()
    (root / "heard.toml").write_text(CONFIG, encoding="utf-8")
    return root


def run(root: Path, importer: Importer, data: Path, folder: Path) -> tuple[int, str]:
    result = heard("import", "--site", root, *importer.args(folder), data)
    return result.exit_code, result.stdout + result.stderr


@each_importer
def test_personal_data_never_reaches_the_record_and_hostile_text_stays_text(
    importer: Importer, tmp_path: Path
) -> None:
    items = [Item(text) for text, _ in PERSONAL]
    items += [Item(f"{p.text} still broken?", p.short) for p in PAYLOADS]
    root = site(tmp_path)
    code, output = run(root, importer, importer.write(tmp_path, items), tmp_path)
    assert code == 0, output
    assert len(load_record(root).cases) == len(items)
    assert leaks(b"".join(snapshot(root / "content").values())) == []
    out = tmp_path / "out"
    built = heard("build", "--site", root, "--out", out, "--now", NOW)
    assert built.exit_code == 0, built.stderr
    assert leaks(b"".join(snapshot(out).values())) == []
    pages = sorted((out / "cases").glob("*.html"))
    assert len(pages) == len(items)
    problems = [p for page in pages for p in html_problems(out, page)]
    assert problems == [], "\n".join(problems[:20])
    shown = " ".join(scan(page).text for page in pages)
    for payload in PAYLOADS:
        assert collapse(payload.text) in shown, payload.key  # literally, as typed


@each_importer
def test_a_bad_row_imports_nothing(importer: Importer, tmp_path: Path) -> None:
    root = site(tmp_path)
    write_lines(
        root / "input.jsonl",
        [{"id": "x-1", "channel": "x", "events": [
            {"kind": "complaint", "at": "2026-11-20T10:00:00Z", "by": "customer"}]}],
    )  # fmt: skip
    assert heard("import", "--site", root, root / "input.jsonl").exit_code == 0
    before = snapshot(root)
    good = importer.write(tmp_path, [Item("fine"), Item("also fine")])
    data = good.read_bytes()
    bad = tmp_path / f"bad{good.suffix}"
    bad.write_bytes(
        data.replace(
            b"also fine", b"also \\u0000 fine" if good.suffix == ".json" else b"also \x00 fine"
        )
    )
    code, output = run(root, importer, bad, tmp_path)
    assert code == 1, output
    assert str(bad) in output
    assert snapshot(root) == before


@each_importer
def test_importing_twice_changes_nothing(importer: Importer, tmp_path: Path) -> None:
    root = site(tmp_path)
    data = importer.write(tmp_path, [Item(f"complaint {n}") for n in range(5)])
    assert run(root, importer, data, tmp_path)[0] == 0
    before = snapshot(root)
    code, output = run(root, importer, data, tmp_path)
    assert code == 0 and "0 new, 0 updated, 0 new events; 0 record file(s) written" in output
    assert snapshot(root) == before
    assert heard("check", "--site", root).exit_code == 0


class Counting(io.RawIOBase):
    """A stream of `head` then endless `filler`, counting what was read."""

    def __init__(self, head: bytes, filler: bytes) -> None:
        self.head = head
        self.filler = filler
        self.offset = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # io's signature
        size = len(buffer)
        out = bytearray()
        while len(out) < size:
            if self.head:
                taken = self.head[: size - len(out)]
                self.head = self.head[len(taken) :]
                out += taken
                continue
            piece = self.filler[self.offset : self.offset + size - len(out)]
            self.offset = (self.offset + len(piece)) % len(self.filler)
            out += piece
        buffer[:size] = out
        self.read_bytes += size
        return size


def test_a_json_list_is_read_one_item_at_a_time() -> None:
    stream = Counting(b'[{"a": 1},\n', b'{"b": "' + b"x" * 100 + b'"},\n')
    items: Iterator[tuple[int, object]] = json_items(stream, "big.json", [()])  # type: ignore[arg-type]
    for _ in range(1000):
        next(items)
    assert stream.read_bytes < 4 * CHUNK  # 1000 items of ~110 bytes, never the whole file


def test_a_csv_is_read_one_row_at_a_time() -> None:
    stream = Counting(b"a,b\r\n", b'1,"two\nlines"\r\n')
    rows = iter(Table(io.BufferedReader(stream), "big.csv", what="a, b"))
    for number in range(1000):
        line, values = next(rows)
        assert values == {"a": "1", "b": "two\nlines"}
        assert line == 2 + 2 * number  # the line each row starts on
    assert stream.read_bytes < 64 * 1024
