"""End to end: importing the twcs sample for a brand publishes that brand's true median.

Data: "Customer Support on Twitter" (Thought Vector, Kaggle, 2017), CC BY-NC-SA 4.0,
used in tests only (read from ../shared/data, never copied into the project).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from tests.conftest import SiteFactory, heard, shared_data, snapshot
from tests.test_twcs import _independent_first_replies

CLEAN = "twcs_head5000.csv"
RAW = "raw/twcs_head5000_as_published.csv"
NOW = "2017-12-31T00:00:00Z"
CONFIG = '[site]\ntitle = "T"\nbrand = "{brand}"\n\n[accounts]\nx = ["{brand}"]\n'


def km_median(durations: list[float | None], censor_at: dict[int, float]) -> float | None:
    """Exact product-limit median; None durations are censored at censor_at[index]."""
    obs = [(d, True) if d is not None else (censor_at[i], False) for i, d in enumerate(durations)]
    obs.sort(key=lambda o: (o[0], not o[1]))
    at_risk, survival = len(obs), Fraction(1)
    for t in sorted({o[0] for o in obs}):
        deaths = sum(1 for o in obs if o[0] == t and o[1])
        if deaths:
            survival *= 1 - Fraction(deaths, at_risk)
            if survival <= Fraction(1, 2):
                return t
        at_risk -= sum(1 for o in obs if o[0] == t)
    return None


@pytest.mark.parametrize("brand", ["AppleSupport", "AmazonHelp", "sprintcare"])
def test_twcs_import_gives_the_brands_true_median(
    brand: str, make_site: SiteFactory, tmp_path: Path
) -> None:
    clean = shared_data(CLEAN)
    expected, _ = _independent_first_replies(clean, brand)
    root = make_site(config=CONFIG.format(brand=brand))
    result = heard("import", "--site", root, "--format", "twcs", "--brand", brand, clean)
    assert result.exit_code == 0, result.output
    assert f"{len(expected)} cases read, {len(expected)} new" in result.output
    out = tmp_path / "out"
    assert heard("build", "--site", root, "--out", out, "--now", NOW).exit_code == 0
    summary = json.loads((out / "api/summary.json").read_text("utf-8"))
    cases = {c["id"]: c for c in json.loads((out / "api/cases.json").read_text("utf-8"))}
    from generator.record.times import parse_instant

    now = parse_instant(NOW)
    ids = list(expected)
    censor = {
        i: (now - parse_instant(cases[f"x-{rid}"]["opened_at"])).total_seconds()
        for i, rid in enumerate(ids)
    }
    truth = km_median([expected[r] for r in ids], censor)
    fr = summary["all_time"]["first_response"]
    assert fr["median_s"] == truth
    assert fr["answered"] == sum(1 for v in expected.values() if v is not None)
    assert summary["all_time"]["cases"] == len(expected)


def test_the_raw_messy_file_imports_to_the_same_record(make_site: SiteFactory) -> None:
    files = shared_data(CLEAN), shared_data(RAW)
    clean = make_site(config=CONFIG.format(brand="AmazonHelp"), name="clean")
    raw = make_site(config=CONFIG.format(brand="AmazonHelp"), name="raw")
    for root, path in zip((clean, raw), files, strict=True):
        got = heard("import", "--site", root, "--format", "twcs", "--brand", "AmazonHelp", path)
        assert got.exit_code == 0, got.output
    assert snapshot(clean / "content") == snapshot(raw / "content")


def test_a_malformed_twcs_row_is_one_line_and_changes_nothing(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(config=CONFIG.format(brand="AppleSupport"))
    before = snapshot(root)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "1,115712,True,Tue Oct 31 22:10:47 +0000 2017,@AppleSupport help,,\n"
        "2,AppleSupport,False,last tuesday,hi,,1\n",
        encoding="utf-8",
    )
    result = heard("import", "--site", root, "--format", "twcs", "--brand", "AppleSupport", bad)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}:3: created_at: ")
    assert len(result.stderr.splitlines()) == 1
    assert snapshot(root) == before
    nobrand = heard("import", "--site", root, "--format", "twcs", bad)
    assert nobrand.exit_code == 1
    assert "--brand HANDLE is required" in nobrand.stderr
