"""Import the "Customer Support on Twitter" (twcs) CSV layout as cases of one brand.

Columns are found by header name (``tweet_id, author_id, inbound, created_at, text,
response_tweet_id, in_response_to_tweet_id``); other columns, such as the unnamed pandas
index column of the file as published, are ignored. Ids written as floats (``3.0``) are
normalised to ``3``.

A case is a customer's tweet (``inbound`` True) without ``in_response_to_tweet_id``. Its
conversation is every tweet linked to it through replies (parent links and child lists,
transitively, within the file). The case is the brand's when its text mentions
``@BRAND`` as a whole handle or its conversation holds a tweet by ``BRAND`` (handles
compared case-insensitively). The brand's tweets become ``reply`` events, the root
author's other tweets ``customer_reply`` events; tweets by anyone else are left out.

A conversation holding a tweet whose parent is missing from the file is incomplete: it is
skipped and counted once (in ``skipped_missing_parent``, when it is the brand's by the
same rule, judged on its topmost tweets in the file).

Line numbers are physical lines (ended by LF or CRLF, as ``grep -n`` and editors count
them), 1-based, the header being line 1. A carriage return that does not end a line
(the published file has one, unquoted, inside a text) is kept as part of its field: it
neither ends the row nor counts as a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import TypeAdapter, ValidationError

from generator.errors import HeardError
from generator.gather.imports.base import ImportFormat, ImportOptions, ImportResult
from generator.gather.imports.csvrows import BadByte, fail, rows
from generator.meaning.words import agent_of
from generator.record.model import MAX_TEXT, Author, Case, Event, Short, Text

COLUMNS: tuple[str, ...] = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
CHANNEL = "x"
DATE_EXAMPLE = "Tue Oct 31 22:10:47 +0000 2017"

_NOT_A_DATE = f"not a date like {DATE_EXAMPLE!r}"
_NOT_AN_ID = "not a tweet id (a whole number)"
_NOT_AN_ID_LIST = "not a tweet id or a comma-separated list of tweet ids"
_NO_HEADER = "the first line must name the columns " + ", ".join(COLUMNS)

_ID = re.compile(r"\s*0*(\d{1,30}?)(?:\.0+)?\s*")
_HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_CREATED = re.compile(
    r"\s*(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})\s*"
)
_Kind = Literal["complaint", "reply", "customer_reply"]

_TEXT: TypeAdapter[str] = TypeAdapter(Text)
_SHORT: TypeAdapter[str] = TypeAdapter(Short)


@dataclass(frozen=True)
class TwcsResult:
    """The brand's cases found in a twcs file, and what was read and skipped."""

    cases: list[Case]  # sorted by id
    tweets: int  # data rows read
    conversations: int  # customer root tweets seen (inbound, no parent)
    skipped_missing_parent: int  # the brand's conversations whose parent tweet is missing
    skipped_other_brand: int  # root conversations not belonging to the brand


@dataclass(slots=True)
class _Tweet:
    line: int
    id: str
    author: str
    inbound: bool
    at: datetime
    text: str
    children: list[str]
    parent: str | None


def _tweet_id(value: str) -> str | None:
    match = _ID.fullmatch(value)
    return match.group(1) if match else None


MIN_YEAR, MAX_YEAR = 1900, 9998


def _created(value: str) -> datetime | None:
    match = _CREATED.fullmatch(value)
    if not match:
        return None
    month, day, hour, minute, second, sign, off_h, off_m, year = match.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m))
    try:
        moment = datetime(
            int(year),
            _MONTHS[month],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(-offset if sign == "-" else offset),
        )
        utc = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return utc if MIN_YEAR <= utc.year <= MAX_YEAR else None


def _model_message(err: ValidationError) -> str:
    return str(err.errors()[0]["msg"])


def _header(shown: str, line: int, row: list[str]) -> dict[str, int]:
    names = [name.strip() for name in row]
    if any("\r" in name for name in names):
        raise fail(shown, line, None, "the header holds a bare CR: lines must end in LF or CRLF")
    if not any(column in names for column in COLUMNS):
        raise fail(shown, line, None, f"no header line: {_NO_HEADER}")
    where: dict[str, int] = {}
    for column in COLUMNS:
        if names.count(column) > 1:
            raise fail(shown, line, column, "named twice in the header")
        if column not in names:
            raise fail(shown, line, column, "missing from the header")
        where[column] = names.index(column)
    return where


