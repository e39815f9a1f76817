"""Discourse source against a real HTTP server on this machine, answering like the
documented Discourse API (category topic lists with more_topics_url, /t/{id}.json with its
post_stream, /t/{id}/posts.json?post_ids[]=…, /search.json, the solved plugin's
accepted_answer)."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.sources.base import FetchResult, Post, Source, SourceError
from generator.gather.sources.discourse import DiscourseSettings
from tests.conftest import Connect, Sleeps
from tests.support.contract import Complaint

KEY = "ghp_FAKE_SECRET_123"  # the same fake secret as the GitHub tests: never in a message
CATEGORY = "/c/support/5.json"
LOADED = 20  # Discourse loads the first 20 posts of a topic with /t/{id}.json


def when(day: int, hour: int = 0, minute: int = 0) -> str:
    return f"2024-06-{day:02d}T{hour:02d}:{minute:02d}:00.000Z"


def post(
    topic: int,
    number: int,
    *,
    by: str = "carol",
    name: str = "Carol",
    staff: bool = False,
    created: str | None = None,
    cooked: str | None = None,
    reply_to: int | None = None,
    post_type: int = 1,
    hidden: bool = False,
    deleted: str | None = None,
    accepted: bool = False,
    updated: str | None = None,
) -> dict[str, Any]:
    """A post shaped like Discourse's post_stream.posts items."""
    created = created or when(1, 0, number % 60)
    return {
        "id": topic * 1000 + number,
        "name": name,
        "username": by,
        "avatar_template": f"/user_avatar/forum.example/{by}/{{size}}/1_2.png",
        "created_at": created,
        "cooked": f"<p>Post {number} of {topic}</p>" if cooked is None else cooked,
        "post_number": number,
        "post_type": post_type,
        "updated_at": updated or created,
        "reply_count": 0,
        "reply_to_post_number": reply_to,
        "quote_count": 0,
        "incoming_link_count": 0,
        "reads": 3,
        "readers_count": 2,
        "score": 0.4,
        "yours": False,
        "topic_id": topic,
        "topic_slug": f"topic-{topic}",
        "display_username": name,
        "primary_group_name": "team" if staff else None,
        "version": 1,
        "can_edit": False,
        "can_delete": False,
        "can_recover": False,
        "can_wiki": False,
        "read": True,
        "user_title": None,
        "actions_summary": [],
        "moderator": staff,
        "admin": False,
        "staff": staff,
        "user_id": abs(hash(by)) % 1000,
        "hidden": hidden,
        "trust_level": 1,
        "deleted_at": deleted,
        "user_deleted": False,
        "edit_reason": None,
        "can_view_edit_history": True,
        "wiki": False,
        "can_accept_answer": False,
        "can_unaccept_answer": False,
        "accepted_answer": accepted,
    }


@dataclass
class Topic:
    id: int
    title: str
    posts: list[dict[str, Any]]
    pinned: bool = False
    archetype: str = "regular"
    tags: list[Any] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return f"topic-{self.id}"

    @property
    def last_posted_at(self) -> str:
        return str(max(p["created_at"] for p in self.posts if p["post_type"] == 1))

    def listed(self) -> dict[str, Any]:
        """The topic as a topic_list.topics item."""
        return {
            "id": self.id,
            "title": self.title,
            "fancy_title": self.title,
            "slug": self.slug,
            "posts_count": len(self.posts),
            "reply_count": len(self.posts) - 1,
            "highest_post_number": max(p["post_number"] for p in self.posts),
            "image_url": None,
            "created_at": self.posts[0]["created_at"],
            "last_posted_at": self.last_posted_at,
            "bumped": True,
            "bumped_at": self.last_posted_at,
            "archetype": self.archetype,
            "unseen": False,
            "pinned": self.pinned,
            "unpinned": None,
            "excerpt": "…",
            "visible": True,
            "closed": False,
            "archived": False,
            "bookmarked": None,
            "liked": None,
            "views": 10,
            "like_count": 0,
            "has_summary": False,
            "last_poster_username": self.posts[-1]["username"],
            "category_id": 5,
            "pinned_globally": False,
            "featured_link": None,
            "has_accepted_answer": any(p["accepted_answer"] for p in self.posts),
            "posters": [],
        }

    def shown(self) -> dict[str, Any]:
        """The topic as /t/{id}.json: the first posts loaded, every id in the stream."""
        return {
            "post_stream": {
                "posts": self.posts[:LOADED],
                "stream": [p["id"] for p in self.posts],
            },
            "timeline_lookup": [[1, 0]],
            "suggested_topics": [],
            "tags": self.tags,
            "id": self.id,
            "title": self.title,
            "fancy_title": self.title,
            "posts_count": len(self.posts),
            "created_at": self.posts[0]["created_at"],
            "views": 10,
            "reply_count": len(self.posts) - 1,
            "like_count": 0,
            "last_posted_at": self.last_posted_at,
            "visible": True,
            "closed": False,
            "archived": False,
            "has_summary": False,
            "archetype": self.archetype,
            "slug": self.slug,
            "category_id": 5,
            "word_count": 100,
            "deleted_at": None,
            "user_id": 1,
            "featured_link": None,
            "pinned_globally": False,
            "pinned_at": None,
            "pinned_until": None,
            "draft": None,
            "draft_key": f"topic_{self.id}",
            "draft_sequence": 0,
            "unpinned": None,
            "pinned": self.pinned,
            "highest_post_number": max(p["post_number"] for p in self.posts),
            "deleted_by": None,
            "actions_summary": [],
            "chunk_size": 20,
            "bookmarked": False,
            "topic_timer": None,
            "message_bus_last_id": 0,
            "participant_count": 2,
            "details": {"can_edit": False, "participants": [], "created_by": {"id": 1}},
        }


