"""The contract every gathered source keeps, and the fake-provider scenario each one supplies.

A source's test module defines `SCENARIO`, an object with:

- `type`, `channel`: the source type and the channel its cases land in;
- `env`: fake credentials (the variables its settings name), each a unique string;
- `answers`: whether the channel carries the brand's public replies;
- `config(base_url)`: TOML for `[accounts]` and its `[[sources]]` table, pointing at the
  local server;
- `serve(server, complaints)`: make the local server answer like the provider's documented
  API, holding one public complaint per `Complaint` (and, where `answers`, the brand's reply
  to it `answer_after` later).

tests/test_source_contract.py runs every scenario through the same checks: the right
cases, states and first-response times; a second gather adds nothing; each fault leaves
the record byte-identical and the other sources saved; personal data never reaches
content/; hostile text is escaped on the site; credentials appear nowhere; a gather killed
at any moment leaves a record that `heard check` accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pytest_httpserver import HTTPServer

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
GATHERED = datetime(2026, 11, 30, 11, tzinfo=UTC)
NOW = "2026-11-30T12:00:00Z"


@dataclass(frozen=True)
class Complaint:
    """One public complaint a fake provider serves, and the brand's timed answer to it."""

    key: str  # letters and digits: the fake's native id is made from it
    text: str
    at: datetime
    answer: str | None = None
    answer_after: timedelta = timedelta(minutes=43)

    @property
    def answered_at(self) -> datetime | None:
        """When the brand answered (None: not yet)."""
        return self.at + self.answer_after if self.answer is not None else None


class Scenario(Protocol):
    """A source's fake provider (see the module docstring)."""

    type: str
    channel: str
    env: Mapping[str, str]
    answers: bool

    def config(self, base_url: str) -> str:
        """`[accounts]` (if any) and the `[[sources]]` table, as TOML."""
        ...

    def serve(self, server: HTTPServer, complaints: Sequence[Complaint]) -> None:
        """Answer like the provider, holding these complaints (and the brand's answers)."""
        ...


def complaints(texts: Sequence[str], *, answered: int = 0) -> list[Complaint]:
    """One complaint per text, an hour apart; the first `answered` get "please DM us"."""
    return [
        Complaint(
            key=f"k{index + 1}",
            text=text,
            at=START + timedelta(hours=index),
            answer="Sorry about this! Please DM us your account email."
            if index < answered
            else None,
        )
        for index, text in enumerate(texts)
    ]


SITE = """\
[site]
title = "Acme — we heard you"
brand = "Acme"
base_url = "https://acme.example/heard/"

[policy]
response_target = "1h"

[gather]
redact = ['\\bORD-\\d{6}\\b']

"""


def site_config(scenario: Scenario, base_url: str, *, with_feed: str | None = None) -> str:
    """A whole heard.toml for the scenario (and, optionally, an RSS feed beside it)."""
    text = SITE + scenario.config(base_url)
    if with_feed is not None:
        text += f'\n[[sources]]\ntype = "rss"\nname = "other"\nurl = "{with_feed}"\n'
    return text
