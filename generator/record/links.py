"""Links: one complaint made on several channels is one case to its customer.

`content/links.jsonl` holds one link per line, written by `heard link KEEP MERGE`:
`{"keep": "<case id>", "merge": "<case id>", "at": "<ISO 8601>", "agent": "…"}` (agent
optional). The kept case is shown with every post of both on one timeline and counted once
from the earliest complaint; the merged id leads to it. A case is merged into at most one
other and a merged case keeps none (no chains). `heard unlink` removes the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from generator.errors import Problem
from generator.record.jsonl import read_models
from generator.record.model import CASE_ID_RE, Instant, Short, _Record
from generator.record.store import atomic_write
from generator.record.times import format_instant

LINKS = Path("content/links.jsonl")


class Link(_Record):
    """`merge` is shown as part of `keep`."""

    keep: Short
    merge: Short
    at: Instant
    agent: Short | None = None


@dataclass
class Links:
    """The links of the record, and the problems found reading them."""

    items: list[Link]
    problems: list[Problem]

    def into(self) -> dict[str, str]:
        """Merged case id → the id of the case it is shown in."""
        return {link.merge: link.keep for link in self.items}


def load_links(root: Path) -> Links:
    """Read content/links.jsonl; each bad line is a Problem naming its line and field."""
    path = root / LINKS
    shown = LINKS.as_posix()
    items: list[Link] = []
    problems: list[Problem] = []
    if not path.is_file():
        return Links(items, problems)
    for number, link in read_models(path, shown, Link, problems):
        problems.extend(_shape(link, items, shown, number))
        items.append(link)
    return Links(items, problems)


def _shape(link: Link, before: list[Link], shown: str, number: int) -> list[Problem]:
    """What is wrong with a link given those before it (ids, self-links, chains)."""
    problems = []
    for name in ("keep", "merge"):
        if not CASE_ID_RE.fullmatch(getattr(link, name)):
            problems.append(Problem(shown, number, name, "not a case id"))
    if link.keep == link.merge:
        problems.append(Problem(shown, number, "merge", "a case cannot be linked to itself"))
    for other in before:
        if link.merge == other.merge:
            problems.append(
                Problem(shown, number, "merge", f"{link.merge} is already linked to {other.keep}")
            )
        if link.merge == other.keep or link.keep == other.merge:
            middle = link.merge if link.merge == other.keep else link.keep
            problems.append(
                Problem(shown, number, None, f"{middle} would both keep and be merged: no chains")
            )
    return problems


def link_problems(links: Links, case_ids: set[str]) -> list[Problem]:
    """Links whose cases are not in the record (heard check)."""
    shown = LINKS.as_posix()
    problems = list(links.problems)
    for link in links.items:
        for name in ("keep", "merge"):
            case_id = getattr(link, name)
            if case_id not in case_ids:
                problems.append(Problem(shown, None, name, f"no case {case_id} in the record"))
    return problems


def save_links(root: Path, links: list[Link]) -> Path:
    """Write the links, one per line in the order given (atomically)."""
    lines = []
    for link in links:
        data = {"keep": link.keep, "merge": link.merge, "at": format_instant(link.at)}
        if link.agent:
            data["agent"] = link.agent
        lines.append(json.dumps(data, ensure_ascii=False))
    path = root / LINKS
    atomic_write(path, "".join(line + "\n" for line in lines).encode("utf-8"))
    return path
