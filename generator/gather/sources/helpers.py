"""What sources share besides HTTP: the base of API answer models, lists of names, and
turning a channel's HTML (Mastodon content, Discourse cooked, feed summaries) into the
plain text heard stores (never markup: public text is shown escaped, as text)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict


class ApiModel(BaseModel):
    """An API answer as read: only the fields heard uses, strict types, unknown keys ignored."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


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
