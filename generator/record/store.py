"""The record on disk: case shards, the team's notes and free pages. Writes are atomic."""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from generator.errors import HeardError, Problem, ProblemsError, error_message, field_path
from generator.record.model import CASE_ID_RE, Case, Note, case_to_line, merge_cases, ordered_events
from generator.record.times import format_instant, parse_instant

CASES_DIR = Path("content/cases")
NOTES_DIR = Path("content/notes")
PAGES_DIR = Path("content/pages")
STATE_DIR = Path("content/state")
MANIFEST = STATE_DIR / "record.json"
STATUS_FILE = Path(".heard-cache/gather-status.json")
SHARD_RE = re.compile(r"^\d{4}-\d{2}\.jsonl$")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.DOTALL | re.MULTILINE)


@dataclass
class Record:
    """Every case of the record by id, plus the problems found while reading it."""

    cases: dict[str, Case] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    lines: int = 0
    notices: list[Problem] = field(default_factory=list)  # harmless, shown by `heard check`


@contextmanager
def record_lock(root: Path) -> Iterator[None]:
    """One writer of the record at a time (gather, import, remove).

    An advisory flock on the site folder itself, so locking creates no file. Holding it,
    temp files left by a run that was killed are swept away, so they can never be
    committed with content/.
    """
    fd = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HeardError(
                "another heard gather, import or remove is writing this site's record; "
                "try again when it has finished"
            ) from None
        content = root / "content"
        if content.is_dir():
            for leftover in content.rglob(".*.tmp"):
                leftover.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once, at import (os.umask can only be read by setting it)


def _mode_for(path: Path) -> int:
    """A rewritten file keeps its mode; a new one gets the usual 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` via a temp file and a rename: readers see old or new, never half.

    `mode` forces the file's mode (0600 for a private session), else it keeps its own.
    """
    atomic_write_many({path: data}, mode=mode)


class Staged:
    """Several files written all-or-nothing, staged one at a time (memory holds one).

    `stage` writes a temp file beside its target at once, with the mode the target will
    have (its own, a new one's 0666 less the umask, or `mode`); `commit` renames them all
    (and deletes the files staged as None); `discard` (or an error inside `with`) removes
    them.
    """

    def __init__(self, mode: int | None = None) -> None:
        self.files: dict[Path, str | None] = {}
        self.mode = mode

    def stage(self, path: Path, data: bytes | None) -> None:
        """Stage `data` for `path` (None: delete it on commit); restaging replaces."""
        previous = self.files.pop(path, None)
        if previous is not None:
            Path(previous).unlink(missing_ok=True)
        if data is None:
            self.files[path] = None
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self.files[path] = tmp
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _mode_for(path) if self.mode is None else self.mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def unstage(self, path: Path) -> None:
        """Forget what was staged for `path` (its target stays as it is)."""
        tmp = self.files.pop(path, None)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)

    def staged(self, path: Path) -> bytes | None:
        """What is staged for `path`, if anything (and not a deletion)."""
        tmp = self.files.get(path)
        return Path(tmp).read_bytes() if tmp else None

    def commit(self) -> None:
        """Every staged file into place; then the deletions."""
        for path, tmp in self.files.items():
            if tmp is not None:
                os.replace(tmp, path)
        for path, tmp in self.files.items():
            if tmp is None:
                path.unlink(missing_ok=True)
        self.files = {}

    def discard(self) -> None:
        """Remove every temp file; the targets stay as they were."""
        for tmp in self.files.values():
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
        self.files = {}

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is not None:
            self.discard()


def atomic_write_many(files: dict[Path, bytes | None], *, mode: int | None = None) -> None:
    """Write (or delete, for None) several files: all temp files first, then the renames.

    A failure while writing temp files leaves every target untouched. Files keep their
    mode (a new one: 0666 less the umask), never the temp file's 0600.
    """
    with Staged(mode) as staged:
        for path, data in files.items():
            staged.stage(path, data)
        staged.commit()


def shard_paths(site_dir: Path) -> list[Path]:
    """The case shards, oldest month first."""
    folder = site_dir / CASES_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if SHARD_RE.fullmatch(p.name))


def _shown(site_dir: Path, path: Path) -> str:
    try:
        return path.relative_to(site_dir).as_posix()
    except ValueError:
        return str(path)


