"""`heard.toml` → typed settings. Unknown keys are errors; all errors are reported at once."""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from generator.errors import Problem, ProblemsError
from generator.times import parse_duration

CONFIG_NAME = "heard.toml"
CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def _duration(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError("a duration must be longer than zero")
        return value
    if not isinstance(value, str):
        raise ValueError("not a duration like 1h, 30m or 2d")
    return parse_duration(value)


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)"
        ) from None
    return value


def _base_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+(/[^\s]*)?$", value):
        raise ValueError("must be an http(s) URL like https://acme.github.io/heard/")
    return value if value.endswith("/") else value + "/"


def _language(value: str) -> str:
    if not re.match(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", value):
        raise ValueError("must be a language tag like en or en-GB")
    return value


def _handles(value: list[str]) -> list[str]:
    for handle in value:
        if not handle.strip() or any(ch.isspace() for ch in handle.strip()):
            raise ValueError(f"not an account handle: {handle!r}")
    return [h.strip() for h in value]


def _channels(value: dict[str, list[str]]) -> dict[str, list[str]]:
    for channel in value:
        if not CHANNEL_RE.match(channel):
            raise ValueError(f"not a channel name (lowercase letters, digits, _): {channel!r}")
    return value


Duration = Annotated[int, BeforeValidator(_duration)]
Handles = Annotated[list[str], AfterValidator(_handles)]
ChannelHandles = Annotated[dict[str, Handles], AfterValidator(_channels)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SiteConfig(_Strict):
    """Who the site is for and how it is addressed."""

    title: Annotated[str, Field(min_length=1, max_length=200)]
    brand: Annotated[str, Field(min_length=1, max_length=100)]
    base_url: Annotated[str, AfterValidator(_base_url)] = "http://localhost:8000/"
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    language: Annotated[str, AfterValidator(_language)] = "en"
    theme: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")] = "default"
    description: Annotated[str, Field(max_length=500)] = ""


class PolicyConfig(_Strict):
    """The brand's public promises, used by the figures."""

    response_target: Duration | None = None
    resolution_target: Duration | None = None
    window_days: Annotated[int, Field(ge=1, le=3660)] = 30
    stale_after: Duration = 6 * 3600


class Config(_Strict):
    """The whole of `heard.toml`."""

    site: SiteConfig
    accounts: ChannelHandles = Field(default_factory=dict)
    bots: ChannelHandles = Field(default_factory=dict)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)

    def is_brand(self, channel: str, handle: str | None) -> bool:
        """Whether `handle` is one of the brand's own accounts on `channel`."""
        return _member(self.accounts.get(channel, []), handle)

    def is_bot(self, channel: str, handle: str | None) -> bool:
        """Whether `handle` is a bot account on `channel` (its answers never count)."""
        return _member(self.bots.get(channel, []), handle)


def normalise_handle(handle: str) -> str:
    """Compare handles without case or a leading @."""
    return handle.strip().lstrip("@").casefold()


def _member(handles: list[str], handle: str | None) -> bool:
    if not handle:
        return False
    wanted = normalise_handle(handle)
    return any(normalise_handle(h) == wanted for h in handles)


def load_config(site_dir: Path) -> Config:
    """Read and validate `heard.toml`; raise ProblemsError listing every problem."""
    path = site_dir / CONFIG_NAME
    shown = CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProblemsError(
            [
                Problem(
                    shown, None, None, f"not found in {site_dir} (run `heard init` or pass --site)"
                )
            ]
        ) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ProblemsError([Problem(shown, None, None, f"cannot read: {exc}")]) from None
    return parse_config(text, shown)


def parse_config(text: str, shown: str = CONFIG_NAME) -> Config:
    """Validate TOML text as a Config; errors name `shown` and the line of the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ProblemsError([Problem(shown, line, None, f"invalid TOML: {message}")]) from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        locator = TomlLocator(text)
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(Problem(shown, locator.line_of(loc), dotted(loc), _message(err)))
        raise ProblemsError(sorted(problems, key=lambda p: p.line or 0)) from None


def dotted(loc: tuple[Any, ...]) -> str:
    """('events', 2, 'at') → 'events[2].at'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return msg.replace("Input should be", "must be")


class TomlLocator:
    """Finds the line of a key path in TOML text (tomllib keeps no positions)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r'^\s*("[^"]*"|[A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=')

    def __init__(self, text: str) -> None:
        self.keys: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        arrays: dict[tuple[str, ...], int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                parts = tuple(p.strip().strip('"') for p in header.group(2).split("."))
                if header.group(1) == "[[":
                    arrays[parts] = arrays.get(parts, -1) + 1
                    table = (*parts, str(arrays[parts]))
                else:
                    table = parts
                self.keys.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                parts = tuple(p.strip().strip('"') for p in key.group(1).split("."))
                self.keys.setdefault((*table, *parts), number)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """The line of the deepest known prefix of `loc`, else None."""
        path = tuple(str(p) for p in loc)
        while path:
            if path in self.keys:
                return self.keys[path]
            path = path[:-1]
        return None
