"""`heard init`: a new site folder with a config, a little sample content, a README and
the two workflows; `heard workflows` rewrites those from heard.toml."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from generator import __version__
from generator.config import Config, parse_config
from generator.errors import HeardError
from generator.record.model import Case
from generator.record.store import atomic_write, parse_case_line

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


REPOSITORY = "https://github.com/heard-dev/heard"
WORKFLOWS = (".github/workflows/publish.yml", ".github/workflows/ci.yml")
_SPEC = re.compile(r"[^\s\"'`$\\]+(?: [^\s\"'`$\\]+)*")


def read_samples() -> list[Case]:
    """The sample cases `heard init` writes, as cases."""
    lines = [line for text in CASES.values() for line in text.splitlines() if line.strip()]
    parsed = [parse_case_line(line, "sample", n) for n, line in enumerate(lines, start=1)]
    return [case for case in parsed if isinstance(case, Case)]


def default_install() -> str:
    """What a site installs until heard is on PyPI: this version's release tag, from git."""
    return f"heard @ git+{REPOSITORY}@v{__version__}"


def check_install(spec: str) -> str:
    """A pip requirement or path fit for `pip install "SPEC"` in a workflow."""
    spec = spec.strip()
    if not spec or not _SPEC.fullmatch(spec):
        raise HeardError(
            f"--install: not a pip requirement or path: {spec!r} (e.g. heard==0.2.0, "
            f"a wheel's URL, or {default_install()!r})"
        )
    return spec


def secret_variables(config: Config) -> list[str]:
    """Every environment variable holding a credential that heard.toml's sources name."""
    return sorted({name for s in config.sources for _, name in s.credential_variables()})


def workflow(name: str, *, install: str, config: Config | None = None) -> str:
    """A workflow for a site: installing `install`, and (publish.yml) passing exactly the
    credential variables that the site's heard.toml names, from the repository's secrets."""
    text = resources.files("generator.scaffold").joinpath(f"workflows/{name}").read_text("utf-8")
    text = text.replace("run: __INSTALL__", f'run: pip install "{check_install(install)}"')
    variables = secret_variables(config) if config is not None else []
    indent = "        "
    if variables:
        block = [
            "env:",
            "  # Credentials only from secrets, as heard.toml names them.",
            *(f"  {v}: ${{{{ secrets.{v} }}}}" for v in variables),
        ]
    else:
        block = ["# heard.toml names no credentials yet: `heard workflows` adds them here."]
    return text.replace(f"{indent}__SECRETS__", "\n".join(indent + line for line in block))


def installed_spec(site_dir: Path) -> str | None:
    """The install line of an existing publish workflow (to keep it when rewriting)."""
    try:
        text = (site_dir / WORKFLOWS[0]).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = re.search(r'run: pip install "([^"]+)"', text) or re.search(
        r"run: pip install (\S+)\s*$", text, re.MULTILINE
    )
    return match.group(1) if match else None


def write_workflows(site_dir: Path, config: Config, install: str | None = None) -> list[Path]:
    """(Re)write the site's two workflows from its heard.toml; returns the files written."""
    spec = install or installed_spec(site_dir) or default_install()
    written = []
    for target in WORKFLOWS:
        path = site_dir / target
        atomic_write(path, workflow(Path(target).name, install=spec, config=config).encode())
        written.append(path)
    return written


def write_skeleton(
    directory: Path, *, install: str | None = None, empty: bool = False
) -> list[Path]:
    """Write a new site into `directory` (which must not already hold one).

    `empty`: no sample cases or note (a brand starting its real record).
    """
    if (directory / "heard.toml").exists():
        raise HeardError(f"{directory}: already holds a heard site (heard.toml exists)")
    spec = check_install(install) if install is not None else default_install()
    config = parse_config(CONFIG)
    files = {
        "heard.toml": CONFIG,
        "README.md": README,
        "content/pages/about.md": ABOUT,
        ".gitignore": "_site/\n.heard-cache/\n",
        ".github/workflows/publish.yml": workflow("publish.yml", install=spec, config=config),
        ".github/workflows/ci.yml": workflow("ci.yml", install=spec, config=config),
    }
    if not empty:
        files |= {"content/notes/mastodon-1001.md": NOTE, **CASES}
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
