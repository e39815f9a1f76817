"""What the words of a public post say, the same way wherever they are read: praise or a
complaint (the `[gather]` patterns, the brand's own mentions left out), and the care
agent's signature at the end of a brand answer ("^JM")."""

from __future__ import annotations

import re

from generator.config import Config

# A care agent's caret signature at the end of a brand post: "^JM", "^ MC", "^Helen.",
# possibly followed by an attached link or a "2/2" thread counter.
SIGNATURE = re.compile(
    r"(?<!\^)\^ ?([A-Za-z]{1,12})[.!]?(?:\s+(?:https?://\S+|\d{1,2}/\d{1,2}|\.))*\s*$"
)


def agent_of(text: str | None) -> str | None:
    """The first name or initials a brand answer is signed with, if any."""
    match = SIGNATURE.search(text or "")
    return match.group(1) if match else None


class Judge:
    """Praise or complaint, from the configured patterns."""

    def __init__(self, config: Config) -> None:
        rules = config.gather
        self.config = config
        self.praise = [re.compile(p, re.IGNORECASE) for p in rules.praise]
        self.complaint = [re.compile(p, re.IGNORECASE) for p in rules.complaint]
        self._mentions: dict[str, re.Pattern[str]] = {}

    def is_praise(self, text: str | None, channel: str) -> bool:
        """Positive with no sign of a problem.

        Mentions of the brand's own accounts are not words of the post: a brand whose
        handle is a complaint word (`@help`) must not turn every thank-you into a complaint.
        """
        if not text:
            return False
        said = self.mentions(channel).sub(" ", text)
        return any(p.search(said) for p in self.praise) and not any(
            p.search(said) for p in self.complaint
        )

    def mentions(self, channel: str) -> re.Pattern[str]:
        """@-mentions of the brand's accounts on `channel` (with or without their server)."""
        if channel not in self._mentions:
            handles = self.config.accounts.get(channel, [])
            names = {h.strip().lstrip("@").split("@")[0] for h in handles}
            alternatives = "|".join(sorted(re.escape(n) for n in names if n)) or r"(?!)"
            self._mentions[channel] = re.compile(
                rf"(?<![\w@])@(?:{alternatives})(?:@[\w.-]+)?(?![\w@])", re.IGNORECASE
            )
        return self._mentions[channel]
