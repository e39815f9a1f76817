"""Build the site on every core, in bounded memory, redoing only what changed.

1. Read: each shard is hashed; a shard not seen before is parsed (in worker processes) and
   the result cached. Bad lines stop the build here, before the output folder is touched.
2. Cases: each case's inputs (its record lines, its note, the theme, the config, the free
   pages, heard itself and which of its events are past "now") make one digest. A case whose
   digest and outputs are unchanged is not rendered again: its compact facts come from the
   cache. The others are rendered in workers, which write their page, JSON and feed (only
   bytes that differ) and send back compact facts.
3. Aggregates: figures, lists, feeds and exports are made from the facts alone; each output
   has its own digest, so unchanged ones are skipped.
4. Stale files go; the cache records what was built, last (an interrupted build leaves no
   record, so the next one checks everything).

The output is the same for any number of workers, with or without a cache. The workers'
side (what runs in each process, and the pool) is generator/site/workers.py.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, cast

from generator import __version__
from generator.config import Config, load_config
from generator.errors import Problem, ProblemsError
from generator.meaning.lifecycle import CaseFacts, derive
from generator.meaning.metrics import summary as figures_summary
from generator.record.model import Note
from generator.record.store import (
    Page,
    last_gathered,
    load_notes,
    load_pages,
    shard_paths,
)
from generator.record.times import format_instant
from generator.site import badges, cache, exports, feeds, lookup, open311
from generator.site.freshness import freshness_file
from generator.site.publish import MARKER, PublishReport, prepare, remove_stale, write_if_changed
from generator.site.render import Renderer, SiteData, freshness, theme_chain
from generator.site.workers import (
    TIMES,
    Shared,
    Where,
    Workers,
    case_from,
    default_jobs,
    fact_row,
    micros,
    parse_indexed,
    render_cases,
    render_pages_task,
    row_facts,
    workers,
)

CHUNK = 250  # cases per worker task


Entry = tuple[str, CaseFacts | None, str]  # a case's input digest, facts, lookup keys


class Progress:
    """Where a long build stands; the default says nothing (see generator/progress.py)."""

    def start(self, phase: str, total: int | None = None) -> None:
        """A new phase of `total` steps begins."""

    def advance(self, steps: int = 1) -> None:
        """`steps` more are done."""

    def finish(self) -> None:
        """The phase is over."""


@dataclass(frozen=True)
class BuildReport:
    """What `heard build` did."""

    cases: int
    skipped_lines: int
    published: PublishReport
    not_yet: int = 0  # cases of the record that open after now (a --now from the past)


KEEP_GOING = Problem("content/cases", None, None, "fix these lines, or pass --keep-going")


# --- digests of the inputs -----------------------------------------------------------------


SHAPES_OUTPUT = ("config.py", "errors.py", "record", "meaning", "site")  # not gather/, cli


@functools.cache
def code_digest() -> str:
    """heard itself: its version and every file of the package that shapes output (the
    record, its meaning and the site layers; not the sources, which only gather)."""
    parts: list[bytes | str] = [__version__]
    root = Path(str(resources.files("generator")))
    for name in SHAPES_OUTPUT:
        top = root / name
        for path in sorted(top.rglob("*")) if top.is_dir() else [top]:
            if path.is_file() and path.suffix in {".py", ".html", ".css", ".js", ".svg", ".toml"}:
                parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    return cache.digest(*parts)


def site_digest(root: Path, config: Config, pages: Sequence[Page]) -> str:
    """Everything every page depends on besides its own cases: heard, the theme (all of its
    chain), the config that shapes output, and the free pages (the menu lists them)."""
    parts: list[bytes | str] = [code_digest()]
    for folder in theme_chain(root, config.site.theme):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts += [path.as_posix(), path.read_bytes()]
    parts.append(config.model_dump_json(include={"site", "accounts", "bots", "policy"}))
    for page in pages:
        parts += [page.slug, page.title, page.body]
    return cache.digest(*parts)


def note_digest(note: Note) -> str:
    """A note's identity for the cache."""
    return cache.digest(note.model_dump_json())


