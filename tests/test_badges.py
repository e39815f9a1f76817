"""SVG badges: well-formed, self-contained, accessible, and saying the right thing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from lxml import etree

from generator.config import parse_config
from generator.record.times import format_instant
from generator.site import badges
from tests.conftest import BASE_CONFIG, case, ev
from tests.test_feeds import CONFIG, HIDDEN_ID, NOW, make_summary, make_views, note, sample_views

SVG = "{http://www.w3.org/2000/svg}"
COLOURS = (badges.GREEN, badges.ORANGE, badges.RED, badges.GREY, badges.BLUE, badges.LABEL_COLOUR)
HOUR = 3600


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_with_white(colour: str) -> float:
    return 1.05 / (luminance(colour) + 0.05)


def parse(data: bytes) -> Any:
    return etree.fromstring(data)


def read(data: bytes) -> tuple[str, str, str, int]:
    """(label, value, value colour, width) of a badge."""
    root = parse(data)
    texts = [t.text for t in root.iter(f"{SVG}text") if t.get("fill-opacity") is None]
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect") if r.getparent().tag == f"{SVG}g"]
    return texts[0], texts[1], fills[1], int(root.get("width"))


def fig(
    median: float | None = None, more: float | None = None, within: float | None = None
) -> dict[str, Any]:
    return {"median_s": median, "more_than_s": more, "within_target": within}


def test_every_colour_is_readable_with_white_text() -> None:
    assert contrast_with_white("#ffffff") == pytest.approx(1)  # the formula itself
    assert contrast_with_white("#000") == pytest.approx(21)
    for colour in COLOURS:
        assert contrast_with_white(colour) >= 4.5, colour


@pytest.mark.parametrize(
    ("median", "more", "value", "colour"),
    [
        (43 * 60, None, "43 min", badges.GREEN),
        (HOUR, None, "1 h", badges.GREEN),
        (3 * HOUR, None, "3 h", badges.ORANGE),
        (5 * HOUR, None, "5 h", badges.RED),
        (None, 3 * 86400, "> 3 d", badges.RED),
        (None, 600, "> 10 min", badges.ORANGE),  # never green while fewer than half are answered
        (None, None, "no data", badges.GREY),
    ],
)
def test_first_response(median: int | None, more: int | None, value: str, colour: str) -> None:
    assert badges.first_response(fig(median, more), HOUR) == (value, colour)


def test_first_response_without_a_target_is_neutral() -> None:
    assert badges.first_response(fig(43 * 60), None) == ("43 min", badges.BLUE)
    assert badges.first_response(fig(), None) == ("no data", badges.GREY)


@pytest.mark.parametrize(
    ("share", "value", "colour"),
    [
        (0.87, "87%", badges.ORANGE),
        (0.95, "95%", badges.GREEN),
        (0.9, "90%", badges.GREEN),
        (0.5, "50%", badges.RED),
        (None, "no data", badges.GREY),
    ],
)
def test_within_target(share: float | None, value: str, colour: str) -> None:
    assert badges.within_target(share, HOUR) == ("answered within 1 h", value, colour)


def test_within_target_without_a_target() -> None:
    assert badges.within_target(0.5, None) == ("answered within target", "no target", badges.GREY)


def test_open_cases_coloured_by_the_oldest_unanswered() -> None:
    def waiting(hours: float) -> dict[str, Any]:
        return case("x-1", ev("complaint", format_instant(NOW - timedelta(hours=hours))))

    assert badges.open_cases(0, [], HOUR, NOW) == ("0", badges.GREEN)
    assert badges.open_cases(1, make_views([waiting(0.5)]), HOUR, NOW) == ("1", badges.GREEN)
    assert badges.open_cases(1, make_views([waiting(2)]), HOUR, NOW) == ("1", badges.ORANGE)
    assert badges.open_cases(1, make_views([waiting(5)]), HOUR, NOW) == ("1", badges.RED)
    assert badges.open_cases(1, make_views([waiting(5)]), None, NOW) == ("1", badges.BLUE)
    hidden = make_views(
        [waiting(5)],
        {
            "x-1": note(
                "x-1", f'---\nstatus: hidden\nat: "{format_instant(NOW)}"\nreason: spam\n---\n'
            )
        },
    )
    assert hidden[0].hidden
    assert badges.open_cases(0, hidden, HOUR, NOW) == ("0", badges.GREEN)


def test_the_three_badges_from_real_figures() -> None:
    views = sample_views()
    summary = make_summary(views)
    out = dict(badges.files(views, summary, CONFIG, NOW))
    assert list(out) == ["badges/first-response.svg", "badges/open.svg", "badges/within-target.svg"]
    fr = summary["all_time"]["first_response"]
    states = summary["all_time"]["states"]
    # The sample, worked by hand: 8 counted cases (hidden left out, removed kept); answers
    # after 5, 10, 10 and 43 min; 4 unanswered for about 2 days. KM: S = 7/8, 5/8, 1/2 at
    # 43 min → median 43 min. Within 1 h: 4 / (4 + 4 waiting longer) = 50%.
    assert fr["median_s"] == 43 * 60
    assert fr["within_target"] == 0.5
    label, value, colour, _ = read(out["badges/first-response.svg"])
    assert (label, value, colour) == ("median first response", "43 min", badges.GREEN)
    label, value, colour, _ = read(out["badges/open.svg"])
    assert (label, value) == ("open cases", str(states["open"] + states["responded"]))
    assert value == "5"
    assert colour == badges.RED
    label, value, colour, _ = read(out["badges/within-target.svg"])
    assert (label, value, colour) == ("answered within 1 h", "50%", badges.RED)
    for data in out.values():
        assert HIDDEN_ID.encode() not in data


def test_badges_are_well_formed_accessible_and_self_contained() -> None:
    views = sample_views()
    for path, data in badges.files(views, make_summary(views), CONFIG, NOW):
        root = parse(data)
        assert root.tag == f"{SVG}svg", path
        assert root.get("role") == "img"
        label, value, colour, width = read(data)
        assert root.get("aria-label") == f"{label}: {value}"
        assert root.findtext(f"{SVG}title") == f"{label}: {value}"
        assert root.get("viewBox") == f"0 0 {width} 20"
        assert colour in COLOURS
        for element in root.iter():
            assert etree.QName(element).localname not in (
                "script", "foreignObject", "image", "use", "a", "style", "iframe"
            ), path  # fmt: skip
            for name, attr in element.attrib.items():
                local = etree.QName(name).localname
                assert not local.lower().startswith("on"), (path, name)
                assert local != "href", (path, name)
                for ref in re.findall(r"url\(([^)]*)\)", attr):
                    assert ref.startswith("#"), (path, attr)
        assert b"<script" not in data
        assert b"http://" not in data.replace(b'xmlns="http://www.w3.org/2000/svg"', b"")


def test_width_grows_with_the_text() -> None:
    widths = [
        read(badges.badge("t", "open cases", value, badges.GREEN))[3]
        for value in ("1", "12", "123", "1234 min", "more than a week")
    ]
    assert widths == sorted(widths)
    assert len(set(widths)) == len(widths)
    assert badges.text_width("mmmm") > badges.text_width("iiii")
    assert badges.text_width("ab") == pytest.approx(
        badges.text_width("a") + badges.text_width("b"), abs=0.2
    )
    # about shields.io's measure of a familiar label (Verdana 11px)
    assert 50 < badges.text_width("coverage") < 56


def test_text_is_escaped_and_round_trips() -> None:
    hostile = '<script>alert(1)</script> & "x" ]]> \x07'
    data = badges.badge("t", hostile, "v", badges.RED)
    assert b"<script>" not in data
    label, _value, _, _ = read(data)
    assert label == '<script>alert(1)</script> & "x" ]]> '
    assert parse(data).get("aria-label") == label + ": v"


def test_same_input_same_bytes() -> None:
    views = sample_views()
    first = dict(badges.files(views, make_summary(views), CONFIG, NOW))
    again = dict(badges.files(list(reversed(views)), make_summary(views), CONFIG, NOW))
    assert first == again


def test_no_target_configured() -> None:
    config = parse_config(BASE_CONFIG.replace('response_target = "1h"\n', ""))
    views = sample_views()
    out = dict(badges.files(views, make_summary(views, config), config, NOW))
    assert read(out["badges/within-target.svg"])[:3] == (
        "answered within target",
        "no target",
        badges.GREY,
    )
    assert read(out["badges/first-response.svg"])[2] == badges.BLUE