def _read_tweets(stream: BinaryIO, shown: str) -> list[_Tweet]:
    tweets: list[_Tweet] = []
    first_line: dict[str, int] = {}
    where: dict[str, int] | None = None
    names: list[str] = []
    try:
        for line, row in rows(stream, shown):
            if where is None:
                where = _header(shown, line, row)
                names = [name.strip() for name in row]
                continue
            if len(row) != len(names):
                raise fail(
                    shown,
                    line,
                    None,
                    f"expected {len(names)} fields as in the header, found {len(row)}",
                )
            tweets.append(_tweet(shown, line, row, where, first_line))
    except BadByte as bad:
        raise bad.error(shown, names) from None
    if where is None:
        raise fail(shown, None, None, f"empty file: {_NO_HEADER}")
    return tweets


def _tweet(
    shown: str,
    line: int,
    row: list[str],
    where: dict[str, int],
    first_line: dict[str, int],
) -> _Tweet:
    tweet_id = _tweet_id(row[where["tweet_id"]])
    if tweet_id is None:
        raise fail(shown, line, "tweet_id", _NOT_AN_ID)
    if tweet_id in first_line:
        raise fail(
            shown, line, "tweet_id", f"tweet {tweet_id} already read on line {first_line[tweet_id]}"
        )
    first_line[tweet_id] = line

    author = row[where["author_id"]].strip()
    if not author:
        raise fail(shown, line, "author_id", "empty")
    try:
        _SHORT.validate_python(author)
    except ValidationError as err:
        raise fail(shown, line, "author_id", _model_message(err)) from None

    inbound_text = row[where["inbound"]].strip().lower()
    if inbound_text not in ("true", "false"):
        raise fail(shown, line, "inbound", "not True or False")

    at = _created(row[where["created_at"]])
    if at is None:
        raise fail(shown, line, "created_at", _NOT_A_DATE)

    text = row[where["text"]]
    # The model's character checks are slow in bulk: it sees every text that could fail
    # them (any holding a character that is not printable) and every overlong one.
    if len(text) > MAX_TEXT or not text.isprintable():
        try:
            _TEXT.validate_python(text)
        except ValidationError as err:
            raise fail(shown, line, "text", _model_message(err)) from None

    children: list[str] = []
    listed = row[where["response_tweet_id"]]
    if listed.strip():
        for item in listed.split(","):
            child = _tweet_id(item)
            if child is None:
                raise fail(shown, line, "response_tweet_id", _NOT_AN_ID_LIST)
            children.append(child)

    parent: str | None = None
    named = row[where["in_response_to_tweet_id"]]
    if named.strip():
        parent = _tweet_id(named)
        if parent is None:
            raise fail(shown, line, "in_response_to_tweet_id", _NOT_AN_ID)

    return _Tweet(
        line=line,
        id=tweet_id,
        author=author,
        inbound=inbound_text == "true",
        at=at,
        text=text,
        children=children,
        parent=parent,
    )


def _conversations(tweets: list[_Tweet]) -> list[list[_Tweet]]:
    """Tweets grouped by the replies linking them (within the file), in file order."""
    by_id = {t.id: t for t in tweets}
    up = {t.id: t.id for t in tweets}

    def find(tweet_id: str) -> str:
        top = tweet_id
        while up[top] != top:
            top = up[top]
        while up[tweet_id] != top:
            up[tweet_id], tweet_id = top, up[tweet_id]
        return top

    def join(a: str, b: str) -> None:
        top_a, top_b = find(a), find(b)
        if top_a != top_b:
            up[top_b] = top_a

    for tweet in tweets:
        if tweet.parent is not None and tweet.parent in by_id:
            join(tweet.parent, tweet.id)
        for child in tweet.children:
            if child in by_id:
                join(tweet.id, child)

    groups: dict[str, list[_Tweet]] = {}
    for tweet in tweets:
        groups.setdefault(find(tweet.id), []).append(tweet)
    return list(groups.values())


_FIELD_COLUMN = {"text": "text", "agent": "text", "handle": "author_id", "at": "created_at"}


