"""Inline SVG charts are pure functions: readable axes, thresholds, escaped text, only the window."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from pipeline_canary.reports.charts import Line, Point, line_chart, nice_max

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
