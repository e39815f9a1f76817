"""Small inline SVG charts (no JavaScript); each page also shows the same data as a table.

Colours come from the theme's stylesheet through classes, so dark mode and contrast are
the theme's job; labels are escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

_CHAR = 7  # the width of a character of the charts' 12 px labels, in drawing units


@dataclass(frozen=True, slots=True)
class Bar:
    """One labelled bar; `value` None means nothing to draw (no data); `note` is shown."""

    label: str
    value: float | None
    note: str
    censored: bool = False  # the true value is larger ("more than")


def bar_chart(bars: Sequence[Bar], *, title: str, ident: str, width: int | None = None) -> Markup:
    """Vertical bars with a label under each and the note above it.

    The drawing has its own size (as wide as its bars need, at most 480) and is only ever
    scaled down to fit the page, never up: one month of data stays one modest bar with
    12 px labels. Labels that would run into each other are thinned to every k-th (the
    table below each chart has them all).
    """
    if width is None:
        width = min(480, 40 + 80 * max(len(bars), 1))
    height, top, bottom, left = 220, 24, 40, 8
    plot = height - top - bottom
    peak = max((b.value for b in bars if b.value), default=0.0) or 1.0
    slot = (width - 2 * left) / max(len(bars), 1)
    widest = max((len(b.label) for b in bars), default=1) * _CHAR + 6
    every = max(1, math.ceil(widest / slot))
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{ident}-t" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{top + plot}" x2="{width - left}" y2="{top + plot}"/>',
    ]
    for i, bar in enumerate(bars):
        x = left + i * slot
        centre = x + slot / 2
        if bar.value is not None:
            h = max(1.0, plot * bar.value / peak)
            cls = "bar censored" if bar.censored else "bar"
            parts.append(
                f'<rect class="{cls}" x="{x + slot * 0.15:.1f}" y="{top + plot - h:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{h:.1f}"/>'
            )
            label_y = top + plot - h - 4
        else:
            label_y = top + plot - 4
        if slot >= _CHAR * len(bar.note) + 4:
            # a note that would run into the next bar is left to the table below the chart
            parts.append(
                f'<text class="note" x="{centre:.1f}" y="{label_y:.1f}" '
                f'text-anchor="middle">{escape(bar.note)}</text>'
            )
        if (len(bars) - 1 - i) % every == 0:  # the newest month always has its label
            parts.append(
                f'<text class="label" x="{centre:.1f}" y="{top + plot + 16}" '
                f'text-anchor="middle">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def stacked_bars(
    rows: Sequence[tuple[str, int, int]], *, title: str, ident: str, width: int = 480
) -> Markup:
    """Horizontal bars, one per row: (label, done, still waiting)."""
    row_h, left, right = 26, 110, 60
    height = row_h * len(rows) + 8
    peak = max((d + w for _, d, w in rows), default=0) or 1
    span = width - left - right
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{ident}-t" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-t">{escape(title)}</title>',
    ]
    for i, (label, done, waiting) in enumerate(rows):
        y = 4 + i * row_h
        wd = span * done / peak
        ww = span * waiting / peak
        parts.append(
            f'<text class="label" x="{left - 6}" y="{y + 17}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        if done:
            parts.append(
                f'<rect class="bar" x="{left}" y="{y + 4}" width="{wd:.1f}" height="{row_h - 8}"/>'
            )
        if waiting:
            parts.append(
                f'<rect class="bar censored" x="{left + wd:.1f}" y="{y + 4}" '
                f'width="{ww:.1f}" height="{row_h - 8}"/>'
            )
        parts.append(
            f'<text class="note" x="{left + wd + ww + 6:.1f}" y="{y + 17}">{done + waiting}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
