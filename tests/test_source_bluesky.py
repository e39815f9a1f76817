"""The Bluesky source against a real HTTP server on 127.0.0.1 answering like a PDS.

The fake follows the lexicons in bluesky-social/atproto (com.atproto.server.createSession
and refreshSession, app.bsky.notification.listNotifications, app.bsky.feed.searchPosts,
app.bsky.feed.getPostThread, app.bsky.feed.defs#postView/#threadViewPost/#notFoundPost/
#blockedPost) and the services' behaviour read in the same repository: XRPC errors as
``{"error": …, "message": …}``, an expired access token answered with 400 ``ExpiredToken``,
a revoked refresh token with 400 ``ExpiredToken``, a wrong password with 401, notifications
paged by an ``indexedAt`` cursor and filtered by ``reasons`` after paging (short or empty
pages that still carry a cursor), ``NotFound`` for a missing thread, and the
``RateLimit-Limit/Remaining/Reset/Policy`` headers (reset in epoch seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.config import parse_config
from generator.gather.run import gather
from generator.gather.sources import BY_TYPE
from generator.gather.sources.base import Context, FetchResult, Source, SourceError
from generator.gather.sources.bluesky import BlueskySettings, native_id
from generator.record.times import format_instant
from tests.conftest import Sleeps
from tests.support.contract import GATHERED, Complaint, site_config

PASSWORD = "abcd-efgh-ijkl-mnop"  # the shape of an app password
ENV = {"BLUESKY_APP_PASSWORD": PASSWORD}
HANDLE = "acme.bsky.social"
BRAND = "did:plc:acmebrand0000000000000"
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
POST = "app.bsky.feed.post"
THREAD = "app.bsky.feed.defs#threadViewPost"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def xrpc_error(status: int, error: str, message: str) -> Response:
    return Response(json.dumps({"error": error, "message": message}), status,
                    content_type="application/json")  # fmt: skip


class FakePds:
    """Enough of a PDS (with its AppView behind it) for the source."""

    def __init__(self, server: HTTPServer, now: datetime = NOW) -> None:
        self.now = now
        self.profiles: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}  # by uri: the postView, plus "_gone"
        self.notes: list[dict[str, Any]] = []
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.logins = 0
        self.refreshes = 0
        self.issued = 0
        self.blocked: set[str] = set()
        self.seq = 0
        self.profile(BRAND, HANDLE, "Acme Support")
        server.expect_request(re.compile(r"^/xrpc/")).respond_with_handler(self.handle)

    # -- the world --

    def profile(self, did: str, handle: str, name: str = "") -> dict[str, Any]:
        self.profiles[did] = {"did": did, "handle": handle, "displayName": name,
                              "avatar": f"https://cdn.example/{did}.jpg", "labels": [],
                              "createdAt": "2023-04-01T00:00:00.000Z"}  # fmt: skip
        return self.profiles[did]

    def post(
        self,
        did: str,
        text: str,
        at: datetime,
        *,
        reply_to: dict[str, Any] | None = None,
        indexed: timedelta = timedelta(seconds=1),
        rkey: str | None = None,
    ) -> dict[str, Any]:
        self.seq += 1
        key = rkey or f"3m{self.seq:011d}"[:13]
        uri = f"at://{did}/{POST}/{key}"
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": stamp(at),
                                  "langs": ["en"]}  # fmt: skip
        if reply_to is not None:
            parent = {"uri": reply_to["uri"], "cid": reply_to["cid"]}
            root_ref = reply_to["record"].get("reply", {}).get("root", parent)
            record["reply"] = {"root": root_ref, "parent": parent}
        view = {
            "uri": uri,
            "cid": "bafyrei" + hashlib.sha256(uri.encode()).hexdigest()[:40],
            "author": self.profiles[did],
            "record": record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": stamp(at + indexed),
            "labels": [],
        }
        self.posts[uri] = view
        return view

    def notify(self, view: dict[str, Any], reason: str = "mention") -> None:
        self.notes.append({
            "uri": view["uri"], "cid": view["cid"], "author": view["author"], "reason": reason,
            "record": view["record"], "isRead": False, "indexedAt": view["indexedAt"],
            "labels": [],
        })  # fmt: skip

    def expire_access(self) -> None:
        self.access.clear()

    def revoke_refresh(self) -> None:
        self.refresh.clear()

    # -- answering --

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": "3000", "RateLimit-Remaining": "2999",
                "RateLimit-Reset": str(int(self.now.timestamp()) + 300),
                "RateLimit-Policy": "3000;w=300"}  # fmt: skip

    def json(self, body: Any) -> Response:
        return Response(json.dumps(body), headers=self.headers(), content_type="application/json")

    def session(self) -> Response:
        self.issued += 1
        access, refresh = f"eyJ.access{self.issued}.sig", f"eyJ.refresh{self.issued}.sig"
        self.access.add(access)
        self.refresh.add(refresh)
        return self.json({"accessJwt": access, "refreshJwt": refresh, "handle": HANDLE,
                          "did": BRAND, "email": "care@acme.example", "emailConfirmed": True,
                          "active": True, "didDoc": {"id": BRAND}})  # fmt: skip

    def handle(self, request: Request) -> Response:
        method = request.path.removeprefix("/xrpc/")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if method == "com.atproto.server.createSession":
            body = request.get_json()
            if body.get("identifier") != HANDLE or body.get("password") != PASSWORD:
                return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
            self.logins += 1
            return self.session()
        if method == "com.atproto.server.refreshSession":
            self.refreshes += 1
            if token not in self.refresh:
                return xrpc_error(400, "ExpiredToken", "Token has been revoked")
            self.refresh.discard(token)
            return self.session()
        if not token:
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        if token not in self.access:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        if method == "app.bsky.notification.listNotifications":
            return self.notifications(request)
        if method == "app.bsky.feed.searchPosts":
            return self.search(request)
        if method == "app.bsky.feed.getPostThread":
            return self.thread(request)
        return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")

    def notifications(self, request: Request) -> Response:
        limit = int(request.args.get("limit", "50"))
        assert 1 <= limit <= 100
        ordered = sorted(self.notes, key=lambda n: n["indexedAt"], reverse=True)
        if "cursor" in request.args:
            ordered = [n for n in ordered if n["indexedAt"] < request.args["cursor"]]
        page = ordered[:limit]
        reasons = request.args.getlist("reasons")
        body: dict[str, Any] = {
            "notifications": [n for n in page if not reasons or n["reason"] in reasons],
            "priority": False,
        }
        if len(page) == limit:
            body["cursor"] = page[-1]["indexedAt"]
        return self.json(body)

    def search(self, request: Request) -> Response:
        q = request.args["q"].lower()
        assert request.args.get("sort") == "latest"

        def sort_at(view: dict[str, Any]) -> str:
            return str(min(view["record"]["createdAt"], view["indexedAt"]))

        hits = sorted(
            (v for v in self.posts.values() if q in v["record"]["text"].lower()),
            key=sort_at,
            reverse=True,
        )
        if "since" in request.args:
            hits = [h for h in hits if sort_at(h) >= _z(request.args["since"])]
        if "until" in request.args:
            hits = [h for h in hits if sort_at(h) < _z(request.args["until"])]
        start = int(request.args.get("cursor", "0"))
        limit = int(request.args.get("limit", "25"))
        page = hits[start : start + limit]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(hits)}
        if start + limit < len(hits):
            body["cursor"] = str(start + limit)
        return self.json(body)

    def node(self, view: dict[str, Any], depth: int) -> dict[str, Any]:
        if view.get("_gone"):
            return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": view["uri"],
                    "notFound": True}  # fmt: skip
        if view["uri"] in self.blocked:
            return {"$type": "app.bsky.feed.defs#blockedPost", "uri": view["uri"],
                    "blocked": True, "author": {"did": view["author"]["did"]}}  # fmt: skip
        clean = {k: v for k, v in view.items() if not k.startswith("_")}
        node: dict[str, Any] = {"$type": THREAD, "post": clean}
        if depth > 0:
            children = [v for v in self.posts.values()
                        if v["record"].get("reply", {}).get("parent", {}).get("uri") == view["uri"]]  # fmt: skip
            node["replies"] = [self.node(c, depth - 1) for c in children]
        return node

    def thread(self, request: Request) -> Response:
        uri = request.args["uri"]
        assert request.args.get("parentHeight") == "0"
        view = self.posts.get(uri)
        if view is None:
            return xrpc_error(400, "NotFound", f"Post not found: {uri}")
        return self.json({"thread": self.node(view, int(request.args.get("depth", "6")))})


def _z(value: str) -> str:
    """A search bound as the fake's stamps are written (for string comparison)."""
    return stamp(datetime.fromisoformat(value.replace("Z", "+00:00")))


