"""An Open311 GeoReport v2 export: the cases as service requests, one service per channel.

Files: `open311/discovery.json`, `open311/v2/services.json`, `open311/v2/requests.json`.
Hidden cases are left out; a removed case keeps its id, status and dates only. Fields the
format defines but a public complaint has no value for (address, lat/long, media) are null.
GeoReport v2 knows only open and closed: each request also carries `extended_attributes`
(as servers do with `extensions=true`) with heard's own state and times, so that
`heard import --format open311` reads the export back into the same states and times.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from generator.config import Config
from generator.gather.channels import display_name
from generator.meaning.lifecycle import CaseView, Facts
from generator.record.model import State
from generator.record.times import format_duration, format_instant
from generator.site.exports import compact, dumps
from generator.site.feeds import clip
from generator.site.render import STATE_LABELS

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_DESCRIPTION = 4000  # GeoReport v2: description is at most 4,000 characters
MAX_NOTES = 4000
GROUP = "public complaints"
WINDOW_DAYS = 90  # GeoReport v2: without start_date, requests are those of the last 90 days
STATUS: dict[State, Literal["open", "closed"]] = {
    "open": "open",
    "responded": "open",
    "resolved": "closed",
    "closed": "closed",
    "removed": "closed",
}


def channel_name(channel: str) -> str:
    """A channel as people name it ("github" → "GitHub"; unknown ones as they are)."""
    return display_name(channel)


def service_name(channel: str) -> str:
    """ "Complaints on Mastodon"."""
    return f"Complaints on {channel_name(channel)}"


def status_notes(view: CaseView) -> str:
    """The team's words for a resolved or closed case, else a short line for the state."""
    if view.removed:
        return STATE_LABELS["removed"]
    if view.state in ("resolved", "closed"):
        for step in reversed(view.steps):
            event = step.event
            if step.applied and event.kind == view.state and event.text and event.text.strip():
                return clip(event.text.strip(), MAX_NOTES)
    return STATE_LABELS.get(view.state, view.state)


def complaint_text(view: CaseView) -> str | None:
    """The opening complaint's text, cut to the format's 4,000 characters."""
    for step in view.steps:
        if step.event.kind == "complaint" and step.event.text:
            return clip(step.event.text, MAX_DESCRIPTION)
    return None


def service_request(view: CaseView, config: Config) -> dict[str, Any]:
    """One case as a GeoReport v2 service request."""
    removed = view.removed
    outcome = view.case.outcome
    target = config.policy.response_target
    notice = f"We aim to answer in public within {format_duration(target)}." if target else None
    return {
        "service_request_id": view.id,
        "status": STATUS[view.state],
        "status_notes": status_notes(view),
        "service_name": service_name(view.channel),
        "service_code": view.channel,
        "description": None if removed else complaint_text(view),
        "agency_responsible": config.site.brand,
        "service_notice": notice,
        "requested_datetime": format_instant(view.opened),
        "updated_datetime": format_instant(view.last_event_at),
        "expected_datetime": None,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
        "extended_attributes": {
            "heard_state": view.state,
            "first_response_datetime": _instant(view.first_response_at),
            "resolved_datetime": _instant(view.resolved_at),
            "heard_outcome": outcome.model_dump(exclude_none=True) if outcome else None,
        },
    }


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else format_instant(moment)


def service(channel: str, config: Config) -> dict[str, Any]:
    """One channel as a GeoReport v2 service."""
    brand = config.site.brand
    name = channel_name(channel)
    return {
        "service_code": channel,
        "service_name": service_name(channel),
        "description": f"Public complaints to {brand} on {name}, and {brand}'s public answers.",
        "metadata": False,
        "type": "realtime",
        "keywords": f"complaint, {channel}, {brand}",
        "group": GROUP,
    }


def discovery(config: Config, now: datetime) -> dict[str, Any]:
    """`open311/discovery.json`: where the (read-only) endpoint is."""
    changeset = format_instant(now)
    return {
        "changeset": changeset,
        "contact": f"{config.site.brand}: {config.site.base_url}",
        "key_service": "None needed: a read-only, static export (no requests can be posted).",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": config.site.base_url + "open311/v2/",
                "changeset": changeset,
                "type": "production",
                "formats": ["application/json"],
            }
        ],
    }


def in_window(view: Facts, now: datetime) -> bool:
    """Whether a case belongs in requests.json: opened in the last WINDOW_DAYS days."""
    return view.opened >= now - timedelta(days=WINDOW_DAYS)


def request_json(view: CaseView, config: Config) -> str:
    """One service request as a compact JSON line."""
    return compact(service_request(view, config)).decode("utf-8").rstrip("\n")


def requests_json(lines: Iterable[str]) -> bytes:
    """`open311/v2/requests.json` from compact request lines, in the order given."""
    items = list(lines)
    return ("[\n" + ",\n".join(items) + ("\n]\n" if items else "]\n")).encode("utf-8")


def head_files(
    shown: Sequence[Facts], config: Config, now: datetime
) -> Iterator[tuple[str, bytes]]:
    """The discovery document and the services (one per channel of a shown case)."""
    yield "open311/discovery.json", dumps(discovery(config, now))
    channels = sorted({v.channel for v in shown})
    yield "open311/v2/services.json", dumps([service(c, config) for c in channels])


def files(
    views: Sequence[CaseView], summary: dict[str, Any], config: Config, now: datetime
) -> Iterator[tuple[str, bytes]]:
    """The discovery document, services and requests (hidden cases left out; requests are
    those opened in the last 90 days, GeoReport v2's default range)."""
    del summary  # requests follow cases, not figures
    shown = sorted((v for v in views if not v.hidden), key=lambda v: (v.opened, v.id))
    yield from head_files(shown, config, now)
    recent = (request_json(v, config) for v in shown if in_window(v, now))
    yield "open311/v2/requests.json", requests_json(recent)