def _event(shown: str, tweet: _Tweet, kind: _Kind) -> Event:
    try:
        if kind == "reply":
            return Event(
                kind=kind,
                at=tweet.at,
                by="brand",
                text=tweet.text,
                agent=agent_of(tweet.text),
                handle=tweet.author,
            )
        return Event(kind=kind, at=tweet.at, by="customer", text=tweet.text)
    except ValidationError as err:
        first = err.errors()[0]
        column = _FIELD_COLUMN.get(str(first["loc"][0])) if first["loc"] else None
        raise fail(shown, tweet.line, column, str(first["msg"])) from None


def _case(shown: str, root: _Tweet, conversation: list[_Tweet], brand_key: str) -> Case:
    customer = root.author.lower()
    events: list[Event] = []
    for tweet in conversation:
        who = tweet.author.lower()
        if tweet is root:
            events.append(_event(shown, tweet, "complaint"))
        elif who == brand_key:
            events.append(_event(shown, tweet, "reply"))
        elif who == customer:
            events.append(_event(shown, tweet, "customer_reply"))
    events.sort(key=lambda event: event.at)  # stable: ties keep file order
    try:
        return Case(
            id=f"{CHANNEL}-{root.id}",
            channel=CHANNEL,
            author=Author(handle=root.author),
            events=events,
        )
    except ValidationError as err:
        raise fail(shown, root.line, None, _model_message(err)) from None


def read_twcs(path: Path, brand: str, *, shown: str | None = None) -> TwcsResult:
    """Read a twcs CSV file and return the cases of ``brand`` (an X handle, ``@`` optional).

    Raises HeardError (one line: file, line, column, what is wrong) on any malformed input.
    """
    shown = str(path) if shown is None else shown
    handle = brand.strip().removeprefix("@")
    if not _HANDLE.fullmatch(handle):
        raise HeardError(f"brand: not an X handle like AppleSupport: {brand!r}")
    brand_key = handle.lower()
    mention = re.compile(
        r"(?<![A-Za-z0-9_])@" + re.escape(handle) + r"(?![A-Za-z0-9_])", re.IGNORECASE
    )

    try:
        with path.open("rb") as stream:
            tweets = _read_tweets(stream, shown)
    except OSError as err:
        raise fail(shown, None, None, f"cannot read the file ({err.strerror or err})") from None

    known = {t.id for t in tweets}
    cases: list[Case] = []
    conversations = skipped_missing = skipped_other = 0
    for conversation in _conversations(tweets):
        roots = [t for t in conversation if t.inbound and t.parent is None]
        orphans = [t for t in conversation if t.parent is not None and t.parent not in known]
        conversations += len(roots)
        has_brand_tweet = any(t.author.lower() == brand_key for t in conversation)
        if orphans:
            tops = roots + orphans
            if has_brand_tweet or any(mention.search(t.text) for t in tops):
                skipped_missing += 1
            else:
                skipped_other += len(roots)
            continue
        for root in roots:
            if has_brand_tweet or mention.search(root.text):
                cases.append(_case(shown, root, conversation, brand_key))
            else:
                skipped_other += 1
    cases.sort(key=lambda case: case.id)
    return TwcsResult(
        cases=cases,
        tweets=len(tweets),
        conversations=conversations,
        skipped_missing_parent=skipped_missing,
        skipped_other_brand=skipped_other,
    )


def read(path: Path, shown: str, options: ImportOptions) -> ImportResult:
    """The twcs reader as an import format (`--brand HANDLE` is required)."""
    if not options.brand:
        raise HeardError("--brand HANDLE is required with --format twcs")
    if not path.is_file():
        raise HeardError(f"{shown}: no such file")
    result = read_twcs(path, options.brand, shown=shown)
    return ImportResult(
        result.cases,
        {
            "missing parent": result.skipped_missing_parent,
            "other brand": result.skipped_other_brand,
        },
    )


def _looks_like(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0].lower()
    return b"tweet_id" in first and b"inbound" in first


FORMAT = ImportFormat(
    name="twcs",
    summary='the "Customer Support on Twitter" CSV layout (needs --brand)',
    read=read,
    looks_like=_looks_like,
    channel=CHANNEL,
    display="X",
)
