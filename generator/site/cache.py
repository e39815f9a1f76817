"""The build cache under `.heard-cache/build/`: an optimisation, never a source of truth.

Every file holds one JSON document behind a header line naming the format and the digest
of the document, so a file that was cut short, flipped or replaced reads as missing, and
the build redoes that part. Deleting the folder, or any damage to it, gives the same site
(tests/test_build_cache.py). Files are written whole (temp file + rename).

What it holds:
- `parsed/<digest of heard's code and a shard's bytes>.json`: the shard, parsed: per line
  its problems, and per case its id, channel, line, a digest of the line and its event
  times;
- `facts/<shard state>.json`: per case of that shard state, the digest of its inputs, its
  compact facts and its lookup keys; `frags/<shard state>.json`: its Open311 request;
- `out.json`: what the last build wrote into which output folder (per case and per
  aggregate output, the digest of the inputs it was made from).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

CACHE_DIR = Path(".heard-cache") / "build"
FORMAT = b"heard-build-cache 1"


def digest(*parts: bytes | str) -> str:
    """A short, stable digest of its parts (each part length-prefixed: no ambiguity)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def read(path: Path) -> Any:
    """The document in a cache file, or None when it is missing or damaged in any way."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head, newline, body = raw.partition(b"\n")
    if not newline or head != FORMAT + b" " + hashlib.blake2b(body).hexdigest().encode():
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def write(path: Path, data: Any) -> None:
    """Write a cache file whole; a failure leaves no partial file behind."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = FORMAT + b" " + hashlib.blake2b(body).hexdigest().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(head + b"\n" + body)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def forget(path: Path) -> None:
    """Remove a cache file (missing is fine)."""
    path.unlink(missing_ok=True)


def prune(folder: Path, keep: set[str]) -> None:
    """Remove the files of `folder` whose names are not in `keep`."""
    if not folder.is_dir():
        return
    for entry in os.scandir(folder):
        if entry.is_file() and entry.name not in keep:
            Path(entry.path).unlink(missing_ok=True)
