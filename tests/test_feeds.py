"""Atom feeds: valid RFC 4287 (RELAX NG + feedparser + the rules the schema cannot say),
hostile public text carried as text, hidden cases absent, removed cases reduced to dates."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from lxml import etree

from generator.config import Config, parse_config
from generator.meaning.lifecycle import CaseView, derive_all
from generator.meaning.metrics import summary
from generator.record.model import Case, Note
from generator.record.store import parse_note
from generator.record.times import format_instant, parse_instant
from generator.site import feeds
from tests.conftest import BASE_CONFIG, case, ev

NOW = parse_instant("2026-11-30T12:00:00Z")
CONFIG = parse_config(BASE_CONFIG)
BASE = "https://test.example/"
ATOM = "{http://www.w3.org/2005/Atom}"
RNG = etree.RelaxNG(etree.parse(str(Path(__file__).with_name("atom.rng"))))
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

HOSTILE = (
    "<script>alert(1)</script> ]]> & \x07bell\x0b\x0c\x1f\ufffe \u202eevil 😀\r\nline two\rthree"
)
HOSTILE_CLEAN = "<script>alert(1)</script> ]]> & bell \u202eevil 😀\nline two\nthree"
HIDDEN_ID = "reddit-hid9999"
HIDDEN_TEXT = "HIDDEN-SECRET-TEXT spam spam"
REMOVED_ID = "x-rem777"
REMOVED_SECRETS = ("REMOVED-SECRET-TEXT", "REMOVED-TITLE", "removedauthor", "removed-secret-url")
NOTE_MD = "**Fixed**: the [billing page](https://example.com/billing) no longer double-charges.\n\n- refunds sent"
BIG = "A" * 50_000 + "<&>" + "B" * 50_000  # a 100 KB complaint


def at(minutes: float) -> str:
    """A time `minutes` after a base two days before NOW."""
    return format_instant(NOW - timedelta(days=2) + timedelta(minutes=minutes))


def note(cid: str, text: str) -> Note:
    parsed = parse_note(text, cid, "n.md")
    assert isinstance(parsed, Note), parsed
    return parsed


def sample_cases() -> tuple[list[dict[str, Any]], dict[str, Note]]:
    """Hand-written cases covering every state, hostile text and a huge complaint."""
    cases = [
        case("x-1", ev("complaint", at(0), text=HOSTILE, url="https://x.example/p/1")),
        case(
            "x-2",
            ev("complaint", at(10), text="My bill is wrong\nplease help"),
            ev("reply", at(53), "brand", handle="TestCare", agent="JM", text="Sorry! DM us."),
        ),
        case(
            "mastodon-3",
            ev("complaint", at(20), text="The app crashes on start"),
            ev("reply", at(30), "brand", text="Looking into it"),
            title="App crash & <b>bold</b>",
        ),
        case(
            "x-4",
            ev("complaint", at(30), text="Support my 1998 printer"),
            ev("reply", at(40), "brand", handle="TestCare", text="We'll check"),
        ),
        case(HIDDEN_ID, ev("complaint", at(40), text=HIDDEN_TEXT, url="https://r.example/hid")),
        case(
            REMOVED_ID,
            ev(
                "complaint",
                at(50),
                text="REMOVED-SECRET-TEXT",
                url="https://x.example/removed-secret-url",
            ),
            ev("reply", at(55), "brand", handle="TestCare", text="Answer to REMOVED-SECRET-TEXT"),
            title="REMOVED-TITLE",
            url="https://x.example/removed-secret-url",
            author={"handle": "@removedauthor", "name": "removedauthor", "reach": 5},
        ),
        case("x-7", ev("complaint", at(60), text=BIG)),
        case(
            "x-8",
            ev("complaint", at(70), text="Bot answered me"),
            ev("reply", at(71), "brand", handle="TestBot", text="Automatic reply"),
        ),
        case(
            "github-9",
            ev("complaint", at(80), text="same-time steps"),
            ev("customer_reply", at(90), text="first"),
            ev("customer_reply", at(90), text="second"),
        ),
    ]
    notes = {
        "mastodon-3": note(
            "mastodon-3", f'---\nstatus: resolved\nat: "{at(600)}"\n---\n{NOTE_MD}\n'
        ),
        "x-4": note("x-4", f'---\nstatus: closed\nat: "{at(700)}"\n---\nWe cannot support it.\n'),
        HIDDEN_ID: note(HIDDEN_ID, f'---\nstatus: hidden\nat: "{at(41)}"\nreason: spam\n---\n'),
        REMOVED_ID: note(
            REMOVED_ID, f'---\nstatus: removed\nat: "{at(800)}"\nreason: author request\n---\n'
        ),
    }
    return cases, notes


def make_views(
    cases: list[dict[str, Any]], notes: dict[str, Note] | None = None, now: datetime = NOW
) -> list[CaseView]:
    return derive_all([Case.model_validate(c) for c in cases], notes or {}, now, CONFIG)


def sample_views(now: datetime = NOW) -> list[CaseView]:
    cases, notes = sample_cases()
    return make_views(cases, notes, now)


def make_summary(views: list[CaseView], config: Config = CONFIG) -> dict[str, Any]:
    return summary(
        views,
        NOW,
        brand=config.site.brand,
        window_days=config.policy.window_days,
        response_target=config.policy.response_target,
    )


def build(views: list[CaseView], now: datetime = NOW, config: Config = CONFIG) -> dict[str, bytes]:
    out = dict(feeds.files(views, make_summary(views, config), config, now))
    assert len(out) == len(list(feeds.files(views, {}, config, now)))  # no duplicate paths
    return out


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return build(sample_views())


def entries(data: bytes) -> list[Any]:
    return list(etree.fromstring(data).iter(f"{ATOM}entry"))


def entry_of(data: bytes, case_id: str) -> Any:
    wanted = f"{BASE}cases/{case_id}.html"
    found = [e for e in entries(data) if e.findtext(f"{ATOM}id") == wanted]
    assert len(found) == 1, case_id
    return found[0]


# --- validity -------------------------------------------------------------------------------


def test_every_shown_case_gets_a_feed_and_hidden_ones_none(built: dict[str, bytes]) -> None:
    shown = {v.id for v in sample_views() if not v.hidden}
    assert set(built) == {"feed.xml", *(f"feeds/{cid}.xml" for cid in shown)}
    assert f"feeds/{HIDDEN_ID}.xml" not in built
    assert len(entries(built["feed.xml"])) == len(shown)


def test_feeds_parse_without_bozo(built: dict[str, bytes]) -> None:
    for path, data in built.items():
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.version == "atom10", path
        assert parsed.entries, path


def test_feeds_validate_against_the_rfc_4287_schema(built: dict[str, bytes]) -> None:
    for path, data in built.items():
        assert RNG.validate(etree.fromstring(data)), (path, RNG.error_log)


def test_the_schema_rejects_a_broken_feed(built: dict[str, bytes]) -> None:
    # The check above can fail: an entry without its id is invalid.
    root = etree.fromstring(built["feed.xml"])
    first = next(root.iter(f"{ATOM}entry"))
    first.remove(first.find(f"{ATOM}id"))
    assert not RNG.validate(root)


def test_rules_the_schema_cannot_check(built: dict[str, bytes]) -> None:
    for path, data in built.items():
        root = etree.fromstring(data)
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
        dates = [el.text for tag in ("updated", "published") for el in root.iter(ATOM + tag)]
        assert dates, path
        assert all(RFC3339.match(d or "") for d in dates), path
        ids = [el.text for el in root.iter(f"{ATOM}id")]
        assert len(ids) == len(set(ids)), path
        assert all(urlsplit(i or "").scheme == "https" for i in ids), path
        for link in root.iter(f"{ATOM}link"):
            href = urlsplit(link.get("href"))
            assert href.scheme in ("http", "https"), (path, link.get("href"))
            assert href.netloc, (path, link.get("href"))
        # every entry has an author: the feed's, naming the brand
        assert [a.findtext(f"{ATOM}name") for a in root.findall(f"{ATOM}author")] == ["Test Co"]
        self_links = [
            link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"
        ]
        assert self_links == [BASE + path]
        for entry in root.iter(f"{ATOM}entry"):
            assert next(link.get("rel") for link in entry.findall(f"{ATOM}link")) == "alternate"
            assert entry.find(f"{ATOM}content").get("type") == "text"


def test_site_feed_head(built: dict[str, bytes]) -> None:
    root = etree.fromstring(built["feed.xml"])
    assert root.findtext(f"{ATOM}title") == "Test Co: we heard you"
    assert root.findtext(f"{ATOM}id") == BASE + "feed.xml"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"self": BASE + "feed.xml", "alternate": BASE}


# --- what the entries say ---------------------------------------------------------------------


def test_entries_newest_first_and_dated_by_their_last_event(built: dict[str, bytes]) -> None:
    views = {v.id: v for v in sample_views()}
    root = etree.fromstring(built["feed.xml"])
    updated = []
    for entry in root.iter(f"{ATOM}entry"):
        cid = entry.findtext(f"{ATOM}id").removeprefix(BASE + "cases/").removesuffix(".html")
        view = views[cid]
        assert entry.findtext(f"{ATOM}updated") == format_instant(view.last_event_at)
        assert entry.findtext(f"{ATOM}published") == format_instant(view.opened)
        updated.append(parse_instant(entry.findtext(f"{ATOM}updated")))
    assert updated == sorted(updated, reverse=True)
    assert root.findtext(f"{ATOM}updated") == format_instant(max(updated))


def test_titles_name_the_state(built: dict[str, bytes]) -> None:
    feed = built["feed.xml"]

    def title(cid: str) -> str:
        text: str = entry_of(feed, cid).findtext(f"{ATOM}title")
        return text

    assert title("x-2") == "Answered: My bill is wrong please help"
    assert title("mastodon-3") == "Fixed: App crash & <b>bold</b>"
    assert title("x-4") == "Closed, not fixed: Support my 1998 printer"
    assert title(REMOVED_ID) == "Removed at the author's request"
    assert title("x-1").startswith("Open: <script>alert(1)</script> ]]> & bell")
    big = title("x-7")
    assert big == "Open: " + "A" * 79 + "…"


def test_content_has_the_complaint_and_the_latest_step(built: dict[str, bytes]) -> None:
    feed = built["feed.xml"]
    answered = entry_of(feed, "x-2").findtext(f"{ATOM}content")
    assert answered.startswith("My bill is wrong\nplease help\n\n")
    assert "Latest: Brand reply (JM), 28 Nov 2026, 12:53 UTC:\nSorry! DM us." in answered
    fixed = entry_of(feed, "mastodon-3").findtext(f"{ATOM}content")
    assert NOTE_MD in fixed  # the note's Markdown source, as plain text
    assert "Status: Fixed." in fixed
    bot = entry_of(feed, "x-8").findtext(f"{ATOM}content")
    assert "automated: not counted as an answer" in bot


def test_entries_link_the_case_page_and_the_original_post(built: dict[str, bytes]) -> None:
    links = [
        (link.get("rel"), link.get("href"))
        for link in entry_of(built["feed.xml"], "x-1").findall(f"{ATOM}link")
    ]
    assert links == [("alternate", BASE + "cases/x-1.html"), ("related", "https://x.example/p/1")]
    step = entries(built["feeds/x-1.xml"])[0]
    assert [link.get("href") for link in step.findall(f"{ATOM}link")] == [
        BASE + "cases/x-1.html",
        "https://x.example/p/1",
    ]


def test_hostile_text_round_trips_as_text(built: dict[str, bytes]) -> None:
    for data in (built["feed.xml"], built["feeds/x-1.xml"]):
        assert b"<script>" not in data
        assert b"\x07" not in data
        assert b"\x0b" not in data
        content = entry_of(data, "x-1") if data is built["feed.xml"] else entries(data)[0]
        text = content.findtext(f"{ATOM}content")
        assert HOSTILE_CLEAN in text
        assert "😀" in text
        assert "\u202e" in text
    parsed = feedparser.parse(built["feeds/x-1.xml"])
    assert parsed.entries[0].content[0].value == HOSTILE_CLEAN


def test_xml_text_drops_only_what_xml_forbids() -> None:
    forbidden = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
    kept = "\t\n tab é 😀 \u202e \u0085 \ufffd"
    assert feeds.xml_text(forbidden + kept + "\ufffe\uffff") == kept
    assert feeds.xml_text("a\r\nb\rc") == "a\nb\nc"


def test_a_huge_complaint_is_cut(built: dict[str, bytes]) -> None:
    text = entry_of(built["feed.xml"], "x-7").findtext(f"{ATOM}content")
    assert "A" * feeds.MAX_TEXT not in text
    assert text.startswith("A" * (feeds.MAX_TEXT - 1) + "…\n\n")
    assert len(built["feeds/x-7.xml"]) < 3 * feeds.MAX_TEXT
    assert len(built["feed.xml"]) < 20 * feeds.MAX_TEXT


# --- hidden and removed ----------------------------------------------------------------------


def test_hidden_cases_are_nowhere(built: dict[str, bytes]) -> None:
    for path, data in built.items():
        assert HIDDEN_ID.encode() not in data, path
        assert b"HIDDEN-SECRET" not in data, path
        assert b"r.example/hid" not in data, path


def test_removed_cases_keep_only_id_state_and_dates(built: dict[str, bytes]) -> None:
    for path, data in built.items():
        for secret in REMOVED_SECRETS:
            assert secret.encode() not in data, (path, secret)
    entry = entry_of(built["feed.xml"], REMOVED_ID)
    view = next(v for v in sample_views() if v.id == REMOVED_ID)
    assert entry.findtext(f"{ATOM}updated") == format_instant(view.last_event_at)
    assert entry.findtext(f"{ATOM}published") == format_instant(view.opened)
    assert [link.get("rel") for link in entry.findall(f"{ATOM}link")] == ["alternate"]
    steps = entries(built[f"feeds/{REMOVED_ID}.xml"])
    assert len(steps) == len(view.steps)
    assert [s.findtext(f"{ATOM}title") for s in steps] == ["Removed", "Brand reply", "Complaint"]


# --- per-case feeds --------------------------------------------------------------------------


def test_case_feed_has_one_entry_per_step_newest_first(built: dict[str, bytes]) -> None:
    data = built["feeds/github-9.xml"]
    root = etree.fromstring(data)
    assert root.findtext(f"{ATOM}id") == BASE + "feeds/github-9.xml"
    assert root.findtext(f"{ATOM}title") == "Test Co: Open: same-time steps"
    items = entries(data)
    assert [e.findtext(f"{ATOM}content") for e in items] == ["second", "first", "same-time steps"]
    ids = [e.findtext(f"{ATOM}id") for e in items]
    case_page = BASE + "cases/github-9.html"
    assert ids == [
        case_page + "#step-20261128T133000Z-customer_reply-2",
        case_page + "#step-20261128T133000Z-customer_reply",
        case_page + "#step-20261128T132000Z-complaint",
    ]


def test_case_feed_of_a_resolved_case_carries_the_note(built: dict[str, bytes]) -> None:
    items = entries(built["feeds/mastodon-3.xml"])
    assert items[0].findtext(f"{ATOM}title") == "Fixed"
    assert items[0].findtext(f"{ATOM}content") == NOTE_MD


# --- stability -------------------------------------------------------------------------------


def test_same_input_same_bytes_whatever_the_order() -> None:
    views = sample_views()
    first = build(views)
    shuffled = list(views)
    random.Random(7).shuffle(shuffled)
    assert build(shuffled) == first
    assert build(sample_views()) == first


def test_an_entry_keeps_its_id_and_moves_on_each_event() -> None:
    cases, notes = sample_cases()
    before = build(make_views(cases, notes, parse_instant(at(20))))
    after = build(make_views(cases, notes, NOW))
    old, new = entry_of(before["feed.xml"], "x-2"), entry_of(after["feed.xml"], "x-2")
    assert old.findtext(f"{ATOM}title").startswith("Open: ")
    assert new.findtext(f"{ATOM}title").startswith("Answered: ")
    assert old.findtext(f"{ATOM}updated") == at(10)
    assert new.findtext(f"{ATOM}updated") == at(53)
    old_steps = {e.findtext(f"{ATOM}id") for e in entries(before["feeds/x-2.xml"])}
    new_steps = {e.findtext(f"{ATOM}id") for e in entries(after["feeds/x-2.xml"])}
    assert old_steps < new_steps


def test_empty_record_gives_a_valid_feed_dated_now() -> None:
    out = build([])
    assert list(out) == ["feed.xml"]
    root = etree.fromstring(out["feed.xml"])
    assert root.findtext(f"{ATOM}updated") == format_instant(NOW)
    assert RNG.validate(root), RNG.error_log
    assert not feedparser.parse(out["feed.xml"]).bozo


def test_at_most_200_entries_the_newest() -> None:
    cases = [case(f"x-{n}", ev("complaint", at(n), text=f"c{n}")) for n in range(205)]
    views = make_views(cases)
    data = build(views)["feed.xml"]
    ids = [e.findtext(f"{ATOM}id") for e in entries(data)]
    assert len(ids) == feeds.MAX_ENTRIES
    assert ids[0] == BASE + "cases/x-204.html"
    assert BASE + "cases/x-4.html" not in ids
    assert BASE + "cases/x-5.html" in ids


def test_site_language_and_description_are_used() -> None:
    text = BASE_CONFIG.replace(
        'base_url = "https://test.example/"',
        'base_url = "https://t.example/sub/"\nlanguage = "de"\ndescription = "Wir & <ihr>"',
    )
    config = parse_config(text)
    data = build(sample_views(), config=config)["feed.xml"]
    root = etree.fromstring(data)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "de"
    assert root.findtext(f"{ATOM}subtitle") == "Wir & <ihr>"
    assert root.findtext(f"{ATOM}id") == "https://t.example/sub/feed.xml"
    assert RNG.validate(root), RNG.error_log