@dataclass
class FakeDiscourse:
    """A forum: category 'support' (id 5) listing `page_size` topics a page, newest
    activity first (pinned on top of the first page), and search over titles."""

    server: HTTPServer
    topics: dict[int, Topic] = field(default_factory=dict)
    page_size: int = 2

    def add(self, topic: Topic) -> Topic:
        self.topics[topic.id] = topic
        return topic

    def install(self) -> FakeDiscourse:
        self.server.expect_request(CATEGORY).respond_with_handler(self.category)
        self.server.expect_request("/c/support.json").respond_with_handler(self.category)
        self.server.expect_request("/c/support/5/l/latest.json").respond_with_handler(self.category)
        self.server.expect_request(re.compile(r"^/t/\d+\.json$")).respond_with_handler(self.topic)
        self.server.expect_request(re.compile(r"^/t/\d+/posts\.json$")).respond_with_handler(
            self.posts
        )
        self.server.expect_request("/search.json").respond_with_handler(self.search)
        return self

    def ordered(self) -> list[Topic]:
        topics = sorted(self.topics.values(), key=lambda t: t.last_posted_at, reverse=True)
        return [t for t in topics if t.pinned] + [t for t in topics if not t.pinned]

    def category(self, request: Request) -> Response:
        page = int(request.args.get("page", "0"))
        topics = self.ordered()
        chunk = topics[page * self.page_size : (page + 1) * self.page_size]
        listing: dict[str, Any] = {
            "can_create_topic": True,
            "per_page": self.page_size,
            "top_tags": [],
            "topics": [t.listed() for t in chunk],
        }
        if (page + 1) * self.page_size < len(topics):
            listing["more_topics_url"] = f"/c/support/5/l/latest?page={page + 1}"
        return json_response({"users": [], "primary_groups": [], "topic_list": listing})

    def topic(self, request: Request) -> Response:
        number = int(request.path.split("/")[2].removesuffix(".json"))
        if number not in self.topics:
            return json_response(
                {"errors": ["The requested URL or resource could not be found."]}, 404
            )
        return json_response(self.topics[number].shown())

    def posts(self, request: Request) -> Response:
        number = int(request.path.split("/")[2])
        wanted = {int(i) for i in request.args.getlist("post_ids[]")}
        found = [p for p in self.topics[number].posts if p["id"] in wanted]
        return json_response({"post_stream": {"posts": found}, "id": number})

    def search(self, request: Request) -> Response:
        words = [w for w in request.args["q"].split() if ":" not in w]
        page = int(request.args.get("page", "1"))
        hits = [t for t in self.ordered() if all(w in t.title.lower() for w in words)]
        chunk = hits[(page - 1) * self.page_size : page * self.page_size]
        return json_response(
            {
                "posts": [],
                "topics": [t.listed() for t in chunk],
                "users": [],
                "categories": [],
                "tags": [],
                "groups": [],
                "grouped_search_result": {
                    "more_posts": None,
                    "more_users": None,
                    "more_categories": None,
                    "term": request.args["q"],
                    "search_log_id": 1,
                    "more_full_page_results": page * self.page_size < len(hits) or None,
                    "can_create_topic": True,
                    "error": None,
                    "post_ids": [],
                    "user_ids": [],
                    "category_ids": [],
                    "tag_ids": [],
                    "group_ids": [],
                },
            }
        )


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status, content_type="application/json; charset=utf-8")


