"""Wires the layers: load everything, then build, import, decide, check, show."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from generator.config import Config, load_config
from generator.errors import HeardError, Problem, ProblemsError
from generator.gather.imports import BY_NAME, guess
from generator.gather.imports.base import ImportOptions
from generator.gather.redact import Redactor, redact_case
from generator.meaning.lifecycle import CaseFacts, CaseView, derive, derive_all
from generator.meaning.metrics import summary
from generator.record.model import (
    Case,
    Event,
    Note,
    NoteStatus,
    case_to_line,
    merge_cases,
    strip_content,
)
from generator.record.store import (
    CASES_DIR,
    MANIFEST,
    Page,
    Record,
    RecordIndex,
    Staged,
    index_record,
    load_notes,
    load_pages,
    load_record,
    load_shard,
    manifest_of,
    manifest_problems,
    record_lock,
    refuse_unclean,
    render_shards,
    save_note,
    save_record,
)
from generator.record.times import format_instant
from generator.site.engine import Progress, build_site


@dataclass
class Site:
    """A site folder, fully loaded (zola-style: load everything, then build)."""

    root: Path
    config: Config
    record: Record
    notes: dict[str, Note]
    pages: list[Page]
    problems: list[Problem] = field(default_factory=list)


def load_site(root: Path) -> Site:
    """Config (its problems raise), record, notes and pages (their problems are collected)."""
    config = load_config(root)
    record = load_record(root)
    notes, note_problems = load_notes(root)
    pages, page_problems = load_pages(root)
    return Site(root, config, record, notes, pages, [*note_problems, *page_problems])


def views_of(site: Site, now: datetime) -> list[CaseView]:
    """Every case as of `now`."""
    return derive_all(site.record.cases.values(), site.notes, now, site.config)


def summary_of(site: Site, views: list[CaseView], now: datetime) -> dict[str, object]:
    """The api/summary.json document."""
    policy = site.config.policy
    return summary(
        views,
        now,
        brand=site.config.site.brand,
        window_days=policy.window_days,
        response_target=policy.response_target,
    )


def activity(views: Iterable[CaseView | CaseFacts]) -> dict[str, datetime]:
    """Per channel, the latest moment the record shows anything happening (or being seen)."""
    latest: dict[str, datetime] = {}
    for view in views:
        moment = view.active_at
        if view.channel not in latest or moment > latest[view.channel]:
            latest[view.channel] = moment
    return latest


# Build the whole site into `out`; bad record lines stop it unless `keep_going`. Incremental
# and parallel (generator/site/engine.py): the same output for any `jobs`, cache or not.
build = build_site


@dataclass(frozen=True)
class ImportReport:
    """What `heard import` changed in the record."""

    read: int
    new_cases: int
    updated_cases: int
    new_events: int
    files: list[str]
    skipped: dict[str, int] = field(default_factory=dict)


def import_cases(
    root: Path,
    path: Path,
    *,
    fmt: str = "jsonl",
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Merge an export into the record: redacted like gathered posts, all-or-nothing,
    idempotent. A file that fails to read in `fmt` but looks like another format says so."""
    config = load_config(root)
    spec = BY_NAME.get(fmt)
    if spec is None:
        raise HeardError(f"unknown import format {fmt!r} (the formats are {', '.join(BY_NAME)})")
    options = options or ImportOptions()
    if options.timezone is None:
        options = dataclasses.replace(options, timezone=config.site.timezone)
    shown = str(path)
    progress = progress or Progress()
    with record_lock(root):
        progress.start("read")
        index = index_record(root)
        if index.problems:
            hint = Problem("content/cases", None, None, "fix the record before importing into it")
            raise ProblemsError([*index.problems, hint])
        try:
            result = spec.read(path, shown, options)
        except (HeardError, ProblemsError) as exc:
            raise _with_format_hint(exc, path, fmt) from None
        merge = _Merge(shown, Redactor(config.gather.redact), progress)
        if index.regular:
            files = merge.by_shard(root, index, result.cases)
        else:  # a record with repeated ids or cases in the wrong shard: merged whole
            files = merge.whole(root, result.cases)
        progress.finish()
    return ImportReport(
        merge.read, merge.new, merge.updated, merge.new_events, files, result.skipped
    )


