"""`heard gather`: every source concurrently, then one atomic write of record and cursors.

A failing source never stops the others nor loses data: its cursor stays where it was and
its error is recorded. Shards are renamed into place before the cursors, so a crash at any
moment leaves cursors that are never ahead of the cases they cover; a re-run then merges
what it sees again without duplicates.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.config import SourceConfig, load_config
from generator.errors import HeardError, one_line
from generator.gather.sources import BY_TYPE
from generator.gather.sources.base import Context, FetchResult, Post, SourceError
from generator.gather.threads import Outcome, Threader, native_to_id
from generator.record.praise import PRAISE_DIR
from generator.record.store import (
    STATE_DIR,
    atomic_write_many,
    load_record,
    load_state,
    load_status,
    record_changes,
    record_lock,
    refuse_unclean,
    save_status,
)
from generator.record.times import format_instant, parse_instant

PRIVATE_DIR = Path(".heard-cache/sources")  # login sessions; git-ignored, never published


@dataclass
class SourceReport:
    """One source's part of a gather."""

    key: str
    channel: str
    posts: int = 0
    new_cases: int = 0
    new_events: int = 0
    praise: int = 0
    requests: int = 0
    retries: int = 0
    error: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class GatherReport:
    """The whole gather: per source, and the files written."""

    sources: list[SourceReport]
    files: list[str]

    @property
    def failed(self) -> list[SourceReport]:
        """Sources that failed."""
        return [s for s in self.sources if s.error]


def _praise_lines(root: Path) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Existing praise shards (month → lines) and the known praise post ids per channel."""
    shards: dict[str, list[str]] = {}
    ids: dict[str, set[str]] = {}
    folder = root / PRAISE_DIR
    if folder.is_dir():
        for path in sorted(folder.glob("*.jsonl")):
            text = path.read_text(encoding="utf-8")
            lines = [ln for ln in text.split("\n") if ln.strip()]  # not splitlines: U+2028
            shards[path.stem] = lines
            for line in lines:
                try:
                    item = json.loads(line)
                    ids.setdefault(item["channel"], set()).add(item["post_id"])
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue
    return shards, ids


def _praise_line(channel: str, post: Post) -> str:
    item = {
        "id": native_to_id(channel, post.native_id),
        "channel": channel,
        "post_id": post.native_id,
        "at": format_instant(post.at),
        "author": post.author,
        "url": post.url,
        "text": post.text,
    }
    return json.dumps({k: v for k, v in item.items() if v is not None}, ensure_ascii=False)


Progress = Callable[[str], None]


@dataclass(frozen=True)
class Fetched:
    """One source's fetch: its result or its error, and the requests it took."""

    result: FetchResult | SourceError
    requests: int
    retries: int


