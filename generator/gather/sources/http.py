"""The one HTTP layer of every source: timeouts, bounded retries with backoff and jitter,
rate limits (Retry-After, each provider's reset headers, Meta's usage percentages),
pagination helpers and conditional requests. Errors never carry headers or credentials.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from generator.errors import one_line
from generator.gather.sources.base import SourceError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REMAINING_HEADERS = ("x-ratelimit-remaining", "x-rate-limit-remaining", "ratelimit-remaining")
# Graph API (Facebook, Instagram) error codes that mean "throttled: wait", whatever the HTTP
# status (400 or 403): 4 app, 17 user, 32 Page, 341 app limit, 613 custom rate limit,
# 80000-80014 Business Use Case limits (80001 Pages, 80002 Instagram, ...).
GRAPH_RATE_CODES = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
GRAPH_TRANSIENT_CODES = frozenset({1, 2})  # "API Unknown", "API Service": wait and retry
# Meta usage (percent of the limit used) at which the client slows down, and how long it
# waits before the next request: 30 s from 80 %, 2 min from 90 %, 5 min from 95 %, 15 min
# at 100 % (the limit is a rolling window of 1 h for apps, 24 h for Pages).
META_PAUSES = ((100.0, 900.0), (95.0, 300.0), (90.0, 120.0), (80.0, 30.0))
USER_AGENT = "heard (+https://pypi.org/project/heard/)"
_SECRET_HEADERS = frozenset({"authorization", "api-key", "apikey", "x-api-key"})


Refusal = Callable[[int, Any], "str | None"]
"""A source's own reading of an error answer (status, decoded JSON body or None): a
message to fail with at once, never retried (X: out of credits), or None."""


class HttpError(SourceError):
    """An API answered with an error status (after any retries): its status and, for the
    Graph API, its error code, so that a source can tell "not available here" from a
    failure."""

    def __init__(
        self,
        message: str,
        status: int | None,
        graph: GraphError | None = None,
        *,
        code: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.graph = graph


@dataclass(frozen=True)
class GraphError:
    """The `error` object of a Graph API answer (Facebook, Instagram)."""

    code: int | None
    subcode: int | None
    type: str | None
    message: str | None
    trace: str | None  # fbtrace_id: what Meta's support asks for

    def describe(self) -> str:
        """`message (type, code N/subcode, fbtrace_id X)` on one line."""
        code = f"code {self.code}" if self.code is not None else "no code"
        if self.subcode is not None:
            code += f"/{self.subcode}"
        details = ", ".join(x for x in (self.type, code) if x)
        if self.trace:
            details += f", fbtrace_id {self.trace}"
        return f"{one_line(self.message or 'error', 160)} ({details})"


def graph_error(body: Any) -> GraphError | None:
    """The Graph API error in a decoded body, if it is one (it has a `type` or an
    `fbtrace_id`)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not ("type" in error or "fbtrace_id" in error):
        return None  # not Meta's (Google's {"error": {code, message, status}} has neither)

    def number(key: str) -> int | None:
        value = error.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def text(key: str) -> str | None:
        value = error.get(key)
        return one_line(value, 80) if isinstance(value, str) and value.strip() else None

    message = error.get("message")
    return GraphError(
        code=number("code"),
        subcode=number("error_subcode"),
        type=text("type"),
        message=message if isinstance(message, str) else None,
        trace=text("fbtrace_id"),
    )


@dataclass(frozen=True)
class MetaUsage:
    """What Meta's usage headers say: the highest share of a limit used (call count, CPU
    time or total time, in percent) and the announced wait before access comes back."""

    percent: float
    regain_s: float  # estimated_time_to_regain_access (given in minutes), in seconds


