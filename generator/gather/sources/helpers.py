"""What sources share besides HTTP: the base of API answer models and their reading
(`validated`), the frame of every connector (`Connector`: its clients, and a fetch that
counts them and fails in one line), lists of names, turning a channel's HTML
(Mastodon content, Discourse cooked, feed summaries) into the plain text heard stores
(never markup: public text is shown escaped, as text), reading a newest-first list down to
where the last run stopped (`read_down`), reviews and the brand's public reply to them,
OAuth 2.0 token exchanges, and what the sources on Meta's Graph API (Facebook Pages,
Instagram) share: its versions and their ends of life, its paged lists, and the
watermarks of threads re-read on every run."""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from generator.errors import describe, kind_of, matching
from generator.gather.sources.base import FetchResult, Post, SourceError, SourceSettings
from generator.record.model import Instant
from generator.record.times import format_instant

if TYPE_CHECKING:
    from generator.gather.sources.http import Answer, HttpClient

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
S = TypeVar("S", bound=SourceSettings)


class ApiModel(BaseModel):
    """An API answer as read: only the fields heard uses, strict types, unknown keys ignored."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


def validated(model: type[M], data: object, where: str) -> M:
    """An object of an API answer (or a cursor) read as `model`; a wrong shape is a
    SourceError naming where and the field (`r/x/search: item 3: created_utc: …`)."""
    if not isinstance(data, dict):
        raise SourceError(f"{where}: must be an object, not {kind_of(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SourceError(f"{where}: {describe(exc)}") from None


def next_url(client: HttpClient, link: str | None, current: str, refused: str) -> str | None:
    """The URL of a list's next page: `link` (None: there is none) resolved against the
    URL of the page it came with (`current`). A link off the API's origin would carry the
    credentials there: it is not followed but a SourceError, `refused`."""
    if link is None:
        return None
    url = client.follow(link, current)
    if url is None:
        raise SourceError(f"{refused}; not followed")
    return url


def link_pages(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None,
    max_pages: int,
    refused: str = "the next-page link is not a URL on this API",
) -> Iterator[tuple[Answer, str]]:
    """The pages of a list paged by its `Link: rel="next"` header (GitHub, Mastodon), up to
    `max_pages`: each answer and where it is (`path`, then `path (page N)`). The first page
    is asked with `params`, each next one at its link (see `next_url`); leaving the loop
    asks for no more."""
    url: str | None = path
    for page in range(1, max_pages + 1):
        where = path if page == 1 else f"{path} (page {page})"
        answer = client.get(url or path, params if page == 1 else None)
        yield answer, where
        url = next_url(client, answer.next_link(), answer.url, f"{where}: {refused}")
        if url is None:
            return


class Connector(Generic[S]):
    """The frame of every connector: its settings (`config`), name and channel, and its
    HTTP clients (`client`, the API's, then any other: a token endpoint).

    `fetch` runs the source's own `gather`, counts the requests and retries of every
    client, and turns a failure into one line naming the source, scrubbed of every
    credential, with what its HTTP status means on this channel (`hints`).
    """

    hints: ClassVar[Mapping[int, str]] = {}

    def __init__(self, config: S, client: HttpClient, *others: HttpClient) -> None:
        self.config = config
        self.client = client
        self.clients = (client, *others)
        self.name: str = config.key
        self.channel: str = config.channel_name

    def gather(self, cursor: Mapping[str, Any]) -> FetchResult:
        """Fetch and normalise: the posts (and signals) new since `cursor`, the next cursor."""
        raise NotImplementedError

    def fetch(self, cursor: Mapping[str, Any]) -> FetchResult:
        """Everything new since `cursor` ({} on the first run)."""
        requests = sum(c.requests for c in self.clients)
        retries = sum(c.retries for c in self.clients)
        try:
            result = self.gather(cursor)
        except SourceError as exc:
            hint = self.hints.get(exc.status or 0, "")
            message = f"{self.name}: {exc}{'; ' + hint if hint else ''}"
            raise SourceError(self.client.scrub(message), status=exc.status) from None
        result.requests = sum(c.requests for c in self.clients) - requests
        result.retries = sum(c.retries for c in self.clients) - retries
        return result


def _names(value: object) -> tuple[str, ...]:
    # Labels and tags come as bare names or as objects with a name.
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("not a list of names")
    names: list[str] = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise ValueError("not a list of names (or of objects with a name)")
        names.append(name)
    return tuple(names)


Names = Annotated[tuple[str, ...], BeforeValidator(_names)]
"""A list of labels or tags, given as names or as objects with a `name`."""

_BLOCKS = {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr"}
_SKIP = {"script", "style", "template", "noscript"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skipping:
            self.skipping -= 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str | None) -> str | None:
    """Visible text of an HTML fragment: paragraphs kept as blank lines, tags dropped."""
    if markup is None:
        return None
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)  # the parser has decoded entities once; never twice
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() or None


# --- reviews --------------------------------------------------------------------------------


class ReviewSettings(SourceSettings):
    """What every review source has: the star threshold between complaint and praise."""

    star_threshold: Annotated[int, Field(ge=1, le=5)] = 3
    """A review with this many stars or fewer is a complaint; more is praise."""


class RereadSettings(ReviewSettings):
    """A review source read newest first that looks again at a window (see `Window`)."""

    reread_days: Annotated[int, Field(ge=1, le=365)] = 30
    """How far behind the newest review each run looks again for new replies."""


@dataclass(frozen=True, slots=True)
class Review:
    """One review as a store gives it, with the brand's public reply if there is one.

    `at` and `reply_at` are the provider's own times (never made up): which field each
    comes from, and its caveat, is the source's to say.
    """

    id: str
    at: datetime
    stars: int | None
    text: str | None
    title: str | None = None
    author_name: str | None = None
    url: str | None = None
    reply: str | None = None
    reply_at: datetime | None = None


def review_praise(stars: int | None, threshold: int) -> bool | None:
    """Stars above the threshold are praise (True), at or below a complaint (False);
    unknown stars give no verdict (None: the shared code judges the text)."""
    if stars is None:
        return None
    return stars > threshold


def reply_id(review_id: str) -> str:
    """The native id of the brand's public reply to a review: one per review, kept when
    the reply is edited (an edit is not a second answer)."""
    return f"{review_id}-reply"


def review_posts(review: Review, threshold: int) -> list[Post]:
    """The review as a root post and, if the brand answered, its reply (by the brand)."""
    posts = [
        Post(
            native_id=review.id,
            root_id=review.id,
            at=review.at,
            author=None,
            author_name=review.author_name,
            title=review.title,
            text=review.text,
            url=review.url,
            rating=review.stars,
            praise=review_praise(review.stars, threshold),
        )
    ]
    if review.reply_at is not None:
        posts.append(
            Post(
                native_id=reply_id(review.id),
                root_id=review.id,
                parent_id=review.id,
                at=review.reply_at,
                author=None,
                text=review.reply,
                url=review.url,
                is_brand=True,
            )
        )
    return posts


# --- OAuth 2.0 token exchange ---------------------------------------------------------------


class _Token(ApiModel):
    access_token: Annotated[str, Field(min_length=8, max_length=8192, pattern=r"^[\x21-\x7e]+$")]


def access_token(client: HttpClient, form: Mapping[str, str]) -> str:
    """POST `form` to the OAuth 2.0 token endpoint at `client`'s base URL and return the
    access token it grants (a refresh token grant, a JWT bearer assertion). The token is
    scrubbed from every message from then on. A refusal carries no status: what a status
    means on a source's API (its `hints`) says nothing about its token endpoint."""
    try:
        answer = client.post("", data=form)
    except SourceError as exc:
        raise SourceError(str(exc)) from None
    token = validated(_Token, answer.data, "token endpoint").access_token
    client.secrets.append(token)
    return token


# --- what the review sources share ----------------------------------------------------------


R = TypeVar("R", bound=ReviewSettings)


class ReviewSource(Connector[R]):
    """A review source: a `Connector` that reads the pages of its list of reviews (`path`,
    `page_size` a page) and turns reviews into posts by its star threshold."""

    page_size: ClassVar[int]
    path: str

    def cut_short(self) -> str:
        """The warning of a run that stopped at `max_pages` with pages left."""
        pages = self.config.max_pages
        return (
            f"stopped after max_pages ({pages}) pages of {self.page_size} reviews; older"
            " reviews were not gathered (raise max_pages)"
        )

    def token_pages(
        self,
        params: Mapping[str, Any],
        model: type[M],
        token: tuple[str, Callable[[M], str | None]],
        warnings: list[str],
    ) -> Iterator[M]:
        """The pages of the list, each read as `model`, up to max_pages (then `cut_short`
        goes in `warnings`): the first asked with `params`, each next one also with the page
        token the one before gave (`token`: its query parameter, and how a page gives it).
        Leaving the loop asks for no more."""
        name, next_token = token
        page_token: str | None = None
        for page in range(1, self.config.max_pages + 1):
            query = {**params, name: page_token} if page_token else dict(params)
            where = self.path if page == 1 else f"{self.path} (page {page})"
            found = validated(model, self.client.get(self.path, query).data, where)
            yield found
            page_token = next_token(found)
            if not page_token:
                return
        warnings.append(self.cut_short())

    def posts(self, reviews: Iterable[Review]) -> list[Post]:
        """Every review's post and its reply's, by the configured star threshold."""
        return [p for r in reviews for p in review_posts(r, self.config.star_threshold)]


class _Newest(ApiModel):
    newest: Instant | None = None


class Window:
    """The re-read window of a list read newest first (Business Profile, App Store).

    The cursor keeps the newest time seen; a run reads back to `reread_days` before it, so
    a reply written later to a review in that window is gathered, and stops paging below
    it (`keep` is False). The first run has no window: it reads up to max_pages.
    """

    def __init__(self, cursor: Mapping[str, Any], days: int) -> None:
        self.newest = validated(_Newest, dict(cursor), "cursor").newest
        self.floor = self.newest - timedelta(days=days) if self.newest is not None else None

    def keep(self, moment: datetime) -> bool:
        """Whether a review of this time is inside the window (and note it as seen)."""
        if self.floor is not None and moment < self.floor:
            return False
        self.newest = moment if self.newest is None else max(self.newest, moment)
        return True

    def cursor(self) -> dict[str, Any]:
        """The next run's cursor."""
        return {"newest": format_instant(self.newest)} if self.newest is not None else {}


# --- reading a newest-first list down to where the last run stopped --------------------------


@dataclass(frozen=True)
class Progress:
    """How far a newest-first list (X mentions, Bluesky notifications) has been read.

    Everything at or below `mark` has been read (None: nothing yet, so the whole list is
    to read). A run that stopped early (`max_pages`, a read budget) after reading down from
    `top` to `resume` leaves the part between `mark` and `resume` to read: the next run
    reads it first, then reads from the newest down to `top`. So nothing is read twice and
    nothing is skipped, however many runs it takes. Marks and resume points are whatever
    the source pages by (a post id, a time, a provider cursor).
    """

    mark: Any = None
    resume: Any = None
    top: Any = None

    def to_json(self) -> dict[str, Any]:
        """The cursor form (only what is set)."""
        return {k: v for k, v in (("mark", self.mark), ("resume", self.resume),
                                  ("top", self.top)) if v is not None}  # fmt: skip


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a newest-first list, as a source's reader returns it.

    `items` are the page's items above the floor; `top` the mark of its newest item (None
    when empty); `resume` where a later run would go on below this page (None: unknown, keep
    the last one); `token` the provider's continuation for the next page in this run (None:
    the list ended or reached the floor).
    """

    items: list[T]
    top: Any = None
    resume: Any = None
    token: Any = None


Reader = Callable[[Any, Any, Any], Page[T]]
"""`read(floor, start, token)`: the page below `start` (a resume point; None: the newest)
and above `floor` (a mark; None: no floor), continued by `token` (None: the first page)."""


def pages_within(limit: int, also: Callable[[], bool] | None = None) -> Callable[[], bool]:
    """A `more()` for `read_down`: True for the first `limit` pages (and while `also()`)."""
    asked = [0]

    def more() -> bool:
        asked[0] += 1
        return asked[0] <= limit and (also is None or also())

    return more


def read_down(
    progress: Progress, read: Reader[T], more: Callable[[], bool]
) -> tuple[list[T], Progress]:
    """Read a newest-first list down to `progress.mark` (see `Progress`), asking `more()`
    before every page (False stops cleanly: pages left, budget spent). Returns the items
    read and the progress to keep."""
    items: list[T] = []
    mark = progress.mark
    if progress.resume is not None:
        done, resume, _ = _walk(read, mark, progress.resume, items, more)
        if not done:
            return items, Progress(mark, resume, progress.top)
        if progress.top is not None:
            mark = progress.top
    done, resume, top = _walk(read, mark, None, items, more)
    if done:
        return items, Progress(top if top is not None else mark)
    if resume is None:  # stopped before the first page
        return items, Progress(mark)
    return items, Progress(mark, resume, top)


def _walk(
    read: Reader[T], floor: Any, start: Any, items: list[T], more: Callable[[], bool]
) -> tuple[bool, Any, Any]:
    """Pages from `start` down to `floor`: (reached the end, last resume point, top)."""
    resume, token, top = start, None, None
    while True:
        if not more():
            return False, resume, top
        page = read(floor, start, token)
        items.extend(page.items)
        if top is None:
            top = page.top
        if page.resume is not None:
            resume = page.resume
        if page.token is None:
            return True, resume, top
        token = page.token


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner may read (a login session kept between runs), through a
    temp file and a rename: a run killed while writing leaves the old file or the new one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp made it 0600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- Meta's Graph API (Facebook Pages, Instagram) -------------------------------------------

# Graph API versions: (released, end of life), from developers.facebook.com
# graph-api/changelog/versions (read 2026-12). None: no date announced yet.
GRAPH_VERSIONS: dict[str, tuple[date, date | None]] = {
    "v26.0": (date(2026, 7, 29), None),
    "v25.0": (date(2026, 2, 18), date(2028, 7, 29)),
    "v24.0": (date(2025, 10, 8), date(2028, 2, 18)),
    "v23.0": (date(2025, 5, 29), date(2027, 10, 8)),
    "v22.0": (date(2025, 1, 21), date(2027, 5, 20)),
    "v21.0": (date(2024, 10, 2), date(2027, 1, 21)),
    "v20.0": (date(2024, 5, 21), date(2026, 9, 24)),
    "v19.0": (date(2024, 1, 23), date(2026, 5, 21)),
    "v18.0": (date(2023, 9, 12), date(2026, 1, 26)),
    "v17.0": (date(2023, 5, 23), date(2025, 9, 12)),
    "v16.0": (date(2023, 2, 2), date(2025, 5, 14)),
    "v15.0": (date(2022, 9, 15), date(2024, 11, 20)),
    "v14.0": (date(2022, 5, 25), date(2024, 9, 17)),
    "v13.0": (date(2022, 2, 8), date(2024, 5, 28)),
    "v12.0": (date(2021, 9, 14), date(2024, 2, 8)),
    "v11.0": (date(2021, 6, 8), date(2023, 9, 14)),
    "v10.0": (date(2021, 2, 23), date(2023, 6, 8)),
}
GRAPH_LIFETIME = timedelta(days=730)  # a version lives about two years
SUNSET_NOTICE = timedelta(days=90)  # warn this long before the end of life

ApiVersion = Annotated[str, matching(r"v[0-9]{1,3}\.[0-9]{1,2}", "a Graph API version like v25.0")]
"""A pinned Graph API version (`api_version = "v25.0"`)."""


def _version_key(version: str) -> tuple[int, int]:
    major, minor = version[1:].split(".")
    return int(major), int(minor)


def graph_version_warning(version: str, today: date) -> str | None:
    """A one-line notice when a pinned Graph API version is unknown, within 90 days of its
    end of life, or past it; None when it is fine. A version with no announced end of
    life is expected to live two years from its release."""
    newest = max(GRAPH_VERSIONS, key=_version_key)
    known = GRAPH_VERSIONS.get(version)
    if known is None:
        return (
            f"Graph API {version} is not in heard's table of versions (v10.0 to {newest});"
            " check developers.facebook.com/docs/graph-api/changelog/versions, and update"
            " heard or pin a version it knows"
        )
    released, sunset = known
    end = sunset or released + GRAPH_LIFETIME
    expected = "expected end of life" if sunset is None else "end of life"
    if today > end:
        return (
            f"Graph API {version} passed its {expected} on {end.isoformat()}: Meta answers"
            f" such calls with a newer version or refuses them; pin a newer api_version"
            f" (newest known: {newest})"
        )
    if end - today <= SUNSET_NOTICE:
        days = (end - today).days
        return (
            f"Graph API {version} reaches its {expected} on {end.isoformat()} (in {days}"
            f" days); pin a newer api_version (newest known: {newest})"
        )
    return None


class GraphSettings(SourceSettings):
    """What every source on the Graph API has: its pinned version (warned about near its
    end of life) and the window of threads it re-reads on every run."""

    api_version: ApiVersion
    window_days: Annotated[int, Field(ge=1, le=3650)] = 14


def version_notices(settings: GraphSettings, today: date) -> list[tuple[str, str]]:
    """`heard check`'s notice about a source's pinned Graph API version, if any."""
    notice = graph_version_warning(settings.api_version, today)
    return [("api_version", notice)] if notice else []


@dataclass
class Watermark:
    """The newest reply of a thread gathered so far and the ids gathered at exactly that
    time: a reply is new when it is newer, or as new and not among those ids. Provider
    times have whole seconds, so two replies may share one."""

    at: datetime | None = None
    ids: set[str] = field(default_factory=set)

    def is_new(self, at: datetime, item_id: str) -> bool:
        """Whether a reply at `at` with this id has not been gathered yet."""
        return self.at is None or at > self.at or (at == self.at and item_id not in self.ids)

    def advance(self, at: datetime, item_id: str) -> None:
        """Count a reply as gathered."""
        if self.at is None or at > self.at:
            self.at, self.ids = at, {item_id}
        elif at == self.at:
            self.ids.add(item_id)

    def copy(self) -> Watermark:
        """An independent copy (to judge a whole listing against the mark it started from)."""
        return Watermark(self.at, set(self.ids))


class Thread(ApiModel):
    """A thread re-read on every run while it is inside the window (a Facebook post, an
    Instagram media), as a cursor keeps it: when it began and its watermark."""

    at: Instant
    mark: Instant | None = None
    ids: list[str] = Field(default_factory=list)

    def watermark(self) -> Watermark:
        """The watermark this thread was left at."""
        return Watermark(self.mark, set(self.ids))

    @classmethod
    def kept(cls, at: datetime, mark: Watermark) -> dict[str, Any]:
        """The cursor form of a thread that began at `at` with this watermark."""
        kept: dict[str, Any] = {"at": at}
        if mark.at is not None:
            kept.update(mark=mark.at, ids=sorted(mark.ids))
        return cls.model_validate(kept).model_dump(mode="json", exclude_defaults=True)


@dataclass
class WindowRun:
    """One run of a source that re-reads the threads of a window (Facebook posts,
    Instagram media): the horizon (the oldest thread still read; it never moves back, and
    `frozen` keeps it where it was), the threads' watermarks, and what the run brings back,
    with a notice when the pinned Graph API version nears its end of life. Its lists are
    read with its client, up to its max_pages."""

    client: HttpClient
    max_pages: int
    horizon: datetime
    threads: dict[str, tuple[datetime, Watermark]]
    result: FetchResult = field(default_factory=FetchResult)
    hidden: int = 0

    @classmethod
    def start(
        cls,
        client: HttpClient,
        settings: GraphSettings,
        horizon: datetime | None,
        threads: Mapping[str, Thread],
        *,
        frozen: bool = False,
    ) -> WindowRun:
        """The run at the client's clock."""
        now = datetime.fromtimestamp(client.clock(), UTC)
        fresh = now - timedelta(days=settings.window_days)
        if horizon is None:
            horizon = fresh
        elif not frozen:
            horizon = max(horizon, fresh)
        threads_read = {key: (t.at, t.watermark()) for key, t in threads.items()}
        run = cls(client, settings.max_pages, horizon, threads_read)
        notice = graph_version_warning(settings.api_version, now.date())
        if notice:
            run.result.warnings.append(f"api_version: {notice}")
        return run

    def listing(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        model: type[M],
        cut: tuple[str, str],
        *,
        first: Any = None,
        stop: Callable[[list[M]], bool] | None = None,
    ) -> Listing[M]:
        """Every item of a Graph API list (see `graph_list`); when max_pages cut it, a
        warning says of what (`cut[0]`), what was left (`cut[1]`) and what to do."""
        found = graph_list(
            self.client, path, params, model, max_pages=self.max_pages, first=first, stop=stop
        )
        if found.cut:
            what, left = cut
            self.result.warnings.append(
                f"{path}: more than {found.pages} pages of {what}; {left} (raise max_pages)"
            )
        return found

    def thread(self, key: str, at: datetime) -> Watermark:
        """The watermark of a thread (a new one for a thread not seen before)."""
        began, mark = self.threads.get(key, (at, Watermark()))
        self.threads[key] = (began, mark)
        return mark

    def known(self, key: str) -> bool:
        """Whether the thread was read before."""
        return key in self.threads

    def finish(self, threads: str, extra: Mapping[str, Any] | None = None) -> FetchResult:
        """The result, with the hidden items counted and, in its cursor, the horizon, the
        threads still inside the window (under the key `threads`) and `extra`."""
        if self.hidden:
            self.result.usage["hidden"] = self.hidden
        kept = {
            key: Thread.kept(at, mark)
            for key, (at, mark) in sorted(self.threads.items())
            if at >= self.horizon
        }
        self.result.cursor = {
            "horizon": format_instant(self.horizon),
            threads: kept,
            **(extra or {}),
        }
        return self.result


