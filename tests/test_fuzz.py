"""Fuzzing the readers and the command line with random and mutated input.

Every fuzzer starts from a valid example (a record line, a note, the demo `heard.toml`, a
small twcs CSV) and mutates it: characters and bytes deleted, inserted, replaced,
duplicated, truncated; JSON values swapped for other types; NULs, BOMs, CR/CRLF, lone
surrogates (raw, escaped, and as invalid UTF-8), huge numbers, deep nesting and other
"interesting" tokens spliced in. The only acceptable outcomes are success, or errors that
are each one line naming the file (and line, and field) — never a traceback, never exit
code 3, never a partial write, never a temp file left behind.

The bugs these fuzzers found each keep a test with its smallest input at the end of this
module. While a newly found bug is open, give it a strict xfail test and a signature in
`KNOWN_BUGS`, so that the fuzzers keep looking for *other* bugs meanwhile (an example that
hits a known bug is counted with `hypothesis.event` and passes). Longer hunts:
HEARD_FUZZ_SCALE=10.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator.config import Config, parse_config
from generator.errors import HeardError, Problem, ProblemsError, one_line
from generator.gather.imports.base import ImportOptions
from generator.gather.imports.jsonl import read_jsonl
from generator.gather.imports.twcs import TwcsResult, read_twcs
from generator.record.model import Case, Note, case_to_line
from generator.record.store import (
    load_notes,
    load_record,
    note_text,
    parse_case_line,
    parse_note,
)
from tests.conftest import BASE_CONFIG, ROOT, heard, snapshot
from tests.support.strategies import cases as random_cases

NOW = "2026-12-01T00:00:00Z"
SAFE_ID = re.compile(r"[a-z][a-z0-9_]{0,30}-[A-Za-z0-9][A-Za-z0-9._~-]{0,199}")
SHARD_NAME = re.compile(r"\d{4}-\d{2}\.jsonl")
SHORT_YEAR = re.compile(r'"(at|seen_at)": "\d{1,3}-')  # the mark of bug B3 in a written line

# --- valid seeds ---------------------------------------------------------------------------

VALID_CASE: dict[str, Any] = {
    "id": "mastodon-109311",
    "channel": "mastodon",
    "url": "https://social.example/@linda/109311",
    "title": "Charged twice",
    "author": {"handle": "@linda@example.social", "name": "Linda", "reach": 1000},
    "tags": ["billing", "refund"],
    "events": [
        {
            "kind": "complaint",
            "at": "2026-11-20T10:00:00Z",
            "by": "customer",
            "url": "https://social.example/@linda/109311",
            "text": "Charged twice for November? @care",
            "post_id": "109311",
            "seen_at": "2026-11-20T10:05:00Z",
        },
        {
            "kind": "reply",
            "at": "2026-11-20T11:43:00+01:00",
            "by": "brand",
            "agent": "JM",
            "handle": "@care@lumen.example",
            "text": "Sorry Linda, a refund is on its way. ^JM",
        },
        {"kind": "resolved", "at": "2026-11-21T00:00:00Z", "by": "system", "precision": "day"},
    ],
}
VALID_LINE = json.dumps(VALID_CASE, ensure_ascii=False)


def _case(cid: str, *events: tuple[str, str, str], **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "channel": cid.split("-", 1)[0],
        **extra,
        "events": [{"kind": k, "at": at, "by": by} for k, at, by in events],
    }


X1 = _case(
    "x-1",
    ("complaint", "2026-11-20T10:00:00Z", "customer"),
    ("reply", "2026-11-20T10:43:00Z", "brand"),
    url="https://x.example/u/status/1",
    title="Double charge",
)
X2 = _case("x-2", ("complaint", "2026-11-21T10:00:00Z", "customer"))
SHARD_SEEDS = (X1, X2, VALID_CASE)
SHARD_TEXT = "".join(json.dumps(c) + "\n" for c in (X1, X2))
IMPORT_SEEDS = (
    _case("x-3", ("complaint", "2026-11-25T08:00:00Z", "customer"), tags=["app"]),
    _case(
        "x-1",
        ("complaint", "2026-11-20T10:00:00Z", "customer"),
        ("follow_up", "2026-11-22T09:00:00Z", "brand"),
    ),
    VALID_CASE,
)
IMPORT_TEXT = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in IMPORT_SEEDS)

VALID_NOTE = """\
---
status: resolved
at: 2026-11-21T09:00:00Z
agent: JM
history:
  - status: note
    at: "2026-11-20T11:00:00Z"
    note: Looking into it.
---
The double charge was a **billing bug**; refunds went out on 21 November.