def validation_problems(shown: str, line: int | None, exc: ValidationError) -> list[Problem]:
    """One Problem per pydantic error, with a dotted field path."""
    return [
        Problem(
            shown, line, field_path(err["loc"]) or None, error_message(err, unknown="unknown field")
        )
        for err in exc.errors()
    ]


def parse_case_line(raw: str, shown: str, number: int) -> Case | list[Problem]:
    """Parse one record line into a Case, or the problems that stop it."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return [Problem(shown, number, None, f"not valid JSON: {exc.msg} (column {exc.colno})")]
    except RecursionError:
        return [Problem(shown, number, None, "not valid JSON: nested too deeply")]
    except ValueError as exc:  # e.g. a number beyond Python's digit limit
        return [Problem(shown, number, None, f"not valid JSON: {exc}")]
    if not isinstance(data, dict):
        return [Problem(shown, number, None, "a record line must be a JSON object")]
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        return validation_problems(shown, number, exc)


def iter_lines(path: Path, shown: str) -> Iterator[tuple[int, str] | Problem]:
    """Non-blank lines of a UTF-8 file with their numbers; undecodable lines become Problems."""
    with path.open("rb") as handle:
        yield from iter_raw_lines(handle, shown)


def iter_raw_lines(raws: Iterable[bytes], shown: str) -> Iterator[tuple[int, str] | Problem]:
    """`iter_lines` over lines already read (a shard's bytes split at newlines)."""
    for number, raw in enumerate(raws, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Problem(shown, number, None, f"not UTF-8 (byte {exc.start + 1})")
            continue
        if text.strip():
            yield number, text


def merge_into(cases: dict[str, Case], case: Case, shown: str, number: int) -> Problem | None:
    """Add `case`, merging it into a case with the same id; a channel clash is a Problem."""
    known = cases.get(case.id)
    if known is None:
        cases[case.id] = case
        return None
    try:
        cases[case.id] = merge_cases(known, case)
    except ValueError as exc:
        return Problem(shown, number, "channel", str(exc))
    return None


def iter_record(
    site_dir: Path,
) -> Iterator[Problem | tuple[Path, str, int, Case | list[Problem]]]:
    """Every line of every shard in file order: a Problem for an undecodable line, else
    (shard, shown name, line number, the parsed case or its problems)."""
    for path in shard_paths(site_dir):
        shown = _shown(site_dir, path)
        for item in iter_lines(path, shown):
            if isinstance(item, Problem):
                yield item
            else:
                yield path, shown, item[0], parse_case_line(item[1], shown, item[0])


def load_record(site_dir: Path) -> Record:
    """Read every shard. Problems are collected, never raised; duplicates are merged."""
    record = Record()
    for item in iter_record(site_dir):
        if isinstance(item, Problem):
            record.problems.append(item)
            continue
        path, shown, number, parsed = item
        record.lines += 1
        if isinstance(parsed, list):
            record.problems.extend(parsed)
            continue
        if path.name != f"{parsed.shard()}.jsonl":
            record.notices.append(
                Problem(shown, number, "id", f"{parsed.id} belongs in {parsed.shard()}.jsonl")
            )
        if parsed.id in record.cases:
            record.notices.append(
                Problem(shown, number, "id", f"{parsed.id} appears more than once (merged)")
            )
        clash = merge_into(record.cases, parsed, shown, number)
        if clash is not None:
            record.problems.append(clash)
    return record


@dataclass
class RecordIndex:
    """Where each case of the record lives, read shard by shard without keeping models."""

    where: dict[str, str] = field(default_factory=dict)  # case id -> shard file name
    opened: dict[str, str] = field(default_factory=dict)  # case id -> its opening, as text
    problems: list[Problem] = field(default_factory=list)
    regular: bool = True  # each case once, in the shard of the month it opened


def index_record(site_dir: Path) -> RecordIndex:
    """The record's index and problems (what `load_record` finds, without holding it)."""
    index = RecordIndex()
    for item in iter_record(site_dir):
        if isinstance(item, Problem):
            index.problems.append(item)
            continue
        path, _, _, parsed = item
        if isinstance(parsed, list):
            index.problems.extend(parsed)
            continue
        if parsed.id in index.where or path.name != f"{parsed.shard()}.jsonl":
            index.regular = False
        index.where.setdefault(parsed.id, path.name)
        index.opened[parsed.id] = format_instant(parsed.opened)
    return index


def load_shard(path: Path) -> dict[str, Case]:
    """One shard's cases by id (a regular shard: every line valid, each id once)."""
    cases: dict[str, Case] = {}
    if not path.exists():
        return cases
    for item in iter_lines(path, path.name):
        if isinstance(item, tuple):
            parsed = parse_case_line(item[1], path.name, item[0])
            if isinstance(parsed, Case):
                cases[parsed.id] = parsed
    return cases


def render_shards(cases: Iterable[Case]) -> dict[str, bytes]:
    """Shard name → file bytes: one canonical line per case, sorted by id."""
    by_month: dict[str, list[Case]] = {}
    for case in cases:
        by_month.setdefault(case.shard(), []).append(case)
    return {
        f"{month}.jsonl": "".join(
            case_to_line(c.model_copy(update={"events": ordered_events(c.events)})) + "\n"
            for c in sorted(items, key=lambda c: c.id)
        ).encode("utf-8")
        for month, items in sorted(by_month.items())
    }


def manifest_bytes(cases: Iterable[Case]) -> bytes:
    """Every case id with its opening, as written by gather/import/remove.

    `heard check` compares the record with it, so a case deleted or re-dated by hand
    cannot pass quietly.
    """
    return manifest_of({c.id: format_instant(c.opened) for c in cases})


def manifest_of(opened: dict[str, str]) -> bytes:
    """The manifest's bytes from each case id's opening."""
    return (json.dumps({"cases": opened}, indent=0, sort_keys=True) + "\n").encode("utf-8")


def record_changes(site_dir: Path, cases: Iterable[Case]) -> dict[Path, bytes | None]:
    """The shard files (and the manifest) that must change to hold exactly `cases`."""
    cases = list(cases)
    wanted = render_shards(cases)
    folder = site_dir / CASES_DIR
    changes: dict[Path, bytes | None] = {}
    for name, data in wanted.items():
        path = folder / name
        if not path.exists() or path.read_bytes() != data:
            changes[path] = data
    for path in shard_paths(site_dir):
        if path.name not in wanted:
            changes[path] = None
    manifest = manifest_bytes(cases)
    path = site_dir / MANIFEST
    if not path.exists() or path.read_bytes() != manifest:
        changes[path] = manifest
    return changes


def save_record(site_dir: Path, cases: Iterable[Case]) -> list[str]:
    """Write the whole record as shards, touching only files whose bytes change.

    Returns the names of the shards written or removed.
    """
    changes = record_changes(site_dir, cases)
    atomic_write_many(changes)
    return sorted(p.name for p in changes if p.parent == site_dir / CASES_DIR)


def manifest_problems(site_dir: Path, record: Record) -> list[Problem]:
    """Cases the manifest knows that the record lost, or whose opening was changed."""
    path = site_dir / MANIFEST
    if not path.exists():
        return []
    shown = MANIFEST.as_posix()
    try:
        known = json.loads(path.read_text(encoding="utf-8"))["cases"]
        if not isinstance(known, dict):
            raise TypeError
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        return [Problem(shown, None, None, "not a record manifest (written by heard gather)")]
    problems = []
    for case_id, opened in sorted(known.items()):
        case = record.cases.get(case_id)
        if case is None:
            problems.append(
                Problem(
                    "content/cases",
                    None,
                    case_id,
                    f"recorded (opened {opened}) but missing from the record",
                )
            )
        elif format_instant(case.opened) != opened:
            problems.append(
                Problem(
                    f"content/cases/{case.shard()}.jsonl",
                    None,
                    case_id,
                    f"opened {format_instant(case.opened)} but was recorded as {opened}",
                )
            )
    return problems


# --- notes -------------------------------------------------------------------------------


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(front matter YAML or None, body, line number where the body starts)."""
    text = text.removeprefix("\ufeff")
    match = FRONT_MATTER_RE.match(text)
    if not match:
        return None, text, 1
    return match.group(1), text[match.end() :], match.group(0).count("\n") + 1


def _key_lines(front: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(front.splitlines(), start=2):
        key = re.match(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:", line)
        if key:
            lines.setdefault(key.group(1), number)
    return lines


class _FrontMatterLoader(yaml.SafeLoader):
    """Safe YAML for front matter: dates stay text (heard checks times itself, so an
    impossible date is a clear error, not a crash) and aliases are refused (no alias bombs).
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in front matter", mark
            )
        return super().compose_node(parent, index)


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_front_matter(front: str, shown: str) -> Any | Problem:
    """The front matter's data, or a Problem naming the line."""
    try:
        return yaml.load(front, Loader=_FrontMatterLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        return Problem(shown, line, None, f"invalid YAML front matter: {problem}")
    except (RecursionError, ValueError, OverflowError) as exc:
        what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return Problem(shown, 1, None, f"invalid YAML front matter: {what}")


def parse_note(text: str, case_id: str, shown: str) -> Note | list[Problem]:
    """Parse a note file's text (YAML front matter + Markdown body)."""
    front, body, _ = split_front_matter(text)
    if front is None:
        return [Problem(shown, 1, None, "a note starts with YAML front matter between '---' lines")]
    meta = load_front_matter(front, shown) if front.strip() else {}
    if isinstance(meta, Problem):
        return [meta]
    if not isinstance(meta, dict):
        return [Problem(shown, 1, None, "the front matter must be a mapping of keys to values")]
    lines = _key_lines(front)
    data = {str(k): v for k, v in meta.items()}
    if "case_id" in data or "body" in data:
        key = "case_id" if "case_id" in data else "body"
        return [Problem(shown, lines.get(key, 1), key, "unknown key")]
    try:
        return Note.model_validate({**data, "case_id": case_id, "body": body.strip("\n")})
    except ValidationError as exc:
        problems = validation_problems(shown, None, exc)
        located = []
        for p in problems:
            top = (p.field or "").split(".")[0].split("[")[0]
            if p.field and p.field.startswith("body"):
                located.append(Problem(shown, lines.get("status", 1), None, p.message))
            elif not p.field and p.message.startswith(("reason:", "body:")):
                key = "reason" if p.message.startswith("reason:") else "status"
                located.append(
                    Problem(shown, lines.get(key, lines.get("status", 1)), None, p.message)
                )
            else:
                located.append(Problem(shown, lines.get(top, 1), p.field, p.message))
        return located


def load_notes(site_dir: Path) -> tuple[dict[str, Note], list[Problem]]:
    """Every note by case id, and the problems found."""
    folder = site_dir / NOTES_DIR
    notes: dict[str, Note] = {}
    problems: list[Problem] = []
    if not folder.is_dir():
        return notes, problems
    for path in sorted(folder.glob("*.md")):
        shown = _shown(site_dir, path)
        case_id = path.stem
        if not CASE_ID_RE.fullmatch(case_id):
            problems.append(Problem(shown, None, None, "file name is not a case id"))
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            line = path.read_bytes()[: exc.start].count(b"\n") + 1
            problems.append(Problem(shown, line, None, "not UTF-8"))
            continue
        parsed = parse_note(text, case_id, shown)
        if isinstance(parsed, list):
            problems.extend(parsed)
        else:
            notes[case_id] = parsed
    return notes, problems


def note_text(note: Note) -> str:
    """Serialise a note as YAML front matter + body (what `heard resolve` writes)."""
    meta: dict[str, Any] = {"status": note.status, "at": note.model_dump(mode="json")["at"]}
    if note.agent:
        meta["agent"] = note.agent
    if note.reason:
        meta["reason"] = note.reason
    if note.history:
        meta["history"] = [d.model_dump(mode="json", exclude_none=True) for d in note.history]
    front = yaml.safe_dump(
        meta, sort_keys=False, allow_unicode=True, default_style=None, width=1000
    )
    body = note.body.strip("\n")
    return f"---\n{front}---\n{body}\n" if body else f"---\n{front}---\n"


def save_note(site_dir: Path, note: Note) -> Path:
    """Atomically write a note file; return its path."""
    path = site_dir / NOTES_DIR / f"{note.case_id}.md"
    atomic_write(path, note_text(note).encode("utf-8"))
    return path


# --- pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A free page from content/pages/ (Markdown, written by the team)."""

    slug: str
    title: str
    body: str


def load_pages(site_dir: Path) -> tuple[list[Page], list[Problem]]:
    """Free pages sorted by slug, and the problems found."""
    folder = site_dir / PAGES_DIR
    pages: list[Page] = []
    problems: list[Problem] = []
    if not folder.is_dir():
        return pages, problems
    for path in sorted(folder.glob("*.md")):
        shown = _shown(site_dir, path)
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,80}", path.stem):
            problems.append(Problem(shown, None, None, "page names use a-z, 0-9 and '-'"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(shown, None, None, "not UTF-8"))
            continue
        front, body, _ = split_front_matter(text)
        title = path.stem.replace("-", " ").capitalize()
        if front is not None:
            meta = load_front_matter(front, shown) or {}
            if isinstance(meta, Problem):
                problems.append(meta)
                continue
            if not isinstance(meta, dict) or set(meta) - {"title"}:
                problems.append(Problem(shown, 2, None, "front matter may only hold `title`"))
                continue
            title = str(meta.get("title") or title)
        pages.append(Page(path.stem, title, body))
    return pages, problems


def refuse_unclean(record: Record, hint: str) -> None:
    """Refuse to rewrite a record that has bad lines: rewriting would drop them."""
    if record.problems:
        raise ProblemsError([*record.problems, Problem("content/cases", None, None, hint)])


def require_clean(problems: list[Problem]) -> None:
    """Raise when there are problems."""
    if problems:
        raise ProblemsError(problems)


# --- gather state ------------------------------------------------------------------------


def load_state(root: Path, key: str) -> dict[str, Any]:
    """A source's saved state (cursor, last good gather, last error), or an empty one."""
    path = root / STATE_DIR / f"{key}.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProblemsError(
            [Problem(f"{STATE_DIR}/{key}.json", None, None, f"not valid JSON: {exc}")]
        ) from None
    if not isinstance(data, dict):
        raise ProblemsError([Problem(f"{STATE_DIR}/{key}.json", None, None, "not an object")])
    return data


def load_status(root: Path) -> dict[str, dict[str, Any]]:
    """The local gather status (`.heard-cache/gather-status.json`): per source, its last run,
    last good gather and last error, exact to the run. Not committed; {} when absent or
    unreadable (it is only ever a fresher copy of what content/state says)."""
    try:
        data = json.loads((root / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def save_status(root: Path, status: dict[str, dict[str, Any]]) -> None:
    """Write the local gather status (after the record and cursors)."""
    data = json.dumps(status, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    atomic_write(root / STATUS_FILE, data.encode("utf-8"))


def _instant_or_none(value: object) -> datetime | None:
    try:
        return parse_instant(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def last_gathered(root: Path) -> dict[str, dict[str, Any]]:
    """Per channel: the last good gather and the last error (for the site's notices).

    A source's last good gather is the later of the committed one (content/state, written
    at most every so often) and the local status of this machine's last run; a channel is
    as fresh as its stalest source.
    """
    status = load_status(root)
    per_source: dict[str, dict[str, Any]] = {}
    folder = root / STATE_DIR
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    for path in paths:
        if path == root / MANIFEST:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            channel = str(data["channel"])
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
            continue
        per_source[path.stem] = {"channel": channel, **data}
    for key, local in status.items():
        if key in per_source and local.get("channel") == per_source[key]["channel"]:
            per_source[key] = {**per_source[key], "local": local}
    out: dict[str, dict[str, Any]] = {}
    for data in per_source.values():
        local = data.get("local", {})
        goods = [_instant_or_none(data.get("last_good")), _instant_or_none(local.get("last_good"))]
        good = max((g for g in goods if g is not None), default=None)
        errors = [
            _instant_or_none(data.get("last_error_at")),
            _instant_or_none(local.get("last_error_at")),
        ]
        error_at = max((e for e in errors if e is not None), default=None)
        entry = out.setdefault(data["channel"], {"last_good": None, "last_error_at": None})
        if good is not None and (entry["last_good"] is None or good < entry["last_good"]):
            entry["last_good"] = good
        if error_at and (entry["last_error_at"] is None or error_at > entry["last_error_at"]):
            entry["last_error_at"] = error_at
    return out
