"""Write rendered files to the output folder: only changed files are touched, stale ones go."""

from __future__ import annotations

import os
from collections.abc import Iterable
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
    """Rename a fully written temp file into place (no fsync: the site is rebuilt at will)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def publish(out: Path, files: Iterable[tuple[str, bytes]]) -> PublishReport:
    """Write `files` under `out` incrementally; delete files from earlier builds not rewritten.

    Refuses a non-empty folder that is not a heard build, so `--out .` cannot wipe a repo.
    """
    if out.exists() and not out.is_dir():
        raise HeardError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise HeardError(
            f"{out}: refusing to build into a non-empty folder that heard did not make"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_bytes(b"built by heard; this folder is replaced on every build\n")
    seen: set[str] = {MARKER}
    written = 0
    for name, data in files:
        rel = _safe(name)
        key = rel.as_posix()
        if key in seen:
            raise ValueError(f"output path produced twice: {key}")
        seen.add(key)
        target = out.joinpath(*rel.parts)
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                continue
        except FileNotFoundError:
            pass
        _replace(target, data)
        written += 1
    removed = 0
    for dirpath, dirnames, filenames in os.walk(out, topdown=False):
        for filename in filenames:
            full = Path(dirpath, filename)
            if full.relative_to(out).as_posix() not in seen:
                full.unlink()
                removed += 1
        for dirname in dirnames:
            folder = Path(dirpath, dirname)
            if not any(folder.iterdir()):
                folder.rmdir()
    return PublishReport(len(seen) - 1, written, removed)
