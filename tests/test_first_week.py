"""A brand's first week, as a new user meets heard: starting clean after the samples, files
with the modes they had, and commands that fail loudly and read well."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import SiteFactory, heard, snapshot
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


# --- commands fail loudly and read well ------------------------------------------------------

CASES = [
    '{"id": "x-1", "channel": "x", "url": "https://x.com/ann/status/1", "events": [{"kind": '
    '"complaint", "at": "2026-11-02T09:00:00Z", "by": "customer", "text": "Broken"}]}',
    '{"id": "x-2", "channel": "x", "events": [{"kind": "complaint", "at": "2026-11-03T09:00:00Z"',
    '{"id": "x-3", "channel": "x", "events": [{"kind": "complaint", "at": "2026-11-04T09:00:00Z",'
    ' "by": "customer"}, {"kind": "reply", "at": "2026-11-04T09:30:00Z", "by": "brand"}]}',
]


@pytest.fixture
def broken_site(make_site: SiteFactory) -> Path:
    return make_site({"2026-11": CASES})


def test_stats_and_show_refuse_a_corrupt_line_or_skip_it_counted(broken_site: Path) -> None:
    stats = heard("stats", "--site", broken_site, "--now", NOW)
    assert stats.exit_code == 1
    assert stats.stderr.startswith("content/cases/2026-11.jsonl:2: not valid JSON")
    assert "pass --keep-going" in stats.stderr
    assert stats.stdout == ""
    kept = heard("stats", "--site", broken_site, "--now", NOW, "--keep-going")
    assert kept.exit_code == 0
    assert "warning: skipped 1 bad record line(s)" in kept.stderr
    assert kept.stdout.splitlines()[2].split()[:4] == ["all", "all", "time", "2"]  # x-1, x-3
    show = heard("show", "--site", broken_site, "https://x.com/ann/status/99", "--now", NOW)
    assert show.exit_code == 1  # never "no case" for a case that may be on the broken line
    assert "content/cases/2026-11.jsonl:2: not valid JSON" in show.stderr
    past = heard("show", "--site", broken_site, "x-3", "--now", NOW, "--keep-going")
    assert past.exit_code == 0
    assert past.stdout.startswith("x-3  [responded]")
    assert past.stderr == "warning: skipped 1 bad record line(s)\n"


@pytest.mark.parametrize(
    "pasted",
    ["https://x.com/ann/status/1", "http://x.com/ann/status/1", "https://www.x.com/ann/status/1/",
     "https://x.com/ann/status/1?s=20", "https://twitter.com/ann/status/1#m"],
)  # fmt: skip
def test_show_finds_a_post_as_people_paste_its_link(make_site: SiteFactory, pasted: str) -> None:
    site = make_site({"2026-11": [CASES[0]]})
    shown = heard("show", "--site", site, pasted, "--now", NOW)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.startswith("x-1  [open]")


def test_a_closed_pipe_is_a_quiet_exit(make_site: SiteFactory) -> None:
    site = make_site({"2026-11": [CASES[0], CASES[2]]})
    done = subprocess.run(
        f"{sys.executable} -m generator stats --site {site} --now {NOW} | head -1",
        shell=True, capture_output=True, text=True, check=False,
        executable="/bin/bash", env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert done.stdout.startswith("Test Co — figures as of")
    assert done.stderr == ""
    piped = subprocess.run(
        f"set -o pipefail; {sys.executable} -m generator stats --site {site} --now {NOW} | head -1",
        shell=True, capture_output=True, text=True, check=False, executable="/bin/bash",
    )  # fmt: skip
    assert piped.returncode == 0


def test_reopen_refuses_a_case_that_was_never_closed(make_site: SiteFactory) -> None:
    site = make_site({"2026-11": [CASES[0], CASES[2]]})
    before = snapshot(site)
    refused = heard("reopen", "--site", site, "x-3", "--now", NOW)
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: x-3: it is responded, not fixed, closed or hidden: nothing to reopen\n"
    )
    assert snapshot(site) == before
    assert heard("resolve", "--site", site, "x-3", "--note", "Done", "--now", NOW).exit_code == 0
    assert heard("reopen", "--site", site, "x-3", "--now", NOW).exit_code == 0


@pytest.mark.parametrize("command", ["resolve", "close", "hide", "reopen"])
def test_each_decision_describes_its_own_options(command: str) -> None:
    text = " ".join(heard(command, "--help").stdout.split())
    note = {"resolve": "What was fixed", "close": "Why it ends without a fix",
            "hide": "An optional public note", "reopen": "why it is reopened"}[command]  # fmt: skip
    assert note in text
    if command == "hide":
        assert "Why it is hidden, e.g. spam, abuse, personal data (required; public)" in text
    else:
        assert "(required to hide)" not in text


def test_remove_points_to_help_an_installed_user_has(make_site: SiteFactory) -> None:
    site = make_site({"2026-11": [CASES[0]]})
    removed = heard("remove", "--site", site, "x-1", "--reason", "author request", "--now", NOW)
    assert removed.exit_code == 0
    assert "`heard remove --help` says how to purge it" in removed.stdout
    assert "git filter-repo --replace-text" in heard("remove", "--help").stdout


def test_a_now_before_every_case_says_so(make_site: SiteFactory, tmp_path: Path) -> None:
    site = make_site({"2026-11": [CASES[0], CASES[2]]})
    built = heard(
        "build", "--site", site, "--out", tmp_path / "out", "--now", "2020-01-01T00:00:00Z"
    )
    assert built.exit_code == 0
    assert (
        "warning: every case of the record open(s) after 2020-01-01T00:00:00Z, the 'now' of"
        " these figures: left out (check --now and SOURCE_DATE_EPOCH)"
    ) in built.stderr
    stats = heard("stats", "--site", site, "--now", "2026-11-03T00:00:00Z")
    assert "warning: 1 case(s) of the record open(s) after 2026-11-03T00:00:00Z" in stats.stderr


def test_a_csv_imported_without_format_stops_early_and_names_the_format(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    site = make_site()
    export = tmp_path / "twcs.csv"
    rows = ["tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"]
    rows += [f"{n},{n},True,Tue Oct 31 22:10:47 +0000 2017,@Acme help,," for n in range(1, 500)]
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = heard("import", "--site", site, str(export))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 7  # five problems, "… and 495 more", the hint
    assert lines[5] == f"{export}: … and 495 more problem(s)"
    assert lines[6] == f"{export}: this file looks like --format twcs"


def test_a_failed_source_reports_the_requests_it_made(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    site = new_site(tmp_path, "--empty")
    httpserver.expect_request("/repos/acme/app/issues").respond_with_data("oops", status=503)
    with (site / "heard.toml").open("a", encoding="utf-8") as config:
        config.write(GITHUB.config(httpserver.url_for("/")))
    failed = heard("gather", "--site", site, "--now", NOW, env=dict(GITHUB.env))
    assert failed.exit_code == 1
    [row] = [line for line in failed.stdout.splitlines() if line.startswith("github")]
    assert "    5 requests    4 retries" in row  # 1 + 4 retries, counted though it failed


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('title = ""', "heard.toml:2: site.title: must not be empty"),
        ('title = "T"\n[[sources]]\ntype = "mastodon"\nbase_url = "https://m.example/"\n'
         'hashtags = ["#acme"]', "heard.toml:7: sources[0].hashtags[0]: must be a hashtag "
         "without '#' or spaces"),
        ('title = "T"\n[[sources]]\ntype = "twitter"',
         "heard.toml:4: sources[0]: unknown source type 'twitter' (the types are "),
        ('title = "T"\n[policy]\nwindow_days = 9999', "heard.toml:5: policy.window_days: must be at most 3660"),
    ],
)  # fmt: skip
def test_config_errors_read_as_plain_words(tmp_path: Path, toml: str, expected: str) -> None:
    site = tmp_path / "s"
    site.mkdir()
    text = "\ufeff[site]\n" + toml.replace('title = "T"', 'title = "T"\nbrand = "B"', 1)
    if 'title = ""' in toml:
        text = '\ufeff[site]\ntitle = ""\nbrand = "B"\n'
    (site / "heard.toml").write_text(text, encoding="utf-8")
    result = heard("check", "--site", site)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(expected)
    assert "should" not in result.stderr and "pattern" not in result.stderr
