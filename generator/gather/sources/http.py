"""The one HTTP layer of every source: timeouts, bounded retries with backoff and jitter,
rate limits (Retry-After and each provider's reset headers), pagination helpers and
conditional requests. Errors never carry headers or credentials.
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
USER_AGENT = "heard (+https://pypi.org/project/heard/)"
_SECRET_HEADERS = frozenset({"authorization", "api-key", "apikey", "x-api-key"})


Refusal = Callable[[int, Any], "str | None"]
"""A source's own reading of an error answer (status, decoded JSON body or None): a
message to fail with at once, never retried (X: out of credits), or None."""


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
    `hourly_quota`).
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
                wait = None
            except httpx.TransportError as exc:
                problem = f"{shown}: {type(exc).__name__}: {one_line(str(exc), 120)}"
                wait = None
            else:
                if response.status_code == 304:
                    self._note_window(response.headers)
                    return Answer(304, None, response.headers, str(response.url))
                limited = response.status_code == 403 and (
                    response.headers.get("x-ratelimit-remaining") == "0"
                    or "retry-after" in response.headers  # GitHub's secondary rate limit
                )
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
                refused = self.refuse(status, body) if self.refuse else None
                if refused is not None:
                    raise SourceError(self.scrub(f"{shown}: {refused}"), status=status, code=code)
                problem = f"{shown}: HTTP {status}{_reason(body)}"
                if status not in RETRY_STATUSES and not limited:
                    raise SourceError(self.scrub(problem), status=status, code=code)
                wait = wait_from_headers(response.headers, self.clock())
            if attempt >= self.max_retries:
                raise SourceError(
                    self.scrub(f"{problem} (gave up after {attempt + 1} attempts)"),
                    status=status,
                )
            if wait is None:
                wait = self.backoff * (2**attempt) * (1 + self.jitter())
            if wait > self.max_wait:
                raise SourceError(
                    self.scrub(f"{problem}; rate limited for {wait:.0f} s, try again later"),
                    status=status,
                )
            attempt += 1
            self.retries += 1
            self.sleep(wait)

    def _note_window(self, headers: Mapping[str, str]) -> None:
        """Remember when a used-up rate-limit window resets: a provider's reset header when
        none are left, or a whole rolling hour for App Store Connect's `X-Rate-Limit`
        (it gives no reset time: the oldest request of the hour ages out some time within
        it)."""
        quota = hourly_quota(headers)
        if quota is not None and quota[1] == 0:
            self.resume_at = self.clock() + ROLLING_HOUR
            self.why_waiting = (
                f"no requests left of the {quota[0]} allowed per rolling hour"
                " (X-Rate-Limit user-hour-rem:0)"
            )
        elif used_up(headers):
            now = self.clock()
            wait = wait_from_headers(headers, now)
            if wait is not None:
                self.resume_at = now + wait
                self.why_waiting = "rate limit used up"

    def _wait_for_window(self, shown: str) -> None:
        """Before a request: wait for the reset of a window the last answer used up, or,
        beyond `max_wait`, fail cleanly without sending the request."""
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