def gather(
    root: Path,
    now: datetime,
    *,
    environ: Mapping[str, str] | None = None,
    only: set[str] | None = None,
    progress: Progress | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> GatherReport:
    """Gather every enabled source (or those named in `only`) into the record."""
    env = os.environ if environ is None else environ
    say = progress or (lambda _msg: None)
    config = load_config(root)
    chosen = [s for s in config.sources if s.enabled and (only is None or s.key in only)]
    if only:
        unknown = only - {s.key for s in config.sources}
        if unknown:
            raise HeardError(f"no source named {sorted(unknown)[0]!r} in heard.toml")
    if not chosen:
        say("no sources in heard.toml: nothing to gather")
        return GatherReport([], [])
    with record_lock(root):
        record = load_record(root)
        refuse_unclean(record, "fix the record first")
        states = {s.key: load_state(root, s.key) for s in chosen}
        results = _fetch_all(
            chosen, states, env, say, config.gather.concurrency, client_options, root / PRIVATE_DIR
        )
        cases = dict(record.cases)
        praise_shards, praise_ids = _praise_lines(root)
        threader = Threader(config, cases, now)
        status = load_status(root)
        refresh = min(86400, config.policy.stale_after // 2)
        reports: list[SourceReport] = []
        new_states: dict[str, dict[str, Any]] = {}
        for source in chosen:
            fetched = results[source.key]
            result = fetched.result
            report = SourceReport(source.key, source.channel_name)
            report.requests, report.retries = fetched.requests, fetched.retries
            local = {"channel": source.channel_name, "last_run": format_instant(now)}
            if isinstance(result, FetchResult):
                report.posts = len(result.posts)
                report.usage, report.warnings = dict(result.usage), list(result.warnings)
                outcome = threader.apply(
                    source.channel_name,
                    result.posts,
                    result.signals,
                    praise_ids=praise_ids.setdefault(source.channel_name, set()),
                )
                _count(report, outcome)
                for post in outcome.praise:
                    month = post.at.strftime("%Y-%m")
                    praise_shards.setdefault(month, []).append(
                        _praise_line(source.channel_name, post)
                    )
                state = committed_state(states[source.key], source, now, result.cursor, refresh)
                local["last_good"] = format_instant(now)
            else:
                report.error = one_line(str(result))
                state = committed_state(states[source.key], source, now, None, refresh)
                local.update(last_error=report.error, last_error_at=format_instant(now))
                if status.get(source.key, {}).get("last_good"):
                    local["last_good"] = status[source.key]["last_good"]
            status[source.key] = local
            new_states[source.key] = state
            reports.append(report)
        files = _write(root, cases, praise_shards, new_states)
        save_status(root, status)
    return GatherReport(reports, files)


def committed_state(
    old: dict[str, Any],
    source: SourceConfig,
    now: datetime,
    cursor: dict[str, Any] | None,
    refresh: int,
) -> dict[str, Any]:
    """A source's committed state (content/state/<key>.json) after this run.

    It changes only when the cursor moves, or when its last good gather is older than
    `refresh` (a day, or half of `stale_after` if shorter), so that quiet hours commit
    nothing while a build from git never shows a false "not gathered recently". Exact run
    times and errors go to the local status (.heard-cache), not to git. `cursor` None: the
    source failed (its cursor stays).
    """
    state: dict[str, Any] = {"source": source.key, "channel": source.channel_name}
    if "cursor" in old:
        state["cursor"] = old["cursor"]
    if old.get("last_good"):
        state["last_good"] = old["last_good"]
    if cursor is None:
        return state
    moved = state.get("cursor") != cursor
    state["cursor"] = cursor
    try:
        previous = parse_instant(str(old["last_good"]))
    except (KeyError, ValueError):
        previous = None
    if moved or previous is None or (now - previous).total_seconds() >= refresh:
        state["last_good"] = format_instant(now)
    return state


def _count(report: SourceReport, outcome: Outcome) -> None:
    report.new_cases = outcome.new_cases
    report.new_events = outcome.new_events
    report.praise = len(outcome.praise)
    report.skipped = dict(outcome.skipped)


def _fetch_all(
    sources: list[SourceConfig],
    states: dict[str, dict[str, Any]],
    environ: Mapping[str, str],
    say: Progress,
    workers: int,
    client_options: Mapping[str, Any] | None,
    private_dir: Path,
) -> dict[str, Fetched]:
    """Every source's result (or error), with the requests and retries it made either way."""
    counts: dict[str, tuple[int, int]] = {}

    def run(source: SourceConfig) -> FetchResult | SourceError:
        say(f"{source.key}: gathering…")
        context = Context(environ, client_options=client_options, private_dir=private_dir)
        try:
            connector = BY_TYPE[source.type_name].connect(source, context)
            result = connector.fetch(states[source.key].get("cursor") or {})
            say(f"{source.key}: {len(result.posts)} posts in {context.requests} requests")
            return result
        except SourceError as exc:
            message = str(exc)
            if not message.startswith(f"{source.key}:"):
                message = f"{source.key}: {message}"
            say(f"{source.key}: failed: {one_line(message)}")
            return SourceError(message)
        except Exception as exc:  # a bug in one connector must not stop the others
            say(f"{source.key}: failed")
            return SourceError(f"{source.key}: internal error: {type(exc).__name__}: {exc}")
        finally:
            counts[source.key] = (context.requests, context.retries)
            context.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {s.key: pool.submit(run, s) for s in sources}
        results = {key: future.result() for key, future in futures.items()}
    return {key: Fetched(result, *counts[key]) for key, result in results.items()}


def _write(
    root: Path,
    cases: dict[str, Any],
    praise_shards: dict[str, list[str]],
    states: dict[str, dict[str, Any]],
) -> list[str]:
    """Shards first, then praise, then cursors — each group renamed after all are staged."""
    changes = record_changes(root, cases.values())
    for month, lines in sorted(praise_shards.items()):
        path = root / PRAISE_DIR / f"{month}.jsonl"
        ordered = sorted(set(lines), key=lambda ln: (json.loads(ln).get("id", ""), ln))
        data = "".join(line + "\n" for line in ordered).encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            changes[path] = data
    for key, state in sorted(states.items()):
        path = root / STATE_DIR / f"{key}.json"
        data = (json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
        if not path.exists() or path.read_bytes() != data:
            changes[path] = data
    atomic_write_many(changes)
    return sorted(p.relative_to(root).as_posix() for p in changes)
