"""Charts drawn on the server as SVG: nothing to download, nothing from a CDN, and the page
works without JavaScript.

    >>> svg = line_chart(["11-01", "11-02", "11-03"], [("answer", [0.5, 0.75, 1.0], "#2a7")])
    >>> svg.startswith("<svg") and svg.count("<circle") == 3 and "75%" in svg
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["PALETTE", "bar_chart", "line_chart"]

PALETTE = ("#1f7a4d", "#c0392b", "#8e44ad", "#d68910", "#2e86c1")

Series = tuple[str, Sequence[float], str]  # name, values, colour


def _frame(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]


def _x_labels(labels: Sequence[str], x_of: list[float], bottom: float) -> list[str]:
    step = max(1, len(labels) // 10)
    return [
        f'<text x="{x_of[i]:.1f}" y="{bottom + 16:.1f}" text-anchor="middle" '
        f'class="axis">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % step == 0 or i == len(labels) - 1
    ]


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 760,
    height: int = 260,
    title: str = "",
) -> str:
    """Rates in [0, 1] over `labels` (days), one polyline per series, a legend, a grid at
    every quarter and a tooltip (`<title>`) on every point."""
    left, right, top, bottom = 44, width - 24, 28, height - 30
    n = max(1, len(labels))
    x_of = [left + (right - left) * (i / (n - 1) if n > 1 else 0.5) for i in range(n)]

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * min(1.0, max(0.0, value))

    out = _frame(width, height, title)
    for quarter in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y_of(quarter)
        out.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{quarter:.0%}</text>"
        )
    out.extend(_x_labels(labels, x_of, bottom))
    legend_x = left
    for name, values, colour in series:
        points = " ".join(f"{x_of[i]:.1f},{y_of(v):.1f}" for i, v in enumerate(values))
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" '
            f'data-series="{escape(name)}"/>'
        )
        for i, v in enumerate(values):
            out.append(
                f'<circle cx="{x_of[i]:.1f}" cy="{y_of(v):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)} {escape(labels[i])}: {v:.0%}</title></circle>"
            )
        out.append(
            f'<rect x="{legend_x}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="18" class="legend">{escape(name)}</text>'
        )
        legend_x += 28 + sum(13 if ord(c) > 0x2E7F else 7 for c in name)  # Hangul is wide
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[int],
    *,
    width: int = 760,
    height: int = 120,
    title: str = "",
    colour: str = "#5d6d7e",
) -> str:
    """Counts over `labels` as bars, each with its count as a tooltip."""
    left, right, top, bottom = 44, width - 12, 10, height - 24
    n = max(1, len(labels))
    peak = max([1, *values])
    slot = (right - left) / n
    out = _frame(width, height, title)
    out.append(
        f'<text x="{left - 6}" y="{top + 8}" text-anchor="end" class="axis">{peak}</text>'
        f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" class="grid"/>'
    )
    for i, value in enumerate(values):
        h = (bottom - top) * value / peak
        out.append(
            f'<rect x="{left + i * slot + slot * 0.15:.1f}" y="{bottom - h:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{escape(labels[i])}: {value}</title></rect>"
        )
    out.extend(_x_labels(labels, [left + (i + 0.5) * slot for i in range(n)], bottom))
    out.append("</svg>")
    return "".join(out)
