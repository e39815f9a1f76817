"""The RSS/Atom source against a real HTTP server on 127.0.0.1.

Fixtures follow the RSS 2.0 specification (channel title/link/description; item title,
link, description, pubDate in RFC 822, guid, author, category) and RFC 4287's Atom 1.0
example (feed id/updated/author; entry id, link, updated, published, summary, content).
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.sources.base import SourceError
from generator.gather.sources.feed import FeedEntries, FeedSettings
from generator.gather.sources.http import HttpClient
from generator.record.store import load_record
from tests.conftest import Sleeps, heard, snapshot
from tests.support.contract import Complaint

PATH = "/reviews/"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def rss(*items: str, built: str | None = "Thu, 02 May 2024 09:00:00 GMT") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0"><channel>'
        "<title>Reviews of Acme</title><link>https://reviews.example/acme</link>"
        "<description>What customers say about Acme</description>"
        + (f"<lastBuildDate>{built}</lastBuildDate>" if built else "")
        + "".join(items)
        + "</channel></rss>"
    )


def item(
    guid: str | None,
    title: str,
    description: str,
    pub_date: str | None,
    link: str | None = None,
    extra: str = "",
) -> str:
    parts = [f"<title>{title}</title>", f"<description>{description}</description>"]
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if pub_date is not None:
        parts.append(f"<pubDate>{pub_date}</pubDate>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    return "<item>" + "".join(parts) + extra + "</item>"


RSS_FEED = rss(
    item(
        "review-1",
        "Late delivery &amp; no answer",
        "&lt;p&gt;Ordered on Monday, &lt;b&gt;still&lt;/b&gt; waiting.&lt;/p&gt;"
        "&lt;script&gt;steal()&lt;/script&gt;",
        "Wed, 01 May 2024 14:30:00 GMT",
        "https://reviews.example/acme/1",
        "<author>jane@example.com (Jane Doe)</author><category>delivery</category>",
    ),
    item(
        "review-2",
        "Refund please",
        "Charged twice",
        "Wed, 01 May 2024 00:00:00 +0200",
        "https://reviews.example/acme/2",
    ),
    item("review-3", "Dated, not timed", "No time of day", "Thu, 02 May 2024"),
)

ATOM_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Acme status alerts</title>
  <link href="https://alerts.example/acme/feed" rel="self"/>
  <link href="https://alerts.example/acme"/>
  <id>urn:uuid:60a76c80-d399-11d9-b91C-0003939e0af6</id>
  <updated>2024-05-02T08:00:00Z</updated>
  <author><name>Alerts</name></author>
  <entry>
    <title>Checkout failing</title>
    <link href="https://alerts.example/acme/2024/05/01/checkout"/>
    <link rel="edit" href="https://alerts.example/acme/2024/05/01/checkout/edit"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <published>2024-05-01T12:00:00+02:00</published>
    <updated>2024-05-01T13:00:00Z</updated>
    <author><name>Sam</name><email>sam@example.com</email></author>
    <summary>Users report I &lt;3 errors at checkout</summary>
  </entry>
  <entry>
    <title type="html">&lt;em&gt;Login&lt;/em&gt; slow</title>
    <link href="https://alerts.example/acme/2024/05/02/login"/>
    <id>urn:uuid:f5ae72c9-b02e-42bc-957e-bbfe60b2c4a9</id>
    <updated>2024-05-02T07:30:00.250Z</updated>
    <content type="html">&lt;div&gt;&lt;p&gt;It takes &lt;b&gt;minutes&lt;/b&gt;.&lt;/p&gt;&lt;/div&gt;</content>
  </entry>
</feed>
"""


def source(**settings: Any) -> FeedSettings:
    return FeedSettings.model_validate(
        {"type": "rss", "url": "https://reviews.example/acme/feed.xml", **settings}
    )


ClientFactory = Callable[..., HttpClient]


