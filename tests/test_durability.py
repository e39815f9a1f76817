"""A full disk or a read-only folder: a clear one-line error and an intact record.

The faults are injected where the bytes meet the file system (root ignores permissions,
so a real read-only folder cannot be made here).
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SiteFactory, case, ev, heard, snapshot, write_lines

NOW = "2026-11-30T12:00:00Z"


def site_and_export(make_site: SiteFactory, tmp_path: Path) -> tuple[Path, Path]:
    root = make_site({"2026-11": [case("x-1", ev("complaint", "2026-11-20T10:00:00Z"))]})
    export = tmp_path / "e.jsonl"
    write_lines(
        export,
        [
            case("x-2", ev("complaint", "2026-10-20T10:00:00Z")),
            case("x-3", ev("complaint", "2026-11-21T10:00:00Z")),
        ],
    )
    return root, export


def test_a_full_disk_during_an_import(
    make_site: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, export = site_and_export(make_site, tmp_path)
    before = snapshot(root)
    calls = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the second staged file does not fit
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = heard("import", "--site", root, export)
    assert result.exit_code == 1
    assert result.stderr == "error: No space left on device\n"
    assert snapshot(root) == before  # nothing half-written, no temp file left


def test_a_read_only_folder_during_a_decision(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site({"2026-11": [case("x-1", ev("complaint", "2026-11-20T10:00:00Z"))]})
    before = snapshot(root)
    notes = str(root / "content" / "notes")
    real = tempfile.mkstemp

    def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if str(kwargs.get("dir", "")) == notes:
            raise OSError(errno.EROFS, "Read-only file system", notes)
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    result = heard("resolve", "--site", root, "x-1", "--note", "Fixed", "--now", NOW)
    assert result.exit_code == 1
    assert result.stderr == f"error: {notes}: Read-only file system\n"
    assert snapshot(root) == before


def test_a_file_where_the_record_folder_should_be(make_site: SiteFactory, tmp_path: Path) -> None:
    root, export = site_and_export(make_site, tmp_path)
    (root / "content" / "state").write_text("not a folder", encoding="utf-8")
    before = snapshot(root)
    result = heard("import", "--site", root, export)
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert snapshot(root) == before


def test_a_site_folder_that_does_not_exist(tmp_path: Path) -> None:
    result = heard("build", "--site", tmp_path / "nowhere", "--now", NOW)
    assert result.exit_code == 1
    assert (
        result.stderr
        == "heard.toml: not found in "
        + str(tmp_path / "nowhere")
        + " (run `heard init` or pass --site)\n"
    )
