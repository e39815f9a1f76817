"""The CFPB Consumer Complaint Database as downloaded: CSV (the official headers, Kaggle's
snake_case ones, older extracts with fewer columns) or the API's JSON (a search answer's
`hits.hits[]._source`, or the `format=json` export list).

The CFPB publishes dates, never times, and never when the company answered: only the
company's response as a category and whether it was "timely" (within 15 days of the
complaint being sent to the company). So each case has:

- a `complaint` at the day received (day precision; the consumer's narrative if published);
- a `note` by the system at the day the CFPB sent it to the company (day precision);
- an `outcome`: the response category, what it means here, and the timely flag. No time
  is invented for the answer: the case counts apart in the figures ("dates only").

Response categories: with monetary, non-monetary or any relief → resolved (the company
gave the consumer relief: the closest thing to a fix); "Closed with explanation",
"Closed without relief" and "Closed" → closed (ended, not fixed); "In progress" →
responded (the company answered that it is still working on it); "Untimely response" →
open (no response came in time); no response published yet → open. A category this
module does not know is an error rather than a guess.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Any

from generator.errors import HeardError
from generator.gather.imports.base import ImportFormat, ImportOptions, ImportResult
from generator.gather.imports.fields import Draft, native_id, noon_of
from generator.gather.imports.records import Record, check_columns, is_json, read_records
from generator.record.model import OutcomeState

CHANNEL = "cfpb"
DEADLINE_DAYS = 15
ALL_COMPANIES = "*"
DETAIL_URL = "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/"

RESPONSES: dict[str, OutcomeState] = {
    "closed with monetary relief": "resolved",
    "closed with non-monetary relief": "resolved",
    "closed with relief": "resolved",
    "closed with explanation": "closed",
    "closed without relief": "closed",
    "closed": "closed",
    "in progress": "responded",
    "untimely response": "open",
}
NO_RESPONSE = "No response published yet"

# Every dialect's column names, normalised (lowercase, runs of other characters as "_").
ALIASES = {
    "date_received": ("date_received",),
    "date_sent": ("date_sent_to_company",),
    "company": ("company",),
    "response": ("company_response_to_consumer", "company_response"),
    "timely": ("timely_response", "timely"),
    "complaint_id": ("complaint_id",),
    "narrative": ("consumer_complaint_narrative", "complaint_what_happened"),
    "public_response": ("company_public_response",),
    "product": ("product",),
    "sub_product": ("sub_product",),
    "issue": ("issue",),
    "sub_issue": ("sub_issue",),
}
REQUIRED = ("date_received", "company", "response")
_CANONICAL = {name: key for key, names in ALIASES.items() for name in names}
_WRITTEN = {
    "date_received": "Date received",
    "company": "Company",
    "response": "Company response to consumer",
}
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?")


def normalise(name: str) -> str:
    """A column name in any dialect as this module's key ("Timely response?" → timely)."""
    flat = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return _CANONICAL.get(flat, flat)


def _date(record: Record, key: str, draft: Draft) -> date | None:
    value = record.get(key)
    if not value:
        return None
    us = _US_DATE.fullmatch(value)
    iso = _ISO_DATE.fullmatch(value)
    try:
        if us:
            return date(int(us.group(3)), int(us.group(1)), int(us.group(2)))
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    except ValueError:
        pass
    raise draft.fail(record.column(key), f"not a date like 7/29/2013 or 2013-07-29: {value!r}")


def _timely(record: Record, draft: Draft) -> bool | None:
    value = record.get("timely").lower()
    if value in ("", "n/a"):
        return None
    if value in ("yes", "true"):
        return True
    if value in ("no", "false"):
        return False
    raise draft.fail(record.column("timely"), f"must be Yes or No, not {value!r}")


def _state(record: Record, draft: Draft) -> tuple[str, OutcomeState]:
    label = record.get("response")
    if not label:
        return NO_RESPONSE, "open"
    state = RESPONSES.get(" ".join(label.lower().split()))
    if state is None:
        known = ", ".join(sorted({k.capitalize() for k in RESPONSES}))
        raise draft.fail(
            record.column("response"), f"unknown company response {label!r} (known: {known})"
        )
    return label, state