class _Merge:
    """Incoming cases merged into the record, counted: redacted like gathered posts."""

    def __init__(self, shown: str, redactor: Redactor, progress: Progress) -> None:
        self.shown, self.redactor, self.progress = shown, redactor, progress
        self.read = self.new = self.updated = self.new_events = 0

    def incoming(self, cases: Iterable[Case]) -> Iterator[Case]:
        """The reader's cases, redacted, counted (each original let go once copied)."""
        self.progress.start("merge")
        if isinstance(cases, list):
            cases.reverse()
            cases = _popping(cases)
        for case in cases:
            self.read += 1
            self.progress.advance()
            yield redact_case(case, self.redactor)

    def into(self, cases: dict[str, Case], case: Case) -> None:
        """Merge one incoming case into `cases`."""
        known = cases.get(case.id)
        if known is None:
            cases[case.id] = case
            self.new += 1
            self.new_events += len(case.events)
            return
        try:
            merged = merge_cases(known, case)
        except ValueError as exc:
            raise HeardError(f"{self.shown}: {exc}") from None
        if merged != known:
            self.updated += 1
            self.new_events += len(merged.events) - len(known.events)
            cases[case.id] = merged

    def whole(self, root: Path, incoming: Iterable[Case]) -> list[str]:
        """The whole record in memory, merged, saved (for an irregular record)."""
        record = load_record(root)
        for case in self.incoming(incoming):
            self.into(record.cases, case)
        self.progress.start("write")
        return save_record(root, record.cases.values())

    def by_shard(self, root: Path, index: RecordIndex, incoming: Iterable[Case]) -> list[str]:
        """Merge shard by shard, so memory holds the incoming cases as lines and one shard
        of the record as models; all files are staged, then renamed together."""
        lines: dict[str, dict[str, str]] = {}  # shard name -> id -> the case's line
        for case in self.incoming(incoming):
            name = index.where.get(case.id) or f"{case.shard()}.jsonl"
            bucket = lines.setdefault(name, {})
            if case.id in bucket:
                case = merge_cases(Case.model_validate_json(bucket[case.id]), case)
            bucket[case.id] = case_to_line(case)
        self.progress.start("write", len(lines))
        folder = root / CASES_DIR
        opened = dict(index.opened)  # shards no incoming case touches keep theirs
        moved: dict[str, list[Case]] = {}
        written: list[str] = []
        with Staged() as staged:
            for name in sorted(lines):
                cases = load_shard(folder / name)
                for line in lines.pop(name, {}).values():
                    self.into(cases, Case.model_validate_json(line))
                for case_id in [i for i, c in cases.items() if f"{c.shard()}.jsonl" != name]:
                    case = cases.pop(case_id)  # an earlier complaint moved its opening
                    moved.setdefault(f"{case.shard()}.jsonl", []).append(case)
                self._stage(staged, folder / name, cases, opened, written)
                self.progress.advance()
            for name, cases_moved in sorted(moved.items()):
                path = folder / name
                cases = _cases_of(staged.staged(path)) if path in staged.files else {}
                if path not in staged.files:
                    cases = load_shard(path)
                cases.update((c.id, c) for c in cases_moved)
                self._stage(staged, path, cases, opened, written)
            manifest = manifest_of(opened)
            target = root / MANIFEST
            if not target.exists() or target.read_bytes() != manifest:
                staged.stage(target, manifest)
            staged.commit()
        return sorted(set(written))

    @staticmethod
    def _stage(
        staged: Staged, path: Path, cases: dict[str, Case], opened: dict[str, str], names: list[str]
    ) -> None:
        """Stage one shard (or its removal) if its bytes change; note each case's opening."""
        for case in cases.values():
            opened[case.id] = format_instant(case.opened)
        data = render_shards(cases.values()).get(path.name)
        if path.exists() and data is not None and path.read_bytes() == data:
            staged.unstage(path)
            return
        if data is None and not path.exists():
            return
        staged.stage(path, data)
        names.append(path.name)


def _popping(cases: list[Case]) -> Iterator[Case]:
    while cases:  # a reversed list, consumed from the end: order kept, memory freed
        yield cases.pop()


def _cases_of(data: bytes | None) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for line in (data or b"").decode("utf-8").splitlines():
        if line.strip():
            case = Case.model_validate_json(line)
            cases[case.id] = case
    return cases


