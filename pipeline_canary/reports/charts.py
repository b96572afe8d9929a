"""Trend charts as inline SVG: pure functions of the data, no scripts, no CDN, work offline.

Every piece of text that reaches the SVG is escaped here; the result is marked safe for jinja2.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 560, 180
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 14, 28
_END = 'text-anchor="end"'
_COLORS = {"passed": "#1a7f37", "warned": "#bf8700", "failed": "#cf222e", "errored": "#8250df", "skipped": "#6e7781"}


@dataclass(frozen=True)
class Point:
    day: dt.date
    value: float | None
    outcome: str = "passed"


@dataclass(frozen=True)
class Line:
    """A horizontal reference line (a threshold) drawn across the chart."""

    value: float
    label: str
    level: str = "fail"


@dataclass(frozen=True)
class BandPoint:
    """The range a learned baseline expected on one day (None: that side is not judged)."""

    day: dt.date
    low: float | None
    high: float | None


def nice_max(value: float) -> float:
    """The smallest 1/2/5×10^n not below ``value`` (a readable top for the y axis)."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def line_chart(
    points: Sequence[Point],
    *,
    start: dt.date,
    end: dt.date,
    title: str,
    unit: str = "",
    lines: Sequence[Line] = (),
    band: Sequence[BandPoint] = (),
) -> Markup:
    """A line chart of one value per day between ``start`` and ``end`` (inclusive), as SVG markup.

    ``band``: the expected range a baseline learned each day, shaded behind the series.
    """
    span = max((end - start).days, 1)
    values = [p.value for p in points if p.value is not None]
    band = [b for b in band if start <= b.day <= end]
    highs = [b.high for b in band if b.high is not None]
    top = nice_max(max([*values, *(ln.value for ln in lines), *highs, 0.0]))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(day: dt.date) -> float:
        return PAD_LEFT + plot_w * (day - start).days / span

    def y(value: float) -> float:
        return PAD_TOP + plot_h * (1 - value / top)

    label = escape(f"{title} ({unit})" if unit else title)
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{label}">',
        f"<title>{label}</title>",
    ]
    for frac in (0.0, 0.5, 1.0):
        gy = y(top * frac)
        out.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        out.append(f'<text class="axis" x="{PAD_LEFT - 6}" y="{gy + 4:.1f}" {_END}>{_fmt(top * frac)}</text>')
    out.append(f'<text class="axis" x="{PAD_LEFT}" y="{HEIGHT - 8}">{start.isoformat()}</text>')
    out.append(f'<text class="axis" x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 8}" {_END}>{end.isoformat()}</text>')
    if band:
        upper = [f"{x(b.day):.1f},{y(min(b.high, top) if b.high is not None else top):.1f}" for b in band]
        lower = [f"{x(b.day):.1f},{y(max(b.low, 0.0) if b.low is not None else 0.0):.1f}" for b in reversed(band)]
        out.append(
            f'<polygon class="band" points="{" ".join(upper + lower)}" fill="#0969da" fill-opacity="0.12">'
            "<title>expected range (learned baseline)</title></polygon>"
        )
    for ref in lines:
        ly = y(ref.value)
        color = _COLORS["warned" if ref.level == "warn" else "failed"]
        out.append(
            f'<line class="threshold" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{ly:.1f}" y2="{ly:.1f}" '
            f'stroke="{color}"><title>{escape(ref.label)}</title></line>'
        )
    shown = [p for p in points if p.value is not None and start <= p.day <= end]
    if not shown:
        out.append(
            f'<text class="empty" x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle">no data in the window</text>'
        )
    else:
        path = " ".join(f"{x(p.day):.1f},{y(p.value or 0.0):.1f}" for p in shown)
        out.append(f'<polyline class="series" points="{path}"/>')
        for p in shown:
            tip = escape(f"{p.day.isoformat()}: {_fmt(p.value or 0.0)}{(' ' + unit) if unit else ''} ({p.outcome})")
            out.append(
                f'<circle cx="{x(p.day):.1f}" cy="{y(p.value or 0.0):.1f}" r="3" '
                f'fill="{_COLORS.get(p.outcome, "#6e7781")}"><title>{tip}</title></circle>'
            )
    out.append("</svg>")
    return Markup("".join(out))
