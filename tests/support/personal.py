"""The personal-data corpus: what every path into the record must redact.

Each entry is public text holding personal data, and the exact strings that must never
reach content/ (nor the site). The `[gather] redact` pattern of the test sites removes
order numbers like ORD-123456.
"""

from __future__ import annotations

PERSONAL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Write to me at bob@example.com, the app still crashes", ("bob@example.com",)),
    ("Call me back on 866-216-1072, nobody answers", ("866-216-1072",)),
    ("Still broken! Ring +44 7700 900456 after six", ("7700 900456",)),
    ("You charged card 4539 1488 0343 6467 twice, why?", ("4539 1488 0343 6467", "4539148803436467")),
    ("Order ORD-123456 never arrived and no refund", ("ORD-123456",)),
    ("pat.o'neil+care@mail.example.co.uk here, login still fails", ("pat.o'neil+care@mail.example.co.uk", "neil+care@mail")),
)  # fmt: skip
MARKERS = ("[email removed]", "[phone removed]", "[card number removed]", "[removed]")


def leaks(data: bytes | str) -> list[str]:
    """Every piece of the corpus's personal data found in `data`."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [secret for _, secrets in PERSONAL for secret in secrets if secret in text]