def at(hours: float) -> datetime:
    return NOW - timedelta(days=1) + timedelta(hours=hours)


def settings(base_url: str, **extra: Any) -> BlueskySettings:
    return BlueskySettings.model_validate(
        {"type": "bluesky", "handle": HANDLE, "app_password_env": "BLUESKY_APP_PASSWORD",
         "base_url": base_url, **extra}
    )  # fmt: skip


class Runner:
    """Builds the connector as gather does, with a private folder kept between runs."""

    def __init__(self, server: HTTPServer, folder: Path | None, sleeps: Sleeps) -> None:
        self.server = server
        self.folder = folder
        self.sleeps = sleeps
        self.contexts: list[Context] = []

    def source(self, clock: float | None = None, **extra: Any) -> Source:
        options = {"sleep": self.sleeps, "jitter": lambda: 0.0,
                   "clock": lambda: clock or NOW.timestamp()}  # fmt: skip
        context = Context(ENV, client_options=options, private_dir=self.folder)
        self.contexts.append(context)
        config = settings(self.server.url_for("/"), **extra)
        return BY_TYPE["bluesky"].connect(config, context)

    def __call__(self, cursor: Mapping[str, Any] | None = None, **extra: Any) -> FetchResult:
        return self.source(**extra).fetch(cursor or {})


