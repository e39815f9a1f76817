"""`heard gather` end to end: GitHub, Mastodon and a feed served by a local server.

The record must come out right (threads, answers, DMs, fixes, praise apart, PII
redacted), a second gather must add nothing, a failing source must leave everything else
saved and its own cursor untouched, and no credential may ever be written anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.errors import HeardError
from generator.gather.run import gather
from generator.record.store import load_record, record_lock
from tests.conftest import heard, snapshot
from tests.test_source_feed import item, rss
from tests.test_source_github import comment, issue, when
from tests.test_source_mastodon import BRAND, BRAND_ID, HASKAL, ZSC, mention, status

GH_TOKEN = "ghp_FAKE_SECRET_GATHER_1"
MASTO_TOKEN = "FAKE_MASTODON_SECRET_GATHER_2"
ENV = {"GITHUB_TOKEN": GH_TOKEN, "MASTODON_TOKEN": MASTO_TOKEN}
NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)
FAST = {"sleep": lambda _s: None}


def config(server: HTTPServer, *, feed_path: str = "/reviews/") -> str:
    base = server.url_for("/")
    return f"""\
[site]
title = "Acme — we heard you"
brand = "Acme"

[accounts]
github = ["acme-care"]

[gather]
redact = ['\\bORD-\\d{{6}}\\b']

[[sources]]
type = "github"
repo = "acme/app"
base_url = "{base}"
token_env = "GITHUB_TOKEN"

[[sources]]
type = "mastodon"
base_url = "{base}"
token_env = "MASTODON_TOKEN"

