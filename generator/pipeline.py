"""Wires the layers: load everything, then build, import, decide, check, show."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from generator.config import Config, load_config
from generator.errors import HeardError, Problem, ProblemsError
from generator.gather.imports import BY_NAME, guess
from generator.gather.imports.base import ImportOptions
from generator.gather.redact import Redactor, redact_case
from generator.gather.sources.base import declared
from generator.meaning.lifecycle import CaseFacts, CaseView, derive, derive_all
from generator.meaning.metrics import summary
from generator.meaning.queue import QueueRow, queue
from generator.record.links import Link, link_problems, load_links, save_links
from generator.record.model import (
    Case,
    Event,
    Note,
    NoteStatus,
    case_to_line,
    merge_cases,
    strip_content,
)
from generator.record.praise import load_praise
from generator.record.store import (
    CASES_DIR,
    MANIFEST,
    NOTES_DIR,
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
    require_clean,
    save_note,
    save_record,
)
from generator.record.times import format_instant
from generator.scaffold import WORKFLOWS, read_samples, secret_variables
from generator.site.engine import KEEP_GOING, Progress, build_site
from generator.site.lookup import lookup_key
from generator.site.render import theme_chain


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
    """A case by id, or by the URL of its post or of any of its events, written as people
    paste it (http or https, www or not, with a query or a fragment: as the find page does).

    Bad record lines stop the search: a case on one of them would be reported missing.
    """
    if key in site.record.cases:
        return site.record.cases[key]
    refuse_unclean(site.record, "fix these lines first: the case may be on one of them")
    wanted = lookup_key(key)
    if wanted.startswith("u:"):
        for case in site.record.cases.values():
            urls = [case.url, *(e.url for e in case.events)]
            if any(u and lookup_key(u) == wanted for u in urls):
                return case
    raise HeardError(f"no case {key!r} in the record (give a case id or the URL of a post)")


def _find_skipping(site: Site, key: str) -> Case:
    """find_case over the readable lines only (--keep-going)."""
    clean = Site(site.root, site.config, Record(cases=site.record.cases), site.notes, [])
    return find_case(clean, key)


def readable(site: Site, keep_going: bool) -> int:
    """Refuse a record with bad lines (each named), unless `keep_going`: then the number
    of lines skipped."""
    if site.record.problems and not keep_going:
        raise ProblemsError(
            [
                *site.record.problems,
                KEEP_GOING,
            ]
        )
    return len({(p.file, p.line) for p in site.record.problems})


@dataclass(frozen=True)
class FiguresReport:
    """What `heard stats` shows: the summary, lines skipped, cases not open yet at now."""

    summary: dict[str, Any]
    skipped_lines: int
    not_yet: int


def figures_of(root: Path, now: datetime, *, keep_going: bool = False) -> FiguresReport:
    """The api/summary.json figures as of `now`, for `heard stats`."""
    site = load_site(root)
    skipped = readable(site, keep_going)
    views = views_of(site, now)
    return FiguresReport(summary_of(site, views, now), skipped, len(site.record.cases) - len(views))


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
    if status == "reopened":
        view = derive(case, current, now, site.config)
        if view is None or view.state not in ("resolved", "closed", "hidden"):
            state = view.state if view is not None else "not open yet"
            raise HeardError(
                f"{case.id}: it is {state}, not fixed, closed or hidden: nothing to reopen"
            )
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


def show(root: Path, key: str, now: datetime, *, keep_going: bool = False) -> tuple[CaseView, int]:
    """One case as of now (hidden ones too: this is the team's view), and the number of bad
    record lines skipped (bad lines refuse it unless `keep_going`)."""
    site = load_site(root)
    skipped = readable(site, keep_going)
    case = find_case(site, key) if not keep_going else _find_skipping(site, key)
    view = derive(case, site.notes.get(case.id), now, site.config)
    if view is None:
        raise HeardError(f"{case.id}: opens after {format_instant(now)}")
    return view, skipped


@dataclass(frozen=True)
class CheckReport:
    """What `heard check` found: problems (exit 1) and warnings (worth fixing; exit 0)."""

    problems: list[Problem]
    cases: int
    notes: int
    pages: int
    warnings: list[Problem] = field(default_factory=list)


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


def workflow_warnings(root: Path, config: Config) -> list[Problem]:
    """Credential variables the publish workflow does not pass, and names GitHub refuses."""
    warnings = []
    for index, source in enumerate(config.sources):
        for field_name, variable in source.credential_variables():
            if variable.startswith("GITHUB_") and variable != "GITHUB_TOKEN":
                warnings.append(
                    Problem(
                        "heard.toml",
                        None,
                        f"sources[{index}].{field_name}",
                        f"GitHub refuses secret names that start with GITHUB_: store this token"
                        f" as a secret named like GH_{variable.removeprefix('GITHUB_')} and name"
                        " that here",
                    )
                )
    shown = WORKFLOWS[0]
    try:
        flow = yaml.safe_load((root / shown).read_text("utf-8"))
    except FileNotFoundError:
        return warnings
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return [*warnings, Problem(shown, None, None, "cannot be read as YAML")]
    passed: set[str] = set()
    for job in (flow or {}).get("jobs", {}).values() if isinstance(flow, dict) else []:
        for step in job.get("steps", []) if isinstance(job, dict) else []:
            if isinstance(step, dict) and "heard gather" in str(step.get("run", "")):
                passed |= set((step.get("env") or {}).keys())
    for variable in secret_variables(config):
        if variable not in passed:
            warnings.append(
                Problem(
                    shown,
                    None,
                    None,
                    f"the gather step does not pass {variable}, which heard.toml names;"
                    " run `heard workflows` to rewrite it",
                )
            )
    return warnings


def check(
    root: Path,
    *,
    credentials: bool = False,
    environ: Mapping[str, str] | None = None,
    today: date | None = None,
) -> CheckReport:
    """Validate config, theme, every record line, note and page; report all problems.

    With `credentials`, also that every environment variable a source names is set. Sources
    may add warnings about their settings on `today` (default: the clock's date), e.g. a
    pinned API version near its end of life.
    """
    try:
        site = load_site(root)
        theme_chain(root, site.config.site.theme)
    except ProblemsError as exc:
        return CheckReport(exc.problems, 0, 0, 0)
    except HeardError as exc:
        message = str(exc).removeprefix("heard.toml: site.theme: ")
        return CheckReport([Problem("heard.toml", None, "site.theme", message)], 0, 0, 0)
    problems = [*site.record.problems, *site.record.notices, *site.problems]
    if credentials:
        problems += credential_problems(site.config, os.environ if environ is None else environ)
    if not site.record.problems:
        problems += manifest_problems(root, site.record)
    for case_id in sorted(set(site.notes) - set(site.record.cases)):
        problems.append(
            Problem(f"content/notes/{case_id}.md", None, None, "no case with this id in the record")
        )
    problems += load_praise(root).problems
    if not site.record.problems:
        problems += link_problems(load_links(root), set(site.record.cases))
    return CheckReport(
        problems,
        len(site.record.cases),
        len(site.notes),
        len(site.pages),
        [
            *workflow_warnings(root, site.config),
            *source_notices(site.config, today or datetime.now(UTC).date()),
        ],
    )


def reset_samples(root: Path) -> list[str]:
    """Take `heard init`'s sample cases and note out of the record (and its manifest), so a
    brand starts its real record clean. Only the samples as written: anything else stays,
    and the manifest still refuses a real case deleted by hand."""
    with record_lock(root):
        site = load_site(root)
        refuse_unclean(site.record, "fix the record first")
        samples = {case.id: case for case in read_samples()}
        cases = dict(site.record.cases)
        removed = []
        for case_id, sample in samples.items():
            case = cases.get(case_id)
            if case is None:
                continue
            if case_to_line(case) != case_to_line(sample):
                raise HeardError(
                    f"{case_id}: not the sample heard init wrote (it changed); remove it with"
                    " heard remove if it must go"
                )
            del cases[case_id]
            removed.append(case_id)
        if not removed:
            return []
        files = save_record(root, cases.values())
        for case_id in removed:
            note = root / NOTES_DIR / f"{case_id}.md"
            if note.exists():
                note.unlink()
                files.append(f"notes/{case_id}.md")
        return files


def source_notices(config: Config, today: date) -> list[Problem]:
    """What each source's declaration says about its settings today (a pinned API version
    near its end of life): warnings located at the setting."""
    notices = []
    for index, source in enumerate(config.sources):
        spec = declared(type(source))
        if spec.notices is not None:
            for field_name, text in spec.notices(source, today):
                notices.append(Problem("heard.toml", None, f"sources[{index}].{field_name}", text))
    return notices


def link(root: Path, keep: str, merge: str, *, now: datetime, agent: str | None = None) -> Path:
    """Show `merge` as part of `keep` (one complaint made on two channels): both posts on
    one timeline, counted once from the earliest complaint; `merge` leads to `keep`."""
    with record_lock(root):
        site = load_site(root)
        refuse_unclean(site.record, "fix the record first")
        kept, merged = find_case(site, keep), find_case(site, merge)
        links = load_links(root)
        require_clean(links.problems)
        into = links.into()
        target = into.get(kept.id, kept.id)  # linking into a merged case links into its own
        if target == merged.id or merged.id in into:
            shown = into.get(merged.id, target)
            raise HeardError(f"{merged.id} is already shown as part of {shown}")
        if any(existing.keep == merged.id for existing in links.items):
            raise HeardError(
                f"{merged.id} already keeps other cases: link them the other way round"
                f" (heard link {merged.id} {kept.id})"
            )
        if now < max(kept.opened, merged.opened):
            raise HeardError(f"the link's time {format_instant(now)} is before a case opened")
        new = Link(keep=target, merge=merged.id, at=now, agent=agent)
        return save_links(root, [*links.items, new])


def unlink(root: Path, keep: str, merge: str) -> Path:
    """Undo `heard link KEEP MERGE`: the two cases are shown and counted apart again."""
    with record_lock(root):
        site = load_site(root)
        kept, merged = find_case(site, keep), find_case(site, merge)
        links = load_links(root)
        require_clean(links.problems)
        remaining = [
            existing
            for existing in links.items
            if {existing.keep, existing.merge} != {kept.id, merged.id}
        ]
        if len(remaining) == len(links.items):
            raise HeardError(f"{kept.id} and {merged.id} are not linked")
        return save_links(root, remaining)


def queue_of(
    root: Path,
    now: datetime,
    *,
    channel: str | None = None,
    limit: int | None = None,
    keep_going: bool = False,
) -> list[QueueRow]:
    """The care team's queue as of `now` (reads only the record: no network)."""
    site = load_site(root)
    readable(site, keep_going)
    return queue(views_of(site, now), now, site.config, channel=channel, limit=limit)
