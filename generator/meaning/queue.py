"""`heard queue`: what the care team answers next. For the team only; never published, and
reach never changes a published figure (every complaint counts the same on the site).

Four groups, in this order, each sorted by its priority, highest first:

1. **answer** — no public answer yet. Priority = waiting ÷ response target × reach weight.
2. **fix** — answered, not fixed or closed. Waiting runs from the customer's last word
   without a brand answer after it (else from the last brand answer); priority = waiting ÷
   resolution target × reach weight.
3. **still concerned** — answered with a question (or moved to a private channel), and the
   customer has said nothing since for `policy.silent_after`: say in public that you are
   still concerned. Priority = silence ÷ silent_after × reach weight.
4. **follow up** — fixed, with no public word from the brand since, for
   `policy.follow_up_after`. Priority = time since the fix ÷ follow_up_after × reach weight.

The reach weight is 1 + log10(1 + followers) (1 when the channel gives no reach): a post
seen by 1,240 followers weighs about 4.1, so it comes first against one with no followers
that has waited up to four times as long. Targets default to 1 h (answer) and 7 d (fix)
when the policy names none. Ties: the longer wait, then the case id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from generator.config import Config
from generator.meaning.lifecycle import CaseView
from generator.record.times import format_duration

Group = Literal["answer", "fix", "still concerned", "follow up"]
GROUPS: tuple[Group, ...] = ("answer", "fix", "still concerned", "follow up")
DEFAULT_RESPONSE_TARGET = 3600
DEFAULT_RESOLUTION_TARGET = 7 * 86400


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One case to act on, and why it is where it is."""

    case_id: str
    channel: str
    group: Group
    priority: float
    waiting_s: int
    reach: int | None
    reason: str
    url: str | None
    title: str

    def as_json(self) -> dict[str, object]:
        """The row for tools (`heard queue --json`)."""
        return {
            "case": self.case_id,
            "channel": self.channel,
            "group": self.group,
            "priority": round(self.priority, 3),
            "waiting_s": self.waiting_s,
            "reach": self.reach,
            "reason": self.reason,
            "url": self.url,
            "title": self.title,
        }


def reach_weight(reach: int | None) -> float:
    """1 + log10(1 + followers); 1 when unknown."""
    return 1.0 + math.log10(1 + reach) if reach else 1.0


def _followers(reach: int | None) -> list[str]:
    return [f"{reach:,} followers"] if reach else []


def _title(view: CaseView) -> str:
    text = view.case.title or next((s.event.text for s in view.steps if s.event.text), "")
    flat = " ".join((text or "").split())
    return flat if len(flat) <= 80 else flat[:79] + "…"


def _row(view: CaseView, group: Group, waited: float, target: float, reason: list[str]) -> QueueRow:
    reach = view.case.author.reach if view.case.author else None
    return QueueRow(
        case_id=view.id,
        channel=view.channel,
        group=group,
        priority=waited / target * reach_weight(reach),
        waiting_s=int(waited),
        reach=reach,
        reason=", ".join([*_followers(reach), *reason]),
        url=view.case.url,
        title=_title(view),
    )


def _asked(text: str | None) -> bool:
    return "?" in (text or "")


def place(view: CaseView, now: datetime, config: Config) -> QueueRow | None:
    """Where one case stands in the queue, or None when there is nothing to do."""
    if view.hidden or view.removed:
        return None
    policy = config.policy
    brand = [s for s in view.steps if s.counts]
    customer = [s for s in view.steps if s.event.by == "customer"]
    if view.state == "open":
        target = policy.response_target or DEFAULT_RESPONSE_TARGET
        waited = (now - view.opened).total_seconds()
        reason = [f"waiting {format_duration(waited)}", f"target {format_duration(target)}"]
        return _row(view, "answer", waited, target, reason)
    if view.state == "responded":
        last_brand = brand[-1].event if brand else None
        spoke = [s.event.at for s in customer if last_brand is None or s.event.at > last_brand.at]
        if last_brand is not None and not spoke:
            silence = (now - last_brand.at).total_seconds()
            question = last_brand.kind == "moved_private" or _asked(last_brand.text)
            if question and silence >= policy.silent_after:
                reason = [
                    f"no word from the customer {format_duration(silence)} after the brand's "
                    + (
                        "move to a private channel"
                        if last_brand.kind == "moved_private"
                        else "question"
                    ),
                    "say in public you are still concerned",
                ]
                return _row(view, "still concerned", silence, policy.silent_after, reason)
        since = min(spoke) if spoke else (last_brand.at if last_brand else view.opened)
        target = policy.resolution_target or DEFAULT_RESOLUTION_TARGET
        waited = (now - since).total_seconds()
        reason = [
            ("customer waiting " if spoke else "not fixed ") + format_duration(waited),
            f"open {format_duration((now - view.opened).total_seconds())}",
            f"target {format_duration(target)} to fix",
        ]
        return _row(view, "fix", waited, target, reason)
    if view.state == "resolved" and view.resolved_at is not None:
        fixed = view.resolved_at
        after = [s for s in brand if s.event.at > fixed and s.event.kind != "resolved"]
        quiet = (now - fixed).total_seconds()
        if not after and quiet >= policy.follow_up_after:
            reason = [f"fixed {format_duration(quiet)} ago", "no public follow-up yet"]
            return _row(view, "follow up", quiet, policy.follow_up_after, reason)
    return None


def queue(
    views: Iterable[CaseView],
    now: datetime,
    config: Config,
    *,
    channel: str | None = None,
    limit: int | None = None,
) -> list[QueueRow]:
    """The team's queue: the four groups in order, each by priority (see the module)."""
    rows = [
        row
        for view in views
        if (channel is None or view.channel == channel)
        and (row := place(view, now, config)) is not None
    ]
    rows.sort(key=lambda r: (GROUPS.index(r.group), -r.priority, -r.waiting_s, r.case_id))
    return rows if limit is None else rows[:limit]