<script>alert(1)</script> [status](https://lumen.example/status)
"""
HIDDEN_NOTE = '---\nstatus: hidden\nat: "2026-11-21T09:00:00+01:00"\nreason: spam\n---\n'

PAGE_TEXT = "---\ntitle: About us\n---\nWe answer in *public*.\n"

DEMO_TOML = (ROOT / "heard.toml").read_text(encoding="utf-8")
RICH_TOML = (
    DEMO_TOML
    + """
[[sources]]
type = "github"
repo = "lumen/app"
token_env = "GITHUB_TOKEN"
labels = ["bug"]

[[sources]]
type = "mastodon"
base_url = "https://lumen.example"
hashtags = ["lumen"]

[[sources]]
type = "rss"
name = "reviews"
url = "https://reviews.example/feed.xml"

[gather]
dm_phrases = ['\\bdm us\\b']
redact = ['\\b\\d{16}\\b']
concurrency = 4
"""
)

TWCS_BRAND = "AcmeHelp"
VALID_CSV = (
    "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    "2,AcmeHelp,False,Tue Oct 31 10:43:00 +0000 2017,"
    "@101 Sorry to hear that! Please DM us your order number. ^JM,3,1\n"
    '1,101,True,Tue Oct 31 10:00:00 +0000 2017,@AcmeHelp my order never came,"2,9",\n'
    '3,101,True,Tue Oct 31 11:00:00 +0000 2017,"@AcmeHelp done, it\'s 1234",,2\n'
    "9,102,True,Tue Oct 31 12:00:00 +0000 2017,@101 same here,,1\n"
    '20,103,True,Wed Nov 01 09:00:00 -0500 2017,"@acmehelp ""quoted"" and\r\n'
    'a newline",21.0,\n'
    "21,AcmeHelp,False,Wed Nov 01 15:00:00 +0000 2017,@103 fixed now ^MC,,20\n"
    "30,104,True,Thu Nov 02 09:00:00 +0000 2017,@OtherBrand hello,,\n"
)

# --- interesting tokens --------------------------------------------------------------------

COMMON_TOKENS: tuple[str, ...] = (
    "\x00",
    "\ufeff",
    "\r\n",
    "\r",
    "\n",
    "\t",
    "\x0b",
    "\x85",
    "\u2028",
    "\x1b[31m",
    '"',
    "'",
    "\\",
    ",",
    ":",
    "\ud800",
    "\udfff",
    "\udc80",
    "🤥",
    "e\u0301",
    "١٢٣",
    "9" * 40,
    "9" * 5000,
    "-1",
    "0",
    "<script>",
    "https://",
)
TIME_TOKENS: tuple[str, ...] = (
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0999-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-11-20T10:00:00.1234567890Z",
    "2026-11-20 10:00+0100",
    "2026-11-20T24:00:00Z",
    "2026-11-20T10:00:00+23:59",
    "2026-11-20T10:00:00",
)
JSON_TOKENS: tuple[str, ...] = (
    *COMMON_TOKENS,
    *TIME_TOKENS,
    "\\u0000",
    "\\ud800",
    "\\udfff\\ud800",
    "\\n",
    "{",
    "}",
    "[",
    "]",
    "null",
    "true",
    "NaN",
    "-Infinity",
    "1e999",
    "1.5",
    "[" * 5000,
    '{"a":' * 3000,
    '"id": "x-1\\n", ',
    '"extra": 1, ',
    '"kind": "removed", ',
)
YAML_TOKENS: tuple[str, ...] = (
    *COMMON_TOKENS,
    *TIME_TOKENS,
    "---",
    "---\n",
    "...",
    "- ",
    ": ",
    "? ",
    "|",
    ">",
    "&a ",
    "*a",
    "!!python/object/apply:os.system ['true']",
    "!!binary ",
    "%YAML 1.1\n",
    "~",
    ".nan",
    "0o777",
    "2026-13-01",
    "0000-01-01",
    "2026-11-20 10:00:00+99:00",
    "[" * 2000,
    "{",
    "status: hidden\n",
    "status: removed\n",
    "reason: \n",
    "case_id: x-2\n",
    "body: hi\n",
)
TOML_TOKENS: tuple[str, ...] = (
    *COMMON_TOKENS,
    "[",
    "]",
    "[[sources]]\n",
    "[site]\n",
    " = ",
    "#",
    '"""',
    "'''",
    "\\u0000",
    "\\ud800",
    "\\UFFFFFFFF",
    "1979-05-27T07:32:00Z",
    "0001-01-01",
    "inf",
    "nan",
    "1e999",
    "0x",
    "{",
    "}",
    "true",
    "a{4294967296}",
    "(" * 600,
    "[" * 600,
    'type = "discourse"\n',
    'type = "rss"\n',
    'timezone = "',
    "Etc/GMT+99",
    "../",
    "\\x",
)
CSV_TOKENS: tuple[str, ...] = (
    *COMMON_TOKENS,
    '"',
    '""',
    ",,",
    "True",
    "False",
    "1.0",
    "3e5",
    " ",
    "Mon Jan  1 00:00:00 +0100 0001",
    "Fri Dec 31 23:59:59 -0100 9999",
    "Mon Jan  1 00:00:00 +0000 0999",
    "Tue Feb 30 10:00:00 +0000 2017",
    "Tue Oct 31 10:00:00 +9999 2017",
    "@AcmeHelp",
    "AcmeHelp",
    "^JM",
    "x" * 200_001,
    "\r\r\n",
)
BYTE_TOKENS: tuple[bytes, ...] = (
    b"\x00",
    b"\xff",
    b"\xfe",
    b"\x80",
    b"\xc3",
    b"\xc3\x28",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xed\xb2\x80",
    b"\xf4\x90\x80\x80",
    b"\xc0\xaf",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"\r",
    b"\n",
    b"\n\n",
    b'"',
    b"\\",
)

# --- mutation strategies -------------------------------------------------------------------


def encode(text: str) -> bytes:
    """UTF-8, with lone surrogates written as the (invalid) bytes they would take."""
    return text.encode("utf-8", "surrogatepass")


TEXT_OPS = ("delete", "insert", "token", "replace", "cut", "dup", "digit", "digit")
_SAMPLERS: dict[int, st.SearchStrategy[Any]] = {}


def sampled(values: Sequence[Any]) -> st.SearchStrategy[Any]:
    """`st.sampled_from`, built once per (module-level) tuple: building them is not free."""
    if id(values) not in _SAMPLERS:
        _SAMPLERS[id(values)] = st.sampled_from(values)
    return _SAMPLERS[id(values)]


@st.composite
def mutated_text(draw: st.DrawFn, seed: str, tokens: Sequence[str], max_ops: int = 6) -> str:
    """The seed with 1..max_ops random edits."""
    text = seed
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(sampled(TEXT_OPS))
        at = draw(st.integers(0, len(text)))
        if op == "digit":  # 2026-11-20 → 2026-13-20, 09:05 → 99:05, 1000 → 9000
            digits = [i for i, ch in enumerate(text) if ch in "0123456789"]
            if digits:
                at = draw(st.sampled_from(digits))
                text = text[:at] + draw(st.sampled_from("0123456789")) + text[at + 1 :]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif op == "insert":
            text = text[:at] + draw(st.text(min_size=1, max_size=4)) + text[at:]
        elif op == "token":
            text = text[:at] + draw(sampled(tokens)) + text[at:]
        elif op == "replace":
            text = text[:at] + draw(sampled(tokens)) + text[at + draw(st.integers(1, 6)) :]
        elif op == "cut":
            text = text[:at]
        else:
            size = draw(st.integers(1, 40))
            text = text[:at] + text[at : at + size] * draw(st.integers(2, 4)) + text[at + size :]
    return text


