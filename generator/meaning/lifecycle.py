"""A case's life: its timeline (record + the team's notes), derived state and step times.

The state is never stored; it is derived here, in event order, exactly as DESIGN.md
("The figures") defines it. The team's note has the last word over gathered data. A case
with an `outcome` (a source that gives the answer's category but not its time) starts from
that outcome's state and has no first-response time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from generator.config import Config
from generator.record.model import BaseState, Case, Event, Note, State

RESPONSE_KINDS = frozenset({"reply", "moved_private", "follow_up", "resolved", "closed"})
ANSWER_KINDS = frozenset({"reply", "moved_private", "follow_up"})
STATUS_KINDS = frozenset({"resolved", "closed", "reopened"})


@dataclass(frozen=True, slots=True)
class Step:
    """One event on the timeline as the site shows it."""

    event: Event
    from_note: bool
    counts: bool  # a brand response that counts (not a bot's)
    applied: bool  # False when a later team note overrides this gathered status change
    bot: bool


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as of "now": its timeline, derived state and times."""

    case: Case
    note: Note | None
    opened: datetime
    steps: tuple[Step, ...]
    state: State  # with the hidden/removed overlay
    base_state: BaseState
    first_response_at: datetime | None
    resolved_at: datetime | None
    hidden_reason: str | None
    removed_reason: str | None
    last_event_at: datetime
    moderated_at: datetime | None = None  # when it was hidden or removed
    dates_only: bool = False  # the case has an outcome: no response time is known

    @property
    def id(self) -> str:
        """The case id."""
        return self.case.id

    @property
    def channel(self) -> str:
        """The case's channel."""
        return self.case.channel

    @property
    def hidden(self) -> bool:
        """Left out of every figure (but counted)."""
        return self.state == "hidden"

    @property
    def removed(self) -> bool:
        """Content taken down at the author's request; dates and counts stay."""
        return self.state == "removed"

    @property
    def title(self) -> str | None:
        """The case's own title, if it has one."""
        return self.case.title

    @property
    def first_text(self) -> str | None:
        """The text of the first step (what lists show when there is no title)."""
        return self.steps[0].event.text

    @property
    def handle(self) -> str | None:
        """The author's handle, if the channel gave one."""
        return self.case.author.handle if self.case.author else None

    @property
    def url(self) -> str | None:
        """The case's own URL (the post it started from), if any."""
        return self.case.url

    @property
    def active_at(self) -> datetime:
        """The latest moment the record shows anything happening on it (or being seen)."""
        return max(max(s.event.at, s.event.seen_at or s.event.at) for s in self.steps)

    @property
    def timely(self) -> bool | None:
        """A dates-only case: whether its answer came within the source's deadline."""
        return self.case.outcome.timely if self.case.outcome else None

    @property
    def within_days(self) -> int | None:
        """A dates-only case: the source's deadline for an answer, in days."""
        return self.case.outcome.within_days if self.case.outcome else None

    @property
    def outcome_label(self) -> str | None:
        """A dates-only case: the source's words for where it ended up."""
        return self.case.outcome.label if self.case.outcome else None


