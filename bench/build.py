"""Time a full `heard build` of N synthetic cases and report wall time and peak memory.

    python bench/build.py 10000 [--keep]

Synthetic cases are made with a fixed seed (so runs compare); the build runs in a child
process so its peak RSS is measured alone (resource.getrusage of the children).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
CHANNELS = ["x", "mastodon", "github", "bluesky", "reddit", "discourse"]
CONFIG = """[site]
title = "Bench Co"
brand = "Bench Co"

[accounts]
x = ["BenchCare"]

[policy]
response_target = "1h"
"""


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_site(root: Path, n: int, seed: int = 7) -> None:
    """Write heard.toml and N cases spread over a year, sharded by month."""
    rnd = random.Random(seed)
    (root / "heard.toml").write_text(CONFIG, encoding="utf-8")
    shards: dict[str, list[str]] = {}
    for i in range(n):
        channel = CHANNELS[i % len(CHANNELS)]
        opened = NOW - timedelta(seconds=rnd.randrange(365 * 86400))
        events = [
            {
                "kind": "complaint",
                "at": iso(opened),
                "by": "customer",
                "text": f"Complaint number {i}: " + "words " * rnd.randrange(5, 40),
            }
        ]
        t = opened
        for _ in range(rnd.randrange(0, 5)):
            t += timedelta(seconds=rnd.randrange(60, 3 * 86400))
            kind = rnd.choice(["reply", "customer_reply", "moved_private", "follow_up", "resolved"])
            by = "customer" if kind == "customer_reply" else "brand"
            events.append({"kind": kind, "at": iso(t), "by": by, "text": "An answer " * 5})
        case = {
            "id": f"{channel}-{i}",
            "channel": channel,
            "url": f"https://{channel}.example/post/{i}",
            "author": {"handle": f"@user{i}", "reach": rnd.randrange(10000)},
            "events": events,
        }
        shards.setdefault(opened.strftime("%Y-%m"), []).append(json.dumps(case))
    folder = root / "content" / "cases"
    folder.mkdir(parents=True)
    for month, lines in shards.items():
        lines.sort(key=lambda line: json.loads(line)["id"])
        (folder / f"{month}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("--keep", action="store_true", help="keep the temp site")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="heard-bench-"))
    make_site(work, args.n)
    command = [
        sys.executable,
        "-m",
        "generator",
        "build",
        "--site",
        str(work),
        "--out",
        str(work / "_site"),
        "--now",
        iso(NOW),
    ]
    results = {}
    for label in ("cold", "incremental"):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        results[label] = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    files = sum(1 for p in (work / "_site").rglob("*") if p.is_file())
    print(
        json.dumps(
            {
                "cases": args.n,
                "files": files,
                "cold_build_s": round(results["cold"], 2),
                "incremental_build_s": round(results["incremental"], 2),
                "peak_rss_mib": round(peak_mib, 1),
            }
        )
    )
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
