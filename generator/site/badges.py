"""SVG badges in the flat shields.io style: self-contained, accessible, escaped.

`badges/first-response.svg`, `badges/open.svg`, `badges/within-target.svg`, from the all-time
figures (the home page's headline). No fonts, images, scripts or links: one file, readable as
an <img>. Widths come from Verdana 11 px advance widths (DejaVu Sans is close), and
`textLength` makes any fallback font fit the measured box.

Colours (white text, each at least 4.5:1, WCAG AA) against the response target T:
- first response: median ≤ T green; ≤ 4 T orange; longer red. "More than X" (fewer than half
  answered) is never green: orange while X ≤ 4 T, then red.
- open cases: green when no unanswered case is older than T; orange while the oldest
  unanswered is within 4 T; red beyond.
- within target: ≥ 90 % green, ≥ 75 % orange, below red.
Without a target the figures get a neutral blue; without data, grey.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from generator.config import Config
from generator.meaning.lifecycle import Facts
from generator.record.times import format_duration, seconds_between
from generator.site.feeds import xml_text

SVG_NS = "http://www.w3.org/2000/svg"
GREEN = "#2e7d32"
ORANGE = "#b35c00"
RED = "#c62828"
GREY = "#767676"
BLUE = "#1565c0"
LABEL_COLOUR = "#555"
LATE_FACTOR = 4  # beyond this many targets, late is red
WITHIN_GOOD = 0.9
WITHIN_FAIR = 0.75
FONT = "Verdana,Geneva,DejaVu Sans,sans-serif"
PADDING = 5  # px each side of a text

# Verdana advance widths in em (units per em 2048, rounded); the rest falls back by class.
_EM: dict[str, float] = {
    " ": 0.352, "!": 0.394, '"': 0.459, "#": 0.818, "$": 0.636, "%": 1.076, "&": 0.727,
    "'": 0.269, "(": 0.454, ")": 0.454, "*": 0.636, "+": 0.818, ",": 0.364, "-": 0.454,
    ".": 0.364, "/": 0.454, ":": 0.454, ";": 0.454, "<": 0.818, "=": 0.818, ">": 0.818,
    "?": 0.545, "@": 1.0, "[": 0.454, "\\": 0.454, "]": 0.454, "_": 0.636, "|": 0.454,
    "a": 0.601, "b": 0.623, "c": 0.521, "d": 0.623, "e": 0.596, "f": 0.352, "g": 0.623,
    "h": 0.633, "i": 0.274, "j": 0.344, "k": 0.592, "l": 0.274, "m": 0.973, "n": 0.633,
    "o": 0.607, "p": 0.623, "q": 0.623, "r": 0.427, "s": 0.521, "t": 0.394, "u": 0.633,
    "v": 0.592, "w": 0.818, "x": 0.592, "y": 0.592, "z": 0.525,
    "A": 0.684, "B": 0.686, "C": 0.698, "D": 0.771, "E": 0.632, "F": 0.575, "G": 0.775,
    "H": 0.751, "I": 0.421, "J": 0.455, "K": 0.693, "L": 0.557, "M": 0.843, "N": 0.748,
    "O": 0.787, "P": 0.603, "Q": 0.787, "R": 0.695, "S": 0.684, "T": 0.616, "U": 0.732,
    "V": 0.684, "W": 0.989, "X": 0.685, "Y": 0.615, "Z": 0.685,
    "…": 0.818, "—": 1.0, "–": 0.636, "≤": 0.818, "≥": 0.818,
}  # fmt: skip
_DIGIT_EM = 0.636
_OTHER_EM = 1.0  # wide: CJK, emoji, anything unknown (overestimate rather than clip)
FONT_PX = 11


def text_width(text: str) -> float:
    """Approximate rendered width in px of `text` at 11 px Verdana."""
    em = 0.0
    for ch in text:
        if ch.isdigit() and ch.isascii():
            em += _DIGIT_EM
        else:
            em += _EM.get(ch, _OTHER_EM)
    return round(em * FONT_PX, 1)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def badge(name: str, label: str, value: str, colour: str) -> bytes:
    """A flat badge: grey label on the left, coloured value on the right."""
    label, value = xml_text(label), xml_text(value)
    label_text, value_text = text_width(label), text_width(value)
    left = round(label_text + 2 * PADDING)
    right = round(value_text + 2 * PADDING)
    width = left + right
    spoken = f"{label}: {value}"
    clip_id = f"r-{name}"
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "width": str(width),
            "height": "20",
            "viewBox": f"0 0 {width} 20",
            "role": "img",
            "aria-label": spoken,
        },
    )
    ET.SubElement(svg, "title").text = spoken
    clip = ET.SubElement(svg, "clipPath", {"id": clip_id})
    ET.SubElement(clip, "rect", {"width": str(width), "height": "20", "rx": "3", "fill": "#fff"})
    shapes = ET.SubElement(svg, "g", {"clip-path": f"url(#{clip_id})"})
    ET.SubElement(shapes, "rect", {"width": str(left), "height": "20", "fill": LABEL_COLOUR})
    ET.SubElement(
        shapes, "rect", {"x": str(left), "width": str(right), "height": "20", "fill": colour}
    )
    texts = ET.SubElement(
        svg,
        "g",
        {
            "fill": "#fff",
            "text-anchor": "middle",
            "font-family": FONT,
            "text-rendering": "geometricPrecision",
            "font-size": "110",
            "aria-hidden": "true",
        },
    )
    for text, centre, measured in (
        (label, left / 2, label_text),
        (value, left + right / 2, value_text),
    ):
        common = {
            "x": _num(centre * 10),
            "transform": "scale(.1)",
            "textLength": _num(measured * 10),
        }
        shadow = ET.SubElement(
            texts, "text", {**common, "y": "150", "fill": "#010101", "fill-opacity": ".3"}
        )
        shadow.text = text
        ET.SubElement(texts, "text", {**common, "y": "140"}).text = text
    return (ET.tostring(svg, encoding="unicode") + "\n").encode("utf-8")


def first_response(fig: dict[str, Any], target: int | None) -> tuple[str, str]:
    """(value, colour) of the median first response."""
    median, more = fig.get("median_s"), fig.get("more_than_s")
    if median is not None:
        colour = BLUE if target is None else _late_colour(median, target, allow_green=True)
        return format_duration(median), colour
    if more is not None:
        colour = BLUE if target is None else _late_colour(more, target, allow_green=False)
        return f"> {format_duration(more)}", colour
    return "no data", GREY


def _late_colour(seconds: float, target: int, *, allow_green: bool) -> str:
    if seconds <= target and allow_green:
        return GREEN
    if seconds <= LATE_FACTOR * target:
        return ORANGE
    return RED


def open_cases(
    count: int, views: Sequence[Facts], target: int | None, now: datetime
) -> tuple[str, str]:
    """(value, colour) of the open-case count, coloured by the oldest unanswered case.

    Only cases in state "open" are looked at: hidden and removed ones never are.
    """
    if target is None:
        return str(count), BLUE
    ages = [seconds_between(v.opened, now) for v in views if v.state == "open"]
    oldest = max(ages, default=0)
    if oldest <= target:
        return str(count), GREEN
    return str(count), _late_colour(oldest, target, allow_green=False)


def within_target(share: float | None, target: int | None) -> tuple[str, str, str]:
    """(label, value, colour) of the share answered within the target."""
    if target is None:
        return "answered within target", "no target", GREY
    label = f"answered within {format_duration(target)}"
    if share is None:
        return label, "no data", GREY
    colour = GREEN if share >= WITHIN_GOOD else ORANGE if share >= WITHIN_FAIR else RED
    return label, f"{round(share * 100)}%", colour


def files(
    views: Sequence[Facts], summary: dict[str, Any], config: Config, now: datetime
) -> Iterator[tuple[str, bytes]]:
    """The three badges, from the all-time figures (hidden cases are never counted)."""
    target = config.policy.response_target
    fig = summary["all_time"]
    value, colour = first_response(fig["first_response"], target)
    yield (
        "badges/first-response.svg",
        badge("first-response", "median first response", value, colour),
    )
    states = fig["states"]
    value, colour = open_cases(states["open"] + states["responded"], views, target, now)
    yield "badges/open.svg", badge("open", "open cases", value, colour)
    label, value, colour = within_target(fig["first_response"]["within_target"], target)
    yield "badges/within-target.svg", badge("within-target", label, value, colour)
