"""What the dashboard shows, read from the run history in a bounded window (never GX, never SQL re-runs).

Every query here is bounded (per checkpoint, by time and row count), so building the dashboard costs
the same after ten runs as after ten thousand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline_canary.reports._queries import (
    Episode,
    daily,
    episodes,
    streak_start,
)
from pipeline_canary.reports.charts import Line, line_chart
from pipeline_canary.results import Threshold

if TYPE_CHECKING:
    from markupsafe import Markup

    from pipeline_canary.canaries import Canary
    from pipeline_canary.state.history import HistoryRow
    from pipeline_canary.state.sqlite import SQLiteState

WINDOW_DAYS = 30
HISTORY_SHOWN = 50  # rows in a checkpoint page's history table
RUNS_SHOWN = 15


@dataclass
class RowView:
    row: HistoryRow
    gx_href: str | None  # relative to the site root; None when GX's page was pruned


@dataclass
class CheckpointView:
    name: str
    title: str
    description: str
    severity: str
    runbook: str
    outcome: str = "never run"
    last_run: dt.datetime | None = None
    since: dt.datetime | None = None
    since_is_lower_bound: bool = False
    message: str = ""
    checks: list[dict[str, Any]] = field(default_factory=list)
    thresholds: list[dict[str, str]] = field(default_factory=list)
    headline: Markup | None = None
    charts: list[tuple[str, Markup]] = field(default_factory=list)  # (caption, svg)
    history: list[RowView] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    bytes_processed: int | None = None
    duration_s: float | None = None


def gx_href(docs_path: str | None, gx_site: Path) -> str | None:
    """``local_site/...`` for a GX page that exists under ``gx_site``; None otherwise."""
    if not docs_path:
        return None
    page = Path(docs_path)
    try:
        relative = page.relative_to(gx_site)
    except ValueError:
        return None
    return f"local_site/{relative.as_posix()}" if page.is_file() else None


def threshold_lines(canary: Canary, settings: Any, names: tuple[str, ...]) -> list[Line]:
    lines: list[Line] = []
    if len(names) != 1:
        return lines
    for spec in canary.checks(settings):
        if spec.metric != names[0]:
            continue
        for bound in (spec.threshold.max, spec.threshold.min):
            if bound is not None:
                lines.append(Line(bound, f"{spec.name}: {spec.threshold.describe()}", spec.threshold.level))
    return lines


def checkpoint_view(
    state: SQLiteState, canary: Canary, settings: Any, *, anchor: dt.datetime, gx_site: Path
) -> CheckpointView:
    from pipeline_canary.state.history import history

    start = anchor - dt.timedelta(days=WINDOW_DAYS)
    view = CheckpointView(canary.name, canary.title, canary.description, canary.severity, canary.runbook)
    view.thresholds = [
        {
            "check": s.name,
            "metric": s.metric,
            "threshold": s.threshold.describe(),
            "level": s.threshold.level,
            "description": s.description,
        }
        for s in canary.checks(settings)
    ]
    rows = history(state, canary.name, since=start, limit=HISTORY_SHOWN)
    if not rows:
        rows = history(state, canary.name, limit=1)  # older than the window: still the current status
    live = [r for r in rows if not r.replay] or rows  # a replay is history, not the current status
    if live:
        latest = live[0]
        view.outcome, view.last_run, view.message = latest.outcome.value, latest.now, latest.message
        view.checks = [{**c, "threshold": _describe(c.get("threshold"))} for c in latest.checks]
        view.bytes_processed, view.duration_s = latest.bytes_processed, latest.duration_s
        view.since, view.since_is_lower_bound = streak_start(state, canary.name, latest.outcome.value, start)
    view.history = [RowView(r, gx_href(r.docs_path, gx_site)) for r in rows]
    view.episodes = episodes(state, canary.name, start)
    day_start, day_end, days = start.date(), anchor.date(), daily(state, canary.name, start)
    charts: list[tuple[tuple[str, ...], str, str]] = []
    if canary.headline:
        charts.append((canary.headline.metrics, canary.headline.title, canary.headline.unit))
    for spec in canary.checks(settings):
        if all(c[0] != (spec.metric,) for c in charts):
            charts.append(((spec.metric,), spec.metric.replace("_", " "), ""))
    rendered = [
        (
            f"{title} ({unit})" if unit else title,
            line_chart(
                [day.point(names) for day in days],
                start=day_start,
                end=day_end,
                title=title,
                unit=unit,
                lines=threshold_lines(canary, settings, names),
            ),
        )
        for names, title, unit in charts
    ]
    view.headline, view.charts = (rendered[0][1] if rendered else None), rendered
    return view


def _describe(threshold: dict[str, Any] | None) -> str:
    return Threshold(**threshold).describe() if threshold else ""


def incidents(state: SQLiteState, config: Any) -> tuple[list[Any] | None, str]:
    """Open and recent incidents from alerting, or None and why not (then history episodes stand in)."""
    alerting = getattr(config, "alerting", None)
    if alerting is not None and not getattr(alerting, "enabled", True):
        return None, "alerting not configured (disabled in [alerting])"
    try:
        from pipeline_canary.alerting.incidents import list_incidents
    except ImportError:
        return None, "alerting not configured"
    return list_incidents(state, limit=50), ""
