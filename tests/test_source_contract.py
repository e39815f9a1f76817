"""Every gathered source keeps the same contract (tests/support/contract.py), against a
local fake of its provider: the right cases, states and hand-timed first responses; a
second gather adds nothing; a fault changes nothing and stops no other source; personal
data never reaches content/; hostile text stays text on the site; no credential is written
or printed; a gather killed at any moment leaves a record `heard check` accepts.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.run import gather
from generator.record.store import load_record
from tests import (
    test_source_app_store,
    test_source_bluesky,
    test_source_discourse,
    test_source_facebook,
    test_source_feed,
    test_source_github,
    test_source_google_business,
    test_source_google_play,
    test_source_instagram,
    test_source_mastodon,
    test_source_reddit,
    test_source_trustpilot,
    test_source_x,
)
from tests.conftest import heard, snapshot
from tests.support.contract import GATHERED, NOW, Complaint, Scenario, complaints, site_config
from tests.support.hostile import PAYLOADS, html_problems
from tests.support.personal import PERSONAL, leaks

SCENARIOS: list[Scenario] = [
    test_source_github.SCENARIO,
    test_source_mastodon.SCENARIO,
    test_source_discourse.SCENARIO,
    test_source_feed.SCENARIO,
    test_source_google_business.SCENARIO,
    test_source_app_store.SCENARIO,
    test_source_google_play.SCENARIO,
    test_source_x.SCENARIO,
    test_source_bluesky.SCENARIO,
    test_source_reddit.SCENARIO,
    test_source_trustpilot.SCENARIO,
    test_source_facebook.SCENARIO,
    test_source_instagram.SCENARIO,
]
FAST = {"sleep": lambda _s: None}
OTHER_FEED = "/other-feed.xml"

each_source = pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.type for s in SCENARIOS])


def make_site(
    tmp_path: Path, server: HTTPServer, scenario: Scenario, *, feed: bool = False
) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    other = server.url_for(OTHER_FEED) if feed else None
    text = site_config(scenario, server.url_for("/"), with_feed=other)
    (root / "heard.toml").write_text(text, encoding="utf-8")
    return root


def serve_other_feed(server: HTTPServer) -> None:
    """A second, healthy source beside the one under test."""
    other = Complaint("o1", "The other shop is still closed?", GATHERED.replace(hour=1))
    body = test_source_feed.rss(
        test_source_feed.item("other-1", "Other", other.text, "Mon, 30 Nov 2026 01:00:00 GMT")
    )
    server.expect_request(OTHER_FEED).respond_with_response(
        Response(body, content_type="application/rss+xml")
    )


def build(root: Path, out: Path) -> None:
    result = heard("build", "--site", root, "--out", out, "--now", NOW)
    assert result.exit_code == 0, result.stderr


def case_by_text(out: Path, channel: str) -> dict[str, dict[str, Any]]:
    """The built site's cases of `channel`, by the text of their complaint."""
    found = {}
    for brief in json.loads((out / "api/cases.json").read_text("utf-8")):
        if brief["channel"] != channel:
            continue
        detail = json.loads((out / f"api/cases/{brief['id']}.json").read_text("utf-8"))
        found[detail["events"][0]["text"]] = detail
    return found


@each_source
def test_cases_states_and_timed_first_responses(
    scenario: Scenario, httpserver: HTTPServer, tmp_path: Path
) -> None:
    texts = ["The app still crashes on save", "Why was I charged twice?", "Login is broken again"]
    served = complaints(texts, answered=2 if scenario.answers else 0)
    scenario.serve(httpserver, served)
    root = make_site(tmp_path, httpserver, scenario)
    report = gather(root, GATHERED, environ=scenario.env, client_options=FAST)
    assert [s.error for s in report.sources] == [None]
    out = tmp_path / "out"
    build(root, out)
    cases = case_by_text(out, scenario.channel)
    assert sorted(cases) == sorted(texts)
    for complaint in served:
        case = cases[complaint.text]
        assert case["opened_at"] == complaint.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if complaint.answer is None:
            assert (case["state"], case["first_response_s"]) == ("open", None)
        else:
            assert (case["state"], case["first_response_s"]) == ("responded", 43 * 60)
            kinds = [(e["kind"], e["by"]) for e in case["events"]]
            assert kinds == [("complaint", "customer"), ("moved_private", "brand")]
    # a second gather adds nothing
    before = snapshot(root / "content/cases")
    again = gather(root, GATHERED.replace(hour=12), environ=scenario.env, client_options=FAST)
    assert [(s.error, s.new_events) for s in again.sources] == [(None, 0)]
    assert snapshot(root / "content/cases") == before


def _echo(request: Request) -> Response:
    """An API that echoes every credential it was sent in its error."""
    sent = (
        " ".join(f"{k}={v}" for k, v in request.headers.items())
        + " "
        + request.query_string.decode()
    )
    return Response(json.dumps({"message": f"bad credentials: {sent}", "error": sent}), 401,
                    content_type="application/json")  # fmt: skip


FAULTS: dict[str, Response | Any] = {
    "500": Response("oops", 500),
    "401 echoing the credentials": _echo,
    "an HTML page": Response("<html><body>Bad gateway</body></html>", 200, content_type="text/html"),
    "a truncated body": Response('{"data": [{"id": "1", "text": "x', 200, content_type="application/json"),
    "garbage": Response(b"\x00\xff\xfe garbage \x89PNG", 200, content_type="application/json"),
}  # fmt: skip