def config(server: HTTPServer, **extra: Any) -> DiscourseSettings:
    values = {"type": "discourse", "base_url": server.url_for("/"), "category": "support/5"}
    return DiscourseSettings.model_validate(values | extra)


@pytest.fixture
def source(httpserver: HTTPServer, connect: Connect) -> Source:
    """A source with an API key (so every error can be checked for it)."""
    settings = config(httpserver, api_key_env="DISCOURSE_KEY", api_user_env="DISCOURSE_USER")
    return connect(settings, {"DISCOURSE_KEY": KEY, "DISCOURSE_USER": "system"})


def ids(result: FetchResult) -> list[str]:
    return [p.native_id for p in result.posts]


def by_id(result: FetchResult) -> dict[str, Post]:
    return {p.native_id: p for p in result.posts}


def requested(server: HTTPServer) -> list[tuple[str, dict[str, list[str]]]]:
    return [(r.path, r.args.to_dict(flat=False)) for r, _ in server.log]


def forum(server: HTTPServer) -> FakeDiscourse:
    """A pinned about-topic, a long topic of 45 posts, a rich thread and three plain ones."""
    fake = FakeDiscourse(server)
    fake.add(Topic(1, "About the Support category", [post(1, 1, by="admin", staff=True,
                                                          created=when(1))], pinned=True))  # fmt: skip
    fake.add(Topic(10, "Sync is slow", [post(10, n, created=when(2, 1, n)) for n in range(1, 46)]))
    fake.add(
        Topic(
            11,
            "Refund never arrived",
            [
                post(11, 1, created=when(3, 9), cooked="<p>I was charged <b>twice</b>.</p><p>Help?</p>"),
                post(11, 2, by="sam", name="Sam (Acme)", staff=True, created=when(3, 10),
                     cooked="<p>Sorry! Can you send the order number?</p>"),
                post(11, 3, created=when(3, 11), reply_to=2, cooked="<p>It is 1234.</p>"),
                post(11, 4, by="sam", name="Sam (Acme)", staff=True, created=when(3, 12),
                     reply_to=3, accepted=True, updated=when(3, 13),
                     cooked="<p>Refunded, sorry for the wait.</p>"),
                post(11, 5, by="spam", created=when(3, 14), hidden=True),
                post(11, 6, by="sam", staff=True, created=when(3, 15), post_type=4,
                     cooked="<p>internal: whisper</p>"),
                post(11, 7, by="sam", staff=True, created=when(3, 16), post_type=3, cooked=""),
                post(11, 8, by="dan", created=when(3, 17), deleted=when(3, 18)),
                post(11, 9, by="erin", name="", created=when(3, 19), reply_to=5,
                     cooked="<p>Same here &amp; thanks</p>"),
                post(11, 10, by="fred", created=when(3, 20), reply_to=1, cooked="<p>+1</p>"),
            ],
            tags=["billing", {"id": 3, "name": "refunds", "slug": "refunds"}],
        )
    )  # fmt: skip
    for number, day in ((12, 4), (13, 5), (14, 6)):
        fake.add(Topic(number, f"Question {number}", [post(number, 1, created=when(day))]))
    return fake.install()


# --- mapping, pagination ----------------------------------------------------------------------


