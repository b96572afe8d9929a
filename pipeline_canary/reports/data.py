"""What the dashboard shows, read from the run history in a bounded window (never GX, never SQL re-runs).

Every query here is bounded (per checkpoint, by time and row count), so building the dashboard costs
the same after ten runs as after ten thousand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline_canary.evidence import TableLines, explaining, table_lines
from pipeline_canary.reports._queries import (
    Episode,
    daily,
    episodes,
    streak_start,
)
from pipeline_canary.reports.charts import Line, line_chart
from pipeline_canary.results import CheckpointResult, CheckResult, Outcome, Threshold

if TYPE_CHECKING:
    from markupsafe import Markup

    from pipeline_canary.canaries import Canary
    from pipeline_canary.state.history import HistoryRow
    from pipeline_canary.state.sqlite import SQLiteState

WINDOW_DAYS = 30
HISTORY_SHOWN = 50  # rows in a checkpoint page's history table (history keeps evidence for as many)
RUNS_SHOWN = 15
# The pages stay small however long the history: the latest run's tables show this many rows each,
# a past run only the first lines of what broke.
LATEST_ROWS = 50
PAST_LINES = 10
COLUMNS_SHOWN = 12


@dataclass
class EvidenceView:
    """One evidence table of the latest run: its lines, and its rows under their columns."""

    lines: TableLines
    columns: list[str]
    rows: list[list[Any]]
    explains: bool  # it says what broke (a check that did not pass names it)


@dataclass
class RowView:
    row: HistoryRow
    gx_href: str | None  # relative to the site root; None when GX's page was pruned
    evidence: list[TableLines] = field(default_factory=list)  # what broke in this run (first lines)


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
    evidence: list[EvidenceView] = field(default_factory=list)  # the latest run's
    evidence_run: dt.datetime | None = None


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
            "threshold": s.baseline.describe() if s.baseline is not None else s.threshold.describe(),
            "level": s.threshold.level,
            "description": s.description,
        }
        for s in canary.all_checks(settings)
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
        view.evidence = latest_evidence(latest)
        view.evidence_run = latest.now
    view.history = [RowView(r, gx_href(r.docs_path, gx_site), past_evidence(r)) for r in rows]
    view.episodes = episodes(state, canary.name, start)
    day_start, day_end, days = start.date(), anchor.date(), daily(state, canary.name, start)
    charts: list[tuple[tuple[str, ...], str, str]] = []
    if canary.headline:
        charts.append((canary.headline.metrics, canary.headline.title, canary.headline.unit))
    for spec in canary.all_checks(settings):
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
                band=[b for b in (day.band(names[0]) for day in days) if b is not None] if len(names) == 1 else (),
            ),
        )
        for names, title, unit in charts
    ]
    view.headline, view.charts = (rendered[0][1] if rendered else None), rendered
    return view


def as_result(row: HistoryRow) -> CheckpointResult:
    """The parts of a stored result that say what broke (outcome, checks, evidence)."""
    checks = tuple(
        CheckResult(
            name=str(c.get("name")),
            outcome=Outcome(c.get("outcome", "passed")),
            message=str(c.get("message", "")),
            evidence_tables=tuple(c.get("evidence_tables") or ()),
        )
        for c in row.checks
    )
    return CheckpointResult(row.checkpoint, row.outcome, checks, row.message, evidence=row.evidence)


def latest_evidence(row: HistoryRow) -> list[EvidenceView]:
    """Every evidence table of the run with rows: those that say what broke first."""
    result = as_result(row)
    first = explaining(result)
    names = first + [n for n, t in result.evidence.items() if t.total and n not in first]
    views = []
    for name in names:
        table = result.evidence[name]
        kept = table.rows[:LATEST_ROWS]
        columns = list(dict.fromkeys(k for r in kept for k in r))[:COLUMNS_SHOWN]
        views.append(
            EvidenceView(
                lines=table_lines(row.checkpoint, name, table, LATEST_ROWS),
                columns=columns,
                rows=[[r.get(c) for c in columns] for r in kept],
                explains=name in first,
            )
        )
    return views


def past_evidence(row: HistoryRow) -> list[TableLines]:
    """The first lines of what broke in a past run (nothing for a run that passed)."""
    result = as_result(row)
    return [table_lines(row.checkpoint, n, result.evidence[n], PAST_LINES) for n in explaining(result)]


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
