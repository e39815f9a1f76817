"""The record: cases and their events (the public JSONL contract), and the team's notes."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from generator.record.times import MAX_YEAR, MIN_YEAR, NOT_AN_INSTANT, format_instant, parse_instant

EventKind = Literal[
    "complaint",
    "reply",
    "customer_reply",
    "moved_private",
    "follow_up",
    "resolved",
    "closed",
    "reopened",
    "hidden",
    "removed",
    "note",
]
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]
By = Literal["customer", "brand", "system"]
State = Literal["open", "responded", "resolved", "closed", "hidden", "removed"]
"""A case's derived state (never stored): DESIGN.md's lifecycle."""
BaseState = Literal["open", "responded", "resolved", "closed"]
"""The state under the hidden/removed overlay."""
STATES: tuple[State, ...] = State.__args__  # type: ignore[attr-defined]
NoteStatus = Literal["resolved", "closed", "hidden", "removed", "reopened", "note"]

URL_RE = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+\Z", re.IGNORECASE)  # no space, no control
CASE_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}-[A-Za-z0-9][A-Za-z0-9._~-]{0,199}\Z")
MAX_TEXT = 200_000


def _instant(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None or not MIN_YEAR <= value.year <= MAX_YEAR:
            raise PydanticCustomError("instant", NOT_AN_INSTANT)
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("instant", NOT_AN_INSTANT)
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise PydanticCustomError("instant", str(exc) or NOT_AN_INSTANT) from None


def _clean_text(value: str) -> str:
    # Lone surrogates never get here: pydantic's strict str rejects them ("string_unicode").
    if "\x00" in value:
        raise PydanticCustomError("nul", "contains a NUL character")
    return value


def _url(value: str) -> str:
    value = _clean_text(value)
    if not URL_RE.match(value):
        raise PydanticCustomError("url", "must be an http(s) URL")
    return value


Instant = Annotated[
    datetime,
    BeforeValidator(_instant),
    PlainSerializer(format_instant, return_type=str),
]
Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_clean_text)]
Short = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_clean_text)]
Url = Annotated[str, Field(max_length=4000), AfterValidator(_url)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Author(_Record):
    """Who posted the complaint, as the channel shows them."""

    handle: Short | None = None
    name: Short | None = None
    reach: Annotated[int, Field(ge=0)] | None = None


class Event(_Record):
    """One step on a case's timeline."""

    kind: EventKind
    at: Instant
    by: By
    url: Url | None = None
    text: Text | None = None
    agent: Short | None = None
    handle: Short | None = None
    post_id: Short | None = None
    seen_at: Instant | None = None
    precision: Literal["day"] | None = None


OutcomeState = Literal["open", "responded", "resolved", "closed"]
OUTCOME_RANK = {"open": 0, "responded": 1, "resolved": 2, "closed": 2}


class Outcome(_Record):
    """Where a source says a case ended up, when it gives no time for the answer.

    A public complaint database (the CFPB's) publishes the company's response as a category
    and whether it came in time, never when: `label` is the source's own words, `state`
    what they mean on this record, `timely` whether the answer came within `within_days`
    days (None: the source does not say). `text` is the company's own public response, if
    it chose one. A case with an outcome has no known response time (see figures.md).
    """

    label: Short
    state: OutcomeState
    timely: bool | None = None
    within_days: Annotated[int, Field(ge=1, le=3660)] | None = None
    text: Text | None = None

    @model_validator(mode="after")
    def _deadline(self) -> Outcome:
        if self.timely is not None and self.within_days is None:
            raise PydanticCustomError(
                "outcome_deadline", "within_days: required with timely (the deadline in days)"
            )
        return self


