"""No quiet burying: hiding, re-dating or deleting a line from the record always shows up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.config import parse_config
from generator.errors import ProblemsError
from tests.conftest import BASE_CONFIG, SiteFactory, case, ev, heard, write_lines

NOW = "2026-11-30T12:00:00Z"


def imported_site(make_site: SiteFactory, tmp_path: Path) -> Path:
    root = make_site()
    export = tmp_path / "export.jsonl"
    write_lines(
        export,
        [
            case("x-1", ev("complaint", "2026-11-01T10:00:00Z", text="Ignored for a month")),
            case(
                "x-2",
                ev("complaint", "2026-11-20T10:00:00Z"),
                ev("reply", "2026-11-20T10:05:00Z", "brand"),
            ),
            case(
                "x-3",
                ev("complaint", "2026-11-21T10:00:00Z"),
                ev("reply", "2026-11-21T10:07:00Z", "brand"),
            ),
        ],
    )
    assert heard("import", "--site", root, export).exit_code == 0
    assert heard("check", "--site", root).exit_code == 0
    return root


def figures(root: Path, tmp_path: Path, name: str) -> dict[str, object]:
    out = tmp_path / name
    result = heard("build", "--site", root, "--out", out, "--now", NOW)
    assert result.exit_code == 0, result.stderr
    return json.loads((out / "api/summary.json").read_text("utf-8"))["all_time"]  # type: ignore[no-any-return]


def test_deleting_an_unanswered_complaint_fails_check(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = imported_site(make_site, tmp_path)
    before = figures(root, tmp_path, "before")
    shard = root / "content/cases/2026-11.jsonl"
    lines = shard.read_text("utf-8").splitlines(keepends=True)
    shard.write_text("".join(lines[1:]), "utf-8")  # quietly drop x-1
    after = figures(root, tmp_path, "after")
    assert after != before  # the figure changes (and improves: which is why check must fail)
    result = heard("check", "--site", root)
    assert result.exit_code == 1
    assert (
        "content/cases: x-1: recorded (opened 2026-11-01T10:00:00Z) but missing from the record"
        in result.stderr
    )


def test_re_dating_a_complaint_fails_check(make_site: SiteFactory, tmp_path: Path) -> None:
    root = imported_site(make_site, tmp_path)
    shard = root / "content/cases/2026-11.jsonl"
    shard.write_text(
        shard.read_text("utf-8").replace("2026-11-01T10:00:00Z", "2026-11-29T10:00:00Z"), "utf-8"
    )
    result = heard("check", "--site", root)
    assert result.exit_code == 1
    assert (
        "content/cases/2026-11.jsonl: x-1: opened 2026-11-29T10:00:00Z but was recorded as "
        "2026-11-01T10:00:00Z"
    ) in result.stderr


def test_hiding_needs_a_reason_and_is_on_the_ledger(make_site: SiteFactory, tmp_path: Path) -> None:
    root = imported_site(make_site, tmp_path)
    before = figures(root, tmp_path, "before")
    assert heard("hide", "--site", root, "x-1", "--now", NOW).exit_code == 1
    assert heard("hide", "--site", root, "x-1", "--now", NOW, "--reason", "abuse").exit_code == 0
    after = figures(root, tmp_path, "after")
    assert after["states"]["hidden"] == 1  # type: ignore[index]
    assert after["cases"] == before["cases"] - 1  # type: ignore[operator]
    ledger = (tmp_path / "after" / "ledger.html").read_text("utf-8")
    assert "<td>Hidden</td><td>abuse</td><td>1</td>" in ledger
    assert "November 2026" in ledger


def test_no_option_can_leave_hidden_cases_out_of_the_counts() -> None:
    for key in ("exclude_hidden = true", "count_hidden = false", "hide_from_counts = true"):
        with pytest.raises(ProblemsError, match="unknown key"):
            parse_config(BASE_CONFIG + key + "\n")
