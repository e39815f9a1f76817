"""One case across channels: `heard link` and `heard unlink` keep links in the record, and
`heard check` refuses links that do not hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SiteFactory, case, ev, heard, snapshot

NOW = "2026-11-30T12:00:00Z"
CASES = [
    case("x-1", ev("complaint", "2026-11-20T10:00:00Z", text="My bill is wrong"),
         url="https://x.com/ann/status/1"),
    case("facebook-7", ev("complaint", "2026-11-20T09:00:00Z", text="Wrong bill, again")),
    case("mastodon-3", ev("complaint", "2026-11-21T09:00:00Z", text="Billing is broken")),
]  # fmt: skip


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    return make_site({"2026-11": CASES})


def test_link_and_unlink_write_the_record(site: Path) -> None:
    linked = heard("link", "--site", site, "x-1", "facebook-7", "--now", NOW, "--agent", "JM")
    assert linked.exit_code == 0, linked.stderr
    assert (site / "content/links.jsonl").read_text("utf-8") == (
        '{"keep": "x-1", "merge": "facebook-7", "at": "2026-11-30T12:00:00Z", "agent": "JM"}\n'
    )
    # by a post's link too; into a merged case means into the case it is shown in
    again = heard("link", "--site", site, "https://x.com/ann/status/1?s=20", "mastodon-3",
                  "--now", NOW)  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert heard("check", "--site", site).exit_code == 0
    unlinked = heard("unlink", "--site", site, "x-1", "facebook-7")
    assert unlinked.exit_code == 0
    assert (site / "content/links.jsonl").read_text("utf-8") == (
        '{"keep": "x-1", "merge": "mastodon-3", "at": "2026-11-30T12:00:00Z"}\n'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x-1", "x-1"], "error: x-1 is already shown as part of x-1"),
        (["x-1", "x-99"], "error: no case 'x-99' in the record"),
        (["x-1", "facebook-7", "--now", "2026-11-01T00:00:00Z"], "before a case opened"),
    ],
)
def test_a_link_that_cannot_hold_is_refused(site: Path, args: list[str], message: str) -> None:
    before = snapshot(site)
    result = heard("link", "--site", site, *args, *([] if "--now" in args else ["--now", NOW]))
    assert result.exit_code == 1
    assert result.stderr.startswith(message) or message in result.stderr
    assert snapshot(site) == before


def test_a_merged_case_cannot_be_linked_twice_nor_keep_others(site: Path) -> None:
    assert heard("link", "--site", site, "x-1", "facebook-7", "--now", NOW).exit_code == 0
    twice = heard("link", "--site", site, "mastodon-3", "facebook-7", "--now", NOW)
    assert twice.stderr == "error: facebook-7 is already shown as part of x-1\n"
    keeps = heard("link", "--site", site, "mastodon-3", "x-1", "--now", NOW)
    assert keeps.stderr.startswith("error: x-1 already keeps other cases")
    missing = heard("unlink", "--site", site, "x-1", "mastodon-3")
    assert missing.stderr == "error: x-1 and mastodon-3 are not linked\n"


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (['{"keep": "x-1", "merge": "x-404", "at": "2026-11-30T12:00:00Z"}'],
         "content/links.jsonl: merge: no case x-404 in the record"),
        (['{"keep": "x-1", "merge": "x-1", "at": "2026-11-30T12:00:00Z"}'],
         "content/links.jsonl:1: merge: a case cannot be linked to itself"),
        (['{"keep": "x-1", "merge": "facebook-7", "at": "2026-11-30T12:00:00Z"}',
          '{"keep": "facebook-7", "merge": "mastodon-3", "at": "2026-11-30T12:00:00Z"}'],
         "content/links.jsonl:2: facebook-7 would both keep and be merged: no chains"),
        (['{"keep": "x-1", "merge": "facebook-7", "at": "yesterday"}'],
         "content/links.jsonl:1: at: not an ISO 8601 time with a zone"),
        (["{not json"], "content/links.jsonl:1: not valid JSON"),
    ],
)  # fmt: skip
def test_check_refuses_links_that_do_not_hold(site: Path, lines: list[str], problem: str) -> None:
    (site / "content/links.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = heard("check", "--site", site)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(problem)
