"""GitHub Issues source against a real HTTP server on this machine, answering like the
documented REST API ("List repository issues", "List issue comments for a repository",
Link pagination, rate-limit headers)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.sources.base import FetchResult, Post, Source, SourceError
from generator.gather.sources.github import GitHubSettings
from generator.record.times import format_instant
from tests.conftest import Connect, Sleeps
from tests.support.contract import Complaint

TOKEN = "ghp_FAKE_SECRET_123"
REPO = "acme/app"
ISSUES = f"/repos/{REPO}/issues"
COMMENTS = f"/repos/{REPO}/issues/comments"


def when(day: int, hour: int = 0, minute: int = 0) -> str:
    return f"2024-05-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def user(login: str) -> dict[str, Any]:
    return {
        "login": login,
        "id": abs(hash(login)) % 10_000,
        "node_id": "MDQ6VXNlcjE=",
        "avatar_url": f"https://avatars.example/{login}",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
    }


def label(name: str) -> dict[str, Any]:
    return {
        "id": abs(hash(name)) % 10_000,
        "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
        "url": f"https://api.github.com/repos/{REPO}/labels/{name}",
        "name": name,
        "description": None,
        "color": "f29513",
        "default": False,
    }


def issue(
    number: int,
    *,
    by: str = "carol",
    association: str = "NONE",
    created: str = when(1),
    updated: str | None = None,
    state: str = "open",
    reason: str | None = None,
    closed: str | None = None,
    closed_by: str | None = None,
    labels: tuple[str, ...] = (),
    comments: int = 0,
    pull: bool = False,
    body: str | None = "It crashes when I press save.",
) -> dict[str, Any]:
    """An item shaped like GitHub's "List repository issues" response."""
    api = f"https://api.github.com/repos/{REPO}/issues/{number}"
    item: dict[str, Any] = {
        "id": 1000 + number,
        "node_id": "MDU6SXNzdWUx",
        "url": api,
        "repository_url": f"https://api.github.com/repos/{REPO}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"https://github.com/{REPO}/{'pull' if pull else 'issues'}/{number}",
        "number": number,
        "state": state,
        "state_reason": reason,
        "title": f"Issue {number}",
        "body": body,
        "user": user(by),
        "labels": [label(n) for n in labels],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": False,
        "active_lock_reason": None,
        "comments": comments,
        "closed_at": closed,
        "created_at": created,
        "updated_at": updated or closed or created,
        "author_association": association,
        "reactions": {"url": f"{api}/reactions", "total_count": 0},
    }
    if closed_by is not None:
        item["closed_by"] = user(closed_by)
    if pull:
        item["pull_request"] = {
            "url": f"https://api.github.com/repos/{REPO}/pulls/{number}",
            "html_url": f"https://github.com/{REPO}/pull/{number}",
            "diff_url": f"https://github.com/{REPO}/pull/{number}.diff",
            "patch_url": f"https://github.com/{REPO}/pull/{number}.patch",
        }
    return item


def comment(
    cid: int,
    number: int,
    *,
    by: str = "carol",
    association: str = "NONE",
    created: str = when(2),
    updated: str | None = None,
    body: str = "Any news?",
    pull: bool = False,
) -> dict[str, Any]:
    """An item shaped like GitHub's "List issue comments for a repository" response."""
    kind = "pull" if pull else "issues"
    return {
        "id": cid,
        "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
        "url": f"https://api.github.com/repos/{REPO}/issues/comments/{cid}",
        "html_url": f"https://github.com/{REPO}/{kind}/{number}#issuecomment-{cid}",
        "body": body,
        "user": user(by),
        "created_at": created,
        "updated_at": updated or created,
        "issue_url": f"https://api.github.com/repos/{REPO}/issues/{number}",
        "author_association": association,
        "reactions": {"total_count": 0},
    }


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