class Case(_Record):
    """A complaint made in public, with every public step that followed."""

    id: Annotated[str, Field(max_length=240)]
    channel: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")]
    url: Url | None = None
    title: Annotated[str, Field(max_length=1000), AfterValidator(_clean_text)] | None = None
    author: Author | None = None
    tags: list[Short] = Field(default_factory=list)
    outcome: Outcome | None = None
    events: Annotated[list[Event], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if not CASE_ID_RE.fullmatch(self.id) or not self.id.startswith(self.channel + "-"):
            raise PydanticCustomError(
                "case_id",
                "id must be '<channel>-<native id>' using letters, digits, '.', '_', '~', '-'",
            )
        if not any(e.kind == "complaint" for e in self.events):
            raise PydanticCustomError("no_complaint", "events: a case needs a complaint event")
        return self

    @property
    def opened(self) -> datetime:
        """The earliest complaint event (whatever "now" is)."""
        return min(e.at for e in self.events if e.kind == "complaint")

    def shard(self) -> str:
        """The month file this case lives in: YYYY-MM of its opening."""
        return self.opened.strftime("%Y-%m")


def case_to_line(case: Case) -> str:
    """The canonical one-line JSON form (fields in contract order, no empty optionals)."""
    data = case.model_dump(mode="json", exclude_none=True)
    if not data.get("tags"):
        data.pop("tags", None)
    if data.get("author") == {}:
        data.pop("author")
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


def event_key(event: Event) -> tuple[Any, ...]:
    """Identity of an event for de-duplication.

    A gathered post is itself (its `post_id` and kind) even if it was edited or seen again
    later; any other event is identified by all of its fields except `seen_at`.
    """
    if event.post_id is not None:
        return ("post", event.post_id, event.kind)
    data = event.model_dump()
    data.pop("seen_at")
    return tuple(data.values())


def ordered_events(events: list[Event]) -> list[Event]:
    """Events ordered by `at`; ties keep their file order."""
    return sorted(events, key=lambda e: e.at)


def merge_cases(old: Case, new: Case) -> Case:
    """Merge a newer copy of a case into the stored one.

    Known fields keep their stored value and only gaps are filled; tags are a union;
    events are appended unless an identical event is already there. Merging the same
    case twice changes nothing.
    """
    if old.channel != new.channel:
        raise ValueError(f"case {old.id}: channel {new.channel!r} differs from {old.channel!r}")
    if is_removed(old):
        # Taken down at the author's request: nothing gathered later may bring content back.
        new = strip_content(new)
        old_keys = {event_key(strip_event(e)) for e in old.events}
        fresh = [e for e in new.events if event_key(e) not in old_keys]
        return old.model_copy(update={"events": ordered_events([*old.events, *fresh])})
    seen = {event_key(e) for e in old.events}
    events = list(old.events)
    for event in new.events:
        key = event_key(event)
        if key not in seen:
            seen.add(key)
            events.append(event)
    author = old.author
    if new.author is not None:
        base = old.author.model_dump() if old.author else {}
        fill = {k: v for k, v in new.author.model_dump().items() if base.get(k) is None}
        author = Author.model_validate({**base, **fill})
    tags = list(old.tags) + [t for t in new.tags if t not in old.tags]
    return old.model_copy(
        update={
            "url": old.url or new.url,
            "title": old.title if old.title is not None else new.title,
            "author": author,
            "tags": tags,
            "outcome": merge_outcomes(old.outcome, new.outcome),
            "events": ordered_events(events),
        }
    )


def merge_outcomes(old: Outcome | None, new: Outcome | None) -> Outcome | None:
    """A later stage wins (open < responded < resolved or closed), else the stored one;
    gaps are filled from the other. Merging the same outcome twice changes nothing."""
    if old is None or new is None:
        return old or new
    if OUTCOME_RANK[new.state] > OUTCOME_RANK[old.state]:
        old, new = new, old
    base = old.model_dump()
    fill = {k: v for k, v in new.model_dump().items() if base.get(k) is None}
    return Outcome.model_validate({**base, **fill})


def is_removed(case: Case) -> bool:
    """Whether the record itself holds a removal (content stripped at the author's request)."""
    return any(e.kind == "removed" for e in case.events)


def strip_event(event: Event) -> Event:
    """The event without anything the author wrote or that identifies them."""
    if event.kind == "removed":
        return event
    return event.model_copy(update={"text": None, "url": None, "handle": None, "agent": None})


def strip_content(case: Case) -> Case:
    """The case with only its id, channel, kinds, times and who (customer/brand) left."""
    return case.model_copy(
        update={
            "url": None,
            "title": None,
            "author": None,
            "tags": [],
            "events": [strip_event(e) for e in case.events],
        }
    )


class Decision(_Record):
    """One decision of the team about a case (the current one, or one from its history)."""

    status: NoteStatus
    at: Instant
    agent: Short | None = None
    reason: Short | None = None
    note: Text | None = None


class Note(_Record):
    """`content/notes/<id>.md`: the team's current decision, its public note, and history."""

    case_id: str
    status: NoteStatus
    at: Instant
    agent: Short | None = None
    reason: Short | None = None
    body: Text = ""
    history: list[Decision] = Field(default_factory=list)

    @model_validator(mode="after")
    def _explained(self) -> Note:
        for d in [*self.history, self.current]:
            if d.status in ("hidden", "removed") and not d.reason:
                raise PydanticCustomError("reason", f"reason: a {d.status} case needs a reason")
            if d.status in ("resolved", "closed") and not (d.note or "").strip():
                what = "what changed" if d.status == "resolved" else "why it ends without a fix"
                raise PydanticCustomError("body", f"body: a {d.status} note must say {what}")
        return self

    @property
    def current(self) -> Decision:
        """The note's own decision as a Decision."""
        return Decision(
            status=self.status, at=self.at, agent=self.agent, reason=self.reason, note=self.body
        )

    @property
    def decisions(self) -> list[Decision]:
        """History then the current decision, ordered by time (ties keep that order)."""
        return sorted([*self.history, self.current], key=lambda d: d.at)
