"""What the importers of a city's service requests share (NYC 311, Open311): `--company`
as a filter on the agency, what a closure means (`--closed-as`), and the loop that makes
each kept request a case."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from typing import TypeVar

from generator.gather.imports.base import ImportOptions, ImportResult
from generator.gather.imports.fields import Draft, zone_named

T = TypeVar("T")
Fill = Callable[[T, Draft, zoneinfo.ZoneInfo, str], None]
"""fill(request, draft, zone, closing): the case of one request, into `draft`; `closing`
is what a closure means (see `closure_kind`)."""


def agency_filter(wanted: str | None) -> Callable[[Iterable[str]], bool]:
    """`--company` as a test of a request's agency names (code or full name, any case)."""
    if not wanted or wanted.strip() in ("", "*"):
        return lambda names: True
    key = " ".join(wanted.split()).casefold()
    return lambda names: any(" ".join(name.split()).casefold() == key for name in names)


def closure_kind(options: ImportOptions) -> str:
    """What a closure means here: closed, not fixed (the default), or resolved."""
    return options.closed_as or "closed"


def read_requests(
    shown: str,
    options: ImportOptions,
    requests: Iterable[tuple[int, T]],
    agencies: Callable[[T], Iterable[str] | None],
    fill: Fill[T],
) -> ImportResult:
    """Every request (line, request) as a case, filled in by `fill`; a request whose
    agencies (`agencies(request)`, None when it names none it can be judged by) are not
    the one `--company` names is skipped and counted as "other agency"."""
    zone = zone_named(options.timezone)
    kept = agency_filter(options.company)
    closing = closure_kind(options)
    cases = []
    skipped = {"other agency": 0}
    for line, request in requests:
        names = agencies(request)
        if names is not None and not kept(names):
            skipped["other agency"] += 1
            continue
        draft = Draft(shown, line)
        fill(request, draft, zone, closing)
        cases.append(draft.build())
    return ImportResult(cases, skipped)