def _with_format_hint(exc: HeardError, path: Path, fmt: str) -> HeardError:
    """The error, with a last line naming the format the file looks like (if another)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return exc
    others = [name for name in guess(head) if name != fmt]
    if not others:
        return exc
    hint = Problem(str(path), None, None, f"this file looks like --format {others[0]}")
    problems = (
        exc.problems
        if isinstance(exc, ProblemsError)
        else [Problem(str(path), None, None, str(exc).removeprefix(f"{path}: "))]
    )
    return ProblemsError([*problems, hint])


def find_case(site: Site, key: str) -> Case:
    """A case by id, or by the URL of its post or of any of its events."""
    if key in site.record.cases:
        return site.record.cases[key]
    wanted = key.strip().rstrip("/").casefold()
    for case in site.record.cases.values():
        urls = [case.url, *(e.url for e in case.events)]
        if any(u and u.rstrip("/").casefold() == wanted for u in urls):
            return case
    raise HeardError(f"no case {key!r} in the record (give a case id or the URL of a post)")


def decide(
    root: Path,
    key: str,
    status: NoteStatus,
    *,
    now: datetime,
    body: str | None = None,
    reason: str | None = None,
    agent: str | None = None,
) -> Path:
    """Write the team's decision to content/notes/<id>.md; an earlier one moves to history."""
    site = load_site(root)
    case = find_case(site, key)
    if now < case.opened:
        raise HeardError(
            f"{case.id}: the decision time {format_instant(now)} is before the case opened"
        )
    current = site.notes.get(case.id)
    history = []
    if current is not None:
        history = [*current.history, current.current]
    data = {
        "case_id": case.id,
        "status": status,
        "at": now,
        "agent": agent,
        "reason": reason,
        "body": (body or "").strip("\n"),
        "history": history,
    }
    try:
        note = Note.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        msg = str(first["msg"]).removeprefix("Value error, ")
        hint = {"body": " (give --note or --note-file)", "reason": " (give --reason)"}
        extra = next((h for k, h in hint.items() if msg.startswith(f"{k}:") or loc == k), "")
        raise HeardError(f"{case.id}: {loc + ': ' if loc else ''}{msg}{extra}") from None
    return save_note(root, note)


def remove(root: Path, key: str, *, reason: str, now: datetime) -> list[str]:
    """Take a case's content out of the record at its author's request.

    Keeps the id, the channel, the kinds and times of its events (so it still counts) and
    adds a `removed` event; later gathers cannot bring the content back. The team's note,
    if any, loses its body too. Returns the record files written.
    """
    if not reason.strip():
        raise HeardError("give --reason (for example: author request)")
    with record_lock(root):
        return _remove_locked(root, key, reason=reason, now=now)


def _remove_locked(root: Path, key: str, *, reason: str, now: datetime) -> list[str]:
    site = load_site(root)
    refuse_unclean(site.record, "fix the record first")
    case = find_case(site, key)
    if now < case.opened:
        raise HeardError(f"{case.id}: the removal time is before the case opened")
    removal = Event(kind="removed", at=now, by="brand", text=reason.strip())
    stripped = strip_content(case)
    stripped = stripped.model_copy(update={"events": [*stripped.events, removal]})
    cases = dict(site.record.cases)
    cases[case.id] = stripped
    files = save_record(root, cases.values())
    note = site.notes.get(case.id)
    if note is not None:
        gone = "Removed at the author's request."
        history = [h.model_copy(update={"note": gone if h.note else None}) for h in note.history]
        save_note(root, note.model_copy(update={"body": gone, "history": history}))
        files.append(f"notes/{case.id}.md")
    return files


def show(root: Path, key: str, now: datetime) -> CaseView:
    """One case as of now (hidden ones too: this is the team's view)."""
    site = load_site(root)
    case = find_case(site, key)
    view = derive(case, site.notes.get(case.id), now, site.config)
    if view is None:
        raise HeardError(f"{case.id}: opens after {format_instant(now)}")
    return view


@dataclass(frozen=True)
class CheckReport:
    """What `heard check` found."""

    problems: list[Problem]
    cases: int
    notes: int
    pages: int


def credential_problems(config: Config, environ: Mapping[str, str]) -> list[Problem]:
    """Every environment variable a source names that is not set (values are never shown)."""
    problems = []
    for index, source in enumerate(config.sources):
        for field_name, variable in source.credential_variables():
            if not environ.get(variable, "").strip():
                problems.append(
                    Problem(
                        "heard.toml",
                        None,
                        f"sources[{index}].{field_name}",
                        f"{variable} is not set in the environment ({source.key})",
                    )
                )
    return problems


def check(
    root: Path, *, credentials: bool = False, environ: Mapping[str, str] | None = None
) -> CheckReport:
    """Validate config, every record line, note and page; report all problems.

    With `credentials`, also that every environment variable a source names is set.
    """
    try:
        site = load_site(root)
    except ProblemsError as exc:
        return CheckReport(exc.problems, 0, 0, 0)
    problems = [*site.record.problems, *site.record.notices, *site.problems]
    if credentials:
        problems += credential_problems(site.config, os.environ if environ is None else environ)
    if not site.record.problems:
        problems += manifest_problems(root, site.record)
    for case_id in sorted(set(site.notes) - set(site.record.cases)):
        problems.append(
            Problem(f"content/notes/{case_id}.md", None, None, "no case with this id in the record")
        )
    return CheckReport(problems, len(site.record.cases), len(site.notes), len(site.pages))