@dataclass
class FakeGitHub:
    """Serves issues and comments like GitHub: `since` (inclusive), `labels` (all must
    match), sort by updated ascending, and pages linked with `Link: rel="next"` under
    /repositories/1/… as GitHub does."""

    server: HTTPServer
    issues: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2

    def install(self) -> FakeGitHub:
        for path in (ISSUES, "/repositories/1/issues"):
            self.server.expect_request(path, method="GET").respond_with_handler(self.list_issues)
        for path in (COMMENTS, "/repositories/1/issues/comments"):
            self.server.expect_request(path, method="GET").respond_with_handler(self.list_comments)
        for number in range(1, 40):
            self.server.expect_request(f"{ISSUES}/{number}/comments").respond_with_handler(
                self.issue_comments(number)
            )
        return self

    def list_issues(self, request: Request) -> Response:
        items = list(self.issues)
        if "labels" in request.args:
            wanted = set(request.args["labels"].split(","))
            items = [i for i in items if wanted <= {x["name"] for x in i["labels"]}]
        return self.page(request, "/repositories/1/issues", items)

    def list_comments(self, request: Request) -> Response:
        return self.page(request, "/repositories/1/issues/comments", list(self.comments))

    def issue_comments(self, number: int) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            mine = [c for c in self.comments if c["issue_url"].endswith(f"/issues/{number}")]
            return self.page(request, f"/repositories/1/issues/{number}/comments", mine)

        return handler

    def page(self, request: Request, next_path: str, items: list[dict[str, Any]]) -> Response:
        if "since" in request.args:
            since = parse(request.args["since"])
            items = [i for i in items if parse(i["updated_at"]) >= since]
        if request.args.get("sort") == "updated":
            items.sort(key=lambda i: (parse(i["updated_at"]), i["id"]))
        page = int(request.args.get("page", "1"))
        start = (page - 1) * self.page_size
        headers = {}
        if start + self.page_size < len(items):
            query = {k: v for k, v in request.args.items() if k != "page"}
            query["page"] = str(page + 1)
            headers["Link"] = (
                f'<{self.server.url_for(next_path)}?{urlencode(query)}>; rel="next", '
                f'<{self.server.url_for(next_path)}?page=99>; rel="last"'
            )
        body = json.dumps(items[start : start + self.page_size])
        return Response(body, 200, headers=headers, content_type="application/json")


def config(server: HTTPServer, **extra: Any) -> GitHubSettings:
    values = {"type": "github", "repo": REPO, "base_url": server.url_for("/"), **extra}
    return GitHubSettings.model_validate(values)


@pytest.fixture
def source(httpserver: HTTPServer, connect: Connect) -> Source:
    """A source authenticated with the fake token (so every error can be checked for it)."""
    settings = config(httpserver, token_env="GITHUB_TOKEN")
    return connect(settings, {"GITHUB_TOKEN": TOKEN})


def ids(result: FetchResult) -> list[str]:
    return [p.native_id for p in result.posts]


def by_id(result: FetchResult) -> dict[str, Post]:
    return {p.native_id: p for p in result.posts}


def requested(server: HTTPServer) -> list[tuple[str, dict[str, str]]]:
    return [(r.path, dict(r.args.items())) for r, _ in server.log]


# --- mapping, pagination ------------------------------------------------------------------