@st.composite
def mutated_bytes(draw: st.DrawFn, seed: bytes, max_ops: int = 6) -> bytes:
    """The seed's bytes with 1..max_ops random byte-level edits."""
    data = seed
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(("delete", "insert", "token", "flip", "cut", "dup")))
        at = draw(st.integers(0, len(data)))
        if op == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 8)) :]
        elif op == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
        elif op == "token":
            data = data[:at] + draw(sampled(BYTE_TOKENS)) + data[at:]
        elif op == "flip" and at < len(data):
            bit = 1 << draw(st.integers(0, 7))
            data = data[:at] + bytes([data[at] ^ bit]) + data[at + 1 :]
        elif op == "cut":
            data = data[:at]
        else:
            size = draw(st.integers(1, 60))
            data = data[:at] + data[at : at + size] * draw(st.integers(2, 4)) + data[at + size :]
    return data


def text_or_bytes(seed: str, tokens: Sequence[str]) -> st.SearchStrategy[bytes]:
    """File contents: a text mutation (encoded), a byte mutation, or random bytes."""
    return st.one_of(
        mutated_text(seed, tokens).map(encode),
        mutated_bytes(encode(seed)),
        st.binary(max_size=300),
    )


class Raw:
    """A JSON fragment spliced in verbatim (json.dumps cannot write these)."""

    FRAGMENTS = (
        "9" * 5000,
        "-" + "1" * 4301,
        "1e999",
        "-1e999",
        "NaN",
        "Infinity",
        "-0",
        "1E-400",
        "[" * 3000 + "]" * 3000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        '"\\ud800"',
        '"\\udfff\\ud800x"',
        '"a\\u0000b"',
        '"\\u2028\\u0085"',
        '{"kind": "complaint", "kind": "reply"}',
    )

    def __init__(self, index: int) -> None:
        self.index = index

    @property
    def placeholder(self) -> str:
        return f"\x02raw{self.index}\x03"


JSON_STRINGS: tuple[str, ...] = (
    *TIME_TOKENS,
    "",
    " ",
    "x-1",
    "x-1\n",
    "X-1",
    "x-",
    "x-1/../../etc",
    "x-" + "1" * 300,
    "mastodon",
    "x",
    "complaint",
    "reply",
    "removed",
    "hidden",
    "brand",
    "customer",
    "system",
    "day",
    "https://a.example/",
    "javascript:alert(1)",
    "a\x00b",
    "\ud800",
    "a\udfffb",
    "\ufeff",
    "a\nb\r\nc",
    "x" * 600,
)
JSON_KEYS: tuple[str, ...] = (
    "id",
    "channel",
    "url",
    "title",
    "author",
    "tags",
    "events",
    "kind",
    "at",
    "by",
    "text",
    "agent",
    "handle",
    "post_id",
    "seen_at",
    "precision",
    "reach",
    "name",
    "state",
    "",
    "\ud800",
    "a\nb",
)


def _json_values() -> st.SearchStrategy[Any]:
    """Any JSON-ish value, biased to what the record reader must refuse politely."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-(10**40), 10**40),
        st.floats(),
        st.text(max_size=12),
        st.sampled_from(JSON_STRINGS),
        st.integers(0, len(Raw.FRAGMENTS) - 1).map(Raw),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(JSON_KEYS) | st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=6,
    )


JSON_VALUES = _json_values()
JSON_OPS = ("replace", "delete", "add", "wrap", "edit", "dup")


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*here, index))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def mutate_tree(
    draw: st.DrawFn,
    seed: Any,
    mutations: int,
    values: st.SearchStrategy[Any],
    keys: Sequence[str],
    tokens: Sequence[str],
) -> Any:
    """A deep copy of `seed` after `mutations` structural edits: values swapped for other
    types, keys dropped or added, nodes wrapped, strings edited, list items repeated."""
    data: Any = copy.deepcopy(seed)
    for _ in range(mutations):
        path = draw(st.sampled_from(list(_paths(data))))
        op = draw(sampled(JSON_OPS))
        node = _get(data, path)
        if op == "delete" and path:
            del _get(data, path[:-1])[path[-1]]
            continue
        if op == "add" and isinstance(node, dict):
            node[draw(sampled(keys))] = draw(values)
            continue
        if op == "dup" and isinstance(node, list) and node:
            node.append(copy.deepcopy(draw(st.sampled_from(node))))
            continue
        new: Any
        if op == "wrap":
            new = [node] if draw(st.booleans()) else {"v": node}
        elif op == "edit" and isinstance(node, str):
            new = draw(mutated_text(node, tokens, max_ops=2))
        else:
            new = draw(values)
        if path:
            _get(data, path[:-1])[path[-1]] = new
        else:
            data = new
    return data


def mutate_json(draw: st.DrawFn, seed: Any, mutations: int) -> str:
    """`seed` as one JSON line after `mutations` structural edits."""
    data = mutate_tree(draw, seed, mutations, JSON_VALUES, JSON_KEYS, JSON_TOKENS)
    raws: list[Raw] = []

    def default(obj: Any) -> Any:
        if isinstance(obj, Raw):
            raws.append(obj)
            return obj.placeholder
        raise TypeError(type(obj).__name__)

    line = json.dumps(data, ensure_ascii=draw(st.booleans()), default=default)
    for raw in raws:
        line = line.replace(json.dumps(raw.placeholder), Raw.FRAGMENTS[raw.index], 1)
    return line


@st.composite
def mutated_json_line(draw: st.DrawFn, seed: dict[str, Any] = VALID_CASE) -> str:
    """A record line whose JSON structure was mutated 1-4 times."""
    return mutate_json(draw, seed, draw(st.integers(1, 4)))


RANDOM_CASES = st.integers(1, 99).flatmap(lambda n: random_cases(n, "x"))


@st.composite
def jsonl_file(draw: st.DrawFn, seeds: Sequence[dict[str, Any]]) -> bytes:
    """A JSONL file of seed cases and random valid cases, each line mutated 0-2 times
    (so that many files are valid, or valid but for a line or two)."""
    items = draw(st.lists(sampled(seeds) | RANDOM_CASES, min_size=1, max_size=5))
    lines = [mutate_json(draw, item, draw(st.sampled_from((0, 0, 0, 1, 2)))) for item in items]
    return encode("\n".join(lines) + draw(st.sampled_from(("\n", "", "\r\n", "\n\n"))))


# --- what counts as a polite outcome -------------------------------------------------------

# Bugs found by these fuzzers (B1–B12: overflowing instants, huge integers, years before
# 1900, ids with a trailing newline, impossible YAML dates, uncompilable patterns, deep TOML,
# out-of-range twcs dates, multi-line file names, event order on import, page front
# matter, YAML alias bombs) are fixed; their tests below now guard against a return.
# A new find gets an entry here and a signature below while it is open.
KNOWN_BUGS: dict[str, str] = {}


def known_signature(name: str, message: str) -> str | None:
    """The open known bug an escaped exception (type name, message) is the signature of."""
    del name, message  # no open bugs
    return None


def known_crash(exc: BaseException) -> str | None:
    """The known bug an exception escaping a library function is the signature of."""
    return known_signature(type(exc).__name__, str(exc))


def known_case_bug(case: Case) -> str | None:
    """Accepted cases that an open known bug mishandles (none at present)."""
    del case
    return None


def assert_problems(problems: object, file: str, line: int | None = None) -> None:
    """A non-empty list of Problems, each one printable line naming `file` (and `line`)."""
    assert isinstance(problems, list) and problems, problems
    for problem in problems:
        assert isinstance(problem, Problem), problem
        assert problem.file == file, problem
        if line is not None:
            assert problem.line == line, problem
        rendered = str(problem)
        assert rendered.splitlines() == [rendered], repr(rendered)
        assert rendered.startswith(f"{one_line(file)}:"), rendered
        rendered.encode("utf-8")  # printable: no lone surrogate reaches the terminal


PROBLEM_LINE = re.compile(r"(error: )?[^\s:][^:]*(:\d+)?: \S.*")
SUMMARY_LINE = re.compile(r"\d+ problem\(s\)|warning: skipped \d+ bad record line\(s\)")


def cli_known_bug(result: Result) -> str | None:
    """The known bug behind an `internal error` exit, if any."""
    match = re.search(r"internal error: (\w+): (.*) \(a bug in heard", result.stderr)
    if result.exit_code != 3 or not match:
        return None
    return known_signature(*match.groups())


def assert_polite(result: Result) -> None:
    """Success, or exit 1 with every stderr line a one-line error; never a traceback."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1), (result.exit_code, output)
    lines = result.stderr.splitlines()
    assert lines or result.exit_code == 0, "a failure must say why"
    for line in lines:
        assert PROBLEM_LINE.fullmatch(line) or SUMMARY_LINE.fullmatch(line), repr(line)


