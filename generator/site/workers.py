"""The workers' side of a build: what runs in each worker process, and the pool.

A worker parses shards, renders cases (page, JSON, feed; written where bytes differ) and
pages of lists. It gets what it needs once (`Shared`: inherited when workers fork, pickled
when they spawn) and sends back compact facts as plain rows. The output is the same for
any number of workers: every output is a function of its own inputs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from generator.config import Config
from generator.errors import Problem, ProblemsError
from generator.meaning.lifecycle import CaseFacts, CaseView, derive, facts_of
from generator.record.model import Case, Note, merge_cases
from generator.record.store import Page, iter_raw_lines, parse_case_line
from generator.site import cache, exports, feeds, lookup, open311
from generator.site.publish import write_if_changed
from generator.site.render import Renderer, SiteData

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICRO = timedelta(microseconds=1)
T = TypeVar("T")
R = TypeVar("R")


def micros(moment: datetime) -> int:
    """A moment as whole microseconds since 1970 (exact, orderable, JSON-friendly)."""
    return (moment - EPOCH) // MICRO


def instant(value: int) -> datetime:
    """The inverse of `micros`."""
    return EPOCH + value * MICRO


@dataclass(frozen=True)
class Shared:
    """What every worker needs: inherited when workers fork, pickled when they spawn."""

    root: Path
    out: Path
    config: Config
    notes: dict[str, Note]
    pages: list[Page]
    now: datetime


# --- the workers' side ---------------------------------------------------------------------

_SHARED: Shared | None = None
_RENDERER: Renderer | None = None


def _init(shared: Shared) -> None:
    global _SHARED, _RENDERER
    _SHARED, _RENDERER = shared, None


def _state() -> tuple[Shared, Renderer]:
    global _RENDERER
    assert _SHARED is not None, "worker not initialised"
    if _RENDERER is None:
        _RENDERER = Renderer(_SHARED.root, _SHARED.config)
    return _SHARED, _RENDERER


def parse_shard(path: str) -> dict[str, Any]:
    """A shard parsed: its problems (line, field, message) and, per valid case line, its id,
    channel, line number, a digest of the line and its event times (microseconds, sorted)."""
    shown = f"content/cases/{Path(path).name}"
    problems: list[list[Any]] = []
    cases: list[list[Any]] = []
    lines = 0
    with open(path, "rb") as handle:
        for item in iter_raw_lines(handle, shown):
            if isinstance(item, Problem):
                problems.append([item.line, item.field, item.message])
                continue
            number, text = item
            lines += 1
            parsed = parse_case_line(text, shown, number)
            if isinstance(parsed, list):
                problems.extend([p.line, p.field, p.message] for p in parsed)
                continue
            times = sorted(micros(e.at) for e in parsed.events)
            cases.append([parsed.id, parsed.channel, number, cache.digest(text), times])
    return {"lines": lines, "problems": problems, "cases": cases}


Where = tuple[tuple[str, int], ...]  # (shard path, line number) of each line of a case
Done = tuple[str, str, list[Any] | None, str, str | None, int]


def render_cases(items: list[tuple[str, str, Where]]) -> list[Done]:
    """Render (id, digest, where) cases: write their three outputs where bytes differ.

    Returns per case (id, digest, facts row or None if it opens after now, lookup keys as
    "bucket<TAB>key" lines, its Open311 request line if it is in that window, files written).
    """
    shared, renderer = _state()
    config, now, out = shared.config, shared.now, shared.out
    clock = feeds.Clock(config)
    texts: dict[str, dict[int, str]] = {}
    done: list[Done] = []
    for case_id, key, where in items:
        case = case_from(where, texts)
        view = derive(case, shared.notes.get(case_id), now, config)
        if view is None:
            done.append((case_id, key, None, "", None, 0))
            continue
        written = 0
        keys = ""
        request = None
        keys = "\n".join(f"{n}\t{k}" for n, k in lookup.keys_of(view))
        if not view.hidden:
            for rel, data in case_outputs(view, renderer, shared.pages, config, clock):
                written += write_if_changed(out, rel, data)
            if open311.in_window(view, now):  # older cases never need it again
                request = open311.request_json(view, config)
        done.append((case_id, key, fact_row(facts_of(view)), keys, request, written))
    return done


def case_outputs(
    view: CaseView, renderer: Renderer, pages: Sequence[Page], config: Config, clock: feeds.Clock
) -> list[tuple[str, bytes]]:
    """A shown case's page, JSON and feed: functions of the case alone (never of now)."""
    return [
        (f"cases/{view.id}.html", renderer.case_page(view, pages)),
        (f"api/cases/{view.id}.json", exports.case_json(view)),
        (f"feeds/{view.id}.xml", feeds.case_feed(view, config, clock)),
    ]