def test_first_fetch_maps_issues_comments_and_closing(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeGitHub(httpserver)
    fake.issues = [
        issue(1, labels=("bug", "ui"), created=when(1, 9), updated=when(3)),
        issue(
            2,
            created=when(1, 10),
            state="closed",
            reason="completed",
            closed=when(4),
            closed_by="maintainer",
        ),
        issue(
            3,
            created=when(1, 11),
            state="closed",
            reason="not_planned",
            closed=when(5),
            closed_by="carol",
        ),
        issue(4, created=when(1, 12), state="closed", reason=None, closed=when(6)),
        issue(5, created=when(1, 13), pull=True, association="MEMBER"),
        issue(6, by="dora", association="MEMBER", created=when(2, 8), body=None),
    ]
    fake.comments = [
        comment(11, 1, by="maintainer", association="MEMBER", created=when(2, 9)),
        comment(12, 1, by="owner", association="OWNER", created=when(2, 10)),
        comment(13, 1, by="helper", association="COLLABORATOR", created=when(2, 11)),
        comment(14, 1, by="carol", association="CONTRIBUTOR", created=when(2, 12)),
        comment(15, 5, by="carol", created=when(2, 13), pull=True),  # on the PR: dropped
    ]
    fake.install()

    result = source.fetch({})

    assert sorted(ids(result)) == ["1", "1-c11", "1-c12", "1-c13", "1-c14", "2", "3", "4", "6"]
    posts = by_id(result)
    first = posts["1"]
    assert first.root_id == "1" and first.parent_id is None
    assert first.title == "Issue 1" and first.text == "It crashes when I press save."
    assert first.url == f"https://github.com/{REPO}/issues/1"
    assert first.author == "carol" and first.is_brand is False
    assert first.tags == ("bug", "ui")
    assert first.at == datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert posts["6"].is_brand is True and posts["6"].text is None
    reply = posts["1-c11"]
    assert (reply.root_id, reply.parent_id) == ("1", "1")
    assert reply.url == f"https://github.com/{REPO}/issues/1#issuecomment-11"
    assert [posts[f"1-c{n}"].is_brand for n in (11, 12, 13, 14)] == [True, True, True, False]
    assert all(p.at.tzinfo is UTC for p in result.posts)  # aware, in UTC

    signals = {s.root_id: s for s in result.signals}
    assert sorted(signals) == ["2", "3", "4"]
    assert (signals["2"].kind, signals["2"].by_brand) == ("resolved", True)
    assert signals["2"].at == datetime(2024, 5, 4, tzinfo=UTC)
    assert all(s.at.tzinfo is UTC for s in result.signals)
    assert (signals["3"].kind, signals["3"].by_brand) == ("closed", False)  # closed by author
    assert (signals["4"].kind, signals["4"].by_brand) == ("closed", True)  # no closed_by

    # Followed Link rel="next" over three pages of issues and three of comments.
    paths = requested(httpserver)
    assert [p for p, _ in paths] == [
        ISSUES, "/repositories/1/issues", "/repositories/1/issues",
        COMMENTS, "/repositories/1/issues/comments", "/repositories/1/issues/comments",
    ]  # fmt: skip
    assert paths[0][1] == {"state": "all", "sort": "updated", "direction": "asc", "per_page": "100"}
    assert paths[1][1]["page"] == "2" and paths[2][1]["page"] == "3"
    assert paths[3][1] == {"sort": "updated", "direction": "asc", "per_page": "100"}
    assert result.requests == 6 and result.retries == 0
    assert result.cursor["since"] == when(6)
    assert result.cursor["comments_since"] == when(2, 13)
    assert result.cursor["closed"] == [2, 3, 4]
    assert result.cursor["issues"] == [1, 2, 3, 4, 6]
    json.dumps(result.cursor)  # storable as it is


def test_incremental_fetch_gathers_nothing_twice(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeGitHub(httpserver)
    fake.issues = [
        issue(1, created=when(1), updated=when(2)),
        issue(2, created=when(1, 1), state="closed", reason="completed", closed=when(3)),
    ]
    fake.comments = [comment(11, 1, created=when(2))]
    fake.install()

    first = source.fetch({})
    assert sorted(ids(first)) == ["1", "1-c11", "2"]
    assert [s.kind for s in first.signals] == ["resolved"]

    httpserver.clear_log()
    again = source.fetch(first.cursor)
    assert again.posts == [] and again.signals == []
    sent = dict(requested(httpserver))
    assert sent[ISSUES]["since"] == when(3)
    assert sent[COMMENTS]["since"] == when(2)
    assert again.cursor == first.cursor

    # New activity: a comment on #1 (bumps it), #2 reopened, a new issue, an edit-free day.
    fake.issues[0]["updated_at"] = when(10)
    fake.issues[1].update(
        state="open", state_reason="reopened", closed_at=None, updated_at=when(11)
    )
    fake.issues.append(issue(3, created=when(12)))
    fake.comments.append(comment(12, 1, by="maintainer", association="MEMBER", created=when(10)))
    third = source.fetch(again.cursor)
    assert sorted(ids(third)) == ["1-c12", "3"]
    assert set(ids(third)).isdisjoint(ids(first))
    assert [(s.root_id, s.kind, s.by_brand) for s in third.signals] == [("2", "reopened", False)]
    assert third.cursor["closed"] == []

    # Closed again later: a fresh signal, once.
    fake.issues[1].update(
        state="closed", state_reason="not_planned", closed_at=when(20), updated_at=when(20)
    )
    fourth = source.fetch(third.cursor)
    assert fourth.posts == []
    assert [(s.root_id, s.kind) for s in fourth.signals] == [("2", "closed")]
    assert source.fetch(fourth.cursor).signals == []


def test_comments_at_the_since_boundary_come_once(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeGitHub(httpserver)
    fake.issues = [issue(1, created=when(1), updated=when(2))]
    fake.comments = [comment(11, 1, created=when(2))]
    fake.install()
    first = source.fetch({})
    assert first.cursor["comments_at_since"] == [11]
    # Another comment in the very same second, after the first run had looked.
    fake.comments.append(comment(12, 1, created=when(2)))
    second = source.fetch(first.cursor)
    assert ids(second) == ["1-c12"]
    assert second.cursor["comments_at_since"] == [11, 12]
    assert source.fetch(second.cursor).posts == []


def test_edited_comment_comes_again_with_its_id(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeGitHub(httpserver)
    fake.issues = [issue(1, created=when(1), updated=when(2))]
    fake.comments = [comment(11, 1, created=when(2))]
    fake.install()
    first = source.fetch({})
    fake.comments[0].update(body="Edited: still broken", updated_at=when(9))
    second = source.fetch(first.cursor)
    assert [(p.native_id, p.text) for p in second.posts] == [("1-c11", "Edited: still broken")]


def test_labels_filter_and_comments_of_other_issues(
    httpserver: HTTPServer, connect: Connect
) -> None:
    fake = FakeGitHub(httpserver)
    fake.issues = [
        issue(1, labels=("bug", "support"), created=when(1)),
        issue(2, labels=("bug",), created=when(1, 1), comments=1),
        issue(3, labels=("support", "bug", "ui"), created=when(1, 2)),
    ]
    fake.comments = [
        comment(21, 1, created=when(2)),
        comment(22, 2, created=when(2, 1)),  # #2 is outside the filter: dropped
        comment(23, 3, created=when(2, 2)),
    ]
    fake.install()
    source = connect(config(httpserver, labels=["support", "bug"]))

    first = source.fetch({})
    assert sorted(ids(first)) == ["1", "1-c21", "3", "3-c23"]
    assert requested(httpserver)[0][1]["labels"] == "support,bug"
    assert first.cursor["issues"] == [1, 3]

    # #2 gets the label later: it is gathered, and so is its older comment (backfilled
    # from the issue's own comments, the repository stream having passed it), once.
    fake.issues[1]["labels"].append(label("support"))
    fake.issues[1]["updated_at"] = when(5)
    second = source.fetch(first.cursor)
    assert sorted(ids(second)) == ["2", "2-c22"]
    assert f"{ISSUES}/2/comments" in [p for p, _ in requested(httpserver)]
    assert source.fetch(second.cursor).posts == []


def test_max_pages_cuts_a_run_and_the_next_one_continues(
    httpserver: HTTPServer, connect: Connect
) -> None:
    fake = FakeGitHub(httpserver)
    fake.issues = [issue(n, created=when(1, n), comments=int(n == 5)) for n in range(1, 6)]
    fake.comments = [comment(31, 5, created=when(2))]
    fake.install()
    source = connect(config(httpserver, max_pages=2))

    first = source.fetch({})
    # Two pages of two issues; #5 not reached, so its comment is not kept yet.
    assert sorted(ids(first)) == ["1", "2", "3", "4"]
    assert first.cursor["since"] == when(1, 4)
    second = source.fetch(first.cursor)
    assert sorted(ids(second)) == ["5", "5-c31"]
    everything = ids(first) + ids(second) + ids(source.fetch(second.cursor))
    assert len(everything) == len(set(everything))


def test_labels_given_as_plain_names_are_read(httpserver: HTTPServer, source: Source) -> None:
    item = issue(1)
    item["labels"] = ["bug", {"name": "ui", "color": "fff"}]
    httpserver.expect_request(ISSUES).respond_with_json([item])
    httpserver.expect_request(COMMENTS).respond_with_json([])
    assert source.fetch({}).posts[0].tags == ("bug", "ui")


# --- credentials -----------------------------------------------------------------------------


def test_token_sent_only_when_its_variable_is_set(httpserver: HTTPServer, connect: Connect) -> None:
    httpserver.expect_request(ISSUES).respond_with_json([])
    httpserver.expect_request(COMMENTS).respond_with_json([])
    settings = config(httpserver, token_env="GITHUB_TOKEN")
    connect(settings, {"GITHUB_TOKEN": f" {TOKEN}\n"}).fetch({})
    assert {r.headers.get("Authorization") for r, _ in httpserver.log} == {f"Bearer {TOKEN}"}

    httpserver.clear_log()
    anonymous = config(httpserver)
    connect(anonymous, {"GITHUB_TOKEN": TOKEN}).fetch({})
    assert all("Authorization" not in r.headers for r, _ in httpserver.log)


@pytest.mark.parametrize("environ", [{}, {"GITHUB_TOKEN": ""}, {"GITHUB_TOKEN": "  "}])
def test_a_named_token_variable_must_be_set(environ: dict[str, str], connect: Connect) -> None:
    settings = GitHubSettings.model_validate(
        {"type": "github", "repo": REPO, "token_env": "GITHUB_TOKEN"}
    )
    with pytest.raises(SourceError, match="GITHUB_TOKEN is not set"):
        connect(settings, environ)


def test_a_token_with_a_line_break_is_refused_without_showing_it(connect: Connect) -> None:
    settings = GitHubSettings.model_validate({"type": "github", "repo": REPO, "token_env": "GH"})
    with pytest.raises(SourceError) as caught:
        connect(settings, {"GH": "ghp_FAKE\nSECRET"})
    assert "ghp_FAKE" not in str(caught.value)


# --- faults ---------------------------------------------------------------------------------


def empty_comments(server: HTTPServer) -> None:
    server.expect_request(COMMENTS).respond_with_json([])


def clean(error: SourceError) -> str:
    message = str(error)
    assert TOKEN not in message and "ghp_" not in message
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("github: ")
    return message


def test_429_retry_after_is_honoured(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    httpserver.expect_oneshot_request(ISSUES).respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_request(ISSUES).respond_with_json([issue(1)])
    empty_comments(httpserver)
    result = source.fetch({})
    assert ids(result) == ["1"]
    assert sleeps == [7.0]
    assert [p for p, _ in requested(httpserver)].count(ISSUES) == 2
    assert result.retries == 1 and result.requests == 3


def test_primary_rate_limit_waits_for_the_reset(
    httpserver: HTTPServer, connect: Connect, sleeps: Sleeps
) -> None:
    now = 1_714_560_000.0
    httpserver.expect_oneshot_request(ISSUES).respond_with_json(
        {"message": "API rate limit exceeded for 127.0.0.1.",
         "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"},
        status=403,
        headers={"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0",
                 "x-ratelimit-used": "60", "x-ratelimit-reset": str(int(now) + 42),
                 "x-ratelimit-resource": "core"},
    )  # fmt: skip
    httpserver.expect_request(ISSUES).respond_with_json([issue(1)])
    empty_comments(httpserver)
    source = connect(config(httpserver), clock=lambda: now)
    assert ids(source.fetch({})) == ["1"]
    assert sleeps == [42.0]


def test_a_forbidden_answer_that_is_not_a_rate_limit_fails_at_once(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    httpserver.expect_request(ISSUES).respond_with_json(
        {"message": "Resource not accessible by personal access token"},
        status=403,
        headers={"x-ratelimit-remaining": "4999"},
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert "HTTP 403" in message and "not accessible" in message
    assert sleeps == []


def test_server_errors_are_retried_with_backoff(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    for status in (500, 502, 503):
        httpserver.expect_oneshot_request(ISSUES).respond_with_data("oops", status=status)
    httpserver.expect_request(ISSUES).respond_with_json([issue(1)])
    empty_comments(httpserver)
    result = source.fetch({})
    assert ids(result) == ["1"]
    assert sleeps == [1.0, 2.0, 4.0]
    assert result.retries == 3


def test_a_persistent_503_gives_up_after_bounded_attempts(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    httpserver.expect_request(ISSUES).respond_with_data("unavailable", status=503)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert "HTTP 503" in message and "gave up after 5 attempts" in message
    assert len(httpserver.log) == 5 and len(sleeps) == 4


def test_a_timeout_is_a_clear_error(httpserver: HTTPServer, connect: Connect) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response("[]", content_type="application/json")

    httpserver.expect_request(ISSUES).respond_with_handler(slow)
    settings = config(httpserver, token_env="GITHUB_TOKEN")
    slow_source = connect(settings, {"GITHUB_TOKEN": TOKEN}, timeout=0.2, max_retries=1)
    with pytest.raises(SourceError) as caught:
        slow_source.fetch({})
    message = clean(caught.value)
    assert "timed out" in message and "gave up after 2 attempts" in message
    assert ISSUES in message


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ('[{"number": 1, "title": "Trunc', "application/json", "expected JSON, got not JSON"),
        ("<!DOCTYPE html><html><body><h1>Unicorn!</h1></body></html>", "text/html",
         "expected JSON, got an HTML page (HTTP 200)"),
    ],
)  # fmt: skip
def test_unreadable_answers(
    httpserver: HTTPServer, source: Source, body: str, content_type: str, expected: str
) -> None:
    httpserver.expect_request(ISSUES).respond_with_data(body, content_type=content_type)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert expected in message and ISSUES in message


def broken(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(item: dict[str, Any]) -> None:
        if value is KeyError:
            del item[key]
        else:
            item[key] = value

    return apply


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (broken("created_at", "yesterday"), "item 3: created_at: not an ISO 8601 time with a zone"),
        (broken("created_at", 1714560000), "item 3: created_at: not an ISO 8601 time with a zone"),
        (broken("updated_at", "2024-05-01T10:00:00"), "item 3: updated_at: not an ISO 8601 time with a zone"),
        (broken("number", "4"), "item 3: number: must be a whole number, not a string"),
        (broken("html_url", KeyError), "item 3: html_url: missing"),
        (broken("labels", "bug"), "item 3: labels: not a list of names"),
        (broken("user", {"login": 7}), "item 3: user.login: must be a string, not a number"),
        (broken("state", "merged"), "item 3: state: must be 'open' or 'closed'"),
        (broken("title", None), "item 3: title: must be a string, not null"),
    ],
)  # fmt: skip
def test_wrong_field_types_name_the_item_and_field(
    httpserver: HTTPServer,
    source: Source,
    change: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    items = [issue(n) for n in range(1, 5)]
    change(items[3])
    httpserver.expect_request(ISSUES).respond_with_json(items)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == f"github: repos/{REPO}/issues: {expected}"


def test_a_bad_item_on_a_later_page_names_the_page(httpserver: HTTPServer, source: Source) -> None:
    fake = FakeGitHub(httpserver)
    fake.issues = [issue(n, created=when(1, n)) for n in range(1, 6)]
    fake.issues[4]["created_at"] = "soon"
    fake.install()
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == (
        f"github: repos/{REPO}/issues (page 3): item 0: created_at: not an ISO 8601 time with a zone"
    )


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"message": "Not a list"}, f"github: repos/{REPO}/issues/comments: must be a list, not an object"),
        ([comment(1, 1) | {"issue_url": "https://api.github.com/repos/acme/app/pulls"}],
         f"github: repos/{REPO}/issues/comments: item 0: issue_url: not the API URL of an issue (…/issues/NUMBER)"),
        ([comment(1, 1) | {"id": "1"}],
         f"github: repos/{REPO}/issues/comments: item 0: id: must be a whole number, not a string"),
    ],
)  # fmt: skip
def test_broken_comments(
    httpserver: HTTPServer, source: Source, answer: Any, expected: str
) -> None:
    httpserver.expect_request(ISSUES).respond_with_json([])
    httpserver.expect_request(COMMENTS).respond_with_json(answer)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == expected


def test_a_server_echoing_the_token_does_not_leak_it(
    httpserver: HTTPServer, source: Source
) -> None:
    httpserver.expect_request(ISSUES).respond_with_json(
        {"message": f"Bad credentials: Bearer {TOKEN}"}, status=401
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert "HTTP 401" in message and "[redacted]" in message


@pytest.mark.parametrize(
    "link", ["https://evil.example/steal?page=2", "//evil.example/x", "http://localhost:99999/x"]
)
def test_a_next_link_off_the_api_is_not_followed(
    httpserver: HTTPServer, source: Source, link: str
) -> None:
    httpserver.expect_request(ISSUES).respond_with_json(
        [issue(1)], headers={"Link": f'<{link}>; rel="next"'}
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == (
        f"github: repos/{REPO}/issues: the next-page link is not a URL on this API; not followed"
    )
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        ({"since": "last tuesday"}, "github: cursor: since: not an ISO 8601 time with a zone"),
        ({"closed": "1,2"}, "github: cursor: closed: must be a list, not a string"),
    ],
)
def test_a_damaged_cursor_is_reported(
    source: Source, cursor: dict[str, Any], expected: str
) -> None:
    with pytest.raises(SourceError) as caught:
        source.fetch(cursor)
    assert clean(caught.value) == expected


def test_source_names(httpserver: HTTPServer, connect: Connect) -> None:
    plain = connect(config(httpserver))
    assert (plain.name, plain.channel) == ("github", "github")
    named = connect(config(httpserver, name="app-issues", channel="support"))
    assert (named.name, named.channel) == ("app-issues", "support")


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class GitHubScenario:
    """Each complaint an issue; the brand's answer a MEMBER's comment."""

    type = "github"
    channel = "github"
    env: Mapping[str, str] = MappingProxyType({"GITHUB_TOKEN": "ghp_FAKE_CONTRACT_TOKEN_7"})
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "github"\nrepo = "{REPO}"\nbase_url = "{base_url}"\n'
            'token_env = "GITHUB_TOKEN"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakeGitHub(server, page_size=10)
        for number, c in enumerate(complaints, start=1):
            fake.issues.append(
                issue(
                    number,
                    body=c.text,
                    created=format_instant(c.at),
                    comments=int(c.answer is not None),
                )
            )
            if c.answer is not None and c.answered_at is not None:
                fake.comments.append(
                    comment(
                        5000 + number,
                        number,
                        by="acme-care",
                        association="MEMBER",
                        created=format_instant(c.answered_at),
                        body=c.answer,
                    )
                )
        fake.install()


SCENARIO = GitHubScenario()
