"""What every source is and produces, and how a source declares itself.

A source module holds its settings model (a `SourceSettings` subclass with a `type`
literal), its connector (fetch and normalise) and one `SourceType` declaration naming the
settings, its default channel, its display name, the settings fields that name credential
variables, and its constructor. Everything else (the config's union of source types, the
credential checks, the workflow's secrets, channel names on the site, the docs test) is
derived from those declarations, listed once in `generator.gather.sources`.

Sources only fetch and normalise. Threading, who is the brand, "DM us", fixes, praise and
redaction are shared code (`generator.gather.threads`, `generator.gather.redact`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from generator.errors import http_url, matching

if TYPE_CHECKING:
    from generator.gather.sources.http import HttpClient

JSON = Any
Cursor = dict[str, JSON]


class SourceError(Exception):
    """A source failed (network, HTTP status, unusable answer). One line, no secrets.

    `status` is the HTTP status that made it fail, when there was one, and `code` the API's
    short error code (XRPC `error`, X `title`), so a source can react to it (Bluesky
    refreshes an expired session on `ExpiredToken`) or explain it on its channel.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class Post:
    """One public post, as any channel gives it.

    `native_id` is unique within the source; `parent_id` is the post it answers (None for a
    new thread); `root_id` names the thread when the channel knows it (GitHub issue,
    Discourse topic, X conversation). `is_brand` is the source's own knowledge that the
    author speaks for the brand (GitHub member/owner/collaborator, Discourse staff, a Page
    answering on its own Page); otherwise the shared code decides from the configured
    accounts. `praise` is the source's own verdict where it has one (a review's stars
    against the threshold: False a complaint, True praise); None lets the shared code judge
    the text. `rating` is a review's stars, kept for display.
    """

    native_id: str
    at: datetime
    author: str | None
    text: str | None = None
    url: str | None = None
    parent_id: str | None = None
    root_id: str | None = None
    title: str | None = None
    author_name: str | None = None
    reach: int | None = None
    is_brand: bool | None = None
    tags: tuple[str, ...] = ()
    precision: Literal["day"] | None = None
    praise: bool | None = None
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class Signal:
    """A source's own status signal for a thread: resolved, closed or reopened.

    Mapped, not guessed: GitHub state_reason completed → resolved, not_planned → closed;
    Discourse accepted answer → resolved.
    """

    root_id: str
    kind: Literal["resolved", "closed", "reopened"]
    at: datetime
    by_brand: bool
    url: str | None = None
    text: str | None = None
    author: str | None = None


@dataclass
class FetchResult:
    """Everything one source run brought back.

    `usage` counts what the provider bills or limits (X: `reads`), shown in the summary;
    `warnings` are one-line notices for the team (an API version near its sunset).
    """

    posts: list[Post] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    cursor: Cursor = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class Source(Protocol):
    """A channel connector: fetch everything new since `cursor`."""

    name: str
    channel: str

    def fetch(self, cursor: Mapping[str, JSON]) -> FetchResult:
        """Fetch new posts (pages followed), returning them with the next cursor."""
        ...


# --- settings -------------------------------------------------------------------------------


def _env_name(value: str) -> str:
    if not re.match(r"^[A-Z_][A-Z0-9_]{0,63}\Z", value):
        raise ValueError(
            "must name an environment variable (like GITHUB_TOKEN: capital letters, digits"
            " and _), not hold a secret"
        )
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
"""A settings field that names an environment variable holding a credential."""
BaseUrl = Annotated[str, http_url("https://api.example.com/", folder=True)]
"""An API's base URL (always ends with "/")."""
ExactUrl = Annotated[str, http_url("https://example.com/feed.xml")]
"""A URL used exactly as written (a feed)."""
Channel = Annotated[
    str,
    matching(r"[a-z][a-z0-9_]{0,30}", "a channel name: up to 31 lowercase letters, digits and _"),
]
SourceName = Annotated[
    str,
    matching(r"[a-z0-9][a-z0-9_-]{0,40}", "a name of up to 41 lowercase letters, digits, - and _"),
]


class SourceSettings(BaseModel):
    """Settings every source has; a source's own model adds its `type` and fields."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: SourceName | None = None
    channel: Channel | None = None
    enabled: bool = True
    max_pages: Annotated[int, Field(ge=1, le=1000)] = 20

    @property
    def type_name(self) -> str:
        """The `type` of the source in heard.toml."""
        return str(getattr(self, "type"))  # noqa: B009 - every subclass declares it

    @property
    def key(self) -> str:
        """The source's unique name (its state file is content/state/<key>.json)."""
        return self.name or self.type_name

    @property
    def channel_name(self) -> str:
        """The channel its cases are filed under."""
        return self.channel or declared(type(self)).channel

    def credential_variables(self) -> list[tuple[str, str]]:
        """(settings field, environment variable name) for each credential it names."""
        spec = declared(type(self))
        pairs = [(f, getattr(self, f)) for f in spec.credentials]
        return [(f, name) for f, name in pairs if isinstance(name, str) and name]


# --- the context a connector is built in ----------------------------------------------------