def test_category_topics_posts_and_accepted_answer(httpserver: HTTPServer, source: Source) -> None:
    forum(httpserver)
    result = source.fetch({})

    posts = by_id(result)
    assert sorted(posts, key=lambda i: [int(x) for x in re.findall(r"\d+", i)]) == [
        "1",
        *[f"10-p{n}" if n > 1 else "10" for n in range(1, 46)],
        "11", "11-p2", "11-p3", "11-p4", "11-p9", "11-p10",  # hidden, whisper, action, deleted: out
        "12", "13", "14",
    ]  # fmt: skip
    base = httpserver.url_for("/").rstrip("/")
    root = posts["11"]
    assert (root.root_id, root.parent_id, root.title) == ("11", None, "Refund never arrived")
    assert root.text == "I was charged twice.\n\nHelp?"
    assert root.url == f"{base}/t/topic-11/11"
    assert (root.author, root.author_name, root.is_brand) == ("carol", "Carol", False)
    assert root.tags == ("billing", "refunds")
    assert root.at == datetime(2024, 6, 3, 9, tzinfo=UTC) and root.at.tzinfo is UTC
    answer = posts["11-p2"]
    assert (answer.root_id, answer.parent_id, answer.is_brand) == ("11", "11", True)
    assert answer.author_name == "Sam (Acme)" and answer.title is None
    assert answer.url == f"{base}/t/topic-11/11/2"
    assert posts["11-p3"].parent_id == "11-p2"
    assert posts["11-p4"].parent_id == "11-p3"
    assert posts["11-p9"].parent_id == "11"  # answered a hidden post: threads on the topic
    assert posts["11-p9"].author_name is None and posts["11-p9"].text == "Same here & thanks"
    assert posts["11-p10"].parent_id == "11"  # reply_to_post_number 1 is the topic itself
    assert "whisper" not in " ".join(p.text or "" for p in result.posts)

    [signal] = result.signals
    assert (signal.root_id, signal.kind, signal.by_brand) == ("11", "resolved", True)
    assert signal.at == datetime(2024, 6, 3, 13, tzinfo=UTC)
    assert signal.url == f"{base}/t/topic-11/11/4"

    # Three listing pages through more_topics_url (without .json, as Discourse gives it).
    sent = requested(httpserver)
    listing = [(p, a.get("page")) for p, a in sent if p.startswith("/c/")]
    assert listing == [
        (CATEGORY, None),
        ("/c/support/5/l/latest.json", ["1"]),
        ("/c/support/5/l/latest.json", ["2"]),
    ]
    # The long topic: 20 loaded with the topic, the other 25 fetched 20 and 5 at a time.
    chunks = [a["post_ids[]"] for p, a in sent if p == "/t/10/posts.json"]
    assert [len(c) for c in chunks] == [20, 5]
    assert chunks[0][0] == "10021" and chunks[1][-1] == "10045"
    assert result.requests == len(sent) == 3 + 6 + 2
    assert result.cursor["last_posted_at"] == "2024-06-06T00:00:00Z"
    assert result.cursor["topics"] == {"1": 1, "10": 45, "11": 10, "12": 1, "13": 1, "14": 1}
    assert result.cursor["solved"] == {"11": 4}
    json.dumps(result.cursor)


def test_incremental_fetch_gathers_nothing_twice(httpserver: HTTPServer, source: Source) -> None:
    fake = forum(httpserver)
    first = source.fetch({})

    httpserver.clear_log()
    again = source.fetch(first.cursor)
    assert again.posts == [] and again.signals == []
    assert [p for p, _ in requested(httpserver)] == [CATEGORY]  # nothing new on page 1: stop
    assert again.cursor == first.cursor

    # A new reply on topic 12 (bumped to the top), an answer accepted on topic 13 later.
    fake.topics[12].posts.append(post(12, 2, by="sam", staff=True, created=when(9), reply_to=1))
    fake.topics[13].posts[0]["accepted_answer"] = True  # the opening post marked as solution
    httpserver.clear_log()
    third = source.fetch(again.cursor)
    assert ids(third) == ["12-p2"]
    assert set(ids(third)).isdisjoint(ids(first))
    assert [(s.root_id, s.kind) for s in third.signals] == [("13", "resolved")]
    fetched = sorted(p for p, _ in requested(httpserver) if p.startswith("/t/"))
    assert fetched == ["/t/12.json", "/t/13.json"]

    fourth = source.fetch(third.cursor)
    assert fourth.posts == [] and fourth.signals == []


