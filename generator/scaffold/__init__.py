"""`heard init`: a new site folder with a config, a little sample content and a README."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from generator import __version__
from generator.errors import HeardError
from generator.record.store import atomic_write

CONFIG = """\
# heard.toml: who you are, where you answer, and what you promise.
[site]
title = "Example Co — we heard you"
brand = "Example Co"
base_url = "https://example.github.io/heard/"
timezone = "UTC"
language = "en"

# Your own accounts per channel: their posts are your answers.
[accounts]
mastodon = ["@help@social.example"]

# Automated accounts: kept on the record, never counted as answers.
[bots]

[policy]
response_target = "1h"
resolution_target = "7d"
window_days = 30
"""

CASES = {
    "content/cases/2026-11.jsonl": (
        '{"id": "mastodon-1001", "channel": "mastodon", '
        '"url": "https://social.example/@sam/1001", '
        '"author": {"handle": "@sam@social.example", "name": "Sam"}, "events": ['
        '{"kind": "complaint", "at": "2026-11-02T09:00:00Z", "by": "customer", '
        '"text": "My invoice shows the same charge twice."}, '
        '{"kind": "reply", "at": "2026-11-02T09:40:00Z", "by": "brand", "agent": "AK", '
        '"handle": "@help@social.example", '
        '"text": "Sorry, Sam. We see it and are refunding the second charge today."}]}\n'
        '{"id": "mastodon-1002", "channel": "mastodon", '
        '"author": {"handle": "@jo@social.example"}, "events": ['
        '{"kind": "complaint", "at": "2026-11-05T17:30:00Z", "by": "customer", '
        '"text": "The app logs me out every time I switch networks."}]}\n'
    ),
}

NOTE = """\
---
status: resolved
at: "2026-11-03T10:00:00Z"
agent: AK
---
The duplicate charge came from a retry in our billing job. We **refunded** it and fixed the
retry so it cannot charge twice.
"""

ABOUT = """\
---
title: About this page
---
Every public complaint we receive is listed here, with our public answers and fixes.
We count every complaint, answered or not.
"""

README = """\
# Example Co — we heard you

This folder is a [heard](https://pypi.org/project/heard/) site: a public record of the
complaints made to us in public, our answers and our fixes.

- `heard.toml` — the site's settings.
- `content/cases/` — the gathered record (machine-written; one case per line).
- `content/notes/` — our notes on cases (what we fixed, or why we could not).
- `content/pages/` — free pages.

Build the site with `heard build` (it goes to `_site/`); check everything with `heard check`.
"""


def workflow(name: str) -> str:
    """A workflow for a new site, installing this version of heard."""
    text = resources.files("generator.scaffold").joinpath(f"workflows/{name}").read_text("utf-8")
    return text.replace("run: __INSTALL__", f'run: pip install "heard=={__version__}"')


def write_skeleton(directory: Path) -> list[Path]:
    """Write a new site into `directory` (which must not already hold one)."""
    if (directory / "heard.toml").exists():
        raise HeardError(f"{directory}: already holds a heard site (heard.toml exists)")
    files = {
        "heard.toml": CONFIG,
        "README.md": README,
        "content/notes/mastodon-1001.md": NOTE,
        "content/pages/about.md": ABOUT,
        ".gitignore": "_site/\n.heard-cache/\n",
        ".github/workflows/publish.yml": workflow("publish.yml"),
        ".github/workflows/ci.yml": workflow("ci.yml"),
        **CASES,
    }
    written = []
    for name in files:
        path = directory / name
        if path.exists():
            raise HeardError(f"{path}: already exists; choose an empty folder")
    for name, text in files.items():
        path = directory / name
        atomic_write(path, text.encode("utf-8"))
        written.append(path)
    return written
