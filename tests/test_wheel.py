"""What a user's `pip install` gets: heard built as a wheel, installed into a bare venv (its
dependencies from the package index, nothing from this checkout), used as a new brand
would in its first week: init, start clean, a GitHub source, gather twice, build."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from generator import __version__
from tests.conftest import ROOT
from tests.support.contract import complaints
from tests.test_source_github import SCENARIO as GITHUB

NOW = "2026-11-30T12:00:00Z"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    [built] = out.glob("heard-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `heard` command of a fresh venv holding the wheel and its dependencies only."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True, clear=True)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet",
           "--disable-pip-version-check", str(wheel)]  # fmt: skip
    done = subprocess.run(pip, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Deprecat" not in done.stderr  # no setuptools licence warning, nothing stale
    return home / "bin" / "heard"


def run(heard: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run(
        [str(heard), *args], cwd=cwd, capture_output=True, text=True,
        env={**clean, **(env or {})}, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"heard {' '.join(args)}: {done.stderr}"
    return done.stdout


def test_the_wheel_carries_the_theme_the_assets_and_the_workflows(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "generator/site/themes/default/theme.toml",
        "generator/site/themes/default/templates/base.html",
        "generator/site/themes/default/static/style.css",
        "generator/site/assets/find.js",
        "generator/scaffold/workflows/publish.yml",
        "generator/py.typed",
    ):
        assert needed in names, needed
    assert not any(name.startswith(("tests/", "content/")) for name in names)


def test_an_installed_heard_runs_a_brands_first_week(
    installed: Path, tmp_path: Path, httpserver: HTTPServer
) -> None:
    assert run(installed, "--version", cwd=tmp_path).strip() == f"heard, version {__version__}"
    run(installed, "init", "acme", cwd=tmp_path)
    site = tmp_path / "acme"
    assert run(installed, "check", cwd=site).startswith("ok: 2 cases")
    run(installed, "reset-samples", cwd=site)
    GITHUB.serve(httpserver, complaints(["Sync fails again", "Crash on save"], answered=1))
    with (site / "heard.toml").open("a", encoding="utf-8") as config:
        config.write("\n" + GITHUB.config(httpserver.url_for("/")))
    run(installed, "workflows", cwd=site)
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start"]):  # fmt: skip
        subprocess.run(["git", *command], cwd=site, check=True)
    env = dict(GITHUB.env)
    run(installed, "gather", "--now", "2026-11-30T11:00:00Z", cwd=site, env=env)
    subprocess.run(["git", "add", "-A"], cwd=site, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "gather"],
                   cwd=site, check=True)  # fmt: skip
    run(installed, "gather", "--now", "2026-11-30T12:00:00Z", cwd=site, env=env)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=site, capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert status.stdout == ""  # the second gather changed no committed file
    assert run(installed, "check", cwd=site).startswith("ok: 2 cases")
    run(installed, "build", "--now", NOW, cwd=site)
    index = site / "_site" / "index.html"
    assert index.stat().st_size > 1000
    assert "Crash on save" in (site / "_site" / "cases" / "github-2.html").read_text("utf-8")