def tmp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


@contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="heard-fuzz-") as name:
        yield Path(name)


def write_site(
    root: Path,
    *,
    config: bytes | None = None,
    shard: bytes | None = None,
    note: bytes | None = None,
    note_name: str = "x-1.md",
    page: bytes | None = None,
) -> Path:
    """A small valid site, with any of its files replaced by the given bytes."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "heard.toml").write_bytes(BASE_CONFIG.encode() if config is None else config)
    cases = root / "content" / "cases"
    cases.mkdir(parents=True)
    (cases / "2026-11.jsonl").write_bytes(SHARD_TEXT.encode() if shard is None else shard)
    notes = root / "content" / "notes"
    notes.mkdir(parents=True)
    (notes / note_name).write_bytes(VALID_NOTE.encode() if note is None else note)
    (notes / "x-2.md").write_text(HIDDEN_NOTE, encoding="utf-8")
    pages = root / "content" / "pages"
    pages.mkdir(parents=True)
    (pages / "about.md").write_bytes(PAGE_TEXT.encode() if page is None else page)
    return root


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean site that has had an import (so it has its record manifest too)."""
    base = tmp_path_factory.mktemp("template")
    site = write_site(base / "site")
    seed = base / "seed.jsonl"
    seed.write_text(SHARD_TEXT, encoding="utf-8")
    result = heard("import", "--site", site, seed)
    assert result.exit_code == 0, result.stderr
    return site


def fresh_site(where: Path, template: Path) -> Path:
    """A copy of the template site under `where`."""
    return Path(shutil.copytree(template, where / "site"))


