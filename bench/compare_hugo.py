"""The bench: the same N complaints built by heard and by Hugo, side by side, in one run.

    python bench/compare_hugo.py N [--runs R] [--work DIR] [--jobs J]

Prints one JSON line, then a Markdown table row set for docs/performance.md. Needs Hugo
(Debian: apt-get install hugo; 0.111) — for the bench only, never for `make test`.

The corpus is make_corpus.py (as in shared/bench): Hugo reads its Markdown; heard reads the
same complaints converted into its record (complaint, brand reply, resolved/closed) through
`heard import`. Each build is a whole process into a fresh output folder, hugo and heard
alternating so drift hits both. Peak memory is sampled for the whole process tree (heard's
workers included) as the sum of proportional set sizes (PSS: shared pages counted once),
with the largest single process's RSS (what /usr/bin/time reports) beside it. Then, into
the last heard output: nothing changed; one new brand reply on one case; and a later
"now" with nothing changed (the hourly run). Load averages are printed with the results:
the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EPOCH = "1796083200"  # 2026-12-01T00:00:00Z
LATER = "1796086800"  # an hour later


def front_matter(text: str) -> tuple[dict[str, str], str]:
    _, head, body = text.split("---\n", 2)
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(": ")
        meta[key] = value.strip().strip('"')
    return meta, body


def sections(body: str) -> tuple[str, str, str]:
    main, _, rest = body.partition("## Brand reply")
    reply, _, fix = rest.partition("## Fix")
    return main.strip(), reply.strip(), fix.strip()


def to_record(corpus: Path, out: Path) -> int:
    """The corpus as heard record lines (one case per complaint)."""
    n = 0
    with out.open("w", encoding="utf-8") as f:
        for md in sorted((corpus / "c").glob("*.md")):
            meta, body = front_matter(md.read_text(encoding="utf-8"))
            text, reply, fix = sections(body)
            channel = meta["channel"].replace("-", "_")
            events = [{"kind": "complaint", "at": meta["created"], "by": "customer", "text": text}]
            if meta.get("first_response") not in (None, "", "null"):
                at = meta["first_response"]
                events.append({"kind": "reply", "at": at, "by": "brand", "text": reply})
            if meta.get("resolved") not in (None, "", "null"):
                kind = "resolved" if meta.get("status") == "fixed" else "closed"
                events.append({"kind": kind, "at": meta["resolved"], "by": "brand", "text": fix})
            case = {
                "id": f"{channel}-{meta['id'].lower()}",
                "channel": channel,
                "url": f"https://{channel}.example/p/{meta['id']}",
                "title": meta["title"],
                "author": {"handle": meta["author"]},
                "events": events,
            }
            f.write(json.dumps(case) + "\n")
            n += 1
    return n


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _kib(pid: int, path: str, field: str) -> int:
    try:
        with open(f"/proc/{pid}/{path}", encoding="utf-8") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def timed(
    cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> dict[str, float]:
    """Run cmd; wall seconds, peak PSS of its process tree and peak RSS of one process (MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak_pss = peak_rss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_pss, peak_rss
        while not done.is_set():
            pids = _tree(proc.pid)
            peak_pss = max(peak_pss, sum(_kib(p, "smaps_rollup", "Pss:") for p in pids))
            peak_rss = max([peak_rss, *(_kib(p, "status", "VmHWM:") for p in pids)])
            done.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, stderr = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    thread.join()
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{stderr.decode(errors='replace')[-800:]}")
    return {
        "s": round(wall, 2),
        "pss_mib": round(peak_pss / 1024, 1),
        "rss_mib": round(peak_rss / 1024, 1),
    }


def size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--work", default=None)
    ap.add_argument("--jobs", default=None, help="heard build --jobs (default: the cores)")
    a = ap.parse_args()
    heard = [sys.executable, "-m", "generator"]
    work = Path(a.work or tempfile.mkdtemp(prefix="heard-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"corpus-{a.n}"
    if not corpus.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_corpus.py"),
                str(a.n),
                str(corpus),
                "--flavor",
                "yaml",
            ],
            check=True,
            stderr=subprocess.DEVNULL,
        )
    hugo_site = work / "hugo-site"
    shutil.rmtree(hugo_site, ignore_errors=True)
    shutil.copytree(HERE / "hugo", hugo_site)
    site = work / "heard-site"
    shutil.rmtree(site, ignore_errors=True)
    subprocess.run([*heard, "init", str(site)], check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(site / "content/cases")
    shutil.rmtree(site / "content/notes", ignore_errors=True)
    (site / "content/cases").mkdir()
    rec = work / f"record-{a.n}.jsonl"
    to_record(corpus, rec)
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(HERE.parent)}
    imported = timed([*heard, "import", str(rec)], cwd=site, env=env)
    jobs = ["--jobs", a.jobs] if a.jobs else []
    builds: dict[str, list[dict[str, float]]] = {"hugo": [], "heard": []}
    loads = [os.getloadavg()[0]]
    for i in range(a.runs):
        for tool in ("hugo", "heard"):
            out = work / f"out-{tool}-{i}"
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(site / ".heard-cache", ignore_errors=True)  # cold: no cache either
            subprocess.run(["sync"], check=False)
            if tool == "hugo":
                cmd = [
                    "hugo",
                    "--quiet",
                    "-s",
                    str(hugo_site),
                    "--contentDir",
                    str(corpus),
                    "-d",
                    str(out),
                ]
                builds[tool].append(timed(cmd))
            else:
                cmd = [*heard, "build", "--quiet", "--out", str(out), *jobs]
                builds[tool].append(timed(cmd, cwd=site, env=env))
            loads.append(os.getloadavg()[0])
            if i < a.runs - 1:
                shutil.rmtree(out, ignore_errors=True)
    last = work / f"out-heard-{a.runs - 1}"
    pages = list((last / "cases").glob("*.html"))
    page_bytes = statistics.mean(p.stat().st_size for p in pages) if pages else 0
    files, total = size(last)
    hugo_files, hugo_total = size(work / f"out-hugo-{a.runs - 1}")
    build = [*heard, "build", "--quiet", "--out", str(last), *jobs]
    noop = timed(build, cwd=site, env=env)
    one = json.loads(rec.read_text(encoding="utf-8").splitlines()[a.n // 2])
    one["events"].append(
        {
            "kind": "follow_up",
            "at": "2026-11-30T12:00:00Z",
            "by": "brand",
            "text": "Checking in: all good now?",
        }
    )
    (work / "one.jsonl").write_text(json.dumps(one) + "\n", encoding="utf-8")
    subprocess.run(
        [*heard, "import", str(work / "one.jsonl")],
        cwd=site,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    change = timed(build, cwd=site, env=env)
    later = timed(build, cwd=site, env={**env, "SOURCE_DATE_EPOCH": LATER})
    loads.append(os.getloadavg()[0])
    hugo_s = min(b["s"] for b in builds["hugo"])
    heard_s = min(b["s"] for b in builds["heard"])
    result: dict[str, Any] = {
        "n": a.n,
        "hugo": builds["hugo"],
        "heard": builds["heard"],
        "ratio": round(heard_s / hugo_s, 2),
        "noop": noop,
        "one_change": change,
        "later_now": later,
        "import": imported,
        "case_page_bytes": round(page_bytes),
        "bytes_per_case": round(total / a.n),
        "heard_files": files,
        "heard_bytes": total,
        "hugo_files": hugo_files,
        "hugo_bytes": hugo_total,
        "load": [round(x, 2) for x in loads],
        "cores": os.cpu_count(),
    }
    print(json.dumps(result))
    peak = max(b["pss_mib"] for b in builds["heard"])
    print(
        f"| {a.n:,} | {heard_s:.1f} s / {hugo_s:.1f} s = {result['ratio']:.2f}× | "
        f"{peak:.0f} MiB ({max(b['rss_mib'] for b in builds['heard']):.0f}) vs "
        f"{max(b['pss_mib'] for b in builds['hugo']):.0f} MiB | {change['s']:.1f} s | "
        f"{noop['s']:.1f} s | {later['s']:.1f} s | {page_bytes / 1000:.2f} KB | "
        f"{total / a.n / 1000:.2f} KB | {imported['s']:.1f} s, {imported['pss_mib']:.0f} MiB | "
        f"{min(loads):.1f}–{max(loads):.1f} |"
    )
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