@pytest.fixture
def runner(httpserver: HTTPServer, tmp_path: Path, sleeps: Sleeps) -> Any:
    made = Runner(httpserver, tmp_path / "private", sleeps)
    yield made
    for context in made.contexts:
        context.close()


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakePds:
    made = FakePds(httpserver)
    made.profile("did:plc:pat000000000000000000000", "pat.bsky.social", "Pat")
    made.profile("did:plc:sam000000000000000000000", "sam.example.com", "")
    return made


PAT = "did:plc:pat000000000000000000000"
SAM = "did:plc:sam000000000000000000000"


def methods(httpserver: HTTPServer) -> list[str]:
    return [r.path.removeprefix("/xrpc/") for r, _ in httpserver.log]


def session_file(runner: Runner) -> Path:
    assert runner.folder is not None
    return runner.folder / "bluesky.session.json"


# --- settings, credentials and the session --------------------------------------------------


def test_settings_name_the_app_password_variable() -> None:
    base = '[site]\ntitle = "T"\nbrand = "B"\nbase_url = "https://t.example/"\n\n[[sources]]\n'
    config = parse_config(
        base + f'type = "bluesky"\nhandle = "{HANDLE}"\napp_password_env = "BLUESKY_APP_PASSWORD"\n'
    )
    assert config.sources[0].credential_variables() == [
        ("app_password_env", "BLUESKY_APP_PASSWORD")
    ]
    with pytest.raises(Exception, match=r"handle: must be a handle like acme\.bsky\.social"):
        parse_config(base + 'type = "bluesky"\nhandle = "@acme"\napp_password_env = "P"\n')