def note_times(note: Note) -> list[int]:
    """When the note's decisions were taken (they join the timeline at those times)."""
    return [micros(d.at) for d in note.decisions]


# --- the build -----------------------------------------------------------------------------


@dataclass
class ShardState:
    """One shard in this build."""

    path: Path
    name: str
    key: str  # digest of its bytes
    parsed: dict[str, Any]
    state: str = ""  # digest of everything its cases depend on
    facts: dict[str, Entry] = field(default_factory=dict)
    frags: dict[str, str] = field(default_factory=dict)  # id -> Open311 request line (recent)
    changed: bool = False


def build_site(
    root: Path,
    out: Path,
    now: datetime,
    *,
    keep_going: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Build the site in `root` into `out` as of `now` (see the module's docstring)."""
    progress = progress or Progress()
    config = load_config(root)
    notes, note_problems = load_notes(root)
    pages, page_problems = load_pages(root)
    renderer = Renderer(root, config)
    store = root / cache.CACHE_DIR
    shared = Shared(root, out, config, notes, pages, now)
    with workers(jobs or default_jobs(), shared) as pool:
        shards = read_shards(root, store, pool, progress)
        problems, _ = record_problems(shards)
        if note_problems or page_problems or (problems and not keep_going):
            hint = [] if keep_going or not problems else [KEEP_GOING]
            raise ProblemsError([*problems, *hint, *note_problems, *page_problems])
        renderer.check_pages(pages)
        prepare(out)
        build = Build(root, out, now, config, notes, pages, renderer, store, shards, pool, progress)
        cases, published, not_yet = build.run()
    skipped = len({(p.file, p.line) for p in problems})
    return BuildReport(cases, skipped, published, not_yet)


def read_shards(root: Path, store: Path, pool: Workers, progress: Progress) -> list[ShardState]:
    """Every shard with its parse (from the cache, or parsed now in the workers)."""
    paths = shard_paths(root)
    progress.start("read", len(paths))
    shards = []
    todo = []
    code = code_digest()  # a parse depends on heard's reading of the record too
    for path in paths:
        key = cache.digest(code, path.read_bytes())
        parsed = _valid_parse(cache.read(store / "parsed" / f"{key}.json"))
        shards.append(ShardState(path, path.name, key, parsed or {}))
        if parsed is None:
            todo.append(len(shards) - 1)
        else:
            progress.advance()
    results = pool.map(parse_indexed, [(i, str(shards[i].path)) for i in todo])
    for index, parsed in results:
        shards[index].parsed = parsed
        cache.write(store / "parsed" / f"{shards[index].key}.json", parsed)
        progress.advance()
    progress.finish()
    cache.prune(store / "parsed", {f"{s.key}.json" for s in shards})
    return shards


def _need(condition: bool) -> None:
    """A check of a cache file's shape: a file that fails one reads as missing."""
    if not condition:
        raise ValueError("damaged cache entry")


def _valid_parse(data: Any) -> dict[str, Any] | None:
    """A cached parse, if it has the shape `parse_shard` gives (else it is redone)."""
    try:
        _need(isinstance(data, dict) and isinstance(data["lines"], int))
        for line, fld, message in data["problems"]:
            _need(isinstance(line, int | None) and isinstance(fld, str | None))
            _need(isinstance(message, str))
        for case_id, channel, number, key, times in data["cases"]:
            _need(isinstance(case_id, str) and isinstance(channel, str))
            _need(isinstance(number, int) and isinstance(key, str))
            _need(isinstance(times, list) and bool(times))
            _need(all(isinstance(t, int) for t in times))
    except (KeyError, TypeError, ValueError):
        return None
    return cast(dict[str, Any], data)


def record_problems(shards: Sequence[ShardState]) -> tuple[list[Problem], int]:
    """The record's problems in file and line order (as `load_record` finds them), with the
    channel clashes of cases that appear more than once; and the number of lines."""
    problems: list[tuple[int, int, Problem]] = []
    channels: dict[str, str] = {}
    lines = 0
    for index, shard in enumerate(shards):
        shown = f"content/cases/{shard.name}"
        lines += shard.parsed["lines"]
        for line, fld, message in shard.parsed["problems"]:
            problems.append((index, line or 0, Problem(shown, line, fld, message)))
        for case_id, channel, number, _, _ in shard.parsed["cases"]:
            known = channels.setdefault(case_id, channel)
            if known != channel:
                message = f"case {case_id}: channel {channel!r} differs from {known!r}"
                problems.append((index, number, Problem(shown, number, "channel", message)))
    problems.sort(key=lambda item: (item[0], item[1]))
    return [p for _, _, p in problems], lines


class Build:
    """One build's steps 2–4 (the record is read and clean enough)."""

    def __init__(
        self,
        root: Path,
        out: Path,
        now: datetime,
        config: Config,
        notes: dict[str, Note],
        pages: list[Page],
        renderer: Renderer,
        store: Path,
        shards: list[ShardState],
        pool: Workers,
        progress: Progress,
    ) -> None:
        self.root, self.out, self.now, self.config = root, out, now, config
        self.notes, self.pages, self.renderer, self.store = notes, pages, renderer, store
        self.shards, self.pool, self.progress = shards, pool, progress
        self.site = site_digest(root, config, pages)
        self.now_us = micros(now)
        self.written = 0
        self.lookup_all = ""
        self.feed_sources: dict[str, Where] = {}
        manifest = cache.read(store / "out.json")
        valid = isinstance(manifest, dict) and manifest.get("out") == str(out.resolve())
        self.manifest: dict[str, Any] = manifest if valid else {}
        if not isinstance(self.manifest.get("shards"), dict):
            self.manifest["shards"] = {}
        if not isinstance(self.manifest.get("outputs"), dict):
            self.manifest["outputs"] = {}

    # -- step 2: cases --

    def run(self) -> tuple[int, PublishReport, int]:
        """Cases, then aggregates, then stale files and the cache's record. Returns the
        cases shown as of now, what was written, and the cases that open after now."""
        where = self.locate()
        total = self.total_digest()
        marker = self.out / MARKER
        if self.manifest.get("total") == total and self.manifest.get("marker") == _stamp(marker):
            files = int(self.manifest.get("files", 0))
            cases, not_yet = (
                int(self.manifest.get("cases", 0)),
                int(self.manifest.get("not_yet", 0)),
            )
            return cases, PublishReport(files, 0, 0), not_yet
        cache.forget(self.store / "out.json")  # until this build is complete
        facts = self.cases(where)
        shown = [f for f in facts if not f.hidden]
        by_id = sorted(shown, key=lambda v: v.id)
        newest = sorted(by_id, key=lambda v: v.last_event_at, reverse=True)[: feeds.MAX_ENTRIES]
        self.feed_sources = {
            f.id: tuple((str(self.shards[i].path), n) for i, n, _ in where[f.id]) for f in newest
        }
        where_ids = set(where)
        del where, by_id
        for shard in self.shards:
            shard.parsed = {}  # read, checked and located: no longer needed
        expected = self.aggregates(facts)
        ids = {f.id for f in shown}
        removed = remove_stale(self.out, expected, ids)
        marker.write_bytes(marker.read_bytes())  # a new time stamp: this build's
        files = len(expected) + 3 * len(ids)
        not_yet = len(where_ids) - len(facts)
        self.save(total, len(facts), files, _stamp(marker), not_yet)
        return len(facts), PublishReport(files, self.written, removed), not_yet

    def locate(self) -> dict[str, list[tuple[int, int, str]]]:
        """Per case id: (shard index, line, line digest) of each of its lines, in file order,
        leaving out lines whose channel clashes with the case's first line."""
        where: dict[str, list[tuple[int, int, str]]] = {}
        channels: dict[str, str] = {}
        for index, shard in enumerate(self.shards):
            for case_id, channel, number, key, _ in shard.parsed["cases"]:
                if channels.setdefault(case_id, channel) == channel:
                    where.setdefault(case_id, []).append((index, number, key))
        return where

    def total_digest(self) -> str:
        """Everything this build depends on, for the shortcut when nothing changed at all."""
        parts: list[str] = [self.site, format_instant(self.now), self.gathered_json()]
        parts += [s.key for s in self.shards]
        parts += [f"{k}:{note_digest(n)}" for k, n in sorted(self.notes.items())]
        return cache.digest(*parts)

    def gathered_json(self) -> str:
        """The gather states (the freshness input) as text."""
        states = last_gathered(self.root)
        return json.dumps(
            {
                c: {k: format_instant(v) if v else None for k, v in s.items()}
                for c, s in sorted(states.items())
            },
            sort_keys=True,
        )

    def case_key(self, line_keys: Iterable[str], case_id: str, times: list[int]) -> str:
        """The digest of everything a case's three outputs and facts depend on."""
        note = self.notes.get(case_id)
        every = sorted([*times, *(note_times(note) if note else [])])
        visible = sum(1 for t in every if t <= self.now_us)
        note_key = note_digest(note) if note else ""
        return cache.digest(self.site, *line_keys, note_key, str(visible))

    def cases(self, where: dict[str, list[tuple[int, int, str]]]) -> list[CaseFacts]:
        """Every case's facts, oldest first, rendering the cases whose inputs changed."""
        existing = _existing(self.out)
        window = self.now - timedelta(days=open311.WINDOW_DAYS)
        times: dict[str, list[int]] = {}
        for shard in self.shards:
            for case_id, _, _, _, when in shard.parsed["cases"]:
                times.setdefault(case_id, []).extend(when)
        todo: list[tuple[str, str, Where]] = []
        owner: dict[str, int] = {}
        self.progress.start("check", len(self.shards))  # which cases changed
        for index, shard in enumerate(self.shards):
            self.progress.advance()
            shard.state = cache.digest(self.site, shard.key, *self._shard_inputs(shard, times))
            old_state = self.manifest["shards"].get(shard.name)
            old = _valid_facts(cache.read(self.store / "facts" / f"{old_state}.json"))
            old_frags = _valid_frags(cache.read(self.store / "frags" / f"{old_state}.json"))
            if old is None or old_frags is None:
                old, old_frags = {}, {}
            same = old_state == shard.state  # then every case's own digest is unchanged too
            for case_id, _, number, _, _ in shard.parsed["cases"]:
                lines = where[case_id]
                if (index, number) != lines[0][:2]:
                    continue  # a later line of a case: merged into its first
                owner[case_id] = index
                cached = old.get(case_id)
                if same and cached is not None and len(lines) == 1:
                    key = cached[0]
                else:
                    key = self.case_key((k for _, _, k in lines), case_id, times[case_id])
                if cached is not None and cached[0] == key and _outputs_exist(cached, existing):
                    fact = cached[1]
                    recent = fact is not None and not fact.hidden and fact.opened >= window
                    if not recent or case_id in old_frags:  # (an older now: render again)
                        if recent:
                            shard.frags[case_id] = old_frags[case_id]
                        shard.facts[case_id] = cached
                        continue
                shard.changed = True
                paths = tuple((str(self.shards[i].path), n) for i, n, _ in lines)
                todo.append((case_id, key, paths))
            if old_state != shard.state:
                shard.changed = True
        del times
        self.progress.start("cases", len(todo))
        chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
        for done in self.pool.map(render_cases, chunks):
            for case_id, key, row, keys, request, written in done:
                shard = self.shards[owner[case_id]]
                shard.facts[case_id] = (key, row_facts(row) if row else None, keys)
                if request is not None:
                    shard.frags[case_id] = request
                self.written += written
            self.progress.advance(len(done))
        self.progress.finish()
        facts = [e[1] for s in self.shards for e in s.facts.values() if e[1] is not None]
        facts.sort(key=lambda f: (f.opened, f.id))
        return facts

    def _shard_inputs(self, shard: ShardState, times: dict[str, list[int]]) -> list[str]:
        """What a shard's cases depend on besides its bytes and the site: their notes and
        which of their events are past now."""
        parts = []
        everything_past = True
        for case_id, _, _, _, _ in shard.parsed["cases"]:
            note = self.notes.get(case_id)
            if note is not None:
                parts.append(f"{case_id}:{note_digest(note)}")
            every = [*times[case_id], *(note_times(note) if note else [])]
            if max(every) > self.now_us:
                everything_past = False
        if not everything_past:
            for case_id, _, _, _, _ in shard.parsed["cases"]:
                note = self.notes.get(case_id)
                every = [*times[case_id], *(note_times(note) if note else [])]
                parts.append(str(sum(1 for t in every if t <= self.now_us)))
        return parts

    # -- step 3: aggregates --

    def aggregates(self, facts: list[CaseFacts]) -> set[str]:
        """Write every aggregate output whose inputs changed; returns every output path."""
        config, now = self.config, self.now
        shown = [f for f in facts if not f.hidden]
        case_keys = sorted(e[0] for s in self.shards for e in s.facts.values())
        everything = cache.digest(self.site, *case_keys)
        keys = {i: e[2] for s in self.shards for i, e in s.facts.items() if e[2]}
        frags = {i: line for s in self.shards for i, line in s.frags.items()}
        window = now - timedelta(days=open311.WINDOW_DAYS)
        policy = config.policy
        doc = figures_summary(
            facts,
            now,
            brand=config.site.brand,
            window_days=policy.window_days,
            response_target=policy.response_target,
        )
        channels = sorted({f.channel for f in facts})
        gathered = freshness(last_gathered(self.root), channels, now, policy.stale_after)
        activity: dict[str, datetime] = {}
        for fact in facts:
            if fact.channel not in activity or fact.active_at > activity[fact.channel]:
                activity[fact.channel] = fact.active_at
        data = SiteData(config, facts, doc, self.pages, now, activity, gathered)
        expected: set[str] = set()
        outputs: dict[str, Any] = {}
        fresh = cache.digest(everything, format_instant(now), self.gathered_json())
        self.progress.start("pages")

        def emit(
            key: str, make: Callable[[], Iterable[tuple[str, bytes]]], inputs: str = ""
        ) -> None:
            """Write a group of outputs made together, unless their inputs are unchanged."""
            digest_of.setdefault(key, inputs)
            previous = self.manifest["outputs"].get(key)
            paths = previous[1] if isinstance(previous, list) and len(previous) == 2 else None
            unchanged = previous and previous[0] == digest_of[key] and paths is not None
            if unchanged and all((self.out / p).is_file() for p in paths or []):
                expected.update(paths or [])
                outputs[key] = previous
                return
            made = []
            for rel, blob in make():
                self.written += write_if_changed(self.out, rel, blob)
                made.append(rel)
            self.progress.advance(len(made))
            expected.update(made)
            outputs[key] = [digest_of[key], made]

        digest_of = {
            "pages": fresh,
            "free": self.site,
            "static": self.site,
            "cases.json": everything,
            "feed.xml": everything,
            "open311": fresh,
        }
        emit("pages", lambda: [*self.renderer.aggregate_pages(data), *self.machine(data, doc)])
        emit("free", lambda: self.free_pages())
        emit("static", lambda: [*self.renderer.static(), (".nojekyll", b"")])
        emit("cases.json", lambda: [("api/cases.json", exports.cases_json(shown))])
        self.lookup(facts, keys, emit, everything)  # hidden ones too: by link only
        emit("feed.xml", lambda: [("feed.xml", self.site_feed())])
        emit(
            "open311",
            lambda: [
                *open311.head_files(shown, config, now),
                (
                    "open311/v2/requests.json",
                    open311.requests_json(frags[f.id] for f in shown if f.opened >= window),
                ),
            ],
        )
        self.list_pages(data, fresh, expected, outputs)
        self.progress.finish()
        self.outputs = outputs
        return expected

    def lookup(
        self,
        facts: Sequence[CaseFacts],
        keys: dict[str, str],
        emit: Callable[[str, Callable[[], Iterable[tuple[str, bytes]]], str], None],
        everything: str,
    ) -> None:
        """The lookup buckets, each rewritten only when one of its cases changed."""
        known = self.manifest["outputs"]
        if self.manifest.get("lookup") == everything and all(
            f"lookup/{n:02x}" in known and (self.out / f"lookup/{n:02x}.js").is_file()
            for n in range(lookup.BUCKETS)
        ):  # no case changed at all: every bucket is as it was
            for number in range(lookup.BUCKETS):
                key = f"lookup/{number:02x}"
                emit(key, lambda: [], self.manifest["outputs"][key][0])
        else:
            self._buckets(facts, keys, emit)
        emit("lookup/find.js", lambda: [lookup.find_script()], self.site)
        self.lookup_all = everything

    def _buckets(
        self,
        facts: Sequence[CaseFacts],
        keys: dict[str, str],
        emit: Callable[[str, Callable[[], Iterable[tuple[str, bytes]]], str], None],
    ) -> None:
        digests = {i: e[0] for s in self.shards for i, e in s.facts.items()}
        items: list[list[tuple[str, list[str]]]] = [[] for _ in range(lookup.BUCKETS)]
        members: list[list[str]] = [[self.site] for _ in range(lookup.BUCKETS)]
        for fact in facts:
            lines = keys.get(fact.id)
            if not lines:
                continue
            entry = lookup.entry_of(fact)
            for line in lines.split("\n"):
                text, _, key = line.partition("\t")
                items[int(text)].append((key, entry))
                members[int(text)].append(digests[fact.id])
        for bucket in range(lookup.BUCKETS):
            make = lambda n=bucket: [lookup.bucket_file(n, items[n])]  # noqa: E731
            emit(f"lookup/{bucket:02x}", make, cache.digest(*members[bucket]))

    def machine(self, data: SiteData, doc: dict[str, Any]) -> list[tuple[str, bytes]]:
        """summary.json, the badges and freshness.js."""
        return [
            ("api/summary.json", exports.dumps(doc)),
            *badges.files(data.views, doc, self.config, self.now),
            freshness_file(data, self.renderer.local),
        ]

    def free_pages(self) -> list[tuple[str, bytes]]:
        """The team's free pages (they depend only on themselves and the site)."""
        return [
            self.renderer._page("page.html", f"{page.slug}.html", self.pages, page=page)
            for page in self.pages
        ]

    def site_feed(self) -> bytes:
        """feed.xml: the newest cases (chosen and located in `run`), re-read from the record."""
        texts: dict[str, dict[int, str]] = {}
        views = []
        for case_id, paths in sorted(self.feed_sources.items(), key=lambda item: item[1][0]):
            view = derive(case_from(paths, texts), self.notes.get(case_id), self.now, self.config)
            assert view is not None
            views.append(view)
        return feeds.site_feed(views, self.config, self.now, feeds.Clock(self.config))

    def list_pages(
        self, data: SiteData, fresh: str, expected: set[str], outputs: dict[str, Any]
    ) -> None:
        """Pages of lists: each rendered only when what it shows changed."""
        keys = {case_id: e[0] for s in self.shards for case_id, e in s.facts.items()}
        slim = dataclasses.replace(data, views=(), summary={})  # what a list page may show
        todo = []
        for template, path, context in self.renderer.lists(data):
            pager = context["pager"]
            parts = [self.site, template, path, str(pager.number), str(pager.count)]
            parts += [str(pager.total), *(keys[v.id] for v in pager.items)]
            if pager.number == 1:
                parts.append(fresh)
            key = cache.digest(*parts)
            expected.add(path)
            outputs[path] = key
            if self.manifest["outputs"].get(path) == key and (self.out / path).is_file():
                continue
            todo.append((template, path, context))
        chunks = [(todo[i : i + 40], slim) for i in range(0, len(todo), 40)]
        for written in self.pool.map(render_pages_task, chunks):
            self.written += written
            self.progress.advance(40)

    # -- step 4: the cache's record --

    def save(self, total: str, cases: int, files: int, marker: str, not_yet: int) -> None:
        """Facts of changed shards, then the record of this build (last)."""
        for shard in self.shards:
            facts_path = self.store / "facts" / f"{shard.state}.json"
            if shard.changed or not facts_path.exists():
                rows = {
                    i: [key, fact_row(fact) if fact else None, keys]
                    for i, (key, fact, keys) in shard.facts.items()
                }
                cache.write(facts_path, rows)
                cache.write(self.store / "frags" / f"{shard.state}.json", shard.frags)
        keep = {f"{s.state}.json" for s in self.shards}
        cache.prune(self.store / "facts", keep)
        cache.prune(self.store / "frags", keep)
        cache.write(
            self.store / "out.json",
            {
                "out": str(self.out.resolve()),
                "total": total,
                "cases": cases,
                "not_yet": not_yet,
                "files": files,
                "marker": marker,
                "shards": {s.name: s.state for s in self.shards},
                "outputs": self.outputs,
                "lookup": self.lookup_all,
            },
        )


def _existing(out: Path) -> set[str]:
    """Paths of the per-case outputs already in the output folder."""
    found: set[str] = set()
    for folder in ("cases", "api/cases", "feeds"):
        try:
            with os.scandir(out / folder) as entries:
                found.update(f"{folder}/{e.name}" for e in entries)
        except OSError:
            continue
    return found


def _outputs_exist(cached: Entry, existing: set[str]) -> bool:
    fact = cached[1]
    if fact is None or fact.hidden:
        return True
    return (
        f"cases/{fact.id}.html" in existing
        and f"api/cases/{fact.id}.json" in existing
        and f"feeds/{fact.id}.xml" in existing
    )


def _valid_facts(data: Any) -> dict[str, Entry] | None:
    """Cached facts of a shard, if every entry has the right shape (else redone)."""
    if not isinstance(data, dict):
        return None
    fields = len(CaseFacts.__dataclass_fields__)
    entries: dict[str, Entry] = {}
    try:
        for case_id, (key, row, keys) in data.items():
            _need(isinstance(key, str) and isinstance(keys, str))
            fact = None
            if row is not None:
                _need(isinstance(row, list) and len(row) == fields and row[0] == case_id)
                _need(all(row[i] is None or isinstance(row[i], int) for i in TIMES))
                fact = row_facts(row)
            for line in keys.split("\n") if keys else []:
                number, tab, _ = line.partition("\t")
                _need(number.isdigit() and tab == "\t")
            entries[case_id] = (key, fact, keys)
    except (TypeError, ValueError, OverflowError):
        return None
    return entries


def _valid_frags(data: Any) -> dict[str, str] | None:
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def _stamp(marker: Path) -> str:
    """The output folder's marker as this build left it (a later build elsewhere changes it)."""
    try:
        info = marker.stat()
    except OSError:
        return ""
    return f"{info.st_ino}:{info.st_mtime_ns}:{info.st_size}"
