"""Inline SVG charts are pure functions: readable axes, thresholds, escaped text, only the window."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from pipeline_canary.reports.charts import BandPoint, Line, Point, line_chart, nice_max

START, END = dt.date(2026, 1, 10), dt.date(2026, 2, 9)


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1.0), (0.3, 0.5), (1, 1.0), (1.5, 2.0), (24.61, 50.0), (668, 1000.0), (100, 100.0)]
)
def test_nice_max(value: float, top: float) -> None:
    assert nice_max(value) == pytest.approx(top)


def test_chart_is_valid_svg_with_one_marker_per_point_and_threshold_lines() -> None:
    points = [Point(START + dt.timedelta(days=i), float(i), "failed" if i > 20 else "passed") for i in range(30)]
    svg = str(line_chart(points, start=START, end=END, title="Contamination", unit="%", lines=[Line(15, "fail")]))
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}circle")) == 30
    assert len(root.findall(f"{ns}line[@class='threshold']")) == 1
    assert root.find(f"{ns}polyline") is not None
    assert "#cf222e" in svg and "#1a7f37" in svg  # failing and passing points differ in colour


def test_chart_escapes_text_and_skips_points_outside_the_window() -> None:
    points = [Point(START - dt.timedelta(days=5), 1.0), Point(START + dt.timedelta(days=1), None)]
    svg = str(line_chart(points, start=START, end=END, title='<script>alert("x")</script>'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "no data in the window" in svg
    ET.fromstring(svg)


def test_a_learned_band_is_shaded_behind_the_series_within_the_window() -> None:
    days = [START + dt.timedelta(days=i) for i in range(10)]
    points = [Point(d, 600.0 if i < 9 else 212.0, "failed" if i == 9 else "passed") for i, d in enumerate(days)]
    band = [BandPoint(d, 520.0, 700.0) for d in days] + [BandPoint(START - dt.timedelta(days=3), 1.0, 5000.0)]
    svg = str(line_chart(points, start=START, end=END, title="Active predictions", band=band))
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    [polygon] = root.findall(f"{ns}polygon[@class='band']")
    corners = [tuple(float(v) for v in p.split(",")) for p in polygon.attrib["points"].split()]
    assert len(corners) == 2 * len(days)  # the day outside the window is not drawn
    assert ">1000<" in svg and "5000" not in svg  # the axis tops the band's 700, not the out-of-window 5000
    # drawn before the series, so the points stay on top
    assert list(root).index(polygon) < list(root).index(root.find(f"{ns}polyline"))  # type: ignore[arg-type]
    assert "expected range (learned baseline)" in svg