@pytest.fixture
def make_client(httpserver: HTTPServer, sleeps: Sleeps) -> Iterator[ClientFactory]:
    made: list[HttpClient] = []

    def factory(**options: Any) -> HttpClient:
        options.setdefault("jitter", lambda: 0.0)
        client = HttpClient(httpserver.url_for(PATH), sleep=sleeps, **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def gather(make_client: ClientFactory, cursor: dict[str, Any] | None = None) -> Any:
    return FeedEntries(source(), make_client()).fetch(cursor or {})


def feed_error(client: HttpClient, config: FeedSettings | None = None) -> str:
    config = config or source()
    with pytest.raises(SourceError) as caught:
        FeedEntries(config, client).fetch({})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{config.key}: ")
    return message


# --- documented shapes ----------------------------------------------------------------------


def test_rss_2_items_become_posts(httpserver: HTTPServer, make_client: ClientFactory) -> None:
    httpserver.expect_request(PATH).respond_with_data(RSS_FEED, content_type=RSS_TYPE)
    config = source()
    gatherer = FeedEntries(config, make_client())
    assert (gatherer.name, gatherer.channel) == ("rss", "reviews")
    result = gatherer.fetch({})

    two, one, three = result.posts  # ordered by time
    assert one.native_id == "review-1"
    assert one.at == datetime(2024, 5, 1, 14, 30, tzinfo=UTC)
    assert one.title == "Late delivery & no answer"
    assert one.text == "Ordered on Monday, still waiting."
    assert one.author == "Jane Doe"
    assert one.url == "https://reviews.example/acme/1"
    assert one.tags == ("delivery",)
    assert one.precision is None
    assert two.native_id == "review-2"
    assert two.at == datetime(2024, 4, 30, 22, 0, tzinfo=UTC)  # midnight +0200, in UTC
    assert two.precision is None  # 00:00:00 is written: a time, not a day
    assert two.text == "Charged twice"
    assert three.precision == "day"  # no time of day written
    assert three.at == datetime(2024, 5, 2, tzinfo=UTC)
    assert three.url is None and three.author is None
    assert result.cursor == {"seen": "2024-05-02T00:00:00Z"}
    assert (result.requests, result.retries) == (1, 0)


def test_atom_1_entries_become_posts(httpserver: HTTPServer, make_client: ClientFactory) -> None:
    httpserver.expect_request(PATH).respond_with_data(ATOM_FEED, content_type=ATOM_TYPE)
    result = gather(make_client)
    checkout, login = result.posts
    assert checkout.native_id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert checkout.at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)  # published wins
    assert checkout.url == "https://alerts.example/acme/2024/05/01/checkout"
    assert checkout.author == "Sam"
    assert checkout.title == "Checkout failing"
    assert checkout.text == "Users report I <3 errors at checkout"  # plain text kept
    assert login.at == datetime(2024, 5, 2, 7, 30, 0, tzinfo=UTC)  # updated, no published
    assert login.title == "Login slow"
    assert login.text == "It takes minutes."  # from content (no summary)
    assert result.cursor == {"seen": "2024-05-02T07:30:00Z"}


