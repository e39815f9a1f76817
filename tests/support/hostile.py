"""A corpus of hostile text, and one site built from it through every input path.

Every payload carries a unique marker (``HOSTILE`` and two letters, nothing a redaction
rule touches) so it can be found in every output. `hostile_site()` gathers the payloads
from a local server answering like GitHub, Mastodon, Discourse and an RSS feed; imports
them as record lines (every text field); writes them as the team's notes (`heard resolve`
and hand-written files), a free page and the site's own strings in `heard.toml`; then
builds the site once per test session at a fixed now.
"""

from __future__ import annotations

import email.utils
import html
import json
import re
import shutil
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Response

from generator.gather.run import gather
from generator.site.render import _NOTE_TAGS
from tests.conftest import heard, write_lines
from tests.test_source_discourse import FakeDiscourse, Topic, post
from tests.test_source_feed import item, rss
from tests.test_source_github import comment, issue
from tests.test_source_mastodon import BRAND, BRAND_ID, account, mention, status

NOW = "2026-11-30T12:00:00Z"  # the browser tests' now (tests/browser/conftest.py)
GATHERED_AT = datetime(2026, 11, 30, 11, tzinfo=UTC)
START = datetime(2026, 11, 2, 9, tzinfo=UTC)
MARK = "HOSTILE"


@dataclass(frozen=True)
class Payload:
    """One hostile text. `markup`: it is HTML worth sending raw where a channel gives HTML."""

    key: str  # lowercase letters and '-': safe in a case id
    raw: str
    markup: bool = False
    marker: str = ""

    @property
    def text(self) -> str:
        """The payload with its marker in front (and after, to see nothing was swallowed)."""
        return f"{self.marker} {self.raw} {self.marker}Z"

    @property
    def short(self) -> str:
        """The marked text cut to fit a short field (handles, names, agents: 500 characters)."""
        return self.text if len(self.text) <= 480 else self.text[:470]


def _marked(items: list[tuple[str, str, bool]]) -> tuple[Payload, ...]:
    letters = [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase]
    return tuple(
        Payload(key, raw, markup, f"{MARK}{letters[i]}")
        for i, (key, raw, markup) in enumerate(items)
    )


