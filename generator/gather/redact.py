"""Redaction of personal data in public text before it is ever stored in content/.

Emails, phone numbers, card-like numbers (Luhn-checked) and the brand's own patterns
(order numbers…). Links are left alone: ids in URLs are not phone numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from generator.record.model import MAX_TEXT, Case

EMAIL = "[email removed]"
PHONE = "[phone removed]"
CARD = "[card number removed]"
OTHER = "[removed]"

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![@\w.+'-])[\w.+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_PHONE = re.compile(
    r"(?<![\w/])(?<!\d[ .-])(?:\+|00|\()?\d(?:[\s().-]{0,2}\d){7,14}(?![\w/])(?![\s().-]{0,2}\d)"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def luhn(digits: str) -> bool:
    """The Luhn checksum that payment card numbers satisfy."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return CARD if 13 <= len(digits) <= 19 and luhn(digits) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if _ISO_DATE.match(text.strip()) or len(digits) < 9:
        return text
    return PHONE


class Redactor:
    """Applies the built-in rules and the configured patterns, outside of links."""

    def __init__(self, patterns: Sequence[str] = ()) -> None:
        self.extra = [re.compile(p) for p in patterns]

    def _plain(self, text: str) -> str:
        for pattern in self.extra:
            text = pattern.sub(OTHER, text)
        text = _EMAIL.sub(EMAIL, text)
        text = _CARD.sub(_card, text)
        return _PHONE.sub(_phone, text)

    def __call__(self, text: str | None) -> str | None:
        """The text with personal data replaced by a visible marker."""
        if not text:
            return text
        out: list[str] = []
        last = 0
        for link in _URL.finditer(text):
            out.append(self._plain(text[last : link.start()]))
            out.append(link.group(0))
            last = link.end()
        out.append(self._plain(text[last:]))
        return "".join(out)


def redact_case(case: Case, redactor: Redactor) -> Case:
    """A case from an import with the public's words redacted as gathering redacts them:
    its title, the author's name, every event's text and the outcome's words (handles and
    links are kept).

    A marker may be longer than what it replaces, so texts are cut back to the record's
    limits (no line can become invalid).
    """

    def fit(text: str | None, limit: int) -> str | None:
        text = redactor(text)
        return text if text is None or len(text) <= limit else text[: limit - 1] + "…"

    author = case.author
    if author is not None and author.name:
        author = author.model_copy(update={"name": fit(author.name, 500)})
    events = [
        e.model_copy(update={"text": fit(e.text, MAX_TEXT)}) if e.text else e for e in case.events
    ]
    outcome = case.outcome
    if outcome is not None:
        words = {"label": fit(outcome.label, 500), "text": fit(outcome.text, MAX_TEXT)}
        outcome = outcome.model_copy(update=words)
    return case.model_copy(
        update={
            "title": fit(case.title, 1000),
            "author": author,
            "events": events,
            "outcome": outcome,
        }
    )