def test_ids_fall_back_to_link_then_a_hash(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    body = rss(
        item(None, "Linked", "a", "Wed, 01 May 2024 10:00:00 GMT", "https://reviews.example/9"),
        item(None, "Bare", "b", "Wed, 01 May 2024 11:00:00 GMT", "javascript:alert(1)"),
        item(None, "Nothing", "c", "Wed, 01 May 2024 12:00:00 GMT"),
    )
    httpserver.expect_request(PATH).respond_with_data(body, content_type=RSS_TYPE)
    linked, bare, nothing = gather(make_client).posts
    assert linked.native_id == "https://reviews.example/9"
    assert linked.url == "https://reviews.example/9"
    assert bare.native_id == "javascript:alert(1)"  # kept as given; shared code makes it safe
    assert bare.url is None  # only http(s) links are kept
    basis = "Nothing\nWed, 01 May 2024 12:00:00 GMT"
    assert nothing.native_id == hashlib.sha256(basis.encode()).hexdigest()


def test_undated_entries_take_the_feed_date_or_are_skipped_and_counted(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    atom = ATOM_FEED.replace("<published>2024-05-01T12:00:00+02:00</published>", "").replace(
        "<updated>2024-05-01T13:00:00Z</updated>", ""
    )
    httpserver.expect_request(PATH).respond_with_data(atom, content_type=ATOM_TYPE)
    gatherer = FeedEntries(source(), make_client())
    result = gatherer.fetch({})
    _, checkout = result.posts
    assert checkout.title == "Checkout failing"
    assert checkout.at == datetime(2024, 5, 2, 8, 0, tzinfo=UTC)  # the feed's <updated>
    assert gatherer.skipped_undated == 0

    httpserver.clear()
    undated = rss(
        item("u-1", "When?", "no date", None), item("d-1", "Now", "x", "Thu, 02 May 2024")
    )
    httpserver.expect_request(PATH).respond_with_data(undated, content_type=RSS_TYPE)
    result = gatherer.fetch({})
    assert [(p.native_id, p.at.hour) for p in result.posts] == [("d-1", 0), ("u-1", 9)]
    assert gatherer.skipped_undated == 0  # the channel's lastBuildDate dates it

    httpserver.clear()
    undated = rss(
        item("u-1", "When?", "no date", None),
        item("d-1", "Now", "x", "Thu, 02 May 2024"),
        built=None,
    )
    httpserver.expect_request(PATH).respond_with_data(undated, content_type=RSS_TYPE)
    result = gatherer.fetch({})
    assert [p.native_id for p in result.posts] == ["d-1"]
    assert gatherer.skipped_undated == 1


# --- incremental: ETag and seen ---------------------------------------------------------------


def test_etag_then_304_gathers_nothing_and_keeps_the_cursor(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    etag = '"v1-abc"'

    def conditional(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(RSS_FEED, headers={"ETag": etag}, content_type=RSS_TYPE)

    httpserver.expect_request(PATH).respond_with_handler(conditional)
    gatherer = FeedEntries(source(), make_client())
    first = gatherer.fetch({})
    assert len(first.posts) == 3
    assert first.cursor == {"etag": etag, "seen": "2024-05-02T00:00:00Z"}
    second = gatherer.fetch(first.cursor)
    assert second.posts == []
    assert second.cursor == first.cursor
    assert "If-None-Match" not in httpserver.log[0][0].headers
    assert httpserver.log[1][0].headers["If-None-Match"] == etag
    assert httpserver.log[1][1].status_code == 304


def test_entries_not_newer_than_seen_are_skipped(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    newer = item("review-4", "New", "again", "Fri, 03 May 2024 08:15:00 GMT")
    older = item("review-0", "Old", "before", "Tue, 30 Apr 2024 08:15:00 GMT")
    for body in (RSS_FEED, RSS_FEED, rss(newer, older)):
        httpserver.expect_ordered_request(PATH).respond_with_data(body, content_type=RSS_TYPE)
    gatherer = FeedEntries(source(), make_client())
    first = gatherer.fetch({})
    second = gatherer.fetch(first.cursor)  # no ETag: same body again
    assert second.posts == []
    assert second.cursor == first.cursor
    third = gatherer.fetch(second.cursor)
    assert [p.native_id for p in third.posts] == ["review-4"]
    assert third.cursor == {"seen": "2024-05-03T08:15:00Z"}


# --- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        ('{"items": []}', "application/json"),
        ("/etc/passwd", "text/plain"),  # never opened as a file
        ("", "application/rss+xml"),
        ('<?xml version="1.0"?><rss version="2.0"><channel><title>cut', RSS_TYPE),
    ],
)
def test_not_a_feed(
    httpserver: HTTPServer, make_client: ClientFactory, body: str, content_type: str
) -> None:
    httpserver.expect_request(PATH).respond_with_data(body, content_type=content_type)
    assert feed_error(make_client()) == "rss: /reviews/: not an RSS or Atom feed"


@pytest.mark.parametrize("where", ["between items", "inside an item"])
def test_a_feed_cut_short_is_a_failure_not_a_partial_gather(
    httpserver: HTTPServer, make_client: ClientFactory, where: str
) -> None:
    """A dropped connection whose end looked like the body's end (HTTP 200, the length
    matching): the entries before the cut would be kept, and a cursor moved past the newest
    of them would never come back for the rest."""
    second = RSS_FEED.index("<item>", RSS_FEED.index("review-1"))
    end = second if where == "between items" else RSS_FEED.index("</title>", second)
    cut = RSS_FEED[:end]
    httpserver.expect_request(PATH).respond_with_data(cut, content_type=RSS_TYPE)
    message = feed_error(make_client())
    assert message.startswith("rss: /reviews/: the feed does not parse to its end (")
    assert message.endswith("nothing gathered from it")


def test_a_malformed_but_whole_feed_is_still_read(
    httpserver: HTTPServer, make_client: ClientFactory
) -> None:
    """Feeds in the wild carry a bare '&' or a stray tag; feedparser reads them leniently,
    and a feed that ends with its root element was not cut short."""
    sloppy = rss(
        item("r-1", "Fish & chips cold", "Cold & late <b>again", "Wed, 01 May 2024 10:00:00 GMT")
    )
    httpserver.expect_request(PATH).respond_with_data(sloppy, content_type=RSS_TYPE)
    assert [p.native_id for p in gather(make_client).posts] == ["r-1"]


def test_a_cut_feed_changes_nothing_and_the_next_whole_one_loses_nothing(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "heard.toml").write_text(
        f'[site]\ntitle = "T"\nbrand = "B"\n\n[[sources]]\ntype = "rss"\nurl = "{httpserver.url_for(PATH)}"\n',
        encoding="utf-8",
    )
    old = item("old", "Old", "Still waiting for my refund", "Mon, 29 Apr 2024 10:00:00 GMT")
    httpserver.expect_request(PATH).respond_with_data(rss(old), content_type=RSS_TYPE)
    assert heard("gather", "--site", root, "--now", "2024-05-02T00:00:00Z").exit_code == 0
    before = snapshot(root / "content")
    whole = rss(
        item("new-1", "One", "Broken again", "Wed, 01 May 2024 10:00:00 GMT"),
        item("new-2", "Two", "Still no answer", "Wed, 01 May 2024 11:00:00 GMT"),
        old,
    )
    httpserver.clear()
    cut = whole[: whole.index("Still no answer")]  # the connection dropped mid-entry
    httpserver.expect_request(PATH).respond_with_data(cut, content_type=RSS_TYPE)
    failed = heard("gather", "--site", root, "--now", "2024-05-02T01:00:00Z")
    assert failed.exit_code == 1
    assert "the feed does not parse to its end" in failed.stderr
    assert snapshot(root / "content/cases") == {
        k.removeprefix("cases/"): v for k, v in before.items() if k.startswith("cases/")
    }
    state = "state/rss.json"
    assert (
        json.loads(snapshot(root / "content")[state])["cursor"]
        == json.loads(before[state])["cursor"]
    )
    httpserver.clear()
    httpserver.expect_request(PATH).respond_with_data(whole, content_type=RSS_TYPE)
    assert heard("gather", "--site", root, "--now", "2024-05-02T02:00:00Z").exit_code == 0
    assert sorted(load_record(root).cases) == ["reviews-new-1", "reviews-new-2", "reviews-old"]


def test_an_empty_feed_is_fine(httpserver: HTTPServer, make_client: ClientFactory) -> None:
    httpserver.expect_request(PATH).respond_with_data(rss(), content_type=RSS_TYPE)
    result = gather(make_client, {"seen": "2024-05-01T00:00:00Z"})
    assert result.posts == []
    assert result.cursor == {"seen": "2024-05-01T00:00:00Z"}


def test_429_retry_after_then_success(
    httpserver: HTTPServer, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    httpserver.expect_ordered_request(PATH).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3"}
    )
    httpserver.expect_ordered_request(PATH).respond_with_data(RSS_FEED, content_type=RSS_TYPE)
    result = gather(make_client)
    assert len(result.posts) == 3
    assert sleeps == [3.0]
    assert len(httpserver.log) == 2
    assert (result.requests, result.retries) == (2, 1)


def test_server_errors_back_off_then_succeed(
    httpserver: HTTPServer, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    for code in (500, 502, 503):
        httpserver.expect_ordered_request(PATH).respond_with_data("oops", status=code)
    httpserver.expect_ordered_request(PATH).respond_with_data(ATOM_FEED, content_type=ATOM_TYPE)
    assert len(gather(make_client).posts) == 2
    assert sleeps == [1.0, 2.0, 4.0]


def test_persistent_503_is_a_source_error(
    httpserver: HTTPServer, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    httpserver.expect_request(PATH).respond_with_data("down", status=503)
    message = feed_error(make_client(max_retries=2))
    assert message.endswith("/reviews/: HTTP 503 (gave up after 3 attempts)")
    assert len(httpserver.log) == 3
    assert sleeps == [1.0, 2.0]


def test_a_timeout_is_a_source_error(httpserver: HTTPServer, make_client: ClientFactory) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response(RSS_FEED, content_type=RSS_TYPE)

    httpserver.expect_request(PATH).respond_with_handler(slow)
    try:
        message = feed_error(make_client(timeout=0.2, max_retries=1))
    finally:
        release.set()
        deadline = time.monotonic() + 5
        while len(httpserver.log) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert message.endswith("/reviews/: timed out (gave up after 2 attempts)")


def test_a_404_is_not_retried(httpserver: HTTPServer, make_client: ClientFactory) -> None:
    httpserver.expect_request(PATH).respond_with_data("gone", status=404)
    assert feed_error(make_client()).endswith("/reviews/: HTTP 404")
    assert len(httpserver.log) == 1


# --- the contract scenario (tests/test_source_contract.py) ----------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


class FeedScenario:
    """Each complaint a review in an RSS feed (feeds carry no answers)."""

    type = "rss"
    channel = "reviews"
    env: Mapping[str, str] = MappingProxyType({})
    answers = False

    def config(self, base_url: str) -> str:
        return f'[[sources]]\ntype = "rss"\nurl = "{base_url}reviews/"\n'

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        entries = [
            item(
                f"review-{c.key}",
                f"Review {c.key}",
                xml_escape(html.escape(_NOT_XML.sub("", c.text))),
                email.utils.format_datetime(c.at, usegmt=True),
                f"https://reviews.example/acme/{c.key}",
            )
            for c in complaints
        ]
        server.expect_request(PATH).respond_with_response(
            Response(rss(*entries), content_type=RSS_TYPE)
        )


SCENARIO = FeedScenario()