# A longer hunt: HEARD_FUZZ_SCALE=20 pytest tests/test_fuzz.py (the default run stays short).
SCALE = float(os.environ.get("HEARD_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    """Settings of a fuzzer: no deadline (file system, CLI), `examples` examples (scaled)."""
    return settings(
        max_examples=max(1, round(examples * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- the seeds are valid -------------------------------------------------------------------


def test_the_seeds_are_valid(tmp_path: Path, template: Path) -> None:
    assert isinstance(parse_case_line(VALID_LINE, "f.jsonl", 1), Case)
    for line in IMPORT_TEXT.splitlines() + SHARD_TEXT.splitlines():
        assert isinstance(parse_case_line(line, "f.jsonl", 1), Case)
    assert isinstance(parse_note(VALID_NOTE, "x-1", "n.md"), Note)
    assert isinstance(parse_note(HIDDEN_NOTE, "x-2", "n.md"), Note)
    assert len(parse_config(RICH_TOML).sources) == 3
    csv_path = tmp_path / "t.csv"
    csv_path.write_text(VALID_CSV, encoding="utf-8", newline="")
    assert [c.id for c in read_twcs(csv_path, TWCS_BRAND).cases] == ["x-1", "x-20"]
    site = fresh_site(tmp_path, template)
    assert heard("check", "--site", site).exit_code == 0
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(IMPORT_TEXT, encoding="utf-8")
    assert heard("import", "--site", site, jsonl).exit_code == 0
    result = heard("import", "--site", site, "--format", "twcs", "--brand", "AcmeHelp", csv_path)
    assert result.exit_code == 0, result.stderr
    assert heard("check", "--site", site).exit_code == 0


# --- 1. the record reader ------------------------------------------------------------------


def check_case_line(raw: str) -> None:
    try:
        parsed = parse_case_line(raw, "content/cases/2026-11.jsonl", 7)
    except Exception as exc:
        bug = known_crash(exc)
        if bug is None:
            raise
        event(f"known bug {bug}")
        return
    if isinstance(parsed, list):
        assert_problems(parsed, "content/cases/2026-11.jsonl", 7)
        return
    assert isinstance(parsed, Case)
    bug = known_case_bug(parsed)
    if bug is not None:
        event(f"known bug {bug}")
        return
    assert SAFE_ID.fullmatch(parsed.id), parsed.id
    line = case_to_line(parsed)  # what the record would hold: it must read back the same
    again = parse_case_line(line, "again", 1)
    assert isinstance(again, Case), (line, again)
    assert case_to_line(again) == line


@fuzz(400)
@given(mutated_text(VALID_LINE, JSON_TOKENS))
def test_record_line_text_mutations(raw: str) -> None:
    check_case_line(raw)


@fuzz(300)
@given(mutated_json_line())
def test_record_line_json_mutations(raw: str) -> None:
    check_case_line(raw)


@fuzz(100)
@given(st.text(max_size=200))
def test_record_line_random_text(raw: str) -> None:
    check_case_line(raw)


@fuzz(150)
@given(text_or_bytes(SHARD_TEXT + VALID_LINE + "\n", JSON_TOKENS) | jsonl_file(SHARD_SEEDS))
def test_load_record_on_fuzzed_shards(data: bytes) -> None:
    with workdir() as root:
        shard = root / "content" / "cases" / "2026-11.jsonl"
        shard.parent.mkdir(parents=True)
        shard.write_bytes(data)
        try:
            record = load_record(root)
        except Exception as exc:
            bug = known_crash(exc)
            if bug is None:
                raise
            event(f"known bug {bug}")
            return
    last_line = data.count(b"\n") + 1
    for problem in [*record.problems, *record.notices]:
        assert_problems([problem], "content/cases/2026-11.jsonl")
        assert problem.line is not None and 1 <= problem.line <= last_line, problem
    assert all(isinstance(c, Case) and c.id == cid for cid, c in record.cases.items())
    assert record.lines <= last_line


# --- 2. the note reader --------------------------------------------------------------------


def check_note(text: str, case_id: str = "x-1") -> None:
    try:
        parsed = parse_note(text, case_id, "content/notes/x-1.md")
    except Exception as exc:
        bug = known_crash(exc)
        if bug is None:
            raise
        event(f"known bug {bug}")
        return
    if isinstance(parsed, list):
        assert_problems(parsed, "content/notes/x-1.md")
        for problem in parsed:
            assert problem.line is None or 1 <= problem.line <= text.count("\n") + 2, problem
        return
    assert isinstance(parsed, Note)
    assert parsed.case_id == case_id
    if any(d.at.year < 1000 for d in parsed.decisions):
        event("known bug B3-year-before-1000")
        return
    written = note_text(parsed)  # what `heard resolve` would write: it must read back
    again = parse_note(written, case_id, "again")
    assert isinstance(again, Note), (written, again)
    assert note_text(again) == written


@fuzz(300)
@given(mutated_text(VALID_NOTE, YAML_TOKENS) | mutated_text(HIDDEN_NOTE, YAML_TOKENS))
def test_note_mutations(text: str) -> None:
    check_note(text)


@fuzz(100)
@given(st.text(max_size=200).map(lambda body: "---\n" + body))
def test_note_random_front_matter(text: str) -> None:
    check_note(text)


NOTE_NAMES = ("x-1.md", "X-1.md", "x-1.MD", "x_1.md", "x-.md", "-x-1.md", "x-1.md.md", ".md")


@fuzz(150)
@given(
    data=text_or_bytes(VALID_NOTE, YAML_TOKENS),
    name=st.sampled_from(NOTE_NAMES)
    | st.text(
        st.characters(exclude_characters="/\x00", exclude_categories=["Cs"]),
        min_size=1,
        max_size=12,
    ).map(lambda stem: stem + ".md"),
)
def test_load_notes_on_fuzzed_files(data: bytes, name: str) -> None:
    if len(f"<{name}>".splitlines()) > 1:  # \n, \r, \x1c-\x1e, \x85, \u2028...
        event("known bug B4-id-trailing-newline / B9-multiline-file-name")
        return
    with workdir() as root:
        folder = root / "content" / "notes"
        folder.mkdir(parents=True)
        try:
            (folder / name).write_bytes(data)
        except OSError:  # a name the file system refuses (too long, ".." and the like)
            return
        try:
            notes, problems = load_notes(root)
        except Exception as exc:
            bug = known_crash(exc)
            if bug is None:
                raise
            event(f"known bug {bug}")
            return
    for problem in problems:
        assert_problems([problem], f"content/notes/{name}")
    for case_id, note in notes.items():
        assert isinstance(note, Note) and note.case_id == case_id
        assert SAFE_ID.fullmatch(case_id), case_id


# --- 3. the config loader ------------------------------------------------------------------


def check_config(text: str) -> None:
    try:
        config = parse_config(text)
    except ProblemsError as exc:
        assert_problems(exc.problems, "heard.toml")
        for problem in exc.problems:
            assert problem.line is None or 1 <= problem.line <= len(text.splitlines()) + 1
        return
    except Exception as exc:
        bug = known_crash(exc)
        if bug is None:
            raise
        event(f"known bug {bug}")
        return
    assert isinstance(config, Config)


@fuzz(300)
@given(mutated_text(DEMO_TOML, TOML_TOKENS) | mutated_text(RICH_TOML, TOML_TOKENS))
def test_config_mutations(text: str) -> None:
    check_config(text)


class TomlRaw:
    """A TOML fragment spliced in verbatim as a value."""

    FRAGMENTS = (
        "[" * 600 + "]" * 600,
        "9" * 5000,
        "0x" + "f" * 40,
        "1e999",
        "-inf",
        "nan",
        "1_000",
        "0o777",
        "1979-05-27T07:32:00Z",
        "1979-05-27",
        "07:32:00",
        '"""multi\nline"""',
        "'literal \\d'",
        '"\\ud800"',
        '"a\\u0000b"',
        "{}",
        "[]",
    )

    def __init__(self, index: int) -> None:
        self.index = index


CONFIG_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "1h",
    "0s",
    "-1h",
    "1x",
    "99999999999999w",
    "1h 30m",
    "Europe/Berlin",
    "Etc/GMT+99",
    "../../etc/passwd",
    "a" * 300,
    "en",
    "e",
    "https://a.example",
    "http://a b/",
    "ftp://a.example/",
    "javascript:alert(1)",
    "GITHUB_TOKEN",
    "ghp_secret123",
    "lumen/app",
    "a/b/c",
    "github",
    "mastodon",
    "discourse",
    "rss",
    "x",
    "X",
    "a{4294967296}",
    "(" * 600,
    "[",
    "(?P<a>",
    "\\",
    "\ud800",
    "a\x00b",
    "a\nb",
    "@care@lumen.example",
    "Lumen Mobile",
)
CONFIG_KEYS: tuple[str, ...] = (
    "site",
    "title",
    "brand",
    "base_url",
    "timezone",
    "language",
    "theme",
    "description",
    "accounts",
    "bots",
    "policy",
    "response_target",
    "resolution_target",
    "window_days",
    "stale_after",
    "sources",
    "type",
    "name",
    "channel",
    "enabled",
    "max_pages",
    "repo",
    "labels",
    "token_env",
    "hashtags",
    "url",
    "category",
    "search",
    "gather",
    "dm_phrases",
    "redact",
    "concurrency",
    "x",
    "unknown",
    "a.b",
    "",
)


def _config_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.booleans(),
        st.integers(),
        st.sampled_from((0, -1, 1, 16, 17, 3660, 3661, 2**63)),
        st.floats(),
        st.text(max_size=10),
        st.sampled_from(CONFIG_STRINGS),
        st.integers(0, len(TomlRaw.FRAGMENTS) - 1).map(TomlRaw),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(CONFIG_KEYS), inner, max_size=3)
        ),
        max_leaves=5,
    )


CONFIG_VALUES = _config_values()
CONFIG_TOKENS: tuple[str, ...] = (*COMMON_TOKENS, *CONFIG_STRINGS)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, TomlRaw):
        return TomlRaw.FRAGMENTS[value.index]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if value != value else repr(value)  # inf, -inf, 1e+300: all TOML
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if value is None:
        return '""'
    return str(value)  # dates and times read from the seed


def toml_document(data: Any) -> str:
    """Write a (mutated) config back as TOML: [tables], [[arrays of tables]], inline rest."""
    if not isinstance(data, dict):
        return f"value = {_toml_value(data)}\n"
    head: list[str] = []
    tail: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tail.append(f"\n[{_toml_key(key)}]")
            tail += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                tail.append(f"\n[[{_toml_key(key)}]]")
                tail += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items()]
        else:
            head.append(f"{_toml_key(key)} = {_toml_value(value)}")
    return "\n".join(head + tail) + "\n"


RICH_CONFIG = tomllib.loads(RICH_TOML)


@st.composite
def mutated_config(draw: st.DrawFn) -> str:
    """The rich config, parsed, mutated structurally (1-4 edits) and written back as TOML."""
    mutations = draw(st.integers(1, 4))
    data = mutate_tree(draw, RICH_CONFIG, mutations, CONFIG_VALUES, CONFIG_KEYS, CONFIG_TOKENS)
    return toml_document(data)


@fuzz(300)
@given(mutated_config())
def test_config_structural_mutations(text: str) -> None:
    check_config(text)


@fuzz(100)
@given(st.text(max_size=200))
def test_config_random_text(text: str) -> None:
    check_config(text)


@fuzz(60)
@given(text_or_bytes(RICH_TOML, TOML_TOKENS))
def test_config_file_bytes_through_check(data: bytes) -> None:
    with workdir() as root:
        site = write_site(root / "site", config=data)
        result = heard("check", "--site", site)
    bug = cli_known_bug(result)
    if bug is not None:
        event(f"known bug {bug}")
        return
    assert_polite(result)


# --- 4. the importers, through the command line --------------------------------------------


def check_import(site: Path, source: Path, args: Sequence[str | Path]) -> None:
    """Run `heard import`; a failure changes nothing, a success leaves a readable record."""
    before = snapshot(site)
    result = heard("import", "--site", site, *args, source)
    bug = cli_known_bug(result)
    if bug is not None:
        event(f"known bug {bug}")
        assert snapshot(site) == before
        return
    assert_polite(result)
    assert tmp_files(site) == [], tmp_files(site)
    if result.exit_code == 1:
        assert snapshot(site) == before, "a failed import changed the site"
        assert (
            str(source) in result.stderr
            or "brand" in result.stderr
            or " --" in result.stderr
            or result.stderr.startswith("error: --")
        ), result.stderr
        event("import refused")
        return
    event("import succeeded")
    assert result.stdout.startswith(f"imported {source}: "), result.stdout
    shards = sorted((site / "content" / "cases").iterdir())
    if any(
        not SHARD_NAME.fullmatch(p.name) or SHORT_YEAR.search(p.read_text(encoding="utf-8"))
        for p in shards
    ):
        event("known bug B3-year-before-1000")
        return
    record = load_record(site)
    if any(known_case_bug(c) for c in record.cases.values()):
        event("known bug B3/B4")
        return
    assert record.problems == [], record.problems
    checked = heard("check", "--site", site)
    assert checked.exit_code == 0, checked.stderr
    if any(c.events != sorted(c.events, key=lambda e: e.at) for c in record.cases.values()):
        event("known bug B10-import-keeps-event-order")
        return
    after = snapshot(site)
    again = heard("import", "--site", site, *args, source)
    assert again.exit_code == 0, again.stderr
    assert snapshot(site) == after, "importing the same file twice is not idempotent"


@fuzz(60)
@given(jsonl_file(IMPORT_SEEDS) | text_or_bytes(IMPORT_TEXT, JSON_TOKENS))
def test_import_jsonl(template: Path, data: bytes) -> None:
    with workdir() as root:
        site = fresh_site(root, template)
        source = root / "in.jsonl"
        source.write_bytes(data)
        check_import(site, source, [])


BRANDS = ("AcmeHelp", "@acmehelp", " AcmeHelp ", "Acme Help", "", "@", "a" * 51, "Acme\x00")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TWEET_TEXTS = (
    "@AcmeHelp my order never came",
    "@acmehelp  why?",
    "@101 Sorry! Please DM us. ^JM",
    "@101 fixed now ^ MC 2/2",
    "thanks",
    "@AcmeHelpers not you",
    "",
)


@st.composite
def twcs_dates(draw: st.DrawFn) -> str:
    """created_at values: mostly well-formed; sometimes day 29-31, years and offsets at
    the edges (year 1, 999, 9999; offsets up to +9959)."""
    odd = draw(st.integers(0, 4)) == 0
    year = draw(st.sampled_from((1, 999, 1970, 9999)) | st.integers(1, 9999)) if odd else 2017
    hours = draw(st.sampled_from((0, 1, 14, 23, 24, 99))) if odd else draw(st.integers(0, 5))
    day = draw(st.integers(1, 31 if odd else 28))
    return (
        f"{draw(sampled(WEEKDAYS))} {draw(sampled(MONTHS))} {day:02d} "
        f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:"
        f"{draw(st.integers(0, 59)):02d} {draw(st.sampled_from('+-'))}{hours:02d}"
        f"{draw(st.sampled_from((0, 30, 59))):02d} {year:04d}"
    )


@st.composite
def twcs_file(draw: st.DrawFn) -> bytes:
    """A well-formed twcs CSV of random conversations: replies in any order, cycles,
    self-replies, missing parents, duplicate children, other brands, odd texts."""
    count = draw(st.integers(1, 8))
    ids = st.integers(1, count + 2).map(str) | st.sampled_from(("1.0", "007", " 3 "))
    rows = []
    for number in range(1, count + 1):
        author = draw(st.sampled_from(("AcmeHelp", "acmehelp", "101", "102", "OtherCare")))
        inbound = draw(st.sampled_from(("True", "False", "true", " FALSE ")))
        text = draw(st.one_of(*[sampled(TWEET_TEXTS)] * 3, st.text(max_size=30)))
        children = ",".join(draw(st.lists(ids, max_size=3)))
        parent = draw(st.sampled_from(("",)) | ids)
        rows.append([str(number), author, inbound, draw(twcs_dates()), text, children, parent])
    columns = [
        "tweet_id",
        "author_id",
        "inbound",
        "created_at",
        "text",
        "response_tweet_id",
        "in_response_to_tweet_id",
    ]
    order = draw(st.permutations(range(len(columns))))
    extra = draw(st.booleans())  # the pandas index column of the file as published
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(("\n", "\r\n"))))
    writer.writerow(([""] if extra else []) + [columns[i] for i in order])
    for index, row in enumerate(draw(st.permutations(rows))):
        writer.writerow(([str(index)] if extra else []) + [row[i] for i in order])
    return encode(out.getvalue())


@fuzz(80)
@given(
    data=st.one_of(twcs_file(), twcs_file(), text_or_bytes(VALID_CSV, CSV_TOKENS)),
    brand=st.sampled_from(("AcmeHelp",) * 4 + BRANDS) | st.text(max_size=8),
)
def test_import_twcs(template: Path, data: bytes, brand: str) -> None:
    with workdir() as root:
        site = fresh_site(root, template)
        source = root / "in.csv"
        source.write_bytes(data)
        check_import(site, source, ["--format", "twcs", "--brand", brand])


@fuzz(100)
@given(twcs_file() | text_or_bytes(VALID_CSV, CSV_TOKENS))
def test_read_twcs_library(data: bytes) -> None:
    with workdir() as root:
        source = root / "in.csv"
        source.write_bytes(data)
        try:
            result = read_twcs(source, TWCS_BRAND, shown="in.csv")
        except HeardError as exc:
            message = str(exc)
            assert message.splitlines() == [message], repr(message)
            assert message.startswith("in.csv"), message
            return
        except OverflowError as exc:
            if "date value out of range" not in str(exc):
                raise
            event("known bug B8-twcs-date-overflow")
            return
    assert isinstance(result, TwcsResult)
    assert all(isinstance(c, Case) for c in result.cases)
    assert result.conversations >= len(result.cases)


@fuzz(100)
@given(mutated_text(IMPORT_TEXT, JSON_TOKENS).map(encode) | mutated_bytes(encode(IMPORT_TEXT)))
def test_read_import_jsonl_library(data: bytes) -> None:
    with workdir() as root:
        source = root / "in.jsonl"
        source.write_bytes(data)
        try:
            cases = list(read_jsonl(source, "in.jsonl", ImportOptions()).cases)  # read lazily
        except ProblemsError as exc:
            assert_problems(exc.problems, "in.jsonl")
            return
        except Exception as exc:
            bug = known_crash(exc)
            if bug is None:
                raise
            event(f"known bug {bug}")
            return
    assert all(isinstance(c, Case) for c in cases)


# --- 5. check and build on fuzzed sites ----------------------------------------------------


def site_files() -> st.SearchStrategy[dict[str, bytes]]:
    """Which of a site's files to fuzz, and their bytes (the rest stay valid).

    Mostly a record of valid-but-odd cases with a bad line or two (what `--keep-going`
    is for) so that most builds render; sometimes a mangled record, note or page.
    """
    light_shard = jsonl_file(SHARD_SEEDS)
    light_note = mutated_text(VALID_NOTE, YAML_TOKENS, max_ops=1)
    return st.one_of(
        st.fixed_dictionaries({"shard": light_shard}),
        st.fixed_dictionaries({"shard": light_shard, "note": light_note.map(encode)}),
        st.fixed_dictionaries({"shard": text_or_bytes(SHARD_TEXT + VALID_LINE, JSON_TOKENS)}),
        st.fixed_dictionaries({"note": text_or_bytes(VALID_NOTE, YAML_TOKENS)}),
        st.fixed_dictionaries({"page": text_or_bytes(PAGE_TEXT, YAML_TOKENS)}),
    )


def fuzzed_site(root: Path, files: dict[str, bytes]) -> Path:
    return write_site(
        root, shard=files.get("shard"), note=files.get("note"), page=files.get("page")
    )


@fuzz(50)
@given(site_files())
def test_check_on_fuzzed_sites(files: dict[str, bytes]) -> None:
    with workdir() as root:
        site = fuzzed_site(root / "site", files)
        result = heard("check", "--site", site)
    bug = cli_known_bug(result)
    if bug is not None:
        event(f"known bug {bug}")
        return
    assert_polite(result)
    if result.exit_code == 0:
        assert result.stdout.startswith("ok: "), result.stdout


@fuzz(15)
@given(site_files())
def test_build_keep_going_on_fuzzed_sites(files: dict[str, bytes]) -> None:
    with workdir() as root:
        site = fuzzed_site(root / "site", files)
        result = heard("build", "--site", site, "--keep-going", "--now", NOW, "--out", root / "out")
        built = (root / "out" / "index.html").is_file()
    bug = cli_known_bug(result)
    if bug is not None:
        event(f"known bug {bug}")
        return
    assert_polite(result)
    event(f"build exit {result.exit_code}")
    if result.exit_code == 0:
        assert built
        assert result.stdout.startswith("built "), result.stdout


# --- the bugs found, each with its smallest input ------------------------------------------


def one_case(at: str, cid: str = "x-1") -> str:
    return json.dumps(
        {"id": cid, "channel": "x", "events": [{"kind": "complaint", "at": at, "by": "customer"}]}
    )


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_bug_instant_out_of_range_is_a_problem(at: str) -> None:
    problems = parse_case_line(one_case(at), "f.jsonl", 1)
    assert_problems(problems, "f.jsonl", 1)


def test_bug_import_instant_out_of_range_exits_1(tmp_path: Path, template: Path) -> None:
    site = fresh_site(tmp_path, template)
    source = tmp_path / "in.jsonl"
    source.write_text(one_case("0001-01-01T00:00:00+01:00") + "\n", encoding="utf-8")
    result = heard("import", "--site", site, source)
    assert_polite(result)


def test_bug_huge_integer_is_a_problem() -> None:
    assert_problems(parse_case_line("1" * 4301, "f.jsonl", 1), "f.jsonl", 1)


def test_bug_year_before_1000_survives_an_import(tmp_path: Path, template: Path) -> None:
    site = fresh_site(tmp_path, template)
    source = tmp_path / "in.jsonl"
    source.write_text(one_case("0999-01-01T00:00:00Z", "x-9") + "\n", encoding="utf-8")
    before = snapshot(site)
    result = heard("import", "--site", site, source)
    # refused up front (heard keeps four-digit years from 1900), nothing written
    assert result.exit_code == 1
    assert result.stderr == f"{source}:1: events[0].at: year 999 is out of range (1900 to 9998)\n"
    assert snapshot(site) == before


def test_bug_case_id_with_trailing_newline_is_refused() -> None:
    line = json.dumps(
        {
            "id": "x-1\n",
            "channel": "x",
            "events": [{"kind": "complaint", "at": "2026-11-20T10:00:00Z", "by": "customer"}],
        }
    )
    assert_problems(parse_case_line(line, "f.jsonl", 1), "f.jsonl", 1)


@pytest.mark.parametrize(
    "front",
    [
        "at: 2026-13-01",
        "at: 2026-11-31T09:00:00Z",
        "at: 0000-01-01",
        "at: 2026-11-20 10:00:00+99:00",
    ],
)
def test_bug_note_with_impossible_yaml_date_is_a_problem(front: str) -> None:
    assert_problems(parse_note(f"---\n{front}\n---\n", "x-1", "n.md"), "n.md")


@pytest.mark.parametrize("pattern", ["a{4294967296}", "(" * 600])
def test_bug_config_pattern_that_cannot_compile_is_a_problem(pattern: str) -> None:
    text = f'[site]\ntitle = "t"\nbrand = "b"\n[gather]\nredact = [\'{pattern}\']\n'
    with pytest.raises(ProblemsError) as raised:
        parse_config(text)
    assert_problems(raised.value.problems, "heard.toml")


def test_bug_deeply_nested_toml_is_a_problem() -> None:
    with pytest.raises(ProblemsError) as raised:
        parse_config("a = " + "[" * 600)
    assert_problems(raised.value.problems, "heard.toml")


def test_bug_twcs_date_out_of_range_exits_1(tmp_path: Path, template: Path) -> None:
    site = fresh_site(tmp_path, template)
    source = tmp_path / "in.csv"
    source.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "1,101,True,Mon Jan  1 00:00:00 +0100 0001,@AcmeHelp hi,,\n",
        encoding="utf-8",
    )
    result = heard("import", "--site", site, "--format", "twcs", "--brand", "AcmeHelp", source)
    assert_polite(result)


def test_bug_note_file_name_with_newline_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "content" / "notes"
    folder.mkdir(parents=True)
    (folder / "a\nb.md").write_text(HIDDEN_NOTE, encoding="utf-8")
    (folder / "c\x1ed.md").write_text(HIDDEN_NOTE, encoding="utf-8")
    (folder / "x-1\n.md").write_text(HIDDEN_NOTE, encoding="utf-8")
    notes, problems = load_notes(tmp_path)
    assert notes == {}
    assert len(problems) == 3
    for problem in problems:
        assert str(problem).splitlines() == [str(problem)]


def test_bug_huge_integer_in_config_is_a_problem() -> None:
    with pytest.raises(ProblemsError) as raised:
        parse_config("a = " + "1" * 4301)
    assert_problems(raised.value.problems, "heard.toml")


def test_bug_import_is_idempotent_for_events_out_of_order(tmp_path: Path, template: Path) -> None:
    site = fresh_site(tmp_path, template)
    source = tmp_path / "in.jsonl"
    line = {
        "id": "x-9",
        "channel": "x",
        "events": [
            {"kind": "reply", "at": "2026-11-20T11:00:00Z", "by": "brand"},
            {"kind": "complaint", "at": "2026-11-20T10:00:00Z", "by": "customer"},
        ],
    }
    source.write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert heard("import", "--site", site, source).exit_code == 0
    once = snapshot(site)
    again = heard("import", "--site", site, source)
    assert again.exit_code == 0
    assert snapshot(site) == once, again.stdout


@pytest.mark.parametrize("front", ["title: 2026-13-01", "title: " + "[" * 600])
def test_bug_page_with_bad_front_matter_is_a_problem(tmp_path: Path, front: str) -> None:
    site = write_site(tmp_path / "site", page=f"---\n{front}\n---\nhi\n".encode())
    assert_polite(heard("check", "--site", site))


def test_bug_note_alias_bomb_is_refused_quickly() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    text = "---\nstatus: note\nat: 2026-11-20T10:00:00Z\n" + "\n".join(levels) + "\n---\n"
    code = (
        "import sys; from generator.record.store import parse_note; "
        "parse_note(sys.stdin.read(), 'x-1', 'n.md')"
    )
    try:  # today: about a minute (10**8 list items built); fixed: well under a second
        subprocess.run(
            [sys.executable, "-c", code], input=text, text=True, timeout=3, check=True, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        pytest.fail("parse_note took over 3 s on a 1 kB note")
