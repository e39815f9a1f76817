"""`freshness.js`: when the record was gathered, for pages that do not depend on "now".

Case pages (and later pages of lists, and free pages) must keep their bytes while nothing
they show changes, so they cannot say "figures as of". This one small file can: a script
(`assets/freshness.js`, part of heard, not of a theme) with this build's data, which the
pages load (CSP `script-src 'self'`; a script file works from file:// where fetch does not).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib import resources

from generator.record.times import format_instant
from generator.site.lookup import js_json
from generator.site.render import SiteData

PATH = "freshness.js"
_SLOT = "var data = null; /* DATA */"


def freshness_file(data: SiteData, local: Callable[[datetime], str]) -> tuple[str, bytes]:
    """The script with this build's now and, per channel, its last good gather (or, for a
    channel that is imported rather than gathered, its latest activity) and staleness."""

    def pair(moment: datetime) -> list[str]:
        return [format_instant(moment), local(moment)]

    channels = []
    for name in sorted(set(data.gathered) | set(data.activity)):
        fresh = data.gathered.get(name)
        if fresh is not None:
            at = pair(fresh.last_good) if fresh.last_good else None
            channels.append({"name": name, "gathered": True, "at": at, "stale": fresh.stale})
        else:
            at = pair(data.activity[name])
            channels.append({"name": name, "gathered": False, "at": at, "stale": False})
    payload = js_json({"now": pair(data.now), "channels": channels})
    script = resources.files("generator.site").joinpath("assets/freshness.js").read_text("utf-8")
    return PATH, script.replace(_SLOT, f"var data = {payload};", 1).encode("utf-8")
