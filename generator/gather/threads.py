"""Posts become cases — the same way for every source.

Replies join their conversation; posts by the brand's accounts are answers (bots kept but
never counted); "please DM us" answers become `moved_private`; a fix marker (`#fixed`) in a
brand reply marks a fix; a source's own status signal is mapped; praise is kept apart and
never counted as a complaint; personal data is redacted before anything is stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import ValidationError

from generator.config import Config
from generator.gather.redact import Redactor
from generator.gather.sources.base import Post, Signal
from generator.meaning.words import Judge, agent_of
from generator.record.model import MAX_TEXT, URL_RE, Author, By, Case, Event, EventKind, merge_cases

_SAFE_NATIVE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,120}\Z")


def _text(value: str | None, limit: int) -> str | None:
    """Public text made storable: no NUL, no lone surrogate, cut to the record's limit."""
    if value is None:
        return None
    value = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _link(value: str | None) -> str | None:
    """Only a plain http(s) URL is kept as a link."""
    if value and len(value) <= 4000 and URL_RE.match(value):
        return value
    return None


def tidy(post: Post) -> Post:
    """A post whose text fields fit the record (hostile input is cut, never fatal)."""
    return replace(
        post,
        text=_text(post.text, MAX_TEXT),
        title=_text(post.title, 1000),
        author=_text(post.author, 500),
        author_name=_text(post.author_name, 500),
        url=_link(post.url),
        tags=tuple(t for t in (_text(t, 500) for t in post.tags) if t),
    )


def native_to_id(channel: str, native_id: str) -> str:
    """A case id for a thread's root post: `<channel>-<native id>`, hashed if not file-safe."""
    if _SAFE_NATIVE.match(native_id):
        return f"{channel}-{native_id}"
    return f"{channel}-h{hashlib.sha256(native_id.encode('utf-8')).hexdigest()[:20]}"


@dataclass
class Outcome:
    """What one source's posts did to the record."""

    new_cases: int = 0
    new_events: int = 0
    praise: list[Post] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        """Count a post that did not become an event."""
        self.skipped[why] = self.skipped.get(why, 0) + 1


