"""What a fake of Meta's Graph API needs, shaped as the Graph API reference shows its
answers: times as `2026-11-28T16:02:11+0000`, lists as `{"data": [...], "paging":
{"cursors": {...}, "next": URL}}` with the next page on the API's own origin."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from generator.gather.sources.base import FetchResult, Post

VERSION = "v25.0"


def graph_time(moment: datetime) -> str:
    """A time as the Graph API writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_graph_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")


def listing(
    server: HTTPServer,
    path: str,
    items: Sequence[Mapping[str, Any]],
    *,
    offset: int = 0,
    size: int = 25,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One page of a Graph list from `offset`, with `paging.next` when more are left (the
    cursor is the offset, as opaque to the client as Meta's)."""
    page = [dict(item) for item in items[offset : offset + size]]
    body: dict[str, Any] = {"data": page}
    paging: dict[str, Any] = {"cursors": {"before": f"b{offset}", "after": f"a{offset + size}"}}
    if offset + size < len(items):
        args = {**(query or {}), "after": f"a{offset + size}"}
        paging["next"] = f"{server.url_for(path)}?{urlencode(args)}"
    body["paging"] = paging
    return body


def offset_of(request: Request) -> int:
    """The offset a fake's `after` cursor carries."""
    after = request.args.get("after", "a0")
    return int(after[1:])


def graph_json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status, headers=dict(headers or {}), content_type="application/json"
    )


def graph_failure(
    code: int,
    message: str,
    *,
    status: int = 400,
    kind: str = "OAuthException",
    subcode: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A Graph API error answer ({"error": {message, type, code, error_subcode, fbtrace_id}})."""
    error: dict[str, Any] = {
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": "AbCdEfGh123",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return graph_json({"error": error}, status, headers)


def buc(
    object_id: str,
    *,
    calls: int = 1,
    cpu: int = 1,
    total: int = 1,
    regain: int = 0,
    kind: str = "pages",
) -> dict[str, str]:
    """An `X-Business-Use-Case-Usage` header as documented (percentages; minutes)."""
    value = {
        object_id: [
            {
                "type": kind,
                "call_count": calls,
                "total_cputime": cpu,
                "total_time": total,
                "estimated_time_to_regain_access": regain,
            }
        ]
    }
    return {"X-Business-Use-Case-Usage": json.dumps(value)}


def app_usage(calls: int, cpu: int = 0, total: int = 0) -> dict[str, str]:
    """An `X-App-Usage` header as documented (percentages)."""
    return {
        "X-App-Usage": json.dumps({"call_count": calls, "total_cputime": cpu, "total_time": total})
    }


def ids(result: FetchResult) -> list[str]:
    """The native ids a fetch brought back, sorted."""
    return sorted(p.native_id for p in result.posts)


def by_id(result: FetchResult) -> dict[str, Post]:
    return {p.native_id: p for p in result.posts}


def paths(server: HTTPServer) -> list[str]:
    """The paths the fake was asked for, in order."""
    return [r.path for r, _ in server.log]
