"""The export formats as files: each importer's writer puts given texts in every text field
of a file of that format, so the same checks (personal data, hostile text, all or
nothing, idempotence, fuzzing) run through every importer.

`write(folder, items)` writes one complaint per `Item` and returns the file; `args` are
the extra `heard import` arguments (a map file is written beside the data when needed).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    """One complaint: its long text (narrative, description, answer) and a short one
    (title, tag, name: at most 500 characters)."""

    text: str
    short: str = "Billing"


class Importer(Protocol):
    """An export format as a file writer."""

    format: str
    channel: str

    def args(self, folder: Path) -> list[str]:
        """`--format …` and what else the format needs."""
        ...

    def write(self, folder: Path, items: Sequence[Item]) -> Path:
        """The export holding `items`."""
        ...


def at(index: int, hours: float = 0) -> datetime:
    return START + timedelta(hours=index + hours)


def _csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


class Cfpb:
    format = "cfpb"
    channel = "cfpb"
    HEADER = ("Date received", "Product", "Sub-product", "Issue", "Sub-issue",
              "Consumer complaint narrative", "Company public response", "Company", "State",
              "ZIP code", "Tags", "Consumer consent provided?", "Submitted via",
              "Date sent to company", "Company response to consumer", "Timely response?",
              "Consumer disputed?", "Complaint ID")  # fmt: skip

    def args(self, folder: Path) -> list[str]:
        return ["--format", "cfpb", "--company", "Acme Bank"]

    def write(self, folder: Path, items: Sequence[Item]) -> Path:
        rows = []
        for index, item in enumerate(items):
            day = at(index).strftime("%m/%d/%Y")
            rows.append([day, item.short, "", item.short, "", item.text, item.text, "Acme Bank",
                         "TX", "770XX", "", "Consent provided", "Web", day,
                         "Closed with explanation", "Yes", "", str(900 + index)])  # fmt: skip
        return _csv(folder / "complaints.csv", self.HEADER, rows)


class Nyc311:
    format = "nyc311"
    channel = "nyc311"

    def args(self, folder: Path) -> list[str]:
        return ["--format", "nyc311", "--timezone", "America/New_York"]

    def write(self, folder: Path, items: Sequence[Item]) -> Path:
        def local(moment: datetime) -> str:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.000")

        requests = [
            {
                "unique_key": str(5000 + index),
                "created_date": local(at(index)),
                "agency": "DSNY",
                "agency_name": "Department of Sanitation",
                "complaint_type": item.short,
                "descriptor": item.short,
                "status": "Open",
                "resolution_description": item.text,
                "resolution_action_updated_date": local(at(index, 1)),
                "incident_address": "1 MAIN STREET",
                "location": {"latitude": "40.1", "longitude": "-73.9", "human_address": "{}"},
            }
            for index, item in enumerate(items)
        ]
        path = folder / "requests.json"
        path.write_text(json.dumps(requests, indent=1, ensure_ascii=False), encoding="utf-8")
        return path


class Open311:
    format = "open311"
    channel = "open311"

    def args(self, folder: Path) -> list[str]:
        return ["--format", "open311"]

    def write(self, folder: Path, items: Sequence[Item]) -> Path:
        def iso(moment: datetime) -> str:
            return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")

        requests: list[dict[str, Any]] = [
            {
                "service_request_id": f"SR-{index}",
                "status": "closed" if index % 2 else "open",
                "status_notes": item.text,
                "service_name": item.short,
                "service_code": "001",
                "description": item.text,
                "agency_responsible": item.short,
                "requested_datetime": iso(at(index)),
                "updated_datetime": iso(at(index, 2)),
                "address": "1 Main Street",
                "lat": 37.7,
                "long": -122.4,
            }
            for index, item in enumerate(items)
        ]
        path = folder / "requests.json"
        path.write_text(json.dumps(requests, ensure_ascii=False), encoding="utf-8")
        return path


class CsvMap:
    format = "csv"
    channel = "yelp"
    MAP = """\
channel = "yelp"
time_formats = ["%Y-%m-%d %H:%M"]

[columns]
id = "Review ID"
opened = "Date"
title = "Title"
text = "Review"
author = "User"
author_name = "Name"
tags = "Tags"
url = "URL"
rating = "Stars"
reply_at = "Reply date"
reply_text = "Reply"
reply_agent = "Replied by"
"""
    HEADER = ("Review ID", "Date", "Title", "Review", "User", "Name", "Tags", "URL", "Stars",
              "Reply date", "Reply", "Replied by")  # fmt: skip

    def args(self, folder: Path) -> list[str]:
        mapping = folder / "map.toml"
        mapping.write_text(self.MAP, encoding="utf-8")
        return ["--format", "csv", "--map", str(mapping)]

    def write(self, folder: Path, items: Sequence[Item]) -> Path:
        rows = []
        for index, item in enumerate(items):
            rows.append([f"rev{index}", at(index).strftime("%Y-%m-%d %H:%M"), item.short,
                         item.text, item.short, item.short, item.short,
                         f"https://www.yelp.com/biz/acme?hrid={index}", "1",
                         at(index, 1).strftime("%Y-%m-%d %H:%M"), f"Reply: {item.text}",
                         item.short])  # fmt: skip
        return _csv(folder / "reviews.csv", self.HEADER, rows)


IMPORTERS: tuple[Importer, ...] = (Cfpb(), Nyc311(), Open311(), CsvMap())
