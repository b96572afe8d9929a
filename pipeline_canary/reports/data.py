"""What the dashboard shows, read from the run history in a bounded window (never GX, never SQL re-runs).

Every query here is bounded (per checkpoint, by time and row count), so building the dashboard costs
the same after ten runs as after ten thousand.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline_canary.reports.charts import Line, Point, line_chart
from pipeline_canary.results import Outcome, Threshold

if TYPE_CHECKING:
    from markupsafe import Markup

    from pipeline_canary.canaries import Canary
    from pipeline_canary.state.history import HistoryRow
    from pipeline_canary.state.sqlite import SQLiteState

WINDOW_DAYS = 30
OUTCOMES_PER_CHECKPOINT = 5000  # (time, outcome) pairs read for streaks: a run every 10 min for 30 days
HISTORY_SHOWN = 50  # rows in a checkpoint page's history table
RUNS_SHOWN = 15
NOT_GOOD = (Outcome.FAILED, Outcome.ERRORED, Outcome.WARNED)

# The trend people ask about for each checkpoint: (metrics summed, chart title, unit).
HEADLINES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "prediction_gap": (("active_predictions",), "Active predictions per game day", "predictions"),
    "feature_contamination": (("required_default_pct",), "Required-feature contamination", "%"),
    "schema_parity": (("missing_in_table", "incompatible_fields"), "Schema mismatches", "fields"),
    "orphaned_staging_tables": (("orphaned_tables",), "Orphaned staging tables", "tables"),
}


@dataclass(frozen=True)
class Episode:
    """A streak of not-passing runs of one checkpoint, derived from history."""

    checkpoint: str
    outcome: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    runs: int
    message: str


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
    charts: list[Markup] = field(default_factory=list)
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


def metric_value(metrics: dict[str, float | None], names: tuple[str, ...]) -> float | None:
    values = [metrics.get(n) for n in names]
    if any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None))


@dataclass(frozen=True)
class Beat:
    """One run of one checkpoint, as little as streaks need."""

    now: dt.datetime
    outcome: Outcome
    message: str


def daily_points(state: SQLiteState, checkpoint: str, since: dt.datetime, names: tuple[str, ...]) -> list[Point]:
    """One point per game day (``as_of``): the newest run's value; SQLite picks the rows."""
    sql = """
        SELECT as_of, outcome, metrics FROM (
            SELECT as_of, outcome, metrics, ROW_NUMBER() OVER (PARTITION BY as_of ORDER BY now DESC) AS rn
            FROM checkpoint_results WHERE checkpoint = ? AND now >= ? AND outcome != 'skipped'
        ) WHERE rn = 1 ORDER BY as_of
    """
    return [
        Point(dt.date.fromisoformat(r["as_of"]), metric_value(json.loads(r["metrics"]), names), r["outcome"])
        for r in state.read().execute(sql, (checkpoint, since.isoformat())).fetchall()
    ]


def beats(state: SQLiteState, checkpoint: str, since: dt.datetime) -> list[Beat]:
    """Outcomes of the window, newest first (no JSON: cheap for thousands of runs)."""
    sql = (
        "SELECT now, outcome, message FROM checkpoint_results WHERE checkpoint = ? AND now >= ? "
        "ORDER BY now DESC LIMIT ?"
    )
    rows = state.read().execute(sql, (checkpoint, since.isoformat(), OUTCOMES_PER_CHECKPOINT)).fetchall()
    return [Beat(dt.datetime.fromisoformat(r["now"]), Outcome(r["outcome"]), r["message"]) for r in rows]


def episodes(name: str, rows: list[Beat]) -> list[Episode]:
    """Streaks of failed/errored/warned runs, newest first; ``rows`` are newest first."""
    found: list[Episode] = []
    current: list[Beat] = []
    for row in [*reversed(rows), None]:
        if row is not None and row.outcome in NOT_GOOD:
            current.append(row)
            continue
        if current:
            worst = next(o for o in NOT_GOOD if any(r.outcome is o for r in current))
            found.append(
                Episode(name, worst.value, current[0].now, row.now if row else None, len(current), current[-1].message)
            )
            current = []
    return list(reversed(found))


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
    window = beats(state, canary.name, start) or [Beat(r.now, r.outcome, r.message) for r in rows]
    if rows:
        latest = rows[0]
        view.outcome, view.last_run, view.message = latest.outcome.value, latest.now, latest.message
        view.checks = [{**c, "threshold": _describe(c.get("threshold"))} for c in latest.checks]
        view.bytes_processed, view.duration_s = latest.bytes_processed, latest.duration_s
        streak = next((i for i, b in enumerate(window) if b.outcome is not latest.outcome), len(window))
        view.since = window[streak - 1].now
        view.since_is_lower_bound = streak == len(window) and _has_older(state, canary.name, window[-1].now)
    view.history = [RowView(r, gx_href(r.docs_path, gx_site)) for r in rows]
    view.episodes = episodes(canary.name, window)
    day_start, day_end = start.date(), anchor.date()
    charts: list[tuple[tuple[str, ...], str, str]] = []
    headline = HEADLINES.get(canary.name)
    if headline:
        charts.append(headline)
    for spec in canary.checks(settings):
        if all(c[0] != (spec.metric,) for c in charts):
            charts.append(((spec.metric,), spec.metric.replace("_", " "), ""))
    rendered = [
        line_chart(
            daily_points(state, canary.name, start, names),
            start=day_start,
            end=day_end,
            title=title,
            unit=unit,
            lines=threshold_lines(canary, settings, names),
        )
        for names, title, unit in charts
    ]
    view.headline, view.charts = (rendered[0] if rendered else None), rendered
    return view


def _has_older(state: SQLiteState, checkpoint: str, before: dt.datetime) -> bool:
    sql = "SELECT 1 FROM checkpoint_results WHERE checkpoint = ? AND now < ? LIMIT 1"
    return state.read().execute(sql, (checkpoint, before.isoformat())).fetchone() is not None


def _describe(threshold: dict[str, Any] | None) -> str:
    return Threshold(**threshold).describe() if threshold else ""


def recent_runs(state: SQLiteState, limit: int = RUNS_SHOWN) -> list[dict[str, Any]]:
    rows = state.read().execute("SELECT * FROM runs ORDER BY now DESC LIMIT ?", (limit,)).fetchall()
    return [{**dict(r), "now": dt.datetime.fromisoformat(r["now"])} for r in rows]


def latest_run_time(state: SQLiteState) -> dt.datetime | None:
    row = state.read().execute("SELECT MAX(now) AS now FROM runs").fetchone()
    return dt.datetime.fromisoformat(row["now"]) if row and row["now"] else None


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