_CORPUS: list[tuple[str, str, bool]] = [
    ("script", "<script>alert(1)</script>", True),
    ("script-break", "</script><script>alert(1)</script>", True),
    ("img-onerror", "<img src=x onerror=alert(1)>", True),
    ("svg-onload", "<svg onload=alert(1)>", True),
    ("svg-script", "<svg><script>alert(1)</script></svg>", True),
    ("math-mglyph", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", True),
    ("attr-double", '" onmouseover="alert(1)" autofocus onfocus="alert(1)" x="', False),
    ("attr-single", "' onmouseover='alert(1)' autofocus onfocus='alert(1)' x='", False),
    ("anchor-onclick", "<a href=x onclick=alert(1)>click me</a>", True),
    ("details-toggle", "<details open ontoggle=alert(1)>", True),
    ("js-url", "javascript:alert(1)", False),
    ("js-url-mixed", "JaVaScRiPt:alert(1)", False),
    ("js-url-entity", "&#106;avascript:alert(1)", False),
    ("js-url-space", " javascript:alert(1)", False),
    ("js-url-tab", "java\tscript:alert(1)", False),
    ("data-url", "data:text/html,<script>alert(1)</script>", False),
    ("vbscript-url", "vbscript:msgbox(1)", False),
    ("md-js-link", "[click me](javascript:alert(1)) and [me too](JaVaScRiPt:alert(1))", False),
    ("md-data-link", "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", False),
    ("md-image", "![x](javascript:alert(1)) ![y](https://evil.example/track.png)", False),
    ("md-autolink", "<javascript:alert(1)> <https://evil.example/>", True),
    ("raw-js-link", '<a href="javascript:alert(1)">click me</a>', True),
    ("raw-entity-link", '<a href="&#106;avascript:alert(1)">click me</a>', True),
    ("iframe", '<iframe src="https://evil.example/"></iframe>', True),
    ("style", "<style>body{display:none}</style>", True),
    ("style-attr", '<p style="position:fixed;top:0;left:0;width:9999px">wide</p>', True),
    ("object-embed", '<object data="javascript:alert(1)"></object><embed src="data:x">', True),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', True),
    ("base-href", '<base href="https://evil.example/">', True),
    ("form", '<form action="https://evil.example/"><input name=q><button>go</button></form>', True),
    ("broken-open", "<div", True),
    ("broken-attr", '"><b>bold</b>', True),
    ("textarea", "</textarea><script>alert(1)</script>", True),
    ("title-break", "</title><script>alert(1)</script>", True),
    ("cdata", "]]><x>y</x><![CDATA[z]]>", True),
    ("comment", "<!-- <!--", True),
    ("entities", "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &quot; &#x3C;b&#x3E;", False),
    ("xml-entity", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>&e;', True),
    ("jinja-expr", "{{ 7*7 }} {{ config }} {{ self.__init__ }}", False),
    ("jinja-stmt", "{% for x in range(3) %}{{ x }}{% endfor %} {# hidden #} {% raw %}", False),
    ("other-templates", "${7*7} #{7*7} <%= 7*7 %> @(7*7)", False),
    ("js-string", '\'";alert(1);// \\"});alert(1);//', False),
    ("backslash-u", "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e", False),
    (
        "bidi",
        "\u202egnp.exe \u2066iso\u2069 \u2067rtl\u2069 \u2068fsi\u2069 \u202a\u202b\u202c\u202d",
        False,
    ),
    ("rlo", "\u202eexe.txt and the rest of the line is reversed", False),  # never closed
    ("zero-width", "a\u200bb\ufeffc\u200dd\u2060e\u200cf", False),
    ("line-separators", "one\u2028two\u2029three", False),
    ("emoji", "👩‍👩‍👧‍👦 🏳️‍🌈 🇬🇧 Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇ ﷽ 𝕳𝖊𝖑𝖑𝖔", False),
    ("controls", "red\x1b[31m bell\x07 del\x7f ff\x0c", False),
]
PAYLOADS: tuple[Payload, ...] = _marked(_CORPUS)
BY_KEY = {p.key: p for p in PAYLOADS}
# Payloads a YAML front matter or a TOML string can hold as typed (no C0 controls).
PRINTABLE = tuple(p for p in PAYLOADS if p.key != "controls")

# Big ones: only where the record allows them (event text up to 200,000 characters).
BIG_MARK = f"{MARK}big"
BIG_POST = (
    BIG_MARK
    + " "
    + "\n\n".join(
        f"Paragraph {i}: the app still crashes <script>alert({i})</script> {{{{ 7*7 }}}} "
        + "and nobody answers. " * 12
        for i in range(400)
    )
)[:100_000]
LONG_MARK = f"{MARK}long"
LONG_WORD = LONG_MARK + "W" * 3000  # no break opportunity at all
LONG_HANDLE = "@" + LONG_MARK.lower() + "h" * 400
LONG_TITLE = LONG_MARK + "T" * 900

# URLs a record line must refuse (the record holds http(s) URLs only).
REFUSED_URLS: tuple[str, ...] = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "&#106;avascript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "https://evil.example/a b",
    "https://evil.example/\nx",
    "https://evil.example/x\n",
    "file:///etc/passwd",
)
# http(s) URLs the record accepts: they must be escaped wherever they are written.
ODD_URLS: tuple[str, ...] = (
    'https://evil.example/"><script>alert(1)</script>',
    "https://evil.example/'onmouseover='alert(1)'",
    "https://evil.example/</script><script>alert(1)</script>",
    "https://evil.example/\u202egnp.exe",
    "HTTPS://EVIL.EXAMPLE/{{7*7}}",
)
SITE_TITLE = f"{MARK}SITE <script>alert(1)</script> {{{{ 7*7 }}}} \u202e&amp; \"'"
SITE_BRAND = f'{MARK}BRAND "><img src=x onerror=alert(1)> ${{7*7}} &lt;b&gt;'
SITE_DESCRIPTION = f'{MARK}DESC </title><script>alert(1)</script> " onload="alert(1) {{% raw %}}'
PAGE_TITLE = f"{MARK}PAGE <svg onload=alert(1)> {{{{ 7*7 }}}}"


def toml_string(value: str) -> str:
    """A TOML basic string holding `value` exactly (controls as \\u escapes)."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def collapse(text: str) -> str:
    """Whitespace runs as one space (how HTML shows text, and how sources store it)."""
    return " ".join(text.split())


# ----------------------------------------------------------------------------------------
# Where each payload went.


@dataclass(frozen=True)
class Placed:
    """A payload sent down one input path into one case.

    `literal`: its text must come out unchanged (whitespace aside) in the case's timeline.
    """

    case_id: str
    payload: Payload
    path: str
    literal: bool
    title: bool = False  # also the case's title


@dataclass
class HostileSite:
    """The hostile site: its folder, the built output, and where every payload went."""

    root: Path
    out: Path
    placed: list[Placed] = field(default_factory=list)
    gather_errors: dict[str, str | None] = field(default_factory=dict)
    handles: dict[str, str] = field(default_factory=dict)  # case id → author handle

    def pages(self, pattern: str = "**/*.html") -> list[Path]:
        """Built files matching pattern, sorted."""
        return sorted(self.out.glob(pattern))


def at(minutes: int) -> datetime:
    """A moment `minutes` after the corpus' start."""
    return START + timedelta(minutes=minutes)


def iso(moment: datetime, millis: bool = False) -> str:
    """ISO 8601 in UTC with Z (optionally with milliseconds, as Mastodon and Discourse)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (".000Z" if millis else "Z")


# ----------------------------------------------------------------------------------------
# (a) gather: a local server answering like each provider.

GITHUB_BASE = 100
MASTODON_BASE = 2000
MASTODON_RAW_BASE = 3000
DISCOURSE_BASE = 400


def _json(data: Any) -> Response:
    return Response(json.dumps(data), content_type="application/json; charset=utf-8")


def serve_github(server: HTTPServer, placed: list[Placed]) -> None:
    """One issue per payload (title, body, author login, a label) and a member's answer."""
    issues, comments = [], []
    for i, p in enumerate(PAYLOADS):
        number = GITHUB_BASE + i
        created = iso(at(i))
        item_ = issue(number, by=p.short, created=created, body=p.text, labels=(p.short,))
        item_["title"] = p.text
        issues.append(item_)
        comments.append(
            comment(
                9000 + i,
                number,
                by="acme-care",
                association="MEMBER",
                created=iso(at(i + 30)),
                body=f"Answer: {p.text}",
            )
        )
        placed.append(Placed(f"github-{number}", p, "github", literal=True, title=True))
    big = issue(GITHUB_BASE - 1, created=iso(at(0)), body=BIG_POST)
    big["title"] = f"{BIG_MARK} a 100 KB issue"
    issues.append(big)
    server.expect_request("/repos/acme/app/issues").respond_with_response(_json(issues))
    server.expect_request("/repos/acme/app/issues/comments").respond_with_response(_json(comments))


def serve_mastodon(server: HTTPServer, placed: list[Placed]) -> None:
    """Mentions: the payload typed by a person (escaped in `content`, as Mastodon sends it)
    with the payload as display name and content warning; and, from a hostile instance,
    markup payloads raw in `content`."""
    notifications = []
    for i, p in enumerate(PAYLOADS):
        sid = str(MASTODON_BASE + i)
        who = account(f"7{i:03d}", f"user{i}", display_name=p.short, followers=10 + i)
        content = "<p>" + html.escape(p.text, quote=False).replace("\n", "<br>") + "</p>"
        st = status(sid, who, content, at=iso(at(60 + i), millis=True))
        notifications.append(mention(f"1{sid}", st))
        # "&" typed by a person: see test_entities_typed_by_a_person_stay_literal (a bug)
        placed.append(Placed(f"mastodon-{sid}", p, "mastodon", literal="&" not in p.raw))
        if p.markup:
            rid = str(MASTODON_RAW_BASE + i)
            raw = status(
                rid,
                who,
                f"<p>{p.marker} {p.raw}</p>",
                at=iso(at(120 + i), millis=True),
                spoiler_text=p.short,
            )
            raw["url"] = REFUSED_URLS[i % len(REFUSED_URLS)]  # dropped: not http(s)
            raw["uri"] = ODD_URLS[i % len(ODD_URLS)]  # kept, and escaped wherever it is shown
            notifications.append(mention(f"1{rid}", raw))
            placed.append(Placed(f"mastodon-{rid}", p, "mastodon-raw", literal=False))
    notifications.sort(key=lambda n: n["id"], reverse=True)
    server.expect_request("/api/v1/accounts/verify_credentials").respond_with_response(_json(BRAND))
    server.expect_request("/api/v1/notifications").respond_with_response(_json(notifications))
    server.expect_request(f"/api/v1/accounts/{BRAND_ID}/statuses").respond_with_response(_json([]))


def serve_discourse(server: HTTPServer, placed: list[Placed]) -> None:
    """A topic per payload: the payload as title, author name and (escaped) post; a staff
    answer with markup payloads raw in `cooked`."""
    forum = FakeDiscourse(server, page_size=200)
    for i, p in enumerate(PAYLOADS):
        tid = DISCOURSE_BASE + i
        cooked = "<p>" + html.escape(p.text, quote=False) + "</p>"
        posts = [
            post(tid, 1, name=p.short, created=iso(at(200 + i), millis=True), cooked=cooked),
            post(
                tid,
                2,
                by="acme_staff",
                name="Acme staff",
                staff=True,
                created=iso(at(230 + i), millis=True),
                cooked=f"<p>{p.marker} {p.raw}</p>" if p.markup else f"<p>{p.marker} ok</p>",
            ),
        ]
        forum.add(Topic(tid, p.text, posts))
        placed.append(
            Placed(f"discourse-{tid}", p, "discourse", literal="&" not in p.raw, title=True)
        )
    forum.install()


def _xml(text: str) -> str:
    return html.escape(text, quote=False)


def serve_feed(server: HTTPServer, placed: list[Placed]) -> None:
    """An RSS item per payload: the payload as title and description (the description is
    HTML, so the payload is escaped twice), and a hostile link; markup payloads also raw."""
    links = [*REFUSED_URLS, *ODD_URLS]
    items = []
    for i, p in enumerate(PAYLOADS):
        when = email.utils.format_datetime(at(300 + i), usegmt=True)
        link = _xml(links[i % len(links)])
        items.append(item(f"rss-{p.key}", _xml(p.text), _xml(_xml(p.text)), when, link, ""))
        placed.append(Placed(f"reviews-rss-{p.key}", p, "rss", literal=False))
        if p.markup:
            items.append(
                item(f"rssraw-{p.key}", _xml(p.text), _xml(f"{p.marker} {p.raw}"), when, None)
            )
            placed.append(Placed(f"reviews-rssraw-{p.key}", p, "rss-raw", literal=False))
    server.expect_request("/reviews/").respond_with_response(
        Response(rss(*items), content_type="application/rss+xml; charset=utf-8")
    )


def sources_config(server: HTTPServer) -> str:
    """The [[sources]] of the hostile site, all on the local server."""
    base = server.url_for("/")
    return f"""
[[sources]]
type = "github"
repo = "acme/app"
base_url = "{base}"

[[sources]]
type = "mastodon"
base_url = "{base}"
token_env = "MASTODON_TOKEN"

[[sources]]
type = "discourse"
base_url = "{base}"
category = "support/5"

[[sources]]
type = "rss"
url = "{server.url_for("/reviews/")}"
"""


# ----------------------------------------------------------------------------------------
# (b) import: every text field of a record line.


def import_lines(placed: list[Placed], handles: dict[str, str]) -> list[dict[str, Any]]:
    """One case per payload with the payload in every text field; plus the big ones."""
    lines: list[dict[str, Any]] = []
    for i, p in enumerate(PAYLOADS):
        cid = f"imported-{p.key}"
        handle = "@" + p.short
        handles[cid] = handle
        events: list[dict[str, Any]] = [
            {
                "kind": "complaint",
                "at": iso(at(400 + i)),
                "by": "customer",
                "url": ODD_URLS[i % len(ODD_URLS)],
                "text": p.text,
                "handle": handle,
            },
            {
                "kind": "reply",
                "at": iso(at(430 + i)),
                "by": "brand",
                "agent": p.short,
                "text": f"Reply: {p.text}",
                "url": f"https://hostile.example/reply/{p.key}",
            },
        ]
        if i % 3 == 0:  # some still open, some answered
            events = events[:1]
        lines.append(
            {
                "id": cid,
                "channel": "imported",
                "url": ODD_URLS[(i + 1) % len(ODD_URLS)],
                "title": p.text,
                "author": {"handle": handle, "name": p.short, "reach": 1000 + i},
                "tags": [p.short, "billing"],
                "events": events,
            }
        )
        placed.append(Placed(cid, p, "import", literal=True, title=True))
    handles["imported-big"] = "@bigposter@hostile.example"
    handles["imported-long"] = LONG_HANDLE
    lines.append(
        {
            "id": "imported-big",
            "channel": "imported",
            "title": f"{BIG_MARK} a 100 KB post",
            "author": {"handle": "@bigposter@hostile.example"},
            "events": [
                {"kind": "complaint", "at": iso(at(500)), "by": "customer", "text": BIG_POST}
            ],
        }
    )
    lines.append(
        {
            "id": "imported-long",
            "channel": "imported",
            "title": LONG_TITLE,
            "author": {"handle": LONG_HANDLE, "name": LONG_MARK + "N" * 400},
            "tags": [LONG_MARK + "G" * 400],
            "events": [
                {"kind": "complaint", "at": iso(at(501)), "by": "customer", "text": LONG_WORD},
                {
                    "kind": "reply",
                    "at": iso(at(502)),
                    "by": "brand",
                    "agent": LONG_MARK + "A" * 400,
                    "text": LONG_WORD,
                    "url": "https://hostile.example/" + "p" * 3000,
                },
            ],
        }
    )
    return lines


# ----------------------------------------------------------------------------------------
# (c) notes: `heard resolve` and hand-written files.


def noted_lines() -> list[dict[str, Any]]:
    """A plain case per payload for the team's notes to carry the payload."""
    return [
        {
            "id": f"noted-{p.key}",
            "channel": "noted",
            "title": f"Noted case {p.marker}",
            "events": [
                {"kind": "complaint", "at": iso(at(600 + i)), "by": "customer", "text": "broken"}
            ],
        }
        for i, p in enumerate(PAYLOADS)
    ]


def note_markdown(p: Payload) -> str:
    """The payload as the body of a public note, inline and in a block of its own."""
    return f"Fixed {p.marker}: {p.raw}\n\n{p.raw}\n\n- item {p.raw}\n\nEnd {p.marker}Z"


def note_file(p: Payload, status: str) -> str:
    """A hand-written note (YAML front matter with payloads, Markdown body with raw HTML)."""
    meta: dict[str, Any] = {"status": status, "at": iso(at(700)), "agent": p.short}
    if status == "hidden":
        meta["reason"] = p.short
    meta["history"] = [{"status": "note", "at": iso(at(650)), "agent": p.short, "note": p.text}]
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{front}---\n{note_markdown(p)}\n"


NOTE_STATUSES = ("closed", "note", "hidden")


def free_page() -> str:
    """content/pages/hostile.md: a payload title and a body of raw HTML and Markdown."""
    front = yaml.safe_dump({"title": PAGE_TITLE}, allow_unicode=True, width=10_000)
    body = "\n\n".join(f"{p.marker} {p.raw}" for p in PRINTABLE)
    # An unclosed <style> or <!-- in raw HTML hides the rest of the page (as in a browser).
    return f"---\n{front}---\n# {PAGE_TITLE}\n\n{LONG_WORD}\n\n{body}\n"


# ----------------------------------------------------------------------------------------
# (d) the site's own strings.


def site_config(server: HTTPServer) -> str:
    """heard.toml with hostile title, brand and description (TOML-escaped)."""
    return f"""\
[site]
title = {toml_string(SITE_TITLE)}
brand = {toml_string(SITE_BRAND)}
description = {toml_string(SITE_DESCRIPTION)}
base_url = "https://hostile.example/heard/"

[accounts]
github = ["acme-care"]
mastodon = ["@acme@social.example"]

[policy]
response_target = "1h"
window_days = 30
{sources_config(server)}"""


# ----------------------------------------------------------------------------------------
# The site, built once per session.

_BUILT: dict[str, HostileSite] = {}


def hostile_site(base: Path) -> HostileSite:
    """Build the hostile site under `base` (a session's temp folder); once per `base`."""
    key = str(base)
    if key not in _BUILT:
        _BUILT[key] = _build(base / "hostile")
    return _BUILT[key]


def _write_notes(site: HostileSite, staging: Path) -> None:
    """Half the notes by `heard resolve`, half by hand. `heard resolve` runs on a staging
    site holding only the noted cases (loading the big record 24 times would be slow), and
    its note files are then copied: they are exactly what it writes."""
    staging.mkdir()
    (staging / "heard.toml").write_text(
        (site.root / "heard.toml").read_text("utf-8"), encoding="utf-8"
    )
    write_lines(staging / "noted.jsonl", noted_lines())
    result = heard("import", "--site", staging, staging / "noted.jsonl")
    assert result.exit_code == 0, result.output + result.stderr
    notes = site.root / "content" / "notes"
    notes.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(PAYLOADS):
        cid = f"noted-{p.key}"
        if i % 2 == 0:
            result = heard(
                "resolve", "--site", staging, "--now", iso(at(700)), "--agent", p.short,
                "--note", note_markdown(p), cid,
            )  # fmt: skip
            assert result.exit_code == 0, f"{cid}: {result.output}{result.stderr}"
            shutil.copy(staging / "content" / "notes" / f"{cid}.md", notes / f"{cid}.md")
        elif p in PRINTABLE:
            status = NOTE_STATUSES[(i // 2) % len(NOTE_STATUSES)]
            (notes / f"{cid}.md").write_text(note_file(p, status), encoding="utf-8")
        site.placed.append(Placed(cid, p, "note", literal=False))


def _build(folder: Path) -> HostileSite:
    root = folder / "site"
    root.mkdir(parents=True)
    site = HostileSite(root, folder / "_site")
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        serve_github(server, site.placed)
        serve_mastodon(server, site.placed)
        serve_discourse(server, site.placed)
        serve_feed(server, site.placed)
        (root / "heard.toml").write_text(site_config(server), encoding="utf-8")
        report = gather(
            root,
            GATHERED_AT,
            environ={"MASTODON_TOKEN": "FAKE_HOSTILE_TOKEN"},
            client_options={"sleep": lambda _s: None},
        )
        site.gather_errors = {s.key: s.error for s in report.sources}
    finally:
        server.clear()
        server.stop()
    export = folder / "export.jsonl"
    write_lines(export, [*import_lines(site.placed, site.handles), *noted_lines()])
    result = heard("import", "--site", root, export)
    assert result.exit_code == 0, result.output + result.stderr
    _write_notes(site, folder / "staging")
    pages = root / "content" / "pages"
    pages.mkdir(parents=True)
    (pages / "hostile.md").write_text(free_page(), encoding="utf-8")
    result = heard("build", "--site", root, "--out", site.out, "--now", NOW)
    assert result.exit_code == 0, result.output + result.stderr
    return site


# --- reading a built page as a browser's tokenizer does ------------------------------------

SAFE_SCHEMES = {"http", "https", "mailto"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "cite",
             "background", "srcset", "ping", "codebase", "longdesc", "manifest"}  # fmt: skip
THEME_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "a", "header", "nav", "ul", "li",
    "main", "footer", "p", "time", "article", "h1", "h2", "span", "bdi", "dl", "div", "dt", "dd",
    "section", "ol", "strong", "em", "figure", "figcaption", "details", "summary", "table",
    "caption", "thead", "tbody", "tr", "th", "td", "svg", "defs", "pattern", "rect", "line",
    "text", "g", "form", "label", "input", "button", "noscript",
}  # fmt: skip
ALLOWED_TAGS = THEME_TAGS | set(_NOTE_TAGS)
META_NAMES = {"viewport", "referrer", "description"}


class Scan(HTMLParser):
    """A page as a browser's tokenizer sees it: tags with attributes, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.inline_script: list[str] = []
        self.title: list[str] = []
        self.stack: list[str] = []
        self.svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.svg += tag == "svg"
        if tag in ("script", "style") or (tag == "title" and not self.svg):
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.svg -= tag == "svg"
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        where = self.stack[-1] if self.stack else ""
        if where == "script":
            self.inline_script.append(data)
        elif where == "title":
            self.title.append(data)
        elif where != "style":
            self.chunks.append(data)

    @property
    def text(self) -> str:
        return collapse("".join(self.chunks))


def scan(path: Path) -> Scan:
    s = Scan()
    s.feed(path.read_text("utf-8"))
    s.close()
    return s


def scheme_of(url: str) -> str | None:
    """The scheme a browser would see: ASCII whitespace and controls anywhere are ignored."""
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", url).lower()
    match = re.match(r"^([a-z][a-z0-9+.-]*):", cleaned)
    return match.group(1) if match else None


def html_problems(out: Path, path: Path) -> list[str]:
    """Everything unsafe in one built page of the site built into `out`."""
    rel = path.relative_to(out).as_posix()
    root = "../" * rel.count("/")
    s = scan(path)
    problems: list[str] = []
    if "".join(s.inline_script).strip():
        problems.append(f"inline script: {''.join(s.inline_script)[:80]!r}")
    for tag, attrs in s.tags:
        if tag not in ALLOWED_TAGS:
            problems.append(f"unexpected element <{tag} {attrs}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"event handler <{tag} {name}={value!r}>")
            if name in ("style", "srcdoc"):
                problems.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRS and value is not None:
                scheme = scheme_of(value)
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    problems.append(f"<{tag} {name}={value!r}>: a {scheme}: URL")
        scripts = {f"{root}freshness.js"} | (
            {f"{root}lookup/find.js"} if rel == "find.html" else set()
        )
        if tag == "script" and attrs.get("src") not in scripts:  # heard's own script files only
            problems.append(f"script element <script {attrs}>")
        if tag == "a" and re.match(r"^https?://", attrs.get("href") or "", re.IGNORECASE):
            rel_tokens = set((attrs.get("rel") or "").split())
            if not {"nofollow", "noopener"} <= rel_tokens:
                problems.append(f"external link without rel nofollow noopener: {attrs}")
        if tag == "meta" and not (
            set(attrs) == {"charset"}
            or attrs.get("name") in META_NAMES
            or attrs.get("http-equiv") == "Content-Security-Policy"
        ):
            problems.append(f"unexpected <meta {attrs}>")
        if tag == "link" and scheme_of(attrs.get("href") or "") is not None:
            problems.append(f"<link> to another site: {attrs}")
        if tag in ("form", "input", "button") and rel != "find.html":
            problems.append(f"<{tag} {attrs}> outside the find page")
    if "49" in s.text and re.search(rf"{MARK}[A-Z]{{2}} 49\b", s.text):
        problems.append("a template was evaluated: '49' where '{{ 7*7 }}' was written")
    return [f"{rel}: {p}" for p in problems]