@each_source
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_changes_nothing_and_stops_no_other_source(
    scenario: Scenario, fault: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    serve_other_feed(httpserver)
    scenario.serve(httpserver, complaints(["Still broken after the update?"], answered=1))
    root = make_site(tmp_path, httpserver, scenario, feed=True)
    first = gather(root, GATHERED, environ=scenario.env, client_options=FAST)
    assert [s.error for s in first.sources] == [None, None]
    cases_before = snapshot(root / "content/cases")
    state_file = root / f"content/state/{scenario.type}.json"
    cursor = json.loads(state_file.read_text("utf-8"))["cursor"]

    httpserver.clear()
    serve_other_feed(httpserver)
    answer = FAULTS[fault]
    handler = httpserver.expect_request(re.compile(r"^/(?!other-feed)"))
    if callable(answer) and not isinstance(answer, Response):
        handler.respond_with_handler(answer)
    else:
        handler.respond_with_response(answer)
    result = heard("gather", "--site", root, "--now", "2026-11-30T12:00:00Z",
                   env=dict(scenario.env))  # fmt: skip
    assert result.exit_code == 1
    assert f"error: {scenario.type}: " in result.stderr
    assert snapshot(root / "content/cases") == cases_before
    assert json.loads(state_file.read_text("utf-8"))["cursor"] == cursor
    status = json.loads((root / ".heard-cache/gather-status.json").read_text("utf-8"))
    assert status["other"]["last_good"] == "2026-11-30T12:00:00Z"
    assert status[scenario.type]["last_error_at"] == "2026-11-30T12:00:00Z"
    printed = result.output + result.stderr
    for secret in scenario.env.values():
        assert secret not in printed
        assert secret.encode() not in b"".join(snapshot(root).values())


@each_source
def test_personal_data_never_reaches_the_record_and_hostile_text_stays_text(
    scenario: Scenario, httpserver: HTTPServer, tmp_path: Path
) -> None:
    texts = [text for text, _ in PERSONAL] + [f"{p.text} still broken?" for p in PAYLOADS]
    scenario.serve(httpserver, complaints(texts, answered=3 if scenario.answers else 0))
    root = make_site(tmp_path, httpserver, scenario)
    report = gather(root, GATHERED, environ=scenario.env, client_options=FAST)
    assert [s.error for s in report.sources] == [None]
    record = load_record(root)
    assert len(record.cases) == len(texts)
    assert leaks(b"".join(snapshot(root / "content").values())) == []
    out = tmp_path / "out"
    build(root, out)
    assert leaks(b"".join(snapshot(out).values())) == []
    pages = sorted((out / "cases").glob("*.html"))
    assert len(pages) == len(texts)
    problems = [p for page in pages for p in html_problems(out, page)]
    assert problems == [], "\n".join(problems[:20])
    shown = "".join(page.read_text("utf-8") for page in pages)
    for payload in PAYLOADS:
        assert payload.marker in shown, payload.key


@each_source
def test_no_credential_is_written_or_printed(
    scenario: Scenario, httpserver: HTTPServer, tmp_path: Path
) -> None:
    scenario.serve(httpserver, complaints(["Nothing works?"], answered=1))
    root = make_site(tmp_path, httpserver, scenario)
    gathered = heard("gather", "--site", root, "--now", NOW, env=dict(scenario.env))
    assert gathered.exit_code == 0, gathered.stderr
    out = tmp_path / "out"
    built = heard("build", "--site", root, "--out", out, "--now", NOW)
    everything = b"".join([*snapshot(root).values(), *snapshot(out).values()])
    printed = gathered.output + gathered.stderr + built.output + built.stderr
    for secret in scenario.env.values():
        assert secret.encode() not in everything
        assert secret not in printed


@each_source
def test_a_gather_killed_at_any_moment_leaves_a_record_check_accepts(
    scenario: Scenario, httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = complaints([f"Order {n} still missing?" for n in range(60)], answered=30)
    scenario.serve(httpserver, served)
    dispatch = httpserver.dispatch

    def slowly(request: Request) -> Response:
        time.sleep(0.03)
        return dispatch(request)

    monkeypatch.setattr(httpserver, "dispatch", slowly)
    root = make_site(tmp_path, httpserver, scenario)
    command = [sys.executable, "-m", "generator", "gather", "--site", str(root), "--quiet",
               "--now", NOW]  # fmt: skip
    env = {**os.environ, **scenario.env}
    for delay in (0.2, 0.5, 0.9):
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert load_record(root).problems == []
        check = heard("check", "--site", root)
        assert check.exit_code == 0, check.stderr
    previous: dict[str, bytes] | None = None
    for _ in range(10):  # then gathers run to the end (max_pages may take more than one)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        current = snapshot(root / "content/cases")
        if current == previous:
            break
        previous = current
    record = load_record(root)
    texts = sorted(c.events[0].text or "" for c in record.cases.values())
    assert texts == sorted(c.text for c in served)  # every complaint, once
    for case in record.cases.values():
        assert len([e for e in case.events if e.by == "brand"]) <= 1  # no answer twice
    assert list((root / "content").rglob(".*.tmp")) == []
