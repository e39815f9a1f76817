"""GitHub Issues: a repository's issues and their comments as posts, closing as signals.

Endpoints (GitHub REST, "List repository issues" and "List issue comments for a repository"):

* ``GET repos/{repo}/issues?state=all&sort=updated&direction=asc&per_page=100[&since][&labels]``
* ``GET repos/{repo}/issues/comments?sort=updated&direction=asc&per_page=100[&since]``
* ``GET repos/{repo}/issues/{number}/comments?per_page=100`` (backfill, see below)

Each list follows the ``Link: rel="next"`` header up to ``max_pages`` pages, and only on the
configured API's own origin (a link to another host would carry the token there).

Mapping: an issue is a root post (``native_id`` its number), a comment a reply to it
(``{number}-c{comment id}``); pull requests (items with a ``pull_request`` key) and their
comments are skipped. ``author_association`` OWNER, MEMBER or COLLABORATOR marks the brand.
A closed issue is a ``resolved`` signal when ``state_reason`` is ``completed`` and a ``closed``
one otherwise (not_planned, duplicate, none); an issue seen closed and now open is ``reopened``.

Cursor::

    since            newest issue updated_at seen (the issues list's `since`; it is inclusive,
                     so the newest issue comes back once more and is recognised as known)
    comments_since   newest comment updated_at seen (the comments list's `since`)
    comments_at_since  ids of the comments updated exactly at comments_since (already handled)
    issues           numbers of the issues gathered (inside the label filter, PRs excluded)
    closed           numbers of the issues last seen closed

An issue post is emitted once, the first time its number is seen (a later edit or a new
comment bumps its ``updated_at`` but does not repeat it); a comment is emitted when it is new
to the comments stream, so an edited comment comes again with the same ``native_id`` and its
new text. Comments whose issue is not in ``issues`` are dropped: the issue is outside the
label filter, a pull request, or not reached yet (``max_pages``). When an issue is gathered
for the first time after the comments stream has already passed its older comments (a label
added later, or the issues list cut short by ``max_pages``), those comments are fetched from
the issue's own comments list, so nothing is lost and nothing comes twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError

from generator.errors import describe, matching
from generator.gather.sources import base
from generator.gather.sources.helpers import ApiModel, Connector, Names, link_pages, validated
from generator.gather.sources.http import HttpClient
from generator.record.model import Instant
from generator.record.times import format_instant

PER_PAGE = 100
BRAND_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})

T = TypeVar("T")


# --- validation helpers ---------------------------------------------------------------------


def _issue_number(value: object) -> int:
    match = re.search(r"/issues/(\d+)$", value) if isinstance(value, str) else None
    if match is None:
        raise ValueError("not the API URL of an issue (…/issues/NUMBER)")
    return int(match.group(1))


IssueNumber = Annotated[int, BeforeValidator(_issue_number)]


# --- the answers we read (only the fields used) ---------------------------------------------


class _User(ApiModel):
    login: str


class _Issue(ApiModel):
    number: int
    title: str
    body: str | None = None
    html_url: str
    user: _User | None
    author_association: str
    labels: Names = ()
    state: Literal["open", "closed"]
    state_reason: str | None = None
    created_at: Instant
    updated_at: Instant
    closed_at: Instant | None = None
    closed_by: _User | None = None
    pull_request: dict[str, Any] | None = None
    comments: int = 0


class _Comment(ApiModel):
    id: int
    number: IssueNumber = Field(validation_alias="issue_url")
    body: str | None = None
    html_url: str
    user: _User | None
    author_association: str
    created_at: Instant
    updated_at: Instant


class _State(ApiModel):
    since: Instant | None = None
    comments_since: Instant | None = None
    comments_at_since: list[int] = Field(default_factory=list)
    issues: list[int] = Field(default_factory=list)
    closed: list[int] = Field(default_factory=list)


_ISSUES = TypeAdapter(list[_Issue])
_COMMENTS = TypeAdapter(list[_Comment])


# --- settings and declaration -----------------------------------------------------------------


class GitHubSettings(base.SourceSettings):
    """Issues and comments of one repository."""

    type: Literal["github"]
    repo: Annotated[str, matching(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", "OWNER/REPOSITORY")]
    base_url: base.BaseUrl = "https://api.github.com/"
    labels: list[str] = Field(default_factory=list)
    token_env: base.EnvName | None = None


def connect(settings: GitHubSettings, context: base.Context) -> GitHubIssues:
    """The connector, with a token from the variable named by `token_env` (if any)."""
    token = context.optional_secret(settings, "token_env")
    return GitHubIssues(settings, context.client(settings.base_url, bearer=token))


# --- the source -----------------------------------------------------------------------------


@dataclass
class _Run:
    """What one fetch learns, turned into the next cursor at the end."""

    state: _State
    known: set[int]
    closed: set[int]
    since: datetime | None
    comments_since: datetime | None
    comments_at_since: set[int]
    new_issues: list[_Issue] = field(default_factory=list)
    result: base.FetchResult = field(default_factory=base.FetchResult)

    def cursor(self) -> base.Cursor:
        cursor: base.Cursor = {}
        if self.since is not None:
            cursor["since"] = format_instant(self.since)
        if self.comments_since is not None:
            cursor["comments_since"] = format_instant(self.comments_since)
            cursor["comments_at_since"] = sorted(self.comments_at_since)
        cursor["issues"] = sorted(self.known)
        cursor["closed"] = sorted(self.closed)
        return cursor


class GitHubIssues(Connector[GitHubSettings]):
    """Issues and comments of one repository (see the module docstring)."""

    def __init__(self, config: GitHubSettings, client: HttpClient) -> None:
        super().__init__(config, client)
        self.path = f"repos/{config.repo}"

    def gather(self, cursor: Mapping[str, Any]) -> base.FetchResult:
        """Issues, comments and closings new since `cursor`."""
        state = validated(_State, dict(cursor), "cursor")
        run = _Run(
            state=state,
            known=set(state.issues),
            closed=set(state.closed),
            since=state.since,
            comments_since=state.comments_since,
            comments_at_since=set(state.comments_at_since),
        )
        self._issues(run)
        self._backfill(run)
        self._comments(run)
        run.result.cursor = run.cursor()
        return run.result

    # -- issues --

    def _issues(self, run: _Run) -> None:
        params: dict[str, Any] = {
            "state": "all",
            "sort": "updated",
            "direction": "asc",
            "per_page": PER_PAGE,
        }
        if run.state.since is not None:
            params["since"] = format_instant(run.state.since)
        if self.config.labels:
            params["labels"] = ",".join(self.config.labels)
        for issue in self._list(f"{self.path}/issues", params, _ISSUES):
            if run.since is None or issue.updated_at > run.since:
                run.since = issue.updated_at
            if issue.pull_request is not None:
                continue
            if issue.number not in run.known:
                run.known.add(issue.number)
                run.new_issues.append(issue)
                run.result.posts.append(self._issue_post(issue))
            self._status(run, issue)

    def _issue_post(self, issue: _Issue) -> base.Post:
        number = str(issue.number)
        return base.Post(
            native_id=number,
            root_id=number,
            parent_id=None,
            title=issue.title,
            text=issue.body,
            url=issue.html_url,
            author=issue.user.login if issue.user else None,
            is_brand=issue.author_association in BRAND_ASSOCIATIONS,
            at=issue.created_at,
            tags=issue.labels,
        )

    def _status(self, run: _Run, issue: _Issue) -> None:
        number = issue.number
        root = str(number)
        if issue.state == "open":
            if number in run.closed:
                run.closed.discard(number)
                run.result.signals.append(
                    base.Signal(
                        root, "reopened", at=issue.updated_at, by_brand=False, url=issue.html_url
                    )
                )
            return
        closed_at = issue.closed_at or issue.updated_at
        # Seen closed before: a close newer than the last run means it was reopened and
        # closed again in between; otherwise this close is already known.
        previous = run.state.since
        if number in run.closed and (previous is None or closed_at <= previous):
            return
        run.closed.add(number)
        author = issue.user.login if issue.user else None
        closer = issue.closed_by.login if issue.closed_by else None
        run.result.signals.append(
            base.Signal(
                root,
                "resolved" if issue.state_reason == "completed" else "closed",
                at=closed_at,
                by_brand=closer != author if closer is not None else True,
                url=issue.html_url,
                author=closer,
            )
        )

    # -- comments --

    def _comments(self, run: _Run) -> None:
        params: dict[str, Any] = {"sort": "updated", "direction": "asc", "per_page": PER_PAGE}
        previous = run.state.comments_since
        if previous is not None:
            params["since"] = format_instant(previous)
        done = set(run.state.comments_at_since)
        for comment in self._list(f"{self.path}/issues/comments", params, _COMMENTS):
            if previous is not None and (
                comment.updated_at < previous
                or (comment.updated_at == previous and comment.id in done)
            ):
                continue
            if run.comments_since is None or comment.updated_at > run.comments_since:
                run.comments_since = comment.updated_at
                run.comments_at_since = {comment.id}
            elif comment.updated_at == run.comments_since:
                run.comments_at_since.add(comment.id)
            if comment.number in run.known:
                run.result.posts.append(self._comment_post(comment))

    def _backfill(self, run: _Run) -> None:
        """Older comments of issues gathered for the first time that the comments stream has
        already passed (and dropped, the issue being unknown then)."""
        passed = run.state.comments_since
        if passed is None:
            return
        done = set(run.state.comments_at_since)
        for issue in run.new_issues:
            if issue.comments == 0 or issue.created_at > passed:
                continue
            path = f"{self.path}/issues/{issue.number}/comments"
            for comment in self._list(path, {"per_page": PER_PAGE}, _COMMENTS):
                if comment.updated_at < passed or (
                    comment.updated_at == passed and comment.id in done
                ):
                    run.result.posts.append(self._comment_post(comment))

    def _comment_post(self, comment: _Comment) -> base.Post:
        root = str(comment.number)
        return base.Post(
            native_id=f"{root}-c{comment.id}",
            root_id=root,
            parent_id=root,
            text=comment.body,
            url=comment.html_url,
            author=comment.user.login if comment.user else None,
            is_brand=comment.author_association in BRAND_ASSOCIATIONS,
            at=comment.created_at,
        )

    def _list(
        self, path: str, params: Mapping[str, Any], adapter: TypeAdapter[list[T]]
    ) -> Iterator[T]:
        """The items of a paginated list, page after page (Link rel="next", max_pages)."""
        for answer, where in link_pages(self.client, path, params, self.config.max_pages):
            try:
                items = adapter.validate_python(answer.data)
            except ValidationError as exc:
                raise base.SourceError(f"{where}: {describe(exc)}") from None
            yield from items


SOURCE = base.SourceType(
    settings=GitHubSettings,
    channel="github",
    display="GitHub",
    connect=connect,
    credentials=("token_env",),
    summary="Issues and comments of one repository; closing as completed is a fix.",
)