def test_a_topic_whose_opening_post_is_hidden_is_skipped(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeDiscourse(httpserver)
    fake.add(Topic(20, "Spam", [post(20, 1, hidden=True), post(20, 2, created=when(2))]))
    fake.add(Topic(21, "A private message", [post(21, 1)], archetype="private_message"))
    fake.add(Topic(22, "Fine", [post(22, 1, created=when(3))]))
    fake.install()
    result = source.fetch({})
    assert ids(result) == ["22"]
    fetched = [p for p, _ in requested(httpserver) if p.startswith("/t/")]
    assert sorted(fetched) == ["/t/20.json", "/t/22.json"]  # a private message is never read


def test_an_accepted_answer_that_is_hidden_is_not_fetched_for_again(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeDiscourse(httpserver)
    fake.add(Topic(25, "Solved?", [post(25, 1), post(25, 2, hidden=True, accepted=True)]))
    fake.add(Topic(26, "Newer", [post(26, 1, created=when(5))]))
    fake.install()
    first = source.fetch({})
    assert ids(first) == ["25", "26"] and first.signals == []
    assert first.cursor["solved"] == {"25": 0}
    httpserver.clear_log()
    assert source.fetch(first.cursor).posts == []
    assert [p for p, _ in requested(httpserver)] == [CATEGORY]


def test_pinned_topics_alone_on_a_page_do_not_end_the_listing(
    httpserver: HTTPServer, source: Source
) -> None:
    fake = FakeDiscourse(httpserver)
    fake.add(Topic(2, "Read me first", [post(2, 1, created=when(1))], pinned=True))
    fake.add(Topic(3, "Rules", [post(3, 1, created=when(1, 1))], pinned=True))
    fake.add(Topic(31, "Older", [post(31, 1, created=when(2))]))
    fake.install()
    first = source.fetch({})
    fake.add(Topic(32, "Newer", [post(32, 1, created=when(8))]))
    assert ids(source.fetch(first.cursor)) == ["32"]


def test_category_without_id(httpserver: HTTPServer, connect: Connect) -> None:
    fake = FakeDiscourse(httpserver, page_size=10)
    fake.add(Topic(30, "Hello", [post(30, 1)]))
    fake.install()
    result = connect(config(httpserver, category="support")).fetch({})
    assert ids(result) == ["30"]
    assert requested(httpserver)[0][0] == "/c/support.json"


def test_search_pages(httpserver: HTTPServer, connect: Connect) -> None:
    fake = FakeDiscourse(httpserver)
    for number in range(40, 45):
        fake.add(
            Topic(number, f"Billing problem {number}", [post(number, 1, created=when(number - 35))])
        )
    fake.add(Topic(50, "Unrelated", [post(50, 1, created=when(20))]))
    fake.install()
    settings = config(httpserver, category=None, search="billing")
    source = connect(settings)

    result = source.fetch({})
    assert sorted(ids(result)) == ["40", "41", "42", "43", "44"]
    searches = [a for p, a in requested(httpserver) if p == "/search.json"]
    assert [a["page"] for a in searches] == [["1"], ["2"], ["3"]]
    assert searches[0]["q"] == ["billing order:latest"]
    assert source.fetch(result.cursor).posts == []


def test_search_keeps_an_order_it_is_given(httpserver: HTTPServer, connect: Connect) -> None:
    FakeDiscourse(httpserver).install()
    settings = config(httpserver, category=None, search="refund order:latest_topic")
    connect(settings).fetch({})
    assert requested(httpserver)[0][1]["q"] == ["refund order:latest_topic"]


# --- credentials ------------------------------------------------------------------------------


def test_api_key_sent_only_when_configured(httpserver: HTTPServer, connect: Connect) -> None:
    FakeDiscourse(httpserver).install()
    settings = config(httpserver, api_key_env="DISCOURSE_KEY", api_user_env="DISCOURSE_USER")
    connect(settings, {"DISCOURSE_KEY": KEY, "DISCOURSE_USER": "heard-bot"}).fetch({})
    [(request, _)] = httpserver.log
    assert (request.headers["Api-Key"], request.headers["Api-Username"]) == (KEY, "heard-bot")

    httpserver.clear_log()
    anonymous = config(httpserver)
    connect(anonymous, {"DISCOURSE_KEY": KEY}).fetch({})
    [(request, _)] = httpserver.log
    assert "Api-Key" not in request.headers and "Api-Username" not in request.headers


@pytest.mark.parametrize(
    ("environ", "missing"),
    [({}, "DISCOURSE_KEY"), ({"DISCOURSE_KEY": KEY}, "DISCOURSE_USER")],
)
def test_named_variables_must_be_set(
    httpserver: HTTPServer, connect: Connect, environ: dict[str, str], missing: str
) -> None:
    settings = config(httpserver, api_key_env="DISCOURSE_KEY", api_user_env="DISCOURSE_USER")
    with pytest.raises(SourceError) as caught:
        connect(settings, environ)
    assert str(caught.value) == f"discourse: {missing} is not set"


# --- faults ---------------------------------------------------------------------------------


def clean(error: SourceError) -> str:
    message = str(error)
    assert KEY not in message and "ghp_" not in message
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("discourse: ")
    return message


def test_429_retry_after_then_success(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    httpserver.expect_oneshot_request(CATEGORY).respond_with_json(
        {"errors": ["You’ve performed this action too many times."], "error_type": "rate_limit",
         "extras": {"wait_seconds": 3}},
        status=429,
        headers={"Retry-After": "3"},
    )  # fmt: skip
    fake = FakeDiscourse(httpserver)
    fake.add(Topic(60, "Hi", [post(60, 1)]))
    fake.install()
    result = source.fetch({})
    assert ids(result) == ["60"]
    assert sleeps == [3.0]
    assert [p for p, _ in requested(httpserver)].count(CATEGORY) == 2
    assert result.retries == 1


def test_bad_gateway_on_a_topic_is_retried(
    httpserver: HTTPServer, source: Source, sleeps: Sleeps
) -> None:
    httpserver.expect_oneshot_request("/t/60.json").respond_with_data("<h1>502</h1>", status=502)
    httpserver.expect_oneshot_request("/t/60.json").respond_with_data("", status=503)
    fake = FakeDiscourse(httpserver)
    fake.add(Topic(60, "Hi", [post(60, 1)]))
    fake.install()
    assert ids(source.fetch({})) == ["60"]
    assert sleeps == [1.0, 2.0]


def test_persistent_503_gives_up(httpserver: HTTPServer, source: Source, sleeps: Sleeps) -> None:
    httpserver.expect_request(CATEGORY).respond_with_data("down", status=503)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert "HTTP 503" in message and "gave up after 5 attempts" in message
    assert len(sleeps) == 4


def test_a_timeout_is_a_clear_error(httpserver: HTTPServer, connect: Connect) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return json_response({})

    httpserver.expect_request(CATEGORY).respond_with_handler(slow)
    settings = config(httpserver, api_key_env="K")
    slow_source = connect(settings, {"K": KEY}, timeout=0.2, max_retries=0)
    with pytest.raises(SourceError) as caught:
        slow_source.fetch({})
    assert "timed out" in clean(caught.value)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ('{"topic_list": {"topics": [{"id": 1, "ti', "application/json",
         "expected JSON, got not JSON (HTTP 200)"),
        ("<html><head><title>Discourse - Oops</title></head><body>Maintenance</body></html>",
         "text/html", "expected JSON, got an HTML page (HTTP 200)"),
    ],
)  # fmt: skip
def test_unreadable_answers(
    httpserver: HTTPServer, source: Source, body: str, content_type: str, expected: str
) -> None:
    httpserver.expect_request(CATEGORY).respond_with_data(body, content_type=content_type)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    message = clean(caught.value)
    assert expected in message and CATEGORY in message


def mangled(path: str, change: Callable[[Any], None]) -> Callable[[HTTPServer], None]:
    """Serve the forum, but with `change` applied to the JSON answer of `path`."""

    def install(server: HTTPServer) -> None:
        fake = FakeDiscourse(server)
        fake.add(Topic(70, "Broken", [post(70, n, created=when(2, 0, n)) for n in range(1, 25)]))
        handlers = {
            CATEGORY: fake.category,
            "/t/70.json": fake.topic,
            "/t/70/posts.json": fake.posts,
        }

        def handler(request: Request) -> Response:
            data = json.loads(handlers[path](request).get_data())
            change(data)
            return json_response(data)

        server.expect_request(path).respond_with_handler(handler)
        fake.install()

    return install


def setter(*keys: str | int, value: Any = KeyError) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        for key in keys[:-1]:
            data = data[key]
        if value is KeyError:
            del data[keys[-1]]
        else:
            data[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    ("install", "expected"),
    [
        (mangled(CATEGORY, setter("topic_list")), "c/support/5.json: topic_list: missing"),
        (mangled(CATEGORY, setter("topic_list", "topics", value={"1": {}})),
         "c/support/5.json: topic_list.topics: must be a list, not an object"),
        (mangled(CATEGORY, setter("topic_list", "topics", 0, "last_posted_at", value="now")),
         "c/support/5.json: topic_list.topics: item 0: last_posted_at: not an ISO 8601 time with a zone"),
        (mangled(CATEGORY, setter("topic_list", "topics", 0, "id", value="70")),
         "c/support/5.json: topic_list.topics: item 0: id: must be a whole number, not a string"),
        (mangled("/t/70.json", setter("post_stream", "posts", 2, "staff", value="yes")),
         "t/70.json: post_stream.posts: item 2: staff: must be true or false, not a string"),
        (mangled("/t/70.json", setter("post_stream", "posts", 0, "created_at", value="2024-06-01")),
         "t/70.json: post_stream.posts: item 0: created_at: not an ISO 8601 time with a zone"),
        (mangled("/t/70.json", setter("post_stream", "posts", value={"posts": []})),
         "t/70.json: post_stream.posts: must be a list, not an object"),
        (mangled("/t/70.json", setter("post_stream", "stream", 21, value="70022")),
         "t/70.json: post_stream.stream: item 21: must be a whole number, not a string"),
        (mangled("/t/70.json", setter("post_stream", "posts", 1, "cooked")),
         "t/70.json: post_stream.posts: item 1: cooked: missing"),
        (mangled("/t/70/posts.json", setter("post_stream", "posts", 0, "username", value=None)),
         "t/70/posts.json: post_stream.posts: item 0: username: must be a string, not null"),
        (mangled(CATEGORY, setter("topic_list", "more_topics_url", value="https://evil.example/c/x?page=1")),
         "c/support/5.json: topic_list.more_topics_url is not a URL on this forum; not followed"),
    ],
)  # fmt: skip
def test_wrong_answers_name_the_path_and_field(
    httpserver: HTTPServer,
    source: Source,
    install: Callable[[HTTPServer], None],
    expected: str,
) -> None:
    install(httpserver)
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert clean(caught.value) == f"discourse: {expected}"


def test_a_server_echoing_the_key_does_not_leak_it(httpserver: HTTPServer, source: Source) -> None:
    httpserver.expect_request(CATEGORY).respond_with_json(
        {"error": f"invalid api key {KEY}"}, status=403
    )
    with pytest.raises(SourceError) as caught:
        source.fetch({})
    assert "[redacted]" in clean(caught.value)


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [
        ({"last_posted_at": 5}, "cursor: last_posted_at: not an ISO 8601 time with a zone"),
        ({"topics": {"ten": 3}}, "cursor: topics.ten.[key]: must be a topic id (digits)"),
        ({"solved": []}, "cursor: solved: must be an object, not a list"),
    ],
)  # fmt: skip
def test_a_damaged_cursor_is_reported(
    source: Source, cursor: dict[str, Any], expected: str
) -> None:
    with pytest.raises(SourceError) as caught:
        source.fetch(cursor)
    assert clean(caught.value) == f"discourse: {expected}"