def meta_usage(headers: Mapping[str, str]) -> MetaUsage | None:
    """`X-Business-Use-Case-Usage` (Page, Instagram and system-user tokens: per object id,
    a list of {type, call_count, total_cputime, total_time, estimated_time_to_regain_access})
    and `X-App-Usage` (app and user tokens: {call_count, total_cputime, total_time}), read
    together. None when neither is there or readable: no header is not "no usage"."""
    entries: list[Any] = []
    for name in ("x-business-use-case-usage", "x-app-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, ValueError):
            continue
        if name == "x-app-usage":
            entries.append(data)
        elif isinstance(data, dict):
            for value in data.values():
                entries.extend(value if isinstance(value, list) else [value])
    percent = regain = None
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for key in ("call_count", "total_cputime", "total_time"):
            value = _number(entry.get(key))
            if value is not None:
                percent = max(percent or 0.0, value)
        minutes = _number(entry.get("estimated_time_to_regain_access"))
        if minutes is not None:
            regain = max(regain or 0.0, minutes * 60)
    if percent is None and regain is None:
        return None
    return MetaUsage(percent or 0.0, regain or 0.0)


def meta_pause(usage: MetaUsage | None) -> float | None:
    """Seconds to wait before the next request to Meta, or None: the announced time to
    regain access, else a pause that grows as the usage nears 100 % (META_PAUSES)."""
    if usage is None:
        return None
    if usage.regain_s > 0:
        return usage.regain_s
    for threshold, pause in META_PAUSES:
        if usage.percent >= threshold:
            return pause
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


@dataclass(frozen=True)
class Answer:
    """A successful (or 304) response, decoded."""

    status: int
    data: Any
    headers: Mapping[str, str]
    url: str

    @property
    def etag(self) -> str | None:
        """The ETag to send next time, if any."""
        return self.headers.get("etag")

    def next_link(self) -> str | None:
        """The `rel="next"` URL of an RFC 8288 Link header (GitHub, Mastodon)."""
        return self.link("next")

    def link(self, rel: str) -> str | None:
        """Any rel of the Link header (Mastodon's `prev` carries min_id)."""
        for part in self.headers.get("link", "").split(","):
            match = re.search(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?', part)
            if match and rel in match.group(2).split():
                return match.group(1)
        return None


def wait_from_headers(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait before retrying, from whichever rate-limit header the provider sent.

    Retry-After (seconds or an HTTP date); GitHub `x-ratelimit-reset` and X
    `x-rate-limit-reset` (epoch seconds); Mastodon `x-ratelimit-reset` (ISO 8601);
    Reddit `x-ratelimit-reset` (seconds from now); Bluesky `ratelimit-reset` (epoch);
    App Store Connect `x-rate-limit` with no requests left (a rolling hour, see
    `hourly_quota`); Meta `X-Business-Use-Case-Usage` `estimated_time_to_regain_access`
    (minutes).
    """
    retry_after = headers.get("retry-after")
    if retry_after:
        value = retry_after.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, when.timestamp() - now)
    for name in ("x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset"):
        raw = headers.get(name)
        if not raw:
            continue
        raw = raw.strip()
        try:
            number = float(raw)
        except ValueError:
            try:
                moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return max(0.0, moment.timestamp() - now)
        # Epoch seconds are large; a small number is "seconds from now" (Reddit).
        return max(0.0, number - now) if number > 1_000_000_000 else number
    quota = hourly_quota(headers)
    if quota is not None and quota[1] == 0:
        return ROLLING_HOUR
    usage = meta_usage(headers)
    if usage is not None and usage.regain_s > 0:
        return usage.regain_s
    return None


ROLLING_HOUR = 3600.0
_HOURLY = re.compile(r"user-hour-(lim|rem):(\d+)")


def hourly_quota(headers: Mapping[str, str]) -> tuple[int, int] | None:
    """(limit, remaining) from App Store Connect's `X-Rate-Limit` header, or None.

    The value reads `user-hour-lim:3600;user-hour-rem:3121;`: requests allowed per key in
    a *rolling* hour, and how many of them are left. No reset time is given: the oldest
    request of the last 60 minutes ages out at some moment within the hour, so with none
    left the only safe wait is a whole hour.
    """
    raw = headers.get("x-rate-limit")
    if not raw:
        return None
    found = dict(_HOURLY.findall(raw))
    if "lim" not in found or "rem" not in found:
        return None
    return int(found["lim"]), int(found["rem"])


def used_up(headers: Mapping[str, str]) -> bool:
    """Whether the provider says no request is left in its window (GitHub, X, Mastodon,
    Bluesky, and Reddit, whose remaining count is a float: "0.0")."""
    for name in _REMAINING_HEADERS:
        raw = headers.get(name)
        if raw is not None:
            try:
                return float(raw.strip()) <= 0
            except ValueError:
                return False
    return False


class HttpClient:
    """A small, strict JSON client shared by all sources.

    When an answer says the rate-limit window is used up (a remaining count of 0 and a
    reset header), the next request waits for the reset first instead of being refused.

    `sleep`, `clock` and `jitter` are injected so tests run without real waiting.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 20.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
        secrets: list[str] | None = None,
    ) -> None:
        self.base_url = base_url
        self.secrets = secrets if secrets is not None else []
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.requests = 0
        self.retries = 0
        self.refuse: Refusal | None = None  # set by a source that knows final answers
        self.resume_at: float | None = None  # the window was used up: wait until then
        self.why_waiting = ""
        self.client = httpx.Client(
            headers={"user-agent": USER_AGENT, "accept": "application/json", **(headers or {})},
            timeout=timeout,
            follow_redirects=False,  # followed by hand, same origin only (credentials stay)
            transport=transport,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scrub(self, message: str) -> str:
        """`message` on one line with every credential cut out: the ones this client sends
        in its headers and the ones its source read (a hostile server may echo one back)."""
        found: list[str] = []
        for name, value in self.client.headers.items():
            if name.lower() in _SECRET_HEADERS and value:
                found += [value, value.split()[-1]]  # the whole header first, then the token
        for secret in sorted(dict.fromkeys([*found, *self.secrets]), key=len, reverse=True):
            if len(secret) >= 4:
                message = message.replace(secret, "[redacted]")
        return one_line(message, 400)

    def set_header(self, name: str, value: str | None) -> None:
        """Set (or with None, drop) a header sent with every later request (a session's
        token obtained at run time)."""
        if value is None:
            self.client.headers.pop(name, None)
        else:
            self.client.headers[name] = value

    def set_bearer(self, token: str | None) -> None:
        """Send `token` as `Authorization: Bearer <token>` with every later request (None:
        send no Authorization header)."""
        self.set_header("authorization", None if token is None else f"Bearer {token}")

    def follow(self, link: str, current: str) -> str | None:
        """`link` resolved against `current`, if it is on this client's origin; else None
        (a next-page link to another host would carry the credentials there)."""
        try:
            url = str(httpx.URL(current).join(link))
        except (httpx.InvalidURL, ValueError):
            return None
        return url if same_origin(url, self.base_url) else None

    def url(self, path: str) -> str:
        """An absolute URL: full URLs (pagination links) pass through; "" is the base itself."""
        if re.match(r"^https?://", path):
            return path
        if not path:
            return self.base_url
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        etag: str | None = None,
        decode: str = "json",
        headers: Mapping[str, str] | None = None,
        allow: Collection[int] = (),
    ) -> Answer:
        """GET with retries. 304 → Answer(status=304, data=None). decode: json | text | bytes.

        A status in `allow` (say 404 for an item that may have gone) is answered as
        Answer(status, data=None) instead of failing."""
        extra = dict(headers or {})
        if etag:
            extra["if-none-match"] = etag
        return self.request("GET", path, params, headers=extra, decode=decode, allow=allow)

    def post(
        self,
        path: str,
        *,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Answer:
        """POST a form (`data`) or a JSON body (`json`), with the same retries as GET.

        Only for idempotent calls (a login, a token exchange): heard never writes to a
        provider.
        """
        return self.request("POST", path, params, headers=headers, data=data, json=json)

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        decode: str = "json",
        allow: Collection[int] = (),
    ) -> Answer:
        """One call with bounded retries, rate limits and same-origin redirects."""
        url = self.url(path)
        shown = _shown(url)
        headers = dict(headers or {})
        attempt = 0
        redirects = 0
        while True:
            self._wait_for_window(shown)
            self.requests += 1
            status: int | None = None  # of this attempt's answer, if it got one
            graph: GraphError | None = None
            wait: float | None = None
            try:
                response = self.client.request(
                    method, url, params=params, headers=headers, data=data, json=json
                )
                if response.has_redirect_location and redirects < 5:
                    target = response.next_request.url if response.next_request else None
                    if target is None or not same_origin(str(target), url):
                        raise SourceError(
                            f"{shown}: redirected to another host; not followed, so "
                            "credentials stay with the configured API"
                        )
                    url, params, redirects = str(target), None, redirects + 1
                    continue
            except httpx.TimeoutException:
                problem = f"{shown}: timed out"
            except httpx.TransportError as exc:
                problem = f"{shown}: {type(exc).__name__}: {one_line(str(exc), 120)}"
            else:
                if response.status_code == 304:
                    self._note_window(response.headers)
                    return Answer(304, None, response.headers, str(response.url))
                if response.status_code < 400:
                    self._note_window(response.headers)
                    return Answer(
                        response.status_code,
                        _decode(response, shown, decode),
                        response.headers,
                        str(response.url),
                    )
                status = response.status_code
                if status in allow:
                    self._note_window(response.headers)
                    return Answer(status, None, response.headers, str(response.url))
                body = _body(response)
                code = _code(body)
                graph = graph_error(body)
                refused = self.refuse(status, body) if self.refuse else None
                if refused is not None:
                    raise HttpError(self.scrub(f"{shown}: {refused}"), status, graph, code=code)
                problem = f"{shown}: HTTP {status}{_reason(body)}"
                if not _retryable(response, graph):
                    raise HttpError(self.scrub(problem), status, graph, code=code)
                wait = wait_from_headers(response.headers, self.clock())
                if wait is None and graph is not None and graph.code in GRAPH_RATE_CODES:
                    wait = meta_pause(meta_usage(response.headers))
            if attempt >= self.max_retries:
                gave_up = self.scrub(f"{problem} (gave up after {attempt + 1} attempts)")
                raise HttpError(gave_up, status, graph)
            if wait is None:
                wait = self.backoff * (2**attempt) * (1 + self.jitter())
            if wait > self.max_wait:
                limited = self.scrub(f"{problem}; rate limited for {wait:.0f} s, try again later")
                raise HttpError(limited, status, graph)
            attempt += 1
            self.retries += 1
            self.sleep(wait)

    def _note_window(self, headers: Mapping[str, str]) -> None:
        """Remember how long to wait before the next request, from what an answer says:
        a provider's reset header when none are left; a whole rolling hour for App Store
        Connect's `X-Rate-Limit` (it gives no reset time: the oldest request of the hour
        ages out some time within it); the pause Meta's usage headers ask for."""
        now = self.clock
        quota = hourly_quota(headers)
        usage = meta_usage(headers)
        pause = meta_pause(usage)
        if quota is not None and quota[1] == 0:
            self.resume_at = now() + ROLLING_HOUR
            self.why_waiting = (
                f"no requests left of the {quota[0]} allowed per rolling hour"
                " (X-Rate-Limit user-hour-rem:0)"
            )
        elif usage is not None and pause is not None:
            self.resume_at = now() + pause
            self.why_waiting = (
                f"access comes back in {usage.regain_s / 60:.0f} min"
                if usage.regain_s > 0
                else f"{usage.percent:.0f} % of the rate limit used"
            )
        elif used_up(headers):
            moment = now()
            wait = wait_from_headers(headers, moment)
            if wait is not None:
                self.resume_at = moment + wait
                self.why_waiting = "rate limit used up"

    def _wait_for_window(self, shown: str) -> None:
        """Before a request: wait for what the last answer asked, or, beyond `max_wait`,
        fail cleanly without sending the request."""
        if self.resume_at is None:
            return
        wait, self.resume_at = self.resume_at - self.clock(), None
        if wait <= 0:
            return
        if wait > self.max_wait:
            raise SourceError(
                self.scrub(
                    f"{shown}: {self.why_waiting}; it resets in {wait:.0f} s: not sent,"
                    " try again later"
                ),
                status=429,
            )
        self.sleep(wait)


def _retryable(response: httpx.Response, graph: GraphError | None) -> bool:
    """Whether an error answer is worth waiting for: 429 and 5xx, GitHub's rate-limit 403s,
    and the Graph API's throttling and transient error codes (sent with 400 or 403)."""
    status, headers = response.status_code, response.headers
    if status in RETRY_STATUSES:
        return True
    if status == 403 and (
        headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in headers  # GitHub's secondary rate limit
    ):
        return True
    code = graph.code if graph is not None else None
    return code in GRAPH_RATE_CODES or code in GRAPH_TRANSIENT_CODES


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port."""
    try:
        ua, ub = httpx.URL(a), httpx.URL(b)
    except (httpx.InvalidURL, ValueError):
        return False
    return (ua.scheme, ua.host, ua.port) == (ub.scheme, ub.host, ub.port)


def _shown(url: str) -> str:
    """A URL safe to show: no query string (it may hold a key), no userinfo."""
    parts = httpx.URL(url)
    return f"{parts.scheme}://{parts.host}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def _body(response: httpx.Response) -> Any:
    """An error answer's JSON body, or None."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None


def _code(body: Any) -> str | None:
    """The short error code of an error body: XRPC `error` or a problem's `title`."""
    if isinstance(body, dict):
        for key in ("error", "title"):
            value = body.get(key)
            if isinstance(value, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,63}", value):
                return value
    return None


def _reason(body: Any) -> str:
    """A short reason from an API error body, never the whole body or any header."""
    graph = graph_error(body)
    if graph is not None:
        return f": {graph.describe()}"
    if isinstance(body, dict):
        for key in ("message", "error", "error_description", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return f": {one_line(value, 120)}"
        # Google APIs: {"error": {"code", "message", "status"}}; App Store Connect:
        # {"errors": [{"status", "code", "title", "detail"}]}.
        nested = body.get("error")
        listed = body.get("errors")
        first = listed[0] if isinstance(listed, list) and listed else None
        for item, keys in ((nested, ("message",)), (first, ("detail", "title", "code"))):
            if isinstance(item, dict):
                for key in keys:
                    value = item.get(key)
                    if isinstance(value, str) and value:
                        return f": {one_line(value, 120)}"
    return ""


def _decode(response: httpx.Response, shown: str, decode: str) -> Any:
    if decode == "text":
        return response.text
    if decode == "bytes":
        return response.content
    kind = response.headers.get("content-type", "")
    try:
        return response.json()
    except RecursionError:  # a hostile answer nesting arrays thousands deep
        raise SourceError(f"{shown}: JSON nested too deeply to read") from None
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        what = "an HTML page" if "html" in kind or response.text.lstrip()[:1] == "<" else "not JSON"
        raise SourceError(
            f"{shown}: expected JSON, got {what} (HTTP {response.status_code})"
        ) from None