class _Ids:
    """Case ids: `cfpb-<Complaint ID>`; a row without one gets a hash of its values (the
    same row in any later extract gets the same id; identical rows are numbered)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def of(self, record: Record, draft: Draft) -> str:
        given = record.get("complaint_id")
        if given:
            native = native_id(given.removesuffix(".0"))
            if native is None:
                raise draft.fail(record.column("complaint_id"), "not a complaint id")
            return f"{CHANNEL}-{native}"
        canonical = "\x1f".join(f"{k}={v.strip()}" for k, v in sorted(record.values.items()))
        digest = "r" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        count = self.seen[digest] = self.seen.get(digest, 0) + 1
        return f"{CHANNEL}-{digest}" if count == 1 else f"{CHANNEL}-{digest}-{count}"


def _case(record: Record, draft: Draft, case_id: str, company: str, tag_company: bool) -> None:
    received = _date(record, "date_received", draft)
    if received is None:
        raise draft.fail(record.column("date_received"), "empty: every complaint has one")
    sent = _date(record, "date_sent", draft)
    label, state = _state(record, draft)
    timely = _timely(record, draft)
    draft.set("id", case_id, record.column("complaint_id"))
    draft.set("channel", CHANNEL)
    issue = record.get("issue")
    sub_issue = record.get("sub_issue")
    title = f"{issue}: {sub_issue}" if sub_issue not in ("", issue) else issue
    title = title or record.get("product")
    draft.set("title", title, record.column("issue"))
    if not case_id.removeprefix(f"{CHANNEL}-").startswith("r"):
        draft.set("url", DETAIL_URL + case_id.removeprefix(f"{CHANNEL}-"))
    tags = [t for t in (record.get("product"), company if tag_company else "") if t]
    draft.set("tags", tags, record.column("product"))
    outcome: dict[str, Any] = {"label": label, "state": state, "timely": timely}
    if timely is not None:
        outcome["within_days"] = DEADLINE_DAYS
    public = record.get("public_response")
    if public:
        outcome["text"] = public
    draft.set("outcome", {k: v for k, v in outcome.items() if v is not None})
    draft.columns["outcome.label"] = record.column("response")
    draft.columns["outcome.text"] = record.column("public_response")
    draft.event(
        {"at": record.column("date_received"), "text": record.column("narrative")},
        kind="complaint",
        at=noon_of(received),
        by="customer",
        text=record.get("narrative") or None,
        precision="day",
    )
    if sent is not None:
        draft.event(
            {"at": record.column("date_sent")},
            kind="note",
            at=noon_of(sent),
            by="system",
            text="The CFPB sent the complaint to the company.",
            precision="day",
        )


def read(path: Path, shown: str, options: ImportOptions) -> ImportResult:
    """The complaints about one company (`--company`, or every company with `*`)."""
    wanted = " ".join((options.company or "").split()).casefold()
    every = wanted == ALL_COMPANIES
    cases = []
    skipped = {"other company": 0}
    ids = _Ids()
    first_company: tuple[str, int] | None = None
    for record in read_records(
        path,
        shown,
        json_paths=[(), ("hits", "hits")],
        what="the CFPB's columns (Date received, Company, …)",
        normalise=normalise,
        unwrap="_source",
    ):
        check_columns(record, REQUIRED, shown, _WRITTEN)
        draft = Draft(shown, record.line)
        company = " ".join(record.get("company").split())
        if not wanted:
            if first_company is None:
                first_company = (company, record.line)
            elif company.casefold() != first_company[0].casefold():
                raise HeardError(
                    f"{shown}:{record.line}: this file holds complaints about more than one "
                    f"company ({first_company[0]!r}, {company!r}): give --company NAME, "
                    f"or --company '*' for all of them"
                )
        elif not every and company.casefold() != wanted:
            skipped["other company"] += 1
            continue
        _case(record, draft, ids.of(record, draft), company, every)
        cases.append(draft.build())
    return ImportResult(cases, skipped)


def _looks_like(head: bytes) -> bool:
    if is_json(head):
        return b'"complaint_id"' in head or b'"company_response"' in head
    first = head.split(b"\n", 1)[0].lower()
    return b"company" in first and b"date received" in first.replace(b"_", b" ")


FORMAT = ImportFormat(
    name="cfpb",
    summary="the CFPB Consumer Complaint Database, CSV or JSON (needs --company)",
    read=read,
    looks_like=_looks_like,
    channel=CHANNEL,
    display="CFPB",
)
