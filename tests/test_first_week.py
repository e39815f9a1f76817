"""A brand's first week, as a new user meets heard: starting clean after the samples, files
with the modes they had, and commands that fail loudly and read well."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import heard, snapshot
from tests.support.contract import complaints
from tests.test_source_github import SCENARIO as GITHUB

NOW = "2026-11-30T12:00:00Z"


def new_site(tmp_path: Path, *args: str) -> Path:
    site = tmp_path / "acme"
    result = heard("init", site, *args)
    assert result.exit_code == 0, result.stderr
    return site


def test_init_empty_writes_no_sample(tmp_path: Path) -> None:
    site = new_site(tmp_path, "--empty")
    assert not (site / "content/cases").exists()
    assert not (site / "content/notes").exists()
    assert heard("check", "--site", site).stdout == "ok: 0 cases, 0 notes, 1 pages\n"
    built = heard("build", "--site", site, "--now", NOW)
    assert built.exit_code == 0, built.stderr
    assert (site / "_site/index.html").stat().st_size > 0


def test_after_a_gather_the_samples_go_cleanly_and_a_real_case_cannot(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    site = new_site(tmp_path)
    GITHUB.serve(httpserver, complaints(["Sync still fails?", "Crash on start"], answered=1))
    with (site / "heard.toml").open("a", encoding="utf-8") as config:
        config.write("\n" + GITHUB.config(httpserver.url_for("/")))
    gathered = heard("gather", "--site", site, "--now", NOW, env=dict(GITHUB.env))
    assert gathered.exit_code == 0, gathered.stderr
    assert heard("check", "--site", site).stdout == "ok: 4 cases, 1 notes, 1 pages\n"

    # deleting the samples by hand is refused by the manifest …
    shard = site / "content/cases/2026-11.jsonl"
    kept = [line for line in shard.read_text("utf-8").splitlines() if "mastodon-100" not in line]
    original = shard.read_text("utf-8")
    shard.write_text("\n".join(kept) + "\n", encoding="utf-8")
    refused = heard("check", "--site", site)
    assert refused.exit_code == 1
    assert "mastodon-1001: recorded (opened 2026-11-02T09:00:00Z) but missing" in refused.stderr
    shard.write_text(original, encoding="utf-8")

    # … heard reset-samples is how
    reset = heard("reset-samples", "--site", site)
    assert reset.exit_code == 0, reset.stderr
    assert reset.stdout == "removed the samples (2026-11.jsonl, notes/mastodon-1001.md)\n"
    assert heard("check", "--site", site).stdout == "ok: 2 cases, 0 notes, 1 pages\n"
    assert heard("reset-samples", "--site", site).stdout == (
        "no sample cases in the record: nothing to remove\n"
    )

    # and a real case deleted by hand is still refused
    lines = shard.read_text("utf-8").splitlines()
    shard.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    still = heard("check", "--site", site)
    assert still.exit_code == 1
    assert "github-1: recorded (opened 2026-11-02T09:00:00Z) but missing" in still.stderr


def test_a_changed_sample_is_not_removed_quietly(tmp_path: Path) -> None:
    site = new_site(tmp_path)
    shard = site / "content/cases/2026-11.jsonl"
    shard.write_text(shard.read_text("utf-8").replace("charge twice", "charge thrice"), "utf-8")
    before = snapshot(site)
    result = heard("reset-samples", "--site", site)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: mastodon-1001: not the sample heard init wrote")
    assert snapshot(site) == before


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("mode", [0o644, 0o664, 0o600])
def test_rewritten_files_keep_their_mode_and_new_ones_follow_the_umask(
    tmp_path: Path, mode: int
) -> None:
    usual = 0o666 & ~_umask()
    site = new_site(tmp_path)
    for name in ("heard.toml", "README.md", ".github/workflows/publish.yml",
                 "content/cases/2026-11.jsonl"):  # fmt: skip
        assert stat.S_IMODE((site / name).stat().st_mode) == usual, name
    (site / ".github/workflows/publish.yml").chmod(mode)
    (site / "content/notes/mastodon-1001.md").chmod(mode)
    assert heard("workflows", "--site", site).exit_code == 0
    assert heard("resolve", "--site", site, "mastodon-1002", "--note", "Fixed in 2.1",
                 "--now", NOW).exit_code == 0  # fmt: skip
    assert heard("reopen", "--site", site, "mastodon-1001", "--now", NOW).exit_code == 0
    assert stat.S_IMODE((site / ".github/workflows/publish.yml").stat().st_mode) == mode
    assert stat.S_IMODE((site / "content/notes/mastodon-1001.md").stat().st_mode) == mode
    assert stat.S_IMODE((site / "content/notes/mastodon-1002.md").stat().st_mode) == usual
