"""Time a full `heard gather` of N posts served by a local server with 50 ms latency.

    python bench/gather.py [N] [--sources K] [--latency 0.05]

The server speaks the GitHub Issues API shape (100 items per page, Link pagination):
N posts split over K repositories (sources run concurrently), half issues and half
comments. Prints requests, wall time and requests per second as JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

T0 = datetime(2026, 10, 1, tzinfo=UTC)
PER_PAGE = 100


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_data(
    repo: str, issues: int, comments: int
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Issue and comment objects shaped like GitHub's REST API."""
    items = []
    for n in range(1, issues + 1):
        at = T0 + timedelta(minutes=n)
        items.append(
            {
                "id": 10_000 + n,
                "number": n,
                "title": f"Issue {n}",
                "body": f"Problem {n}, please help",
                "html_url": f"https://github.example/{repo}/issues/{n}",
                "state": "open",
                "state_reason": None,
                "user": {"login": f"user{n}"},
                "author_association": "NONE",
                "labels": [],
                "created_at": iso(at),
                "updated_at": iso(at),
                "closed_at": None,
                "comments": 1,
            }
        )
    notes = []
    for c in range(1, comments + 1):
        n = (c - 1) % issues + 1
        at = T0 + timedelta(minutes=n, seconds=30 + c % 30)
        notes.append(
            {
                "id": 50_000 + c,
                "body": f"Answer {c}",
                "user": {"login": "acme-care"},
                "author_association": "MEMBER",
                "html_url": f"https://github.example/{repo}/issues/{n}#issuecomment-{50_000 + c}",
                "issue_url": f"https://api.github.example/repos/{repo}/issues/{n}",
                "created_at": iso(at),
                "updated_at": iso(at),
            }
        )
    return items, notes


class Api(BaseHTTPRequestHandler):
    data: ClassVar[dict[str, tuple[list[dict[str, object]], list[dict[str, object]]]]] = {}
    latency = 0.05
    count = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        with Api.lock:
            Api.count += 1
        time.sleep(self.latency)
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")  # repos/<owner>/<name>/issues[/comments]
        repo = f"{parts[1]}/{parts[2]}"
        issues, comments = self.data[repo]
        items = comments if parts[-1] == "comments" else issues
        page = int(parse_qs(url.query).get("page", ["1"])[0])
        chunk = items[(page - 1) * PER_PAGE : page * PER_PAGE]
        body = json.dumps(chunk).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        if page * PER_PAGE < len(items):
            query = parse_qs(url.query)
            query["page"] = [str(page + 1)]
            q = "&".join(f"{k}={v[0]}" for k, v in query.items())
            host = self.headers["host"]
            self.send_header("link", f'<http://{host}{url.path}?{q}>; rel="next"')
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--sources", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    per_source = args.n // args.sources
    Api.latency = args.latency
    for k in range(args.sources):
        Api.data[f"acme/app{k}"] = make_data(
            f"acme/app{k}", per_source // 2, per_source - per_source // 2
        )
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    site = Path(tempfile.mkdtemp(prefix="heard-gather-bench-"))
    sources = "".join(
        f'\n[[sources]]\ntype = "github"\nname = "app{k}"\nrepo = "acme/app{k}"\n'
        f'channel = "github_app{k}"\nbase_url = "{base}"\nmax_pages = 1000\n'
        for k in range(args.sources)
    )
    (site / "heard.toml").write_text(
        '[site]\ntitle = "Bench"\nbrand = "Acme"\n\n[gather]\nconcurrency = 4\n' + sources,
        encoding="utf-8",
    )
    from generator.gather.run import gather

    start = time.perf_counter()
    report = gather(site, datetime(2026, 11, 30, tzinfo=UTC), environ={})
    wall = time.perf_counter() - start
    assert not report.failed, [s.error for s in report.failed]
    posts = sum(s.posts for s in report.sources)
    cases = sum(s.new_cases for s in report.sources)
    start = time.perf_counter()
    again = gather(site, datetime(2026, 11, 30, 1, tzinfo=UTC), environ={})
    second = time.perf_counter() - start
    print(
        json.dumps(
            {
                "posts": posts,
                "cases": cases,
                "sources": args.sources,
                "latency_s": args.latency,
                "requests": Api.count,
                "wall_s": round(wall, 2),
                "requests_per_s": round(sum(s.requests for s in report.sources) / wall, 1),
                "posts_per_s": round(posts / wall, 1),
                "second_gather_new_events": sum(s.new_events for s in again.sources),
                "second_gather_s": round(second, 2),
            }
        )
    )
    server.shutdown()


if __name__ == "__main__":
    main()
