"""What sources share besides HTTP: the base of API answer models and their reading,
running a fetch, lists of names, and turning a channel's HTML (Mastodon content, Discourse
cooked, feed summaries) into the plain text heard stores (never markup: public text is
shown escaped, as text)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from generator.errors import describe, kind_of
from generator.gather.sources.base import FetchResult, SourceError

if TYPE_CHECKING:
    from generator.gather.sources.http import HttpClient

M = TypeVar("M", bound=BaseModel)


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


def counted(
    name: str, clients: Sequence[HttpClient], fetch: Callable[[], FetchResult]
) -> FetchResult:
    """Run a source's fetch: an error is named by the source and scrubbed of every
    credential, the result counts the requests and retries its clients made."""
    requests = sum(c.requests for c in clients)
    retries = sum(c.retries for c in clients)
    try:
        result = fetch()
    except SourceError as exc:
        raise SourceError(clients[0].scrub(f"{name}: {exc}")) from None
    result.requests = sum(c.requests for c in clients) - requests
    result.retries = sum(c.retries for c in clients) - retries
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