def test_source_names(httpserver: HTTPServer, connect: Connect) -> None:
    named = connect(config(httpserver, name="forum", channel="community"))
    assert (named.name, named.channel) == ("forum", "community")


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------


def _cooked(text: str) -> str:
    return "".join(f"<p>{html.escape(part)}</p>" for part in text.split("\n\n"))


class DiscourseScenario:
    """Each complaint a topic; its answer a staff post replying to it."""

    type = "discourse"
    channel = "discourse"
    env: Mapping[str, str] = MappingProxyType({"DISCOURSE_KEY": KEY, "DISCOURSE_USER": "heard-bot"})
    answers = True

    def config(self, base_url: str) -> str:
        return (
            f'[[sources]]\ntype = "discourse"\nbase_url = "{base_url}"\ncategory = "support/5"\n'
            'api_key_env = "DISCOURSE_KEY"\napi_user_env = "DISCOURSE_USER"\n'
        )

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        fake = FakeDiscourse(server, page_size=10)
        for number, c in enumerate(complaints, start=100):
            posts = [post(number, 1, cooked=_cooked(c.text), created=_ms(c.at))]
            if c.answer is not None and c.answered_at is not None:
                posts.append(
                    post(
                        number,
                        2,
                        by="acme-team",
                        staff=True,
                        reply_to=1,
                        cooked=_cooked(c.answer),
                        created=_ms(c.answered_at),
                    )
                )
            fake.add(Topic(number, f"Trouble number {number}", posts))
        fake.install()


def _ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


SCENARIO = DiscourseScenario()
