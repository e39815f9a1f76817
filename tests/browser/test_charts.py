"""Charts with 1, 2 and 24 months of data, on a 360 px phone and on a desktop: never stretched
beyond their own size, never wider than the page, labels readable and never overlapping.
Screenshots go to HEARD_SCREENSHOTS (if set) for a person to look at."""

from __future__ import annotations

import itertools
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import NOW, ContextFactory, build_site, open_page, serve
from tests.conftest import BASE_CONFIG, write_lines

END = datetime.fromisoformat(NOW.replace("Z", "+00:00"))

# Every label and note of every chart on the page: where it is drawn, and how big.
GEOMETRY = """() => [...document.querySelectorAll("svg.chart")].map((svg) => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll("text.label")].map((t) => {
    const r = t.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  });
  return {id: svg.getAttribute("aria-labelledby"), width: box.width, height: box.height,
          right: box.right, drawn: svg.viewBox.baseVal.width, texts};
})"""


def months_of_cases(months: int) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for back in range(months):
        opened = (END.replace(day=1) - timedelta(days=31 * back)).replace(day=3, hour=9)
        for n in range(3):
            at = opened + timedelta(hours=n)
            events: list[dict[str, object]] = [
                {
                    "kind": "complaint",
                    "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "by": "customer",
                    "text": f"Problem {back}-{n}",
                },
            ]
            if n:
                answered = at + timedelta(minutes=20 * n + back)
                events.append({"kind": "reply", "at": answered.strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "by": "brand", "text": "On it"})  # fmt: skip
            cases.append({"id": f"x-{back}{n}", "channel": "x", "events": events})
    return cases


@pytest.mark.parametrize("months", [1, 2, 24])
@pytest.mark.parametrize("width", [360, 1280])
def test_charts_keep_their_size_and_readable_labels(
    new_context: ContextFactory, tmp_path: Path, months: int, width: int
) -> None:
    site = tmp_path / "site"
    (site / "content" / "cases").mkdir(parents=True)
    (site / "heard.toml").write_text(BASE_CONFIG, encoding="utf-8")
    for case in months_of_cases(months):
        opened = str(case["events"][0]["at"])
        path = site / "content" / "cases" / f"{opened[:7]}.jsonl"
        existing = path.read_text("utf-8").splitlines() if path.exists() else []
        write_lines(path, [*existing, json.dumps(case)])
    out = build_site(site, tmp_path / "out")
    shots = Path(os.environ.get("HEARD_SCREENSHOTS") or tmp_path)
    failures: list[str] = []
    with serve(out) as url:
        context = new_context(viewport={"width": width, "height": 900})
        for page_name in ("index.html", "stats.html"):
            page = open_page(context, url + page_name).page
            page.screenshot(path=str(shots / f"charts-{months}m-{width}px-{page_name}.png"),
                            full_page=True)  # fmt: skip
            inner = page.evaluate("() => innerWidth")
            for chart in page.evaluate(GEOMETRY):
                where = f"{page_name} {chart['id']} ({months} months, {width} px)"
                scale = chart["width"] / chart["drawn"]
                if scale > 1.001:
                    failures.append(f"{where}: stretched ×{scale:.2f} beyond its own size")
                if chart["right"] > inner:
                    failures.append(f"{where}: wider than the page ({chart['right']} > {inner})")
                if chart["height"] > 260:
                    failures.append(f"{where}: {chart['height']:.0f} px tall")
                if 12 * scale < 8:
                    failures.append(f"{where}: labels shrink to {12 * scale:.1f} px")
                texts = sorted(chart["texts"], key=lambda t: t["left"])
                for a, b in itertools.pairwise(texts):
                    if a["right"] > b["left"] and a["bottom"] > b["top"] and b["bottom"] > a["top"]:
                        failures.append(f"{where}: labels overlap ({a} and {b})")
    assert failures == [], "\n".join(failures)