class _Paging(ApiModel):
    next: str | None = None


class _Page(ApiModel):
    data: list[Any]
    paging: _Paging | None = None


@dataclass
class Listing(Generic[M]):
    """The items of a Graph API list; `cut` when max_pages stopped it with a next page left."""

    items: list[M]
    cut: bool = False
    pages: int = 1


def graph_list(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None,
    model: type[M],
    *,
    max_pages: int,
    first: Any = None,
    stop: Callable[[list[M]], bool] | None = None,
) -> Listing[M]:
    """Every item of a Graph API list (`{"data": [...], "paging": {"next": ...}}`), page
    after page while `paging.next` is there (an empty page may still have one), on the
    API's own origin only, up to `max_pages` pages, or until `stop` says a page was enough.

    `first` is a first page already in hand (an edge expanded inline: a post's comments);
    then `path` only names it in messages. Items are checked with `model`; a problem names
    the path, the page and the item.
    """
    items: list[M] = []
    url: str | None = None if first is not None else path
    current = client.base_url
    page = 1
    data = first
    while True:
        where = path if page == 1 else f"{path} (page {page})"
        if url is not None:
            answer = client.get(url, params if page == 1 else None)
            data, current = answer.data, answer.url
        listed = validated(_Page, data, where)
        found = [
            validated(model, raw, f"{where}: item {index}") for index, raw in enumerate(listed.data)
        ]
        items.extend(found)
        following = listed.paging.next if listed.paging else None
        if following is None or (stop is not None and stop(found)):
            return Listing(items, pages=page)
        if page >= max_pages:
            return Listing(items, cut=True, pages=page)
        url = next_url(client, following, current, f"{where}: paging.next is not a URL on this API")
        page += 1


def newest_first_past(times: list[datetime], mark: datetime) -> bool:
    """Whether a page's items (their `times`) are listed newest first and reach back
    before `mark`: the pages after it hold nothing newer (a page in another order never
    stops a listing)."""
    ordered = all(a >= b for a, b in itertools.pairwise(times))
    return bool(times) and ordered and times[-1] < mark
