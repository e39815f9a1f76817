"""What sources share besides HTTP: the base of API answer models, lists of names,
turning a channel's HTML (Mastodon content, Discourse cooked, feed summaries) into the
plain text heard stores (never markup: public text is shown escaped, as text), and reading
a newest-first list down to where the last run stopped (`read_down`)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from generator.errors import describe, kind_of
from generator.gather.sources.base import SourceError

T = TypeVar("T")


class ApiModel(BaseModel):
    """An API answer as read: only the fields heard uses, strict types, unknown keys ignored."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


M = TypeVar("M", bound=BaseModel)


def checked(where: str, data: Any, model: type[M]) -> M:
    """A JSON object answer read as `model`, or a SourceError naming `where` and the field."""
    if not isinstance(data, dict):
        raise SourceError(f"{where}: expected a JSON object, got {kind_of(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SourceError(f"{where}: {describe(exc)}") from None


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