class Threader:
    """Applies gathered posts and signals to the record (a dict of cases, changed in place)."""

    def __init__(self, config: Config, cases: dict[str, Case], seen_at: datetime) -> None:
        self.config = config
        self.cases = cases
        self.seen_at = seen_at
        self.redact = Redactor(config.gather.redact)
        rules = config.gather
        self.dm = [re.compile(p, re.IGNORECASE) for p in rules.dm_phrases]
        self.judge = Judge(config)
        self.markers = [m.casefold() for m in rules.fixed_markers]
        self.index: dict[tuple[str, str], str] = {}
        self.brand_posts: set[tuple[str, str]] = set()
        for case in cases.values():
            for event in case.events:
                if event.post_id is not None:
                    self.index[(case.channel, event.post_id)] = case.id
                    if event.by == "brand":
                        self.brand_posts.add((case.channel, event.post_id))

    def apply(
        self,
        channel: str,
        posts: Iterable[Post],
        signals: Iterable[Signal],
        *,
        praise_ids: set[str] | None = None,
    ) -> Outcome:
        """Thread posts (oldest first) into cases, then apply status signals."""
        outcome = Outcome()
        known_praise = praise_ids if praise_ids is not None else set()
        for post in sorted(posts, key=lambda p: (p.at, p.native_id)):
            try:
                self._post(channel, tidy(post), outcome, known_praise)
            except ValidationError:
                # One unusable post (say, an absurd date) is skipped and counted; it never
                # stops the source. _post and _open build every model before they change
                # anything, so there is nothing to undo.
                outcome.skip("unusable post")
        for signal in sorted(signals, key=lambda s: (s.at, s.root_id, s.kind)):
            case_id = self.index.get((channel, signal.root_id))
            if case_id is None:
                outcome.skip("status of an unknown thread")
                continue
            try:
                event = Event(
                    kind=signal.kind,
                    at=signal.at,
                    by="brand" if signal.by_brand else "customer",
                    url=_link(signal.url),
                    text=self.redact(_text(signal.text, MAX_TEXT)),
                    handle=_text(signal.author, 500) or None,
                    seen_at=self.seen_at,
                )
            except ValidationError:
                outcome.skip("unusable status")
                continue
            outcome.new_events += self._add(case_id, event)
        return outcome

    def _brand(self, channel: str, post: Post) -> tuple[bool, bool]:
        bot = self.config.is_bot(channel, post.author)
        if post.is_brand is not None:
            return post.is_brand or bot, bot
        return self.config.is_brand(channel, post.author) or bot, bot

    def _post(self, channel: str, post: Post, outcome: Outcome, praise_ids: set[str]) -> None:
        if (channel, post.native_id) in self.index or post.native_id in praise_ids:
            # seen before: nothing new (edits are not re-recorded; praise a source reads
            # again, as review sources do, is neither counted nor written twice)
            outcome.skip("already recorded")
            return
        brand, _ = self._brand(channel, post)
        text = self.redact(post.text)
        parent = post.parent_id or (post.root_id if post.root_id != post.native_id else None)
        case_id = None
        for ref in (post.root_id, post.parent_id):
            if ref and ref != post.native_id and (channel, ref) in self.index:
                case_id = self.index[(channel, ref)]
                break
        if case_id is None and parent and (parent in praise_ids or post.root_id in praise_ids):
            praise_ids.add(post.native_id)
            outcome.skip("reply to praise")
            return
        if case_id is None:
            if brand:
                outcome.skip("brand post outside a known thread")
                return
            if post.praise or (
                post.praise is None and self.judge.is_praise(text, channel) and not post.title
            ):
                praise_ids.add(post.native_id)
                # Praise is as public, and as personal, as any post: redacted the same way.
                outcome.praise.append(
                    replace(
                        post,
                        text=text,
                        title=self.redact(post.title),
                        author_name=self.redact(post.author_name),
                    )
                )
                return
            self._open(channel, post, text, outcome)
            return
        case = self.cases[case_id]
        kind: EventKind
        by: By
        if brand:
            answering_brand = parent is not None and (channel, parent) in self.brand_posts
            folded = (text or "").casefold()
            if any(m in folded for m in self.markers):
                kind = "resolved"
            elif any(p.search(text or "") for p in self.dm):
                kind = "moved_private"
            elif answering_brand:
                kind = "follow_up"
            else:
                kind = "reply"
            by = "brand"
        else:
            kind, by = "customer_reply", "customer"
        event = self._event(post, text, kind, by)
        self.index[(channel, post.native_id)] = case.id
        if brand:
            self.brand_posts.add((channel, post.native_id))
        outcome.new_events += self._add(case.id, event)

    def _open(self, channel: str, post: Post, text: str | None, outcome: Outcome) -> None:
        case_id = native_to_id(channel, post.native_id)
        author = None
        if post.author or post.author_name or post.reach is not None:
            author = Author(
                handle=post.author or None,
                name=self.redact(post.author_name) or None,
                reach=post.reach,
            )
        case = Case(
            id=case_id,
            channel=channel,
            url=post.url,
            title=self.redact(post.title),
            author=author,
            tags=list(dict.fromkeys(post.tags)),
            events=[self._event(post, text, "complaint", "customer")],
        )
        self.index[(channel, post.native_id)] = case_id
        if case_id in self.cases:
            before = len(self.cases[case_id].events)
            self.cases[case_id] = merge_cases(self.cases[case_id], case)
            outcome.new_events += len(self.cases[case_id].events) - before
            return
        self.cases[case_id] = case
        outcome.new_cases += 1
        outcome.new_events += 1

    def _event(self, post: Post, text: str | None, kind: EventKind, by: By) -> Event:
        """The event a gathered post becomes (its text already redacted)."""
        return Event(
            kind=kind,
            at=post.at,
            by=by,
            url=post.url,
            text=text,
            handle=post.author,
            post_id=post.native_id,
            seen_at=self.seen_at,
            precision=post.precision,
            agent=agent_of(text) if by == "brand" else None,  # "… ^JM": who answered
        )

    def _add(self, case_id: str, event: Event) -> int:
        before = self.cases[case_id]
        after = merge_cases(before, before.model_copy(update={"events": [event]}))
        self.cases[case_id] = after
        return len(after.events) - len(before.events)
