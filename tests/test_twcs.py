"""The importer of the twcs ("Customer Support on Twitter") CSV layout.

Small hand-written files pin down the rules and every error message; the real sample
files check that the clean and the raw ("as published") file give the same cases, and
an independent re-computation (plain csv and datetime code, no product code) checks the
cases and their first-response delays for one brand.

Data attribution: the sample files under ``../shared/data/`` are the first 5,000 rows of
the dataset "Customer Support on Twitter" (Thought Vector, Kaggle, 2017), licensed
CC BY-NC-SA 4.0. They are used in tests only and are not shipped with the product.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import pytest

from generator.errors import HeardError
from generator.gather.imports.twcs import read_twcs
from generator.meaning.words import agent_of
from generator.record.model import Case, case_to_line
from tests.conftest import shared_data

CLEAN = "twcs_head5000.csv"
RAW = "raw/twcs_head5000_as_published.csv"

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
COLUMNS = (
    "tweet_id, author_id, inbound, created_at, text, response_tweet_id, in_response_to_tweet_id"
)


def write(tmp_path: Path, body: str | bytes, name: str = "t.csv") -> Path:
    """A file holding exactly these bytes (str is UTF-8 encoded, newlines untranslated)."""
    path = tmp_path / name
    path.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    return path


def lines(cases: list[Case]) -> list[str]:
    return [case_to_line(c) for c in cases]


# --- a known conversation -------------------------------------------------------------

KNOWN = HEADER + (
    # the brand's first reply comes before the root in the file
    "2,AcmeHelp,False,Tue Oct 31 10:43:00 +0000 2017,"
    "@101 Sorry to hear that! Please DM us your order number. ^JM,3,1\n"
    '1,101,True,Tue Oct 31 10:00:00 +0000 2017,@AcmeHelp my order never came,"2,9,10",\n'
    # same second as the brand's reply: file order kept
    '3,101,True,Tue Oct 31 10:43:00 +0000 2017,@AcmeHelp done,"4,11",2\n'
    '4,acmehelp,False,Tue Oct 31 11:30:00 +0000 2017,"@101 Thanks, a new one is on its way\n'
    '^ MC",,3\n'
    "9,OtherBrand,False,Tue Oct 31 10:50:00 +0000 2017,@101 not us,,1\n"
    "10,555,True,Tue Oct 31 10:55:00 +0000 2017,@101 @AcmeHelp me too,,1\n"
    "11,AcmeHelp,False,Tue Oct 31 12:00:00 +0000 2017,@101 Anything else? -Dan,,3\n"
    # a conversation for another brand
    "5,102,True,Tue Oct 31 12:00:00 +0000 2017,@OtherBrand my bill is wrong,6,\n"
    "6,OtherBrand,False,Tue Oct 31 12:05:00 +0000 2017,@102 we're on it,,5\n"
    # an orphan: tweet 99 is not in the file; its whole conversation is skipped once
    "7,AcmeHelp,False,Tue Oct 31 13:00:00 +0000 2017,@103 following up,8,99\n"
    "8,103,True,Tue Oct 31 13:10:00 +0000 2017,@AcmeHelp still broken,12,7\n"
    "12,AcmeHelp,False,Tue Oct 31 13:20:00 +0000 2017,@103 on it ^KL,,8\n"
)

KNOWN_CASE = {
    "id": "x-1",
    "channel": "x",
    "author": {"handle": "101"},
    "events": [
        {
            "kind": "complaint",
            "at": "2017-10-31T10:00:00Z",
            "by": "customer",
            "text": "@AcmeHelp my order never came",
        },
        {
            "kind": "reply",
            "at": "2017-10-31T10:43:00Z",
            "by": "brand",
            "text": "@101 Sorry to hear that! Please DM us your order number. ^JM",
            "agent": "JM",
            "handle": "AcmeHelp",
        },
        {
            "kind": "customer_reply",
            "at": "2017-10-31T10:43:00Z",
            "by": "customer",
            "text": "@AcmeHelp done",
        },
        {
            "kind": "reply",
            "at": "2017-10-31T11:30:00Z",
            "by": "brand",
            "text": "@101 Thanks, a new one is on its way\n^ MC",
            "agent": "MC",
            "handle": "acmehelp",
        },
        {
            "kind": "reply",
            "at": "2017-10-31T12:00:00Z",
            "by": "brand",
            "text": "@101 Anything else? -Dan",
            "handle": "AcmeHelp",
        },
    ],
}


def test_known_conversation(tmp_path: Path) -> None:
    result = read_twcs(write(tmp_path, KNOWN), "AcmeHelp")
    assert [
        c.model_dump(mode="json", exclude_none=True, exclude={"tags"}) for c in result.cases
    ] == [KNOWN_CASE]
    assert result.cases[0].url is None
    assert result.tweets == 12
    assert result.conversations == 2
    assert result.skipped_missing_parent == 1
    assert result.skipped_other_brand == 1


def test_the_other_brand_sees_its_own_case(tmp_path: Path) -> None:
    result = read_twcs(write(tmp_path, KNOWN), "@otherbrand")
    assert [c.id for c in result.cases] == ["x-1", "x-5"]
    other = {c.id: c for c in result.cases}
    assert [e.kind for e in other["x-5"].events] == ["complaint", "reply"]
    # in x-1 only OtherBrand's own tweet is a reply; AcmeHelp's tweets are left out
    assert [(e.kind, e.handle) for e in other["x-1"].events] == [
        ("complaint", None),
        ("customer_reply", None),
        ("reply", "OtherBrand"),
    ]
    assert result.skipped_missing_parent == 0  # the orphan conversation is AcmeHelp's
    assert result.skipped_other_brand == 0


def test_case_lines_are_sorted_by_id_and_serialise(tmp_path: Path) -> None:
    body = HEADER + "".join(
        f"{n},{100 + n},True,Tue Oct 31 10:00:0{n} +0000 2017,@AcmeHelp case {n},,\n"
        for n in (9, 3, 1)
    )
    result = read_twcs(write(tmp_path, body), "AcmeHelp")
    assert [c.id for c in result.cases] == ["x-1", "x-3", "x-9"]
    assert lines(result.cases)[0] == (
        '{"id": "x-1", "channel": "x", "author": {"handle": "101"}, "events": [{"kind": '
        '"complaint", "at": "2017-10-31T10:00:01Z", "by": "customer", "text": "@AcmeHelp case 1"}]}'
    )


def test_orphans_are_counted_per_conversation(tmp_path: Path) -> None:
    body = HEADER + (
        # two separate conversations start at tweets whose parents (98, 99) are missing
        "1,AcmeHelp,False,Tue Oct 31 10:00:00 +0000 2017,@201 hi,2,98\n"
        '2,201,True,Tue Oct 31 10:01:00 +0000 2017,@AcmeHelp hi,"3,4",1\n'
        "3,AcmeHelp,False,Tue Oct 31 10:02:00 +0000 2017,@201 ok,,2\n"
        "4,AcmeHelp,False,Tue Oct 31 10:03:00 +0000 2017,@201 also,,2\n"
        "5,202,True,Tue Oct 31 10:04:00 +0000 2017,@AcmeHelp where is it,,99\n"
        # another brand's orphan is not this brand's to count
        "6,203,True,Tue Oct 31 10:05:00 +0000 2017,@OtherBrand hm,,97\n"
    )
    result = read_twcs(write(tmp_path, body), "AcmeHelp")
    assert result.cases == []
    assert (result.conversations, result.skipped_missing_parent, result.skipped_other_brand) == (
        0,
        2,
        0,
    )


def test_conversations_follow_child_lists_too(tmp_path: Path) -> None:
    # tweet 2 names no parent, but the root lists it as a reply
    body = HEADER + (
        "1,101,True,Tue Oct 31 10:00:00 +0000 2017,my parcel is lost,2,\n"
        "2,AcmeHelp,False,Tue Oct 31 10:10:00 +0000 2017,@101 sorry,,\n"
    )
    result = read_twcs(write(tmp_path, body), "AcmeHelp")
    assert [[e.kind for e in c.events] for c in result.cases] == [["complaint", "reply"]]


# --- the @brand mention rule ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "brand", "is_case"),
    [
        ("@AppleSupport my phone died", "AppleSupport", True),
        ("my phone died, @applesupport!", "AppleSupport", True),
        ("@AppleSupport", "@applesupport", True),
        ("help @AppleSupport.", "APPLESUPPORT", True),
        ("@AppleSupportX my phone died", "AppleSupport", False),
        ("@AppleSupport_ my phone died", "AppleSupport", False),
        ("@Apple my phone died", "AppleSupport", False),
        ("mail me@AppleSupport", "AppleSupport", False),
        ("AppleSupport my phone died", "AppleSupport", False),
    ],
)
def test_mention_rule(tmp_path: Path, text: str, brand: str, is_case: bool) -> None:
    body = HEADER + f'1,101,True,Tue Oct 31 10:00:00 +0000 2017,"{text}",,\n'
    result = read_twcs(write(tmp_path, body), brand)
    assert result.conversations == 1
    if is_case:
        assert [[e.kind for e in c.events] for c in result.cases] == [["complaint"]]
        assert result.skipped_other_brand == 0
    else:
        assert result.cases == []
        assert result.skipped_other_brand == 1


def test_a_brand_tweet_makes_it_a_case_without_a_mention(tmp_path: Path) -> None:
    body = HEADER + (
        "1,101,True,Tue Oct 31 10:00:00 +0000 2017,@115714 it is broken,2,\n"
        "2,AppleSupport,False,Tue Oct 31 10:05:00 +0000 2017,@101 we can help,,1\n"
    )
    result = read_twcs(write(tmp_path, body), "AppleSupport")
    assert [c.id for c in result.cases] == ["x-1"]
    assert read_twcs(write(tmp_path, body), "AppleSupportX").cases == []


# --- ids written as floats, extra columns, line endings -------------------------------

PANDAS = (
    ",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    "0,1,101,True,Tue Oct 31 10:00:00 +0000 2017,@AcmeHelp broken,2,\n"
    "1,2,AcmeHelp,False,Tue Oct 31 10:05:00 +0000 2017,@101 sorry ^JM,3,1.0\n"
    "2,3,101,True,Tue Oct 31 10:06:00 +0000 2017,@AcmeHelp thanks,,2.0\n"
)


def test_float_ids_and_an_index_column(tmp_path: Path) -> None:
    plain = HEADER + (
        "1,101,True,Tue Oct 31 10:00:00 +0000 2017,@AcmeHelp broken,2,\n"
        "2,AcmeHelp,False,Tue Oct 31 10:05:00 +0000 2017,@101 sorry ^JM,3,1\n"
        "3,101,True,Tue Oct 31 10:06:00 +0000 2017,@AcmeHelp thanks,,2\n"
    )
    expected = read_twcs(write(tmp_path, plain, "plain.csv"), "AcmeHelp")
    got = read_twcs(write(tmp_path, PANDAS, "pandas.csv"), "AcmeHelp")
    assert lines(got.cases) == lines(expected.cases)
    assert [c.id for c in got.cases] == ["x-1"]
    assert [e.kind for e in got.cases[0].events] == ["complaint", "reply", "customer_reply"]
    assert read_twcs(write(tmp_path, PANDAS.replace("0,1,101", "0,1.0,101"), "f.csv"), "AcmeHelp")


def test_crlf_and_bom_give_the_same_cases(tmp_path: Path) -> None:
    lf = read_twcs(write(tmp_path, KNOWN, "lf.csv"), "AcmeHelp")
    crlf = read_twcs(
        write(tmp_path, "\ufeff" + KNOWN.replace("\n", "\r\n"), "crlf.csv"), "AcmeHelp"
    )
    # the quoted line break in tweet 4 stays as the file wrote it
    assert [e.text for e in crlf.cases[0].events][
        3
    ] == "@101 Thanks, a new one is on its way\r\n^ MC"
    assert [line.replace("\\r\\n", "\\n") for line in lines(crlf.cases)] == lines(lf.cases)
    assert crlf.tweets == lf.tweets


def test_a_bare_cr_stays_in_its_field(tmp_path: Path) -> None:
    quoted = HEADER + '1,101,True,Tue Oct 31 10:00:00 +0000 2017,"@AcmeHelp \r\rhi",,\n'
    bare = HEADER + "1,101,True,Tue Oct 31 10:00:00 +0000 2017,@AcmeHelp \r\rhi,,\n"
    a = read_twcs(write(tmp_path, quoted, "q.csv"), "AcmeHelp")
    b = read_twcs(write(tmp_path, bare, "b.csv"), "AcmeHelp")
    assert lines(a.cases) == lines(b.cases)
    assert b.cases[0].events[0].text == "@AcmeHelp \r\rhi"
    # a bare CR neither ends the row nor counts as a line
    broken = bare + "2,101,True,yesterday,@AcmeHelp again,,\n"
    with pytest.raises(HeardError) as caught:
        read_twcs(write(tmp_path, broken, "c.csv"), "AcmeHelp", shown="c.csv")
    assert str(caught.value) == f"c.csv:3: created_at: not a date like {DATE!r}"


@pytest.mark.parametrize(
    ("text", "agent"),
    [
        ("@1 Please DM us. ^JM", "JM"),
        ("@1 Please DM us. ^ MC", "MC"),
        ("@1 Please DM us. ^Helen", "Helen"),
        ("@1 feedback here so we may improve.^KL", "KL"),
        ("@1 we'll advise. 2/2^ML", "ML"),
        ("@1 Do you have the return slip?\n^NHP", "NHP"),
        ("@1 anything else? ^AP .", "AP"),
        ("@1 Thank you. ^Osebi.", "Osebi"),
        ("@1 see the steps ^MC https://t.co/abc", "MC"),
        ("@1 more soon ^Jane 2/2", "Jane"),
        ("@1 Please DM us. -Dan", None),
        ("@1 Please DM us. KB", None),
        ("@1 more languages soon! ^^ https://t.co/x", None),
        ("@1 open 07:30-20:00^", None),
        ("@1 ^JM will call you back tomorrow", None),
        ("dead by daylight ^_^", None),
    ],
)
def test_agent_signature(text: str, agent: str | None) -> None:
    assert agent_of(text) == agent


# --- errors: one line, file:line: column: message ------------------------------------

DATE = "Tue Oct 31 22:10:47 +0000 2017"
GOOD = "1,101,True,Tue Oct 31 10:00:00 +0000 2017,@AcmeHelp hi,,\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            HEADER + GOOD + "2,101,True,31/10/2017,hi,,\n",
            f"t.csv:3: created_at: not a date like {DATE!r}",
        ),
        (
            HEADER + GOOD + "2,101,True,Tue Oct 31 10:00:00 2017,hi,,\n",
            f"t.csv:3: created_at: not a date like {DATE!r}",
        ),
        (
            HEADER + GOOD + "2,101,True,Tue Feb 30 10:00:00 +0000 2017,hi,,\n",
            f"t.csv:3: created_at: not a date like {DATE!r}",
        ),
        (
            HEADER + "abc,101,True,Tue Oct 31 10:00:00 +0000 2017,hi,,\n",
            "t.csv:2: tweet_id: not a tweet id (a whole number)",
        ),
        (
            HEADER + "3.5,101,True,Tue Oct 31 10:00:00 +0000 2017,hi,,\n",
            "t.csv:2: tweet_id: not a tweet id (a whole number)",
        ),
        (
            HEADER + ",101,True,Tue Oct 31 10:00:00 +0000 2017,hi,,\n",
            "t.csv:2: tweet_id: not a tweet id (a whole number)",
        ),
        (
            HEADER + GOOD + "1.0,102,True,Tue Oct 31 10:00:00 +0000 2017,hi,,\n",
            "t.csv:3: tweet_id: tweet 1 already read on line 2",
        ),
        (
            HEADER + "1,,True,Tue Oct 31 10:00:00 +0000 2017,hi,,\n",
            "t.csv:2: author_id: empty",
        ),
        (
            HEADER + "1," + "9" * 501 + ",True,Tue Oct 31 10:00:00 +0000 2017,hi,,\n",
            "t.csv:2: author_id: String should have at most 500 characters",
        ),
        (
            HEADER + "1,101,yes,Tue Oct 31 10:00:00 +0000 2017,hi,,\n",
            "t.csv:2: inbound: not True or False",
        ),
        (
            HEADER + '1,101,True,Tue Oct 31 10:00:00 +0000 2017,hi,"2,x",\n',
            "t.csv:2: response_tweet_id: not a tweet id or a comma-separated list of tweet ids",
        ),
        (
            HEADER + '1,101,True,Tue Oct 31 10:00:00 +0000 2017,hi,"2,,3",\n',
            "t.csv:2: response_tweet_id: not a tweet id or a comma-separated list of tweet ids",
        ),
        (
            HEADER + "1,101,True,Tue Oct 31 10:00:00 +0000 2017,hi,,one\n",
            "t.csv:2: in_response_to_tweet_id: not a tweet id (a whole number)",
        ),
        (
            HEADER + GOOD + "2,101,True,Tue Oct 31 10:00:00 +0000 2017,hi,\n",
            "t.csv:3: expected 7 fields as in the header, found 6",
        ),
        (
            HEADER + GOOD + "2,101,True,Tue Oct 31 10:00:00 +0000 2017,a, b,,\n",
            "t.csv:3: expected 7 fields as in the header, found 8",
        ),
        (
            HEADER + "1,101,True,Tue Oct 31 10:00:00 +0000 2017,a\x00b,,\n",
            "t.csv:2: text: contains a NUL character",
        ),
        (
            HEADER.encode() + b"1,101,True,Tue Oct 31 10:00:00 +0000 2017,caf\xe9,,\n",
            "t.csv:2: text: not UTF-8 text (byte 0xE9)",
        ),
        (
            HEADER.encode()
            + GOOD.encode()
            + b'2,101,True,Tue Oct 31 10:00:00 +0000 2017,"a\nb\xff",,\n',
            "t.csv:4: text: not UTF-8 text (byte 0xFF)",
        ),
        (
            b"tweet_id,author\xc3,inbound\n",
            "t.csv:1: not UTF-8 text (byte 0xC3)",
        ),
        (
            HEADER + GOOD + '2,101,True,Tue Oct 31 10:00:00 +0000 2017,"never closed,,\n' + GOOD,
            "t.csv:3: a quoted field is never closed",
        ),
        (
            HEADER + '1,101,True,Tue Oct 31 10:00:00 +0000 2017,"quoted"then,,\n',
            "t.csv:2: not valid CSV: ',' expected after '\"'",
        ),
        (
            # a quoted multi-line text: the next row starts on line 5
            HEADER + '1,101,True,Tue Oct 31 10:00:00 +0000 2017,"one\ntwo\nthree",,\n'
            "2,101,maybe,Tue Oct 31 10:00:00 +0000 2017,hi,,\n",
            "t.csv:5: inbound: not True or False",
        ),
        ("", f"t.csv: empty file: the first line must name the columns {COLUMNS}"),
        ("\n\n", f"t.csv: empty file: the first line must name the columns {COLUMNS}"),
        (
            GOOD + GOOD,
            f"t.csv:1: no header line: the first line must name the columns {COLUMNS}",
        ),
        (
            "tweet_id,author_id,inbound,created_at,response_tweet_id,in_response_to_tweet_id\n",
            "t.csv:1: text: missing from the header",
        ),
        (
            HEADER.replace("\n", ",text\n"),
            "t.csv:1: text: named twice in the header",
        ),
        (
            KNOWN.replace("\n", "\r"),
            "t.csv:1: the header holds a bare CR: lines must end in LF or CRLF",
        ),
    ],
)
def test_errors(tmp_path: Path, body: str | bytes, expected: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(HeardError) as caught:
        read_twcs(path, "AcmeHelp", shown="t.csv")
    assert str(caught.value) == expected
    assert type(caught.value) is HeardError


def test_errors_name_the_path_by_default(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "1,101,True,soon,hi,,\n")
    with pytest.raises(HeardError) as caught:
        read_twcs(path, "AcmeHelp")
    assert str(caught.value) == f"{path}:2: created_at: not a date like {DATE!r}"


def test_a_missing_file_and_a_bad_brand(tmp_path: Path) -> None:
    with pytest.raises(HeardError) as caught:
        read_twcs(tmp_path / "nope.csv", "AcmeHelp", shown="nope.csv")
    assert str(caught.value) == "nope.csv: cannot read the file (No such file or directory)"
    with pytest.raises(HeardError) as caught:
        read_twcs(write(tmp_path, KNOWN), "Acme Help")
    assert str(caught.value) == "brand: not an X handle like AppleSupport: 'Acme Help'"


# --- the real sample files ------------------------------------------------------------

BRANDS = {
    # brand: (cases, skipped_missing_parent, skipped_other_brand)
    "AppleSupport": (83, 1, 1202),
    "AmazonHelp": (102, 1, 1183),
    "sprintcare": (19, 0, 1266),
}


@pytest.mark.parametrize("brand", sorted(BRANDS))
def test_clean_and_raw_files_give_the_same_cases(brand: str) -> None:
    clean = read_twcs(shared_data(CLEAN), brand)
    raw = read_twcs(shared_data(RAW), brand)
    assert (clean.tweets, clean.conversations) == (raw.tweets, raw.conversations) == (5000, 1285)
    counts = (len(clean.cases), clean.skipped_missing_parent, clean.skipped_other_brand)
    assert counts == BRANDS[brand]
    assert (len(raw.cases), raw.skipped_missing_parent, raw.skipped_other_brand) == counts
    assert lines(raw.cases) == lines(clean.cases)


def test_the_raw_files_bare_cr_text() -> None:
    # Line 2589 of the raw file holds an unquoted "\r\r" inside tweet 3399's text; the
    # clean file quotes it. Both must give the same case with the same text.
    assert b"@AskPayPal \r\rI just love" in shared_data(RAW).read_bytes()
    clean = {c.id: c for c in read_twcs(shared_data(CLEAN), "AskPayPal").cases}
    raw = {c.id: c for c in read_twcs(shared_data(RAW), "AskPayPal").cases}
    assert lines(list(raw.values())) == lines(list(clean.values()))
    text = raw["x-3399"].events[0].text
    assert text is not None
    assert text.startswith("@AskPayPal \r\rI just love the start of email")


# --- an independent re-computation (plain csv and datetime; no product code) ----------


def _independent_first_replies(path: Path, brand: str) -> tuple[dict[str, float | None], int]:
    """{root tweet id: seconds to the brand's first tweet, or None}, and the number of
    the brand's conversations skipped because a tweet's parent is missing."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    tweets = {row["tweet_id"]: row for row in rows}
    neighbours: dict[str, set[str]] = {tid: set() for tid in tweets}
    for tid, row in tweets.items():
        linked = [row["in_response_to_tweet_id"], *row["response_tweet_id"].split(",")]
        for other in linked:
            if other in tweets:
                neighbours[tid].add(other)
                neighbours[other].add(tid)

    def when(row: dict[str, str]) -> datetime:
        return datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")

    mention = re.compile(r"@" + brand + r"\b(?!_)", re.IGNORECASE)
    seen: set[str] = set()
    firsts: dict[str, float | None] = {}
    skipped = 0
    for start in tweets:
        if start in seen:
            continue
        group, todo = {start}, [start]
        while todo:
            for other in neighbours[todo.pop()]:
                if other not in group:
                    group.add(other)
                    todo.append(other)
        seen |= group
        members = [tweets[t] for t in group]
        brand_rows = [r for r in members if r["author_id"].lower() == brand.lower()]
        tops = [
            r
            for r in members
            if not r["in_response_to_tweet_id"] or r["in_response_to_tweet_id"] not in tweets
        ]
        if any(r["in_response_to_tweet_id"] for r in tops):
            if brand_rows or any(mention.search(r["text"]) for r in tops):
                skipped += 1
            continue
        for root in tops:
            if root["inbound"] != "True":
                continue
            if brand_rows or mention.search(root["text"]):
                times = [when(r) for r in brand_rows]
                firsts[root["tweet_id"]] = (
                    (min(times) - when(root)).total_seconds() if times else None
                )
    return firsts, skipped


def test_first_replies_agree_with_an_independent_computation() -> None:
    expected, skipped = _independent_first_replies(shared_data(CLEAN), "AppleSupport")
    result = read_twcs(shared_data(CLEAN), "AppleSupport")
    got: dict[str, float | None] = {}
    for case in result.cases:
        replies = [e.at for e in case.events if e.kind == "reply"]
        got[case.id.removeprefix("x-")] = (
            (replies[0] - case.opened).total_seconds() if replies else None
        )
    assert len(expected) == 83
    for root_id in sorted(expected.keys() | got.keys(), key=int):
        assert got.get(root_id, "missing") == expected.get(root_id, "extra"), root_id
    assert result.skipped_missing_parent == skipped
