"""Shared fixtures: throwaway sites written from Python data, the CLI runner, and sources
connected as `heard gather` connects them (real clients, injected sleeps)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from generator.cli import main
from generator.gather.sources import BY_TYPE
from generator.gather.sources.base import Context, Source, SourceSettings

# No per-example deadline (a loaded machine is not a bug). In CI the examples are
# derandomized so a landing is reproducible; on a developer's machine they explore.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"


def shared_data(name: str) -> Path:
    """A file of ../shared/data (real public data, read by tests only); the test is skipped,
    saying why, on a checkout without ../shared beside it."""
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"sample data not found: {path} (../shared/data, see its README.md)")
    return path


BASE_CONFIG = """\
[site]
title = "Test Co — we heard you"
brand = "Test Co"
base_url = "https://test.example/"

[accounts]
x = ["TestCare"]

[bots]
x = ["TestBot"]

[policy]
response_target = "1h"
window_days = 30
"""


def ev(kind: str, at: str, by: str = "customer", **extra: Any) -> dict[str, Any]:
    """An event dict."""
    return {"kind": kind, "at": at, "by": by, **extra}


def case(cid: str, *events: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A case dict; the channel is the id's prefix."""
    return {"id": cid, "channel": cid.split("-", 1)[0], **extra, "events": list(events)}


def write_lines(path: Path, items: Iterable[dict[str, Any] | str]) -> None:
    """Write JSONL (dicts are dumped, strings written as they are)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(
        (i if isinstance(i, str) else json.dumps(i, ensure_ascii=False)) + "\n" for i in items
    )
    path.write_text(text, encoding="utf-8")


SiteFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver on 127.0.0.1 (not "localhost"), a free port."""
    return ("127.0.0.1", 0)


@pytest.fixture
def make_site(tmp_path: Path) -> SiteFactory:
    """Write a site: config text, record shards {month: [cases]}, notes {id: text}."""

    def factory(
        shards: dict[str, list[dict[str, Any] | str]] | None = None,
        notes: dict[str, str] | None = None,
        config: str = BASE_CONFIG,
        name: str = "site",
    ) -> Path:
        root = tmp_path / name
        root.mkdir()
        (root / "heard.toml").write_text(config, encoding="utf-8")
        for month, items in (shards or {}).items():
            write_lines(root / "content" / "cases" / f"{month}.jsonl", items)
        for cid, text in (notes or {}).items():
            path = root / "content" / "notes" / f"{cid}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    return factory


def heard(*args: str | Path, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """Run the CLI in-process (stderr kept apart)."""
    return CliRunner().invoke(main, [str(a) for a in args], env=env, input=input)


def demo_copy(tmp_path: Path) -> Path:
    """A copy of the demo site (config, record, notes, pages) without a build cache."""
    root = tmp_path / "site"
    root.mkdir()
    shutil.copytree(ROOT / "content", root / "content")
    shutil.copy(ROOT / "heard.toml", root / "heard.toml")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes (to prove nothing changed), but the build cache
    (.heard-cache/build: git-ignored, an optimisation a build may refresh)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".heard-cache/build" not in p.relative_to(root).as_posix()
    }


class Sleeps(list[float]):
    """An injected `sleep` that records how long the client asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


Connect = Callable[..., Source]


def fetch_runs(source: Source, cursor: Mapping[str, Any], runs: int) -> tuple[list[str], Any]:
    """`runs` fetches, each from the last one's cursor: the native ids gathered (in order,
    repeats kept) and the final cursor."""
    gathered: list[str] = []
    for _ in range(runs):
        result = source.fetch(cursor)
        gathered += [p.native_id for p in result.posts]
        cursor = result.cursor
    return gathered, cursor


@pytest.fixture
def connect(sleeps: Sleeps) -> Iterator[Connect]:
    """Build a declared source's connector from its settings and an environment, exactly as
    `heard gather` does (its own `connect`, a Context), with no real waiting or jitter.

    `connect(settings, environ={...}, **client_options)`.
    """
    contexts: list[Context] = []

    def factory(
        settings: SourceSettings, environ: Mapping[str, str] | None = None, **options: Any
    ) -> Source:
        options.setdefault("jitter", lambda: 0.0)
        options.setdefault("sleep", sleeps)
        context = Context(environ or {}, client_options=options)
        contexts.append(context)
        return BY_TYPE[settings.type_name].connect(settings, context)

    yield factory
    for context in contexts:
        context.close()