def case_from(where: Where, texts: dict[str, dict[int, str]]) -> Case:
    """A case from its record lines (already checked in the read phase), merged in order."""
    merged: Case | None = None
    for path, number in where:
        if path not in texts:
            texts.clear()  # one shard at a time
            with open(path, "rb") as handle:
                texts[path] = {
                    n: t for n, t in (x for x in iter_raw_lines(handle, "") if isinstance(x, tuple))
                }
        parsed = parse_case_line(texts[path][number], path, number)
        if isinstance(parsed, list):  # the file changed under us since it was read
            raise ProblemsError(parsed)
        merged = parsed if merged is None else merge_cases(merged, parsed)
    assert merged is not None
    return merged


def render_pages(items: list[tuple[str, str, dict[str, Any]]], data: SiteData) -> int:
    """Render pages of lists; returns how many files were written."""
    shared, renderer = _state()
    written = 0
    for template, path, context in items:
        rel, html = renderer.list_page(template, path, data, context)
        written += write_if_changed(shared.out, rel, html)
    return written


def render_pages_task(args: tuple[list[tuple[str, str, dict[str, Any]]], SiteData]) -> int:
    return render_pages(*args)


# --- facts as plain rows (for the cache and the trip from workers) ---------------------------

TIMES = (2, 5, 6, 7, 8, 15)  # positions of the moments in a facts row


def fact_row(facts: CaseFacts) -> list[Any]:
    """CaseFacts as a JSON-friendly row (moments as microseconds)."""
    row: list[Any] = [getattr(facts, name) for name in CaseFacts.__dataclass_fields__]
    for index in TIMES:
        if row[index] is not None:
            row[index] = micros(row[index])
    return row


def row_facts(row: list[Any]) -> CaseFacts:
    """The inverse of `fact_row`."""
    values = list(row)
    for index in TIMES:
        if values[index] is not None:
            values[index] = instant(values[index])
    return CaseFacts(*values)


# --- workers -------------------------------------------------------------------------------


class Workers:
    """A pool of worker processes (or, for one job, the calling process itself)."""

    def __init__(self, jobs: int, shared: Shared) -> None:
        self.jobs = jobs
        self.pool: Any = None
        if jobs > 1:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            context = multiprocessing.get_context(method)
            self.pool = context.Pool(jobs, initializer=_init, initargs=(shared,))
        _init(shared)

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        """func over items, results in any order (callers sort what they keep)."""
        if self.pool is None or len(items) < 2:
            return map(func, items)
        return iter(self.pool.imap_unordered(func, items))

    def close(self) -> None:
        """Stop the workers."""
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None


@contextmanager
def workers(jobs: int, shared: Shared) -> Iterator[Workers]:
    """Workers for the length of a build; terminated on error."""
    pool = Workers(jobs, shared)
    try:
        yield pool
    except BaseException:
        if pool.pool is not None:
            pool.pool.terminate()
            pool.pool.join()
            pool.pool = None
        raise
    finally:
        pool.close()


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def parse_indexed(item: tuple[int, str]) -> tuple[int, dict[str, Any]]:
    return item[0], parse_shard(item[1])
