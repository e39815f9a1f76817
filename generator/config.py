"""`heard.toml` → typed settings. Unknown keys are errors; all errors are reported at once."""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from generator.errors import (
    Problem,
    ProblemsError,
    error_message,
    field_path,
    http_url,
    matching,
)
from generator.gather.sources import BY_TYPE, SOURCES
from generator.gather.sources.base import SourceSettings
from generator.record.times import parse_duration

CONFIG_NAME = "heard.toml"
CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}\Z")


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


def _language(value: str) -> str:
    if not re.match(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*\Z", value):
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
    base_url: Annotated[str, http_url("https://acme.github.io/heard/", folder=True)] = (
        "http://localhost:8000/"
    )
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    language: Annotated[str, AfterValidator(_language)] = "en"
    theme: Annotated[str, matching(r"[A-Za-z0-9_-]{1,60}", "a theme name")] = "default"
    description: Annotated[str, Field(max_length=500)] = ""


class PolicyConfig(_Strict):
    """The brand's public promises, used by the figures, and its care playbook's delays."""

    response_target: Duration | None = None
    resolution_target: Duration | None = None
    window_days: Annotated[int, Field(ge=1, le=3660)] = 30
    stale_after: Duration = 6 * 3600
    follow_up_after: Duration = 2 * 86400
    """A fix with no public follow-up this long after is in the team's queue."""
    silent_after: Duration = 3 * 86400
    """A customer who has not answered the brand's question this long is in the queue."""
    thanks_within: Duration = 7 * 86400
    """Praise by a fixed case's author this long after the fix is thanks for it."""


def _patterns(value: list[str]) -> list[str]:
    for pattern in value:
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            raise ValueError(f"not a regular expression: {pattern[:80]!r} ({exc})") from None
    return value


Patterns = Annotated[list[str], AfterValidator(_patterns)]

if TYPE_CHECKING:
    SourceConfig = SourceSettings
else:
    # The union of every declared source's settings, told apart by `type`.
    SourceConfig = Annotated[
        Union[tuple(spec.settings for spec in SOURCES)],  # noqa: UP007
        Field(discriminator="type"),
    ]


def source_clashes(raw_sources: object) -> list[tuple[int, str]]:
    """(index, message) for sources whose names or case ids would collide.

    Read from the raw TOML, so that these are reported together with every other problem.
    """
    if not isinstance(raw_sources, list):
        return []
    clashes: list[tuple[int, str]] = []
    names: dict[str, int] = {}
    channels: dict[tuple[str, str], str] = {}
    for index, raw in enumerate(raw_sources):
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            continue
        spec = BY_TYPE.get(raw["type"])
        key = raw.get("name") or raw["type"]
        if not isinstance(key, str):
            continue
        if key in names:
            clashes.append((index, f"two sources are named {key!r}; give each its own name"))
            continue
        names[key] = index
        if spec is None or spec.global_ids:
            continue  # unknown types are reported by validation; feed entry ids are global
        channel = raw.get("channel") or spec.channel
        other = channels.get((spec.type, str(channel)))
        if other is not None:
            clashes.append(
                (
                    index,
                    f"sources {other!r} and {key!r} share the channel {channel!r}, so their"
                    f" case ids would collide; give one its own channel (e.g. channel ="
                    f' "{channel}_{key}")',
                )
            )
        channels[(spec.type, str(channel))] = key
    return clashes


DEFAULT_DM = [r"\bdm us\b", r"\bsend us a (dm|direct message|private message)\b",
              r"\b(direct|private) message\b", r"\bcheck your (dms|inbox)\b",
              r"\bsent you a (dm|direct message)\b"]  # fmt: skip
DEFAULT_PRAISE = [r"\b(thank you|thanks|love|loving|great|awesome|brilliant|kudos|well done)\b"]
DEFAULT_COMPLAINT = [
    r"\b(not|no|never|can't|cannot|won't|doesn't|didn't|isn't|broken|issue|problem|help|refund|"
    r"charged|outage|down|error|crash\w*|late|still|nothing|worst|fail\w*|bug|wrong|why)\b",
    r"\?",
]


class GatherConfig(_Strict):
    """How gathered posts get their meaning (shared by every source)."""

    dm_phrases: Patterns = Field(default_factory=lambda: list(DEFAULT_DM))
    fixed_markers: list[str] = Field(default_factory=lambda: ["#fixed"])
    praise: Patterns = Field(default_factory=lambda: list(DEFAULT_PRAISE))
    complaint: Patterns = Field(default_factory=lambda: list(DEFAULT_COMPLAINT))
    redact: Patterns = Field(default_factory=list)
    concurrency: Annotated[int, Field(ge=1, le=16)] = 4


class Config(_Strict):
    """The whole of `heard.toml`."""

    site: SiteConfig
    accounts: ChannelHandles = Field(default_factory=dict)
    bots: ChannelHandles = Field(default_factory=dict)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    gather: GatherConfig = Field(default_factory=GatherConfig)

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


def parse_toml(text: str, shown: str) -> dict[str, Any]:
    """TOML text as data; a syntax error is a ProblemsError naming `shown` and its line."""
    text = text.removeprefix("\ufeff")  # editors on Windows may save a byte-order mark
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ProblemsError(
            [Problem(shown, None, None, "invalid TOML: nested too deeply")]
        ) from None
    except ValueError as exc:
        if not isinstance(exc, tomllib.TOMLDecodeError):  # e.g. a number beyond the digit limit
            raise ProblemsError([Problem(shown, None, None, f"invalid TOML: {exc}")]) from None
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ProblemsError([Problem(shown, line, None, f"invalid TOML: {message}")]) from None


def parse_config(text: str, shown: str = CONFIG_NAME) -> Config:
    """Validate TOML text as a Config; every problem names `shown` and the line of the field."""
    text = text.removeprefix("\ufeff")
    data = parse_toml(text, shown)
    locator = TomlLocator(text)
    problems = [
        Problem(shown, locator.line_of(("sources", index)), f"sources[{index}]", message)
        for index, message in source_clashes(data.get("sources"))
    ]
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            if len(loc) > 2 and loc[0] == "sources" and loc[2] in BY_TYPE:
                loc = loc[:2] + loc[3:]  # drop pydantic's discriminator tag
            problems.append(Problem(shown, locator.line_of(loc), field_path(loc), _message(err)))
    else:
        if not problems:
            return config
    raise ProblemsError(sorted(problems, key=lambda p: p.line or 0))


def _message(err: Any) -> str:
    if err["type"] == "union_tag_invalid":
        tag = (err.get("ctx") or {}).get("tag")
        return f"unknown source type {tag!r} (the types are {', '.join(sorted(BY_TYPE))})"
    if err["type"] == "union_tag_not_found":
        return f"needs a type (one of {', '.join(sorted(BY_TYPE))})"
    return error_message(err)


class TomlLocator:
    """Finds the line of a key path in TOML text (tomllib keeps no positions)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r'^\s*("[^"]*"|[A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=')

    def __init__(self, text: str) -> None:
        self.keys: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        arrays: dict[tuple[str, ...], int] = {}
        for number, line in enumerate(text.split("\n"), start=1):  # TOML lines end at \n
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