[[sources]]
type = "rss"
url = "{server.url_for(feed_path)}"
"""


def json_response(data: Any) -> Response:
    return Response(json.dumps(data), content_type="application/json; charset=utf-8")


def serve(server: HTTPServer) -> None:
    """One snapshot of every provider, shaped like their documented answers."""
    server.expect_request("/repos/acme/app/issues").respond_with_response(
        json_response(
            [
                issue(
                    1,
                    body="Save crashes. Mail me at dev@mail.example, order ORD-123456",
                    created=when(1, 9),
                ),
                issue(
                    2,
                    created=when(2, 9),
                    state="closed",
                    reason="completed",
                    closed=when(3, 9),
                    closed_by="maintainer",
                ),
                issue(
                    3,
                    created=when(2, 10),
                    state="closed",
                    reason="not_planned",
                    closed=when(2, 12),
                    closed_by="maintainer",
                ),
            ]
        )
    )
    server.expect_request("/repos/acme/app/issues/comments").respond_with_response(
        json_response(
            [
                comment(
                    11,
                    1,
                    by="maintainer",
                    association="MEMBER",
                    created=when(1, 10),
                    body="Thanks, looking into it",
                ),
                comment(12, 1, by="carol", created=when(1, 11), body="Still crashing"),
                comment(
                    13,
                    2,
                    by="maintainer",
                    association="MEMBER",
                    created=when(2, 9, 30),
                    body="Fixed in 5.3, #fixed",
                ),
            ]
        )
    )
    server.expect_request("/api/v1/accounts/verify_credentials").respond_with_response(
        json_response(BRAND)
    )
    at = "2024-05-0{}T{}:00:00.000Z".format
    server.expect_request("/api/v1/notifications").respond_with_response(
        json_response(
            [
                mention(
                    "3", status("1003", ZSC, "<p>sent, thanks</p>", at=at(4, 11), reply_to="1002")
                ),
                mention(
                    "2",
                    status("1005", HASKAL, "<p>Thank you @acme, great service!</p>", at=at(4, 12)),
                ),
                mention(
                    "1",
                    status(
                        "1001",
                        ZSC,
                        "<p>@acme my bill is wrong, call me on 07700 900123</p>",
                        at=at(4, 10),
                    ),
                ),
            ]
        )
    )
    server.expect_request(f"/api/v1/accounts/{BRAND_ID}/statuses").respond_with_response(
        json_response(
            [
                status("1004", BRAND, "<p>Refund done. #fixed</p>", at=at(4, 13), reply_to="1003"),
                status(
                    "1002",
                    BRAND,
                    "<p>Sorry! Please DM us your account number</p>",
                    at=at(4, 10).replace(":00:00", ":20:00"),
                    reply_to="1001",
                ),
            ]
        )
    )
    server.expect_request("/reviews/").respond_with_response(
        Response(
            rss(
                item(
                    "r-1",
                    "Late delivery",
                    "Still waiting after two weeks",
                    "Wed, 01 May 2024 14:30:00 GMT",
                    "https://reviews.example/acme/1",
                )
            ),
            content_type="application/rss+xml",
            headers={"etag": '"v1"'},
        )
    )


def make_site(tmp_path: Path, server: HTTPServer, **kwargs: Any) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "heard.toml").write_text(config(server, **kwargs), encoding="utf-8")
    return root


def kinds(root: Path, case_id: str) -> list[tuple[str, str]]:
    case = load_record(root).cases[case_id]
    return [(e.kind, e.by) for e in case.events]


def test_a_gather_fills_the_record_and_a_second_adds_nothing(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve(httpserver)
    root = make_site(tmp_path, httpserver)
    report = gather(root, NOW, environ=ENV, client_options=FAST)
    assert [(s.key, s.error) for s in report.sources] == [
        ("github", None),
        ("mastodon", None),
        ("rss", None),
    ]
    record = load_record(root)
    assert record.problems == []
    assert sorted(record.cases) == ["github-1", "github-2", "github-3", "mastodon-1001",
                                    "reviews-r-1"]  # fmt: skip
    assert kinds(root, "github-1") == [
        ("complaint", "customer"),
        ("reply", "brand"),
        ("customer_reply", "customer"),
    ]
    assert kinds(root, "github-2") == [
        ("complaint", "customer"),
        ("resolved", "brand"),  # "#fixed" in a member's comment
        ("resolved", "brand"),  # state_reason completed
    ]
    assert kinds(root, "github-3")[-1] == ("closed", "brand")  # not_planned: not a fix
    assert kinds(root, "mastodon-1001") == [
        ("complaint", "customer"),
        ("moved_private", "brand"),
        ("customer_reply", "customer"),
        ("resolved", "brand"),
    ]
    # praise is kept apart and never counted as a complaint
    praise = (root / "content/praise/2024-05.jsonl").read_text("utf-8")
    assert "great service" in praise
    assert "mastodon-1005" not in record.cases
    # personal data never reaches content/
    stored = b"".join(snapshot(root / "content").values())
    for pii in (b"dev@mail.example", b"ORD-123456", b"07700 900123"):
        assert pii not in stored
    assert b"[email removed]" in stored
    assert b"[phone removed]" in stored
    # the site shows it
    out = tmp_path / "out"
    assert (
        heard("build", "--site", root, "--out", out, "--now", "2024-05-10T12:00:00Z").exit_code == 0
    )
    summary = json.loads((out / "api/summary.json").read_text("utf-8"))
    assert summary["all_time"]["cases"] == 5
    # a second gather adds nothing to the record, and writes no committed file
    content_before = snapshot(root / "content")
    again = gather(root, NOW.replace(hour=13), environ=ENV, client_options=FAST)
    assert sum(s.new_events for s in again.sources) == 0
    assert again.files == []
    assert snapshot(root / "content") == content_before
    status = json.loads((root / ".heard-cache/gather-status.json").read_text("utf-8"))
    assert status["github"]["last_good"] == "2024-05-10T13:00:00Z"


def test_quiet_hours_commit_nothing_yet_a_build_from_git_is_never_falsely_stale(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """Hourly gathers with nothing new change no committed file; the committed last good
    gather is refreshed at most every stale_after / 2 (default 6 h: every 3 h), so a build
    from a fresh clone (no .heard-cache) within stale_after says nothing false."""
    serve(httpserver)
    root = make_site(tmp_path, httpserver)
    gather(root, NOW, environ=ENV, client_options=FAST)
    committed = snapshot(root / "content")
    changed_at = []
    for hour in range(13, 19):
        report = gather(root, NOW.replace(hour=hour), environ=ENV, client_options=FAST)
        assert report.failed == []
        if snapshot(root / "content") != committed:
            changed_at.append(hour)
            committed = snapshot(root / "content")
            assert report.files == sorted(
                f"content/state/{key}.json" for key in ("github", "mastodon", "rss")
            )
        else:
            assert report.files == []
    assert changed_at == [15, 18]  # 3 h after 12:00, then 3 h after 15:00
    state = json.loads((root / "content/state/github.json").read_text("utf-8"))
    assert set(state) == {"source", "channel", "cursor", "last_good"}
    assert state["last_good"] == "2024-05-10T18:00:00Z"
    # a fresh clone: no local status; built 5 h 59 min later, nothing is stale
    shutil.rmtree(root / ".heard-cache")
    out = tmp_path / "out"
    assert (
        heard("build", "--site", root, "--out", out, "--now", "2024-05-10T23:59:00Z").exit_code == 0
    )
    assert "Not gathered recently" not in (out / "index.html").read_text("utf-8")


def test_a_failing_source_leaves_the_others_saved_and_its_cursor_untouched(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve(httpserver)
    root = make_site(tmp_path, httpserver)
    gather(root, NOW, environ=ENV, client_options=FAST)
    github_state = json.loads((root / "content/state/github.json").read_text("utf-8"))
    httpserver.clear()
    serve_faults = {
        "/repos/acme/app/issues": Response(
            "<html><body>Bad gateway</body></html>", 200, content_type="text/html"
        ),
    }
    for path, response in serve_faults.items():
        httpserver.expect_request(path).respond_with_response(response)
    serve(httpserver)  # the rest keeps working (first matching handler wins)
    cases_before = snapshot(root / "content/cases")
    result = heard("gather", "--site", root, "--now", "2024-05-10T14:00:00Z", env=ENV)
    assert result.exit_code == 1
    assert "error: github: " in result.stderr
    assert "expected JSON, got an HTML page" in result.stderr
    assert snapshot(root / "content/cases") == cases_before
    after = json.loads((root / "content/state/github.json").read_text("utf-8"))
    assert after == github_state
    status = json.loads((root / ".heard-cache/gather-status.json").read_text("utf-8"))
    assert status["github"]["last_error_at"] == "2024-05-10T14:00:00Z"
    assert status["github"]["last_good"] == "2024-05-10T12:00:00Z"
    assert status["mastodon"]["last_good"] == "2024-05-10T14:00:00Z"


@pytest.mark.parametrize(
    "fault",
    ["truncated", "wrong types", "500", "404"],
)
def test_each_fault_keeps_the_record_byte_identical(
    httpserver: HTTPServer, tmp_path: Path, fault: str
) -> None:
    serve(httpserver)
    root = make_site(tmp_path, httpserver)
    gather(root, NOW, environ=ENV, client_options=FAST)
    before = snapshot(root / "content/cases")
    httpserver.clear()
    bad = {
        "truncated": Response('[{"number": 1, "title": "x', content_type="application/json"),
        "wrong types": json_response([{**issue(9), "created_at": 12345}]),
        "500": Response("oops", 500),
        "404": Response('{"message": "Not Found"}', 404, content_type="application/json"),
    }[fault]
    httpserver.expect_request("/repos/acme/app/issues").respond_with_response(bad)
    serve(httpserver)
    report = gather(root, NOW.replace(hour=15), environ=ENV, client_options=FAST)
    errors = {s.key: s.error for s in report.sources}
    assert errors["github"] is not None
    assert errors["mastodon"] is None
    assert errors["rss"] is None
    assert snapshot(root / "content/cases") == before
    assert GH_TOKEN not in errors["github"]


def test_no_credential_is_ever_written(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve(httpserver)
    httpserver.expect_request("/echo").respond_with_response(Response("x", 500))
    root = make_site(tmp_path, httpserver)
    first = heard("gather", "--site", root, "--now", "2024-05-10T12:00:00Z", env=ENV)
    out = tmp_path / "out"
    built = heard("build", "--site", root, "--out", out, "--now", "2024-05-10T12:00:00Z")
    assert first.exit_code == 0, first.stderr
    assert built.exit_code == 0
    everything = b"".join([*snapshot(root).values(), *snapshot(out).values()])
    logs = first.output + first.stderr + built.output + built.stderr
    for secret in (GH_TOKEN, MASTO_TOKEN):
        assert secret.encode() not in everything
        assert secret not in logs
    # a server that echoes the token in its error body does not get it into the message
    httpserver.clear()

    def echo(request: Request) -> Response:
        token = request.headers.get("authorization", "")
        return Response(json.dumps({"message": f"bad credentials: {token}"}), 401,
                        content_type="application/json")  # fmt: skip

    httpserver.expect_request("/repos/acme/app/issues").respond_with_handler(echo)
    serve(httpserver)
    failed = heard("gather", "--site", root, "--now", "2024-05-10T13:00:00Z", env=ENV)
    assert failed.exit_code == 1
    assert GH_TOKEN not in failed.output + failed.stderr
    assert GH_TOKEN.encode() not in b"".join(snapshot(root).values())


def test_a_second_writer_is_refused(httpserver: HTTPServer, tmp_path: Path) -> None:
    serve(httpserver)
    root = make_site(tmp_path, httpserver)
    with record_lock(root), pytest.raises(HeardError, match="another heard gather"):
        gather(root, NOW, environ=ENV, client_options=FAST)
    result = heard("gather", "--site", root, "--now", "2024-05-10T12:00:00Z", env=ENV)
    assert result.exit_code == 0  # the lock is released


def test_a_missing_credential_is_a_clear_source_error(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve(httpserver)
    root = make_site(tmp_path, httpserver)
    result = heard("gather", "--site", root, "--now", "2024-05-10T12:00:00Z",
                   env={"GITHUB_TOKEN": GH_TOKEN})  # fmt: skip
    assert result.exit_code == 1
    assert "error: mastodon: MASTODON_TOKEN is not set" in result.stderr
    assert "github" in result.output
    assert load_record(root).cases  # github and the feed were saved


SLOW_PAGES = 30


def test_killing_a_gather_at_any_moment_leaves_a_consistent_record(tmp_path: Path) -> None:
    """kill -9 a real `heard gather` process at several moments; the record must load,
    pass `heard check`, and a final gather must complete it with nothing twice."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    class Slow(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            time.sleep(0.02)
            url = urlsplit(self.path)
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            if url.path.endswith("/comments"):
                items: list[dict[str, Any]] = []
            else:
                items = [
                    issue(n, created=f"2024-{1 + n % 12:02d}-01T00:00:{n % 60:02d}Z")
                    for n in range((page - 1) * 100 + 1, page * 100 + 1)
                ]
            body = json.dumps(items).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            if page < SLOW_PAGES and items:
                host = self.headers["host"]
                self.send_header("link", f'<http://{host}{url.path}?page={page + 1}>; rel="next"')
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    root = tmp_path / "site"
    root.mkdir()
    (root / "heard.toml").write_text(
        '[site]\ntitle = "T"\nbrand = "Acme"\n\n[[sources]]\ntype = "github"\n'
        f'repo = "acme/app"\nbase_url = "http://127.0.0.1:{server.server_address[1]}/"\n'
        "max_pages = 100\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "generator", "gather", "--site", str(root), "--quiet",
               "--now", "2024-12-31T00:00:00Z"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    counts = []
    try:
        for delay in (0.3, 0.8, 1.2, 1.5, 1.7, 1.9, 2.1):
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            record = load_record(root)
            assert record.problems == []
            counts.append(len(record.cases))
            check = heard("check", "--site", root)
            assert check.exit_code == 0, check.stderr
        final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stderr
    finally:
        server.shutdown()
        server.server_close()
    assert min(counts) < SLOW_PAGES * 100, counts  # some kills did land mid-gather
    record = load_record(root)
    assert len(record.cases) == SLOW_PAGES * 100
    for case in record.cases.values():
        assert len(case.events) == 1  # nothing gathered twice
    assert list((root / "content").rglob(".*.tmp")) == []


def test_the_site_says_when_each_channel_was_gathered_and_flags_stale_ones(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve(httpserver)
    root = make_site(tmp_path, httpserver)
    gather(root, NOW, environ=ENV, client_options=FAST)
    fresh, late = tmp_path / "fresh", tmp_path / "late"
    assert (
        heard("build", "--site", root, "--out", fresh, "--now", "2024-05-10T13:00:00Z").exit_code
        == 0
    )
    page = (fresh / "index.html").read_text("utf-8")
    assert "Last gathered successfully, per channel:" in page
    assert '<li>github: <time datetime="2024-05-10T12:00:00Z">' in page
    assert "Not gathered recently" not in page
    # a day later, with no good gather since (default stale_after: 6 h)
    assert (
        heard("build", "--site", root, "--out", late, "--now", "2024-05-11T13:00:00Z").exit_code
        == 0
    )
    page = (late / "index.html").read_text("utf-8")
    assert "<strong>Not gathered recently:</strong> github, mastodon, reviews." in page
    # A case page does not depend on "now": it loads freshness.js, which carries the notice.
    case_page = (late / "cases/github-1.html").read_bytes()
    assert case_page == (fresh / "cases/github-1.html").read_bytes()
    assert b"Not gathered recently" not in case_page
    assert b'data-channel="github"' in case_page
    script = (late / "freshness.js").read_text("utf-8")
    assert '"name":"github","stale":true' in script


def test_check_credentials_names_missing_variables_without_values(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    root = make_site(tmp_path, httpserver)
    assert heard("check", "--site", root).exit_code == 0  # credentials are opt-in
    result = heard("check", "--site", root, "--credentials", env={"GITHUB_TOKEN": GH_TOKEN,
                                                                   "MASTODON_TOKEN": ""})  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "heard.toml: sources[1].token_env: MASTODON_TOKEN is not set in the environment (mastodon)",
        "1 problem(s)",
    ]
    ok = heard("check", "--site", root, "--credentials", env=ENV)
    assert ok.exit_code == 0
    assert GH_TOKEN not in ok.output + ok.stderr


def test_a_discourse_forum_gathers_into_threads(httpserver: HTTPServer, tmp_path: Path) -> None:
    from tests.test_source_discourse import forum

    forum(httpserver)
    root = tmp_path / "forum"
    root.mkdir()
    (root / "heard.toml").write_text(
        '[site]\ntitle = "T"\nbrand = "Acme"\n\n[[sources]]\ntype = "discourse"\n'
        f'base_url = "{httpserver.url_for("/")}"\ncategory = "support/5"\n',
        encoding="utf-8",
    )
    report = gather(root, datetime(2024, 6, 10, tzinfo=UTC), environ={}, client_options=FAST)
    assert report.failed == []
    assert kinds(root, "discourse-11") == [
        ("complaint", "customer"),
        ("reply", "brand"),  # staff
        ("customer_reply", "customer"),
        ("reply", "brand"),
        ("resolved", "brand"),  # the accepted answer
        ("customer_reply", "customer"),
        ("customer_reply", "customer"),
    ]
    record = load_record(root)
    assert "discourse-1" not in record.cases  # the staff's pinned about-topic is no complaint
    assert len(record.cases["discourse-10"].events) == 45
    assert report.sources[0].skipped == {"brand post outside a known thread": 1}


def test_personal_data_is_redacted_for_every_source(httpserver: HTTPServer, tmp_path: Path) -> None:
    from tests.test_source_discourse import FakeDiscourse, Topic
    from tests.test_source_discourse import post as forum_post

    serve_pii = "reach me at pat@mail.example or +44 7700 900456, card 4539 1488 0343 6467"
    fake = FakeDiscourse(httpserver)
    fake.add(Topic(21, "Locked out", [forum_post(21, 1, cooked=f"<p>{serve_pii}</p>")]))
    fake.install()
    httpserver.expect_request("/reviews/").respond_with_response(
        Response(
            rss(
                item(
                    "r-9",
                    "Awful",
                    serve_pii,
                    "Wed, 01 May 2024 14:30:00 GMT",
                    "https://reviews.example/acme/9",
                )
            ),
            content_type="application/rss+xml",
        )
    )
    root = tmp_path / "pii"
    root.mkdir()
    (root / "heard.toml").write_text(
        '[site]\ntitle = "T"\nbrand = "Acme"\n\n'
        f'[[sources]]\ntype = "discourse"\nbase_url = "{httpserver.url_for("/")}"\n'
        'category = "support/5"\n\n'
        f'[[sources]]\ntype = "rss"\nurl = "{httpserver.url_for("/reviews/")}"\n',
        encoding="utf-8",
    )
    report = gather(root, datetime(2024, 6, 10, tzinfo=UTC), environ={}, client_options=FAST)
    assert report.failed == []
    cases = load_record(root).cases
    for case_id in ("discourse-21", "reviews-r-9"):
        text = cases[case_id].events[0].text or ""
        assert text == (
            "reach me at [email removed] or [phone removed], card [card number removed]"
        ), case_id
    stored = b"".join(snapshot(root / "content").values())
    for pii in (b"pat@mail.example", b"7700 900456", b"4539 1488"):
        assert pii not in stored