def test_the_first_run_logs_in_and_keeps_the_session_private(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    runner()
    assert fake.logins == 1
    login = httpserver.log[0][0]
    assert login.path == "/xrpc/com.atproto.server.createSession"
    assert login.get_json() == {"identifier": HANDLE, "password": PASSWORD}
    assert "Authorization" not in login.headers
    assert httpserver.log[1][0].headers["Authorization"] == "Bearer eyJ.access1.sig"
    kept = session_file(runner)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    saved = json.loads(kept.read_text("utf-8"))
    assert saved["session"]["did"] == BRAND
    assert saved["session"]["refreshJwt"] == "eyJ.refresh1.sig"
    assert PASSWORD not in kept.read_text("utf-8")
    assert list(kept.parent.glob(".*.tmp")) == []


def test_a_second_run_reuses_the_session_without_logging_in(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    first = runner()
    assert first.usage == {"logins": 1}
    httpserver.clear_log()
    second = runner(first.cursor)
    assert "com.atproto.server.createSession" not in methods(httpserver)
    assert fake.logins == 1 and fake.refreshes == 0
    assert second.usage == {}
    assert {r.headers["Authorization"] for r, _ in httpserver.log} == {"Bearer eyJ.access1.sig"}


def test_an_expired_access_token_is_refreshed_not_logged_in_again(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    runner()
    fake.expire_access()
    httpserver.clear_log()
    again = runner()
    assert methods(httpserver) == [
        "app.bsky.notification.listNotifications",  # 400 ExpiredToken
        "com.atproto.server.refreshSession",
        "app.bsky.notification.listNotifications",
    ]
    assert httpserver.log[1][0].headers["Authorization"] == "Bearer eyJ.refresh1.sig"
    assert (fake.logins, fake.refreshes) == (1, 1)
    assert again.usage == {}
    saved = json.loads(session_file(runner).read_text("utf-8"))["session"]
    assert (saved["accessJwt"], saved["refreshJwt"]) == ("eyJ.access2.sig", "eyJ.refresh2.sig")
    httpserver.clear_log()
    runner()
    assert methods(httpserver) == ["app.bsky.notification.listNotifications"]


def test_a_refused_refresh_logs_in_again(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    runner()
    fake.expire_access()
    fake.revoke_refresh()
    httpserver.clear_log()
    again = runner()
    assert methods(httpserver) == [
        "app.bsky.notification.listNotifications",
        "com.atproto.server.refreshSession",  # 400 ExpiredToken: revoked
        "com.atproto.server.createSession",
        "app.bsky.notification.listNotifications",
    ]
    assert fake.logins == 2 and again.usage == {"logins": 1}


def test_without_a_private_folder_every_run_logs_in(
    fake: FakePds, httpserver: HTTPServer, sleeps: Sleeps
) -> None:
    runner = Runner(httpserver, None, sleeps)
    runner()
    runner()
    assert fake.logins == 2


@pytest.mark.parametrize(
    "kept",
    [
        "{not json",
        json.dumps({"service": "https://bsky.social/", "identifier": HANDLE, "session": {}}),
        "[]",
    ],
)
def test_an_unusable_or_foreign_session_file_means_a_new_login(
    fake: FakePds, runner: Runner, kept: str
) -> None:
    path = session_file(runner)
    path.parent.mkdir(parents=True)
    path.write_text(kept, "utf-8")
    runner()
    assert fake.logins == 1
    assert json.loads(path.read_text("utf-8"))["session"]["did"] == BRAND


def test_a_session_of_another_handle_is_not_used(fake: FakePds, runner: Runner) -> None:
    runner()
    path = session_file(runner)
    saved = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**saved, "identifier": "other.bsky.social"}), "utf-8")
    runner()
    assert fake.logins == 2


def test_a_wrong_password_is_one_line_and_never_shown(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    context = Context({"BLUESKY_APP_PASSWORD": "wrong-pass-word-1234"})
    runner.contexts.append(context)
    source = BY_TYPE["bluesky"].connect(settings(httpserver.url_for("/")), context)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert "wrong-pass-word-1234" not in str(caught.value)
    assert str(caught.value) == (
        f"bluesky: http://127.0.0.1:{httpserver.port}/xrpc/com.atproto.server.createSession:"
        " HTTP 401: Invalid identifier or password (logging in as acme.bsky.social with"
        " BLUESKY_APP_PASSWORD; logins are limited to about 100 a day)"
    )
    with pytest.raises(SourceError, match=r"^bluesky: BLUESKY_APP_PASSWORD is not set$"):
        BY_TYPE["bluesky"].connect(settings("https://bsky.social/"), Context({}))


def test_logins_refused_for_a_day_fail_cleanly(
    httpserver: HTTPServer, runner: Runner, sleeps: Sleeps
) -> None:
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_json(
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, status=429,
        headers={"RateLimit-Limit": "100", "RateLimit-Remaining": "0",
                 "RateLimit-Reset": str(int(NOW.timestamp()) + 80_000),
                 "RateLimit-Policy": "100;w=86400"},
    )  # fmt: skip
    with pytest.raises(SourceError) as caught:
        runner()
    assert "HTTP 429: Rate Limit Exceeded; rate limited for 80000 s, try again later" in str(
        caught.value
    )
    assert sleeps == [] and len(httpserver.log) == 1


# --- gathering ------------------------------------------------------------------------------


def test_mentions_replies_and_quotes_become_posts_with_the_brands_answers(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    brand_post = fake.post(BRAND, "Version 4.2 is out!", at(0))
    complaint = fake.post(PAT, "@acme.bsky.social my sync is broken", at(1),
                          indexed=timedelta(seconds=3))  # fmt: skip
    fake.notify(complaint, "mention")
    answer = fake.post(BRAND, "Sorry Pat! Please DM us your account email.",
                       at(1) + timedelta(minutes=43), reply_to=complaint)  # fmt: skip
    follow = fake.post(PAT, "sent!", at(2), reply_to=answer)
    fake.notify(follow, "reply")
    bystander = fake.post(SAM, "same here", at(2), reply_to=complaint)
    reply = fake.post(SAM, "4.2 deleted my notes", at(3), reply_to=brand_post)
    fake.notify(reply, "reply")
    fake.notify(fake.post(SAM, "liked", at(3)), "like")

    result = runner()
    calls = [(r.path.removeprefix("/xrpc/"), r.args) for r, _ in httpserver.log]
    notes = calls[1][1]
    assert notes.getlist("reasons") == ["mention", "reply", "quote"]
    assert notes["limit"] == "100" and "cursor" not in notes
    threads = sorted(args["uri"] for name, args in calls if name.endswith("getPostThread"))
    assert threads == sorted([complaint["uri"], brand_post["uri"]])

    by_uri = {p.url: p for p in result.posts}
    assert len(result.posts) == 4  # not the bystander, not the like
    first = result.posts[0]
    did_hash = hashlib.sha256(PAT.encode()).hexdigest()[:10]
    rkey = complaint["uri"].rsplit("/", 1)[1]
    assert first.native_id == f"{rkey}-{did_hash}"
    assert first.url == f"https://bsky.app/profile/{PAT}/post/{rkey}"
    assert (first.author, first.author_name) == ("@pat.bsky.social", "Pat")
    assert first.text == "@acme.bsky.social my sync is broken"
    assert first.at == at(1)  # createdAt, earlier than indexedAt
    assert (first.root_id, first.parent_id, first.is_brand) == (first.native_id, None, None)
    brand = next(p for p in result.posts if p.is_brand)
    assert brand.native_id == native_id(answer["uri"])
    assert (brand.root_id, brand.parent_id) == (first.native_id, first.native_id)
    assert brand.author == "@acme.bsky.social"
    later = by_uri[f"https://bsky.app/profile/{PAT}/post/{follow['uri'].rsplit('/', 1)[1]}"]
    assert later.parent_id == native_id(answer["uri"])
    assert native_id(bystander["uri"]) not in {p.native_id for p in result.posts}
    third = next(p for p in result.posts if p.author == "@sam.example.com")
    assert (third.root_id, third.parent_id) == (native_id(brand_post["uri"]),) * 2
    assert third.author_name is None

    assert set(result.cursor) == {"notifications", "search", "watch"}
    assert result.cursor["notifications"]["mark"]["uris"] == [reply["uri"]]
    assert set(result.cursor["watch"]) == {complaint["uri"], brand_post["uri"]}


def test_notification_pages_reason_filtered_pages_and_a_gap_read_next_run(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    said = []
    for n in range(250):
        view = fake.post(PAT, f"@acme.bsky.social n{n}", at(n / 20))
        fake.notify(view, "like" if 50 <= n < 150 else "mention")  # a page of only likes
        said.append(view)
    first = runner(max_pages=2)
    cursors = [r.args.get("cursor") for r, _ in httpserver.log if "listNotif" in r.path]
    assert cursors == [None, said[150]["indexedAt"]]
    assert [p.native_id for p in first.posts] == [native_id(v["uri"]) for v in said[150:]]
    progress = first.cursor["notifications"]
    assert progress["resume"] == said[50]["indexedAt"] and "mark" not in progress

    fresh = fake.post(SAM, "@acme.bsky.social hi", at(13))
    fake.notify(fresh)
    second = runner(first.cursor, max_pages=3)
    wanted = [*said[:50], fresh]
    assert [p.native_id for p in second.posts] == [native_id(v["uri"]) for v in wanted]
    assert second.cursor["notifications"] == {
        "mark": {"at": format_instant(at(13) + timedelta(seconds=1)), "uris": [fresh["uri"]]}
    }
    assert runner(second.cursor).posts == []


def test_notifications_at_the_same_instant_are_read_once(fake: FakePds, runner: Runner) -> None:
    one = fake.post(PAT, "@acme.bsky.social one", at(1))
    fake.notify(one)
    first = runner()
    two = fake.post(SAM, "@acme.bsky.social two", at(1))  # indexed at the same millisecond
    fake.notify(two)
    second = runner(first.cursor)
    assert [p.native_id for p in second.posts] == [native_id(two["uri"])]
    assert sorted(second.cursor["notifications"]["mark"]["uris"]) == sorted(
        [one["uri"], two["uri"]]
    )


def test_search_reads_from_an_hour_before_its_newest_post_and_skips_what_it_saw(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    plain = fake.post(PAT, "Acme app lost my data again", at(1))
    first = runner(notifications=False, search=["acme app"])
    assert [p.native_id for p in first.posts] == [native_id(plain["uri"])]
    searched = [r.args for r, _ in httpserver.log if "searchPosts" in r.path]
    assert (searched[0]["q"], "since" in searched[0]) == ("acme app", False)
    assert first.cursor["search"]["acme app"]["since"] == format_instant(at(1))

    late = fake.post(SAM, "acme app is down", at(0.5), indexed=timedelta(hours=2))  # lagged
    httpserver.clear_log()
    second = runner(first.cursor, notifications=False, search=["acme app"])
    since = next(r.args for r, _ in httpserver.log if "searchPosts" in r.path)["since"]
    assert since == format_instant(at(0))
    assert [p.native_id for p in second.posts] == [native_id(late["uri"])]
    assert runner(second.cursor, notifications=False, search=["acme app"]).posts == []


def test_search_that_runs_past_max_pages_says_so(fake: FakePds, runner: Runner) -> None:
    for n in range(250):
        fake.post(PAT, f"acme app {n}", at(n / 20))
    result = runner(notifications=False, search=["acme app"], max_pages=2)
    assert len(result.posts) == 200
    assert result.warnings == [
        "search 'acme app': more than 2 pages of new posts; the oldest of them were not read"
        " (raise max_pages or run more often)"
    ]


def test_threads_are_watched_for_replies_then_dropped(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    complaint = fake.post(PAT, "@acme.bsky.social help?", at(1))
    fake.notify(complaint)
    first = runner()
    assert first.cursor["watch"][complaint["uri"]] == {
        "until": format_instant(at(1) + timedelta(days=7)),
        "posts": [complaint["uri"]],
        "seen": [],
        "fetched": True,
    }
    answer = fake.post(BRAND, "On it #fixed", at(30), reply_to=complaint)
    second = runner(first.cursor)
    assert [p.native_id for p in second.posts] == [native_id(answer["uri"])]
    httpserver.clear_log()
    week_later = (at(1) + timedelta(days=7, seconds=1)).timestamp()
    third = runner(second.cursor, clock=week_later)
    assert third.cursor["watch"] == {}
    assert methods(httpserver) == ["app.bsky.notification.listNotifications"]


def test_an_old_thread_is_fetched_once(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    old = fake.post(PAT, "@acme.bsky.social from last month", NOW - timedelta(days=40))
    fake.notify(old)
    answer = fake.post(BRAND, "DM us", NOW - timedelta(days=39), reply_to=old)
    first = runner()
    assert len(first.posts) == 2 and native_id(answer["uri"]) in {p.native_id for p in first.posts}
    assert first.cursor["watch"] == {}


def test_gone_and_blocked_posts_are_skipped_and_counted(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    root = fake.post(SAM, "new phone who dis", at(0))
    complaint = fake.post(PAT, "@acme.bsky.social billing is wrong", at(1), reply_to=root)
    fake.notify(complaint)
    answer = fake.post(BRAND, "Sorry, DM us", at(2), reply_to=complaint)
    hidden = fake.post(PAT, "more detail", at(3), reply_to=answer)
    fake.blocked.add(hidden["uri"])
    root["_gone"] = True  # the thread's root was deleted: read from the complaint instead
    result = runner()
    assert [p.native_id for p in result.posts] == [
        native_id(complaint["uri"]), native_id(answer["uri"])
    ]  # fmt: skip
    assert result.usage == {"logins": 1, "unavailable": 2}
    threads = [r.args["uri"] for r, _ in httpserver.log if "getPostThread" in r.path]
    assert threads == [root["uri"], complaint["uri"]]

    del fake.posts[root["uri"]]  # now gone entirely: 400 NotFound
    other = fake.post(SAM, "@acme.bsky.social still wrong", at(4), reply_to=complaint)
    fake.notify(other, "reply")
    again = runner(result.cursor)
    assert again.usage["unavailable"] >= 1


def test_native_ids_are_file_safe_and_stable() -> None:
    uri = f"at://{PAT}/{POST}/3mabc2xyz2222"
    assert native_id(uri) == native_id(uri)
    assert re.fullmatch(r"3mabc2xyz2222-[0-9a-f]{10}", native_id(uri))
    assert native_id(uri) != native_id(f"at://{SAM}/{POST}/3mabc2xyz2222")
    odd = native_id(f"at://{PAT}/{POST}/key:with:colons")
    assert re.fullmatch(r"h[0-9a-f]{24}", odd)


# --- rate limits and faults -----------------------------------------------------------------


def test_429_waits_until_the_epoch_ratelimit_reset(
    fake: FakePds, httpserver: HTTPServer, runner: Runner, sleeps: Sleeps
) -> None:
    runner()  # a session
    handler = fake.handle
    limited = [True]

    def once(request: Request) -> Response:
        if limited[0] and "listNotifications" in request.path:
            limited[0] = False
            return Response(json.dumps({"error": "RateLimitExceeded",
                                        "message": "Rate Limit Exceeded"}), 429,
                            headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "0",
                                     "RateLimit-Reset": str(int(NOW.timestamp()) + 37),
                                     "RateLimit-Policy": "3000;w=300"},
                            content_type="application/json")  # fmt: skip
        return handler(request)

    httpserver.clear()
    httpserver.expect_request(re.compile("^/xrpc/")).respond_with_handler(once)
    result = runner()
    assert sleeps == [37.0]
    assert result.retries == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[]", "expected a JSON object, got a list"),
        ('{"cursor": "x"}', "notifications: missing"),
        ('{"notifications": [{"uri": "https://x"}]}', "notifications: item 0: uri: must be an at:// URI"),
        (json.dumps({"notifications": [{
            "uri": f"at://{PAT}/{POST}/3k", "cid": "b", "reason": "mention", "isRead": False,
            "author": {"did": PAT, "handle": "pat.bsky.social"},
            "record": {"$type": POST, "text": "hi"}, "indexedAt": "2026-11-30T10:00:00.000Z",
        }]}), "item 0: record: createdAt: missing"),
        (json.dumps({"notifications": [{
            "uri": f"at://{PAT}/{POST}/3k", "cid": "b", "reason": "mention", "isRead": False,
            "author": {"did": "pat", "handle": "pat.bsky.social"},
            "record": {"$type": POST, "text": "hi"}, "indexedAt": "2026-11-30T10:00:00.000Z",
        }]}), "item 0: author.did: must be a DID"),
    ],
)  # fmt: skip
def test_wrong_shapes_name_the_method_and_field(
    fake: FakePds, httpserver: HTTPServer, runner: Runner, body: str, expected: str
) -> None:
    runner()
    handler = fake.handle

    def broken(request: Request) -> Response:
        if "listNotifications" in request.path:
            return Response(body, content_type="application/json")
        return handler(request)

    httpserver.clear()
    httpserver.expect_request(re.compile("^/xrpc/")).respond_with_handler(broken)
    with pytest.raises(SourceError) as caught:
        runner()
    assert str(caught.value).startswith("bluesky: app.bsky.notification.listNotifications: ")
    assert expected in str(caught.value)


def test_a_server_echoing_tokens_never_leaks_them(
    fake: FakePds, httpserver: HTTPServer, runner: Runner
) -> None:
    runner()
    httpserver.clear()
    httpserver.expect_request(re.compile("^/xrpc/")).respond_with_handler(
        lambda r: xrpc_error(401, "AuthenticationRequired",
                             f"bad {r.headers.get('Authorization')} {r.get_data(as_text=True)}")
    )  # fmt: skip
    with pytest.raises(SourceError) as caught:
        runner()
    message = str(caught.value)
    for secret in (PASSWORD, "eyJ.access1.sig", "eyJ.refresh1.sig"):
        assert secret not in message
    assert "[redacted]" in message


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


class BlueskyScenario:
    """Each complaint a post mentioning the brand (a notification); its answer the brand's
    reply, found in the complaint's thread."""

    type = "bluesky"
    channel = "bluesky"
    env: Mapping[str, str] = MappingProxyType(ENV)
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "bluesky"\nbase_url = "{base_url}"\nhandle = "{HANDLE}"\n'
            'app_password_env = "BLUESKY_APP_PASSWORD"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakePds(server, now=datetime.now(UTC))
        for number, c in enumerate(complaints, start=1):
            did = f"did:plc:customer{number:017d}"
            fake.profile(did, f"customer{number}.bsky.social", f"Customer {number}")
            said = fake.post(did, c.text, c.at)
            fake.notify(said)
            if c.answer is not None and c.answered_at is not None:
                fake.post(BRAND, c.answer, c.answered_at, reply_to=said)


SCENARIO = BlueskyScenario()


def test_no_file_outside_the_private_folder(fake: FakePds, runner: Runner, tmp_path: Path) -> None:
    runner()
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert written == ["private", "private/bluesky.session.json"]
    assert os.stat(tmp_path / "private").st_mode & 0o077 == 0


def test_gather_keeps_the_session_in_the_sites_private_cache(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    fake = FakePds(httpserver, now=datetime.now(UTC))
    fake.profile(PAT, "pat.bsky.social", "Pat")
    complaint = fake.post(PAT, "@acme.bsky.social where is my refund?", GATHERED - timedelta(2))
    fake.notify(complaint)
    root = tmp_path / "site"
    root.mkdir()
    (root / "heard.toml").write_text(site_config(SCENARIO, httpserver.url_for("/")), "utf-8")
    fast = {"sleep": lambda _s: None}
    first = gather(root, GATHERED, environ=ENV, client_options=fast)
    second = gather(root, GATHERED + timedelta(hours=1), environ=ENV, client_options=fast)
    assert [(s.error, s.usage) for s in first.sources] == [(None, {"logins": 1})]
    assert [(s.error, s.usage, s.new_events) for s in second.sources] == [(None, {}, 0)]
    assert fake.logins == 1
    kept = root / ".heard-cache/sources/bluesky.session.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert not any("eyJ." in p.read_text("utf-8") for p in (root / "content").rglob("*.json*"))
