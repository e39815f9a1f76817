"""`heard queue`: the team's next steps, in the documented order, worked out by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_CONFIG, SiteFactory, case, ev, heard

NOW = "2026-11-30T12:00:00Z"
CONFIG = BASE_CONFIG.replace(
    'response_target = "1h"', 'response_target = "1h"\nresolution_target = "7d"'
)


def author(reach: int | None = None) -> dict[str, Any]:
    return {"handle": "@someone"} | ({"reach": reach} if reach is not None else {})


CASES = [
    # answer: waiting 1 h, 1,240 followers → 1 × (1 + log10 1241) = 4.0937
    case("x-1", ev("complaint", "2026-11-30T11:00:00Z"), author=author(1240)),
    # answer: waiting 4 h, no reach given → 4 × 1 = 4.0
    case("x-2", ev("complaint", "2026-11-30T08:00:00Z")),
    # answer: waiting 2 h, 9 followers → 2 × (1 + log10 10) = 4.0: a tie, the longer wait first
    case("x-3", ev("complaint", "2026-11-30T10:00:00Z"), author=author(9)),
    # still concerned: asked 10 d 1 h 30 min ago, no word since → 10.0625 d / 3 d = 3.354
    case("x-4", ev("complaint", "2026-11-20T10:00:00Z"),
         ev("reply", "2026-11-20T10:30:00Z", "brand", text="Could you send us the order number?")),
    # fix: the customer asked again 24 h ago after a brand reply → 1 d / 7 d = 0.142857
    case("x-5", ev("complaint", "2026-11-29T09:00:00Z"),
         ev("reply", "2026-11-29T10:00:00Z", "brand", text="We're looking into it."),
         ev("customer_reply", "2026-11-29T12:00:00Z", text="Any news?")),
    # follow up: fixed 4 d ago, nothing public since → 4 d / 2 d = 2.0
    case("x-6", ev("complaint", "2026-11-25T12:00:00Z"),
         ev("reply", "2026-11-25T13:00:00Z", "brand", text="On it."),
         ev("resolved", "2026-11-26T12:00:00Z", "brand", text="Fixed.")),
    # fixed a day ago: a follow-up is not due yet
    case("x-7", ev("complaint", "2026-11-28T12:00:00Z"),
         ev("resolved", "2026-11-29T12:00:00Z", "brand", text="Fixed.")),
    # fixed and followed up: nothing to do
    case("x-8", ev("complaint", "2026-11-19T12:00:00Z"),
         ev("resolved", "2026-11-20T12:00:00Z", "brand", text="Fixed."),
         ev("follow_up", "2026-11-22T12:00:00Z", "brand", text="All good since?")),
    # closed, not fixed: an honest end, nothing to do
    case("x-9", ev("complaint", "2026-11-19T12:00:00Z"),
         ev("closed", "2026-11-20T12:00:00Z", "brand", text="We cannot change this.")),
]  # fmt: skip
HIDDEN = '---\nstatus: hidden\nat: "2026-11-30T09:00:00Z"\nreason: spam\n---\n'


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    spam = case("x-10", ev("complaint", "2026-11-30T08:30:00Z"))
    return make_site({"2026-11": [*CASES, spam]}, notes={"x-10": HIDDEN}, config=CONFIG)


def test_the_queue_follows_the_documented_order(site: Path) -> None:
    result = heard("queue", "--site", site, "--now", NOW, "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["case"], r["group"]) for r in rows] == [
        ("x-1", "answer"),
        ("x-2", "answer"),
        ("x-3", "answer"),
        ("x-5", "fix"),
        ("x-4", "still concerned"),
        ("x-6", "follow up"),
    ]
    priority = {r["case"]: r["priority"] for r in rows}
    assert priority["x-1"] == round(1 + math.log10(1241), 3) == 4.094
    assert priority["x-2"] == priority["x-3"] == 4.0
    assert priority["x-4"] == round((10 * 86400 + 5400) / (3 * 86400), 3) == 3.354
    assert priority["x-5"] == round(1 / 7, 3)
    assert priority["x-6"] == 2.0
    reasons = {r["case"]: r["reason"] for r in rows}
    assert reasons["x-1"] == "1,240 followers, waiting 1 h, target 1 h"
    assert reasons["x-4"] == (
        "no word from the customer 10 d 1 h after the brand's question, "
        "say in public you are still concerned"
    )
    assert reasons["x-5"] == "customer waiting 1 d, open 1 d 3 h, target 7 d to fix"
    assert reasons["x-6"] == "fixed 4 d ago, no public follow-up yet"


def test_channel_limit_and_the_table(site: Path, make_site: SiteFactory) -> None:
    limited = heard("queue", "--site", site, "--now", NOW, "--limit", "2")
    lines = limited.stdout.splitlines()
    assert len(lines) == 4  # two rows of two lines
    assert lines[0].split()[:4] == ["1", "answer", "x-1", "x"]
    assert lines[0].endswith("1,240 followers, waiting 1 h, target 1 h")
    none = heard("queue", "--site", site, "--now", NOW, "--channel", "github")
    assert none.stdout == "nothing to do: every case is answered, fixed and followed up\n"


def test_reach_orders_the_queue_but_never_a_published_figure(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    quiet = make_site({"2026-11": CASES}, config=CONFIG, name="quiet")
    loud_cases = [dict(c, author=author(10**6)) for c in CASES]
    loud = make_site({"2026-11": loud_cases}, config=CONFIG, name="loud")
    built = []
    for root in (quiet, loud):
        out = tmp_path / f"out-{root.name}"
        assert heard("build", "--site", root, "--out", out, "--now", NOW).exit_code == 0
        built.append((out / "api/summary.json").read_text("utf-8"))
    assert built[0] == built[1]
    quiet_rows = json.loads(heard("queue", "--site", quiet, "--now", NOW, "--json").stdout)
    loud_rows = json.loads(heard("queue", "--site", loud, "--now", NOW, "--json").stdout)
    assert [r["priority"] for r in quiet_rows] != [r["priority"] for r in loud_rows]


def test_the_queue_reads_only_the_record(site: Path) -> None:
    """No network: a site whose sources point nowhere still gets its queue."""
    with (site / "heard.toml").open("a", encoding="utf-8") as config:
        config.write('\n[[sources]]\ntype = "rss"\nurl = "http://127.0.0.1:9/feed"\n')
    result = heard("queue", "--site", site, "--now", NOW)
    assert result.exit_code == 0
    assert result.stdout.startswith("  1  answer")
