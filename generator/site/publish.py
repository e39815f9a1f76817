"""Write rendered files to the output folder: only changed files are touched, stale ones go."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.errors import HeardError

MARKER = ".heard-site"


@dataclass(frozen=True)
class PublishReport:
    """What a build did to the output folder."""

    total: int
    written: int
    removed: int


def _safe(path: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"unsafe output path {path!r}")
    return pure


def _replace(target: Path, data: bytes) -> None:
    """Write a file in place (no temp file: creating files is the slow part of a build).

    A build that is interrupted may leave a file cut short; it also leaves no record in the
    build cache, so the next build compares every output and rewrites that one.
    """
    try:
        handle = open(target, "wb")  # noqa: SIM115 - closed just below
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = open(target, "wb")  # noqa: SIM115
    with handle:
        handle.write(data)


def prepare(out: Path) -> None:
    """Make `out` ready for a build: refuse a non-empty folder that is not a heard build, so
    `--out .` cannot wipe a repo; mark it as heard's."""
    if out.exists() and not out.is_dir():
        raise HeardError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise HeardError(
            f"{out}: refusing to build into a non-empty folder that heard did not make"
        )
    out.mkdir(parents=True, exist_ok=True)
    marker = out / MARKER
    if not marker.exists():
        marker.write_bytes(b"built by heard; this folder is replaced on every build\n")


def write_if_changed(out: Path, name: str, data: bytes) -> int:
    """Write one output unless the file already holds these bytes; 1 if written."""
    target = out.joinpath(*_safe(name).parts)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            target.unlink()  # never write through a link planted in the output folder
        elif info.st_size == len(data) and target.read_bytes() == data:
            return 0
    _replace(target, data)
    return 1


PER_CASE = (("cases/", ".html"), ("api/cases/", ".json"), ("feeds/", ".xml"))


def remove_stale(out: Path, expected: set[str], cases: AbstractSet[str] = frozenset()) -> int:
    """Delete files under `out` that this build did not make (and folders left empty).

    `expected` holds every output path but each shown case's three (page, JSON, feed):
    those are expected when their case id is in `cases` (a set of ids, not of 300k paths).
    """
    removed = 0
    for dirpath, dirnames, filenames in os.walk(out, topdown=False):
        rel = Path(dirpath).relative_to(out).as_posix()
        prefix = "" if rel == "." else rel + "/"
        folder = next(((f, end) for f, end in PER_CASE if f == prefix), None)
        for filename in filenames:
            name = prefix + filename
            if name in expected or name == MARKER:
                continue
            if folder and filename.endswith(folder[1]) and filename[: -len(folder[1])] in cases:
                continue
            Path(dirpath, filename).unlink()
            removed += 1
        for dirname in dirnames:
            path = Path(dirpath, dirname)
            if not any(path.iterdir()):
                path.rmdir()
    return removed


def publish(out: Path, files: Iterable[tuple[str, bytes]]) -> PublishReport:
    """Write `files` under `out` incrementally; delete files from earlier builds not rewritten."""
    prepare(out)
    seen: set[str] = set()
    written = 0
    for name, data in files:
        key = _safe(name).as_posix()
        if key in seen or key == MARKER:
            raise ValueError(f"output path produced twice: {key}")
        seen.add(key)
        written += write_if_changed(out, key, data)
    return PublishReport(len(seen), written, remove_stale(out, seen))