_TOKEN = re.compile(r"[\x21-\x7e]+")
_TEXT = re.compile(r"[\x20-\x7e\t\r\n]+")  # a multi-line credential: a PEM key, a JSON key file


class Context:
    """What a connector gets besides its settings: credentials, HTTP clients, a private
    folder. It counts every request of every client it made, even when the source fails.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        client_options: Mapping[str, Any] | None = None,
        private_dir: Path | None = None,
    ) -> None:
        self.environ = environ
        self.client_options = dict(client_options or {})
        self.private_dir = private_dir
        self.clients: list[HttpClient] = []
        self.secrets: list[str] = []  # every credential read, scrubbed from every message

    def client(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        *,
        bearer: str | None = None,
    ) -> HttpClient:
        """A new HttpClient for `base_url`, sending `bearer` (if any) as its bearer token
        (tests inject sleep, clock and transport)."""
        from generator.gather.sources.http import HttpClient

        made = HttpClient(base_url, headers=headers, secrets=self.secrets, **self.client_options)
        if bearer is not None:
            made.set_bearer(bearer)
        self.clients.append(made)
        return made

    def secret(self, settings: SourceSettings, field_name: str) -> str:
        """The value of the environment variable a settings field names.

        Raises SourceError naming the variable (never its value) when it is unset, empty
        or holds characters no credential has.
        """
        value = self._read(settings, field_name, _TOKEN, "credential", "spaces or control")
        self.secrets.append(value)
        return value

    def secret_text(self, settings: SourceSettings, field_name: str) -> str:
        """Like `secret`, for a credential of several lines (a PEM private key, a JSON key
        file): printable ASCII and line breaks. The value and each of its lines are
        scrubbed from every message."""
        value = self._read(settings, field_name, _TEXT, "key file", "control or non-ASCII")
        self.keep_secret(value)
        return value

    def _read(
        self, settings: SourceSettings, field_name: str, shape: re.Pattern[str], kind: str,
        odd: str,
    ) -> str:  # fmt: skip
        variable = getattr(settings, field_name)
        value = self.environ.get(variable, "").strip()
        if not value:
            raise SourceError(f"{settings.key}: {variable} is not set")
        if not shape.fullmatch(value):
            raise SourceError(
                f"{settings.key}: {variable} holds characters no {kind} has ({odd} characters)"
            )
        return value

    def keep_secret(self, value: str) -> None:
        """Scrub `value`, and each of its lines of 8 characters or more, from every message
        (a credential derived at run time: an access token, a key inside a key file)."""
        lines = [line.strip() for line in value.splitlines()]
        self.secrets.extend([value, *(line for line in lines if len(line) >= 8)])

    def private_file(self, settings: SourceSettings, name: str) -> Path | None:
        """A file the source may keep between runs outside content/ (a login session), or
        None when there is no private folder (then the source logs in every run)."""
        if self.private_dir is None:
            return None
        return self.private_dir / f"{settings.key}.{name}"

    def optional_secret(self, settings: SourceSettings, field_name: str) -> str | None:
        """Like `secret`, but None when the settings field names no variable."""
        if getattr(settings, field_name, None) is None:
            return None
        return self.secret(settings, field_name)

    @property
    def requests(self) -> int:
        """Requests made by every client of this context."""
        return sum(c.requests for c in self.clients)

    @property
    def retries(self) -> int:
        """Retries made by every client of this context."""
        return sum(c.retries for c in self.clients)

    def close(self) -> None:
        """Close every client."""
        for made in self.clients:
            made.close()


# --- the declaration ------------------------------------------------------------------------

S = TypeVar("S", bound=SourceSettings)
_DECLARED: dict[type[SourceSettings], SourceType[Any]] = {}


@dataclass(frozen=True)
class SourceType(Generic[S]):
    """A source declares itself once: everything else about it is derived from this.

    - `settings`: its settings model (with `type: Literal["…"]`, which names it);
    - `channel`: the default channel of its cases (`channel = …` in heard.toml overrides);
    - `display`: the channel's name as people write it ("GitHub");
    - `credentials`: the settings fields that name environment variables;
    - `connect`: builds the connector from its settings and a Context;
    - `summary`: one line for `heard init` and the docs;
    - `global_ids`: its native ids are unique across sources of its type (feed entry ids),
      so two of them may file cases under one channel;
    - `notices`: what `heard check` should warn about in settings that work today but will
      not for long (a pinned API version near its end of life), given today's date, as
      (settings field, message) pairs.
    """

    settings: type[S]
    channel: str
    display: str
    connect: Callable[[S, Context], Source]
    credentials: tuple[str, ...] = ()
    summary: str = ""
    global_ids: bool = False
    notices: Callable[[S, date], list[tuple[str, str]]] | None = None

    def __post_init__(self) -> None:
        _DECLARED[self.settings] = self

    @property
    def type(self) -> str:
        """The `type = "…"` that selects this source in heard.toml."""
        annotation = self.settings.model_fields["type"].annotation
        return str(annotation.__args__[0])  # type: ignore[union-attr]


def declared(settings: type[SourceSettings]) -> SourceType[Any]:
    """The declaration of a settings model."""
    return _DECLARED[settings]
