"""“Find my complaint” on a static site: a compact index from post URLs and handles to cases.

Keys are normalised the same way here and in `assets/find.js`; the index is split into 64
buckets by an FNV-1a hash of the key, each a small script (scripts load from file:// too,
where fetch does not). The script is part of heard, not of a theme: no theme can break it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources

from generator.meaning.lifecycle import CaseView, Facts

BUCKETS = 64
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_HOST_ALIASES = {"twitter.com": "x.com", "mobile.twitter.com": "x.com", "mobile.x.com": "x.com"}


def lookup_key(text: str) -> str:
    """'u:host/path' for a URL (no scheme, query, fragment or trailing slash), 'h:handle'."""
    value = text.strip().translate(_ASCII_LOWER)
    match = re.match(r"^https?://(.*)$", value)
    if match:
        rest = re.split(r"[?#]", match.group(1), maxsplit=1)[0]
        host, _, path = rest.partition("/")
        host = host.removeprefix("www.")
        host = _HOST_ALIASES.get(host, host)
        path = path.rstrip("/")
        return "u:" + host + ("/" + path if path else "")
    return "h:" + value.lstrip("@")


def fnv1a(key: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes (mirrored in assets/find.js)."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def _keys(view: CaseView) -> set[str]:
    keys = {"h:" + view.id.translate(_ASCII_LOWER)}
    if view.removed:
        return keys
    case = view.case
    urls = [case.url, *(s.event.url for s in view.steps if s.event.by == "customer")]
    keys |= {lookup_key(u) for u in urls if u}
    if case.author and case.author.handle:
        handle = lookup_key(case.author.handle)
        keys.add(handle)
        local = handle.split("@", 1)[0]  # @linda@example.social is also "linda"
        if local != handle and len(local) > 2:
            keys.add(local)
    return keys


def js_json(data: object) -> str:
    """JSON that is also safe inside a script file (no </script>, no U+2028 surprises)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for raw, safe in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, safe)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def keys_of(view: CaseView) -> list[tuple[int, str]]:
    """A case's lookup keys with their buckets, sorted. A hidden case is found by its
    post's link only (never by its id or its author's handle)."""
    keys = _keys(view)
    if view.hidden:
        keys = {key for key in keys if key.startswith("u:")}
    return [(fnv1a(key) % BUCKETS, key) for key in sorted(keys)]


def entry_of(view: Facts) -> list[str]:
    """What a lookup key leads to: [id, opening date, channel]. A hidden case's author
    pasting the post's link learns it is on the record but hidden (and counted), not that
    it "may not be gathered yet": ["", opening date, channel, "hidden"], nothing more."""
    if view.hidden:
        return ["", view.opened.strftime("%Y-%m-%d"), view.channel, "hidden"]
    return [view.id, view.opened.strftime("%Y-%m-%d"), view.channel]


def bucket_file(number: int, items: Iterable[tuple[str, list[str]]]) -> tuple[str, bytes]:
    """lookup/NN.js from its (key, entry) items."""
    bucket: dict[str, list[list[str]]] = {}
    for key, entry in items:
        bucket.setdefault(key, []).append(entry)
    for entries in bucket.values():
        entries.sort()
    body = f"heardLookup({number},{js_json(bucket)});\n"
    return f"lookup/{number:02x}.js", body.encode("utf-8")


def find_script() -> tuple[str, bytes]:
    """lookup/find.js (part of heard, not of a theme)."""
    return "lookup/find.js", resources.files("generator.site").joinpath(
        "assets/find.js"
    ).read_bytes()


def bucket_files(items: Iterable[tuple[int, str, list[str]]]) -> Iterator[tuple[str, bytes]]:
    """lookup/NN.js buckets from (bucket, key, entry) items, and lookup/find.js."""
    buckets: list[list[tuple[str, list[str]]]] = [[] for _ in range(BUCKETS)]
    for number, key, entry in items:
        buckets[number].append((key, entry))
    for number, bucket in enumerate(buckets):
        yield bucket_file(number, bucket)
    yield find_script()


def lookup_files(views: Sequence[CaseView]) -> Iterator[tuple[str, bytes]]:
    """lookup/NN.js buckets and lookup/find.js."""
    yield from bucket_files(
        (number, key, entry_of(view)) for view in views for number, key in keys_of(view)
    )