class Facts(Protocol):
    """What figures and aggregate pages read of a case: a CaseView or its CaseFacts."""

    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def opened(self) -> datetime: ...
    @property
    def state(self) -> State: ...
    @property
    def base_state(self) -> BaseState: ...
    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def last_event_at(self) -> datetime: ...
    @property
    def moderated_at(self) -> datetime | None: ...
    @property
    def hidden_reason(self) -> str | None: ...
    @property
    def removed_reason(self) -> str | None: ...
    @property
    def hidden(self) -> bool: ...
    @property
    def removed(self) -> bool: ...
    @property
    def title(self) -> str | None: ...
    @property
    def first_text(self) -> str | None: ...
    @property
    def handle(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def dates_only(self) -> bool: ...
    @property
    def timely(self) -> bool | None: ...
    @property
    def within_days(self) -> int | None: ...
    @property
    def outcome_label(self) -> str | None: ...


LABEL_CHARS = 200  # enough for any list label (themes truncate to ~120)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """A case's compact facts: everything figures and aggregate pages need, nothing more.

    A large record is held as these (a few hundred bytes each), never as whole models.
    Same attribute names as CaseView, so templates and figures take either. Texts are cut
    to what a list label shows (`first_text` only when there is no title). Add a field
    here (and in `facts_of`) when an aggregate needs more of a case.
    """

    id: str
    channel: str
    opened: datetime
    state: State
    base_state: BaseState
    first_response_at: datetime | None
    resolved_at: datetime | None
    last_event_at: datetime
    moderated_at: datetime | None
    hidden_reason: str | None
    removed_reason: str | None
    title: str | None
    first_text: str | None
    handle: str | None
    url: str | None
    active_at: datetime
    dates_only: bool = False
    timely: bool | None = None
    within_days: int | None = None
    outcome_label: str | None = None

    @property
    def hidden(self) -> bool:
        """Left out of every figure (but counted)."""
        return self.state == "hidden"

    @property
    def removed(self) -> bool:
        """Content taken down at the author's request; dates and counts stay."""
        return self.state == "removed"


def _label(text: str | None) -> str | None:
    return text if text is None or len(text) <= LABEL_CHARS else text[:LABEL_CHARS]


def facts_of(view: CaseView) -> CaseFacts:
    """The compact facts of a case view (texts cut to what a list label can show)."""
    return CaseFacts(
        id=view.id,
        channel=view.channel,
        opened=view.opened,
        state=view.state,
        base_state=view.base_state,
        first_response_at=view.first_response_at,
        resolved_at=view.resolved_at,
        last_event_at=view.last_event_at,
        moderated_at=view.moderated_at,
        hidden_reason=view.hidden_reason,
        removed_reason=view.removed_reason,
        title=_label(view.title),
        first_text=None if view.title else _label(view.first_text),
        handle=view.handle,
        url=view.case.url,
        active_at=view.active_at,
        dates_only=view.dates_only,
        timely=view.timely,
        within_days=view.within_days,
        outcome_label=view.outcome_label,
    )


def note_events(note: Note) -> list[Event]:
    """The team's decisions as timeline events (brand, at the decision's time)."""
    events = []
    for decision in note.decisions:
        text = decision.note if decision.status not in ("hidden", "removed") else decision.reason
        events.append(
            Event(
                kind=decision.status,
                at=decision.at,
                by="brand",
                agent=decision.agent,
                text=text or None,
            )
        )
    return events


def derive(case: Case, note: Note | None, now: datetime, config: Config) -> CaseView | None:
    """The case as of `now`, or None if it has not opened by then."""
    record = [(e.at, 0, i, e) for i, e in enumerate(case.events) if e.at <= now]
    complaints = [e.at for _, _, _, e in record if e.kind == "complaint"]
    if not complaints:
        return None
    opened = min(complaints)
    from_notes = [(e.at, 1, i, e) for i, e in enumerate(note_events(note))] if note else []
    from_notes = [item for item in from_notes if item[0] <= now]
    ordered = sorted([*record, *from_notes], key=lambda item: (item[0], item[1], item[2]))
    note_word = max((item[0] for item in from_notes), default=None)

    # A case with an outcome starts from it: the source says where it stands, not when.
    outcome = case.outcome
    state: BaseState = outcome.state if outcome else "open"
    answered = state != "open"
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    hidden_reason: str | None = None
    removed_reason: str | None = None
    hidden_at: datetime | None = None
    removed_at: datetime | None = None
    steps: list[Step] = []
    for at, source, _, event in ordered:
        is_note = source == 1
        bot = event.by == "brand" and config.is_bot(case.channel, event.handle)
        counts = event.by == "brand" and not bot and event.kind in RESPONSE_KINDS
        applied = True
        if not is_note and note_word is not None and event.kind in STATUS_KINDS and at >= note_word:
            applied = False
        if counts and first_response_at is None and outcome is None:
            first_response_at = max(at, opened)
        if applied:
            if event.kind in ANSWER_KINDS and counts and state == "open":
                state = "responded"
            elif event.kind == "resolved":
                state, resolved_at = "resolved", max(at, opened)
            elif event.kind == "closed":
                state = "closed"
            elif event.kind == "reopened":
                state = "responded" if answered else "open"
                hidden_reason = None
            elif event.kind == "hidden":
                hidden_reason, hidden_at = event.text or "no reason given", at
            elif event.kind == "removed":
                if removed_reason is None:
                    removed_at = at
                removed_reason = event.text or "author request"
        if counts:
            answered = True
        steps.append(Step(event, is_note, counts, applied, bot))

    overlay: State = "removed" if removed_reason else "hidden" if hidden_reason else state
    return CaseView(
        case=case,
        note=note,
        opened=opened,
        steps=tuple(steps),
        state=overlay,
        base_state=state,
        first_response_at=first_response_at,
        resolved_at=resolved_at if state == "resolved" else None,
        hidden_reason=hidden_reason if overlay == "hidden" else None,
        removed_reason=removed_reason,
        last_event_at=max(s.event.at for s in steps),
        moderated_at=removed_at if removed_reason else hidden_at if overlay == "hidden" else None,
        dates_only=outcome is not None,
    )


def derive_all(
    cases: Iterable[Case], notes: dict[str, Note], now: datetime, config: Config
) -> list[CaseView]:
    """Every case that exists at `now`, oldest opening first (ties by id)."""
    views = [derive(c, notes.get(c.id), now, config) for c in cases]
    return sorted((v for v in views if v is not None), key=lambda v: (v.opened, v.id))
