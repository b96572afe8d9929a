"""Bounded reads of the run history for the dashboard: SQLite aggregates the window, Python gets a few rows.

Each query is limited to one checkpoint and a time window and returns at most tens of rows, so the
cost of a dashboard build barely moves between ten runs and ten thousand.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pipeline_canary.state.history  # noqa: F401 - its tables are registered (and created) before our index
from pipeline_canary.reports.charts import BandPoint, Point
from pipeline_canary.state.sqlite import register_schema

if TYPE_CHECKING:
    from pipeline_canary.state.sqlite import SQLiteState

# Index-only scans of the window (no JSON columns read): the dashboard touches the wide rows only for
# the few it shows. Registered by this module, created with the history tables' connection.
register_schema(
    "reports",
    "CREATE INDEX IF NOT EXISTS results_window ON checkpoint_results (checkpoint, now, outcome, as_of);",
)

_DAILY = """
SELECT r.as_of, r.outcome, r.metrics, r.checks FROM (
    SELECT as_of, MAX(now) AS newest FROM checkpoint_results
    WHERE checkpoint = :checkpoint AND now >= :since AND outcome != 'skipped' GROUP BY as_of
) AS d CROSS JOIN checkpoint_results AS r  -- CROSS JOIN: days outside, (checkpoint, now) lookups inside
WHERE r.checkpoint = :checkpoint AND r.now = d.newest AND r.as_of = d.as_of
ORDER BY r.as_of
"""

# Gaps and islands: every passing (or skipped) run starts a new group; a streak is the not-passing
# runs of one group; the run after its last one (LEAD) resolved it ('~' sorts after any timestamp).
_STREAKS = """
WITH ordered AS (
    SELECT now, outcome, outcome IN ('failed', 'errored', 'warned') AS bad,
           LEAD(now) OVER (ORDER BY now) AS next_now
    FROM checkpoint_results WHERE checkpoint = :checkpoint AND now >= :since
), grouped AS (
    SELECT *, SUM(NOT bad) OVER (ORDER BY now ROWS UNBOUNDED PRECEDING) AS grp FROM ordered
), streaks AS (
    SELECT MIN(now) AS opened_at, MAX(now) AS last_at, COUNT(*) AS runs,
           MAX(CASE outcome WHEN 'failed' THEN 3 WHEN 'errored' THEN 2 ELSE 1 END) AS worst,
           NULLIF(MAX(COALESCE(next_now, '~')), '~') AS resolved_at
    FROM grouped WHERE bad GROUP BY grp
)
SELECT opened_at, resolved_at, runs, worst,
       (SELECT message FROM checkpoint_results WHERE checkpoint = :checkpoint AND now = last_at) AS message
FROM streaks ORDER BY opened_at DESC LIMIT :limit
"""
_WORST = {3: "failed", 2: "errored", 1: "warned"}


@dataclass(frozen=True)
class Episode:
    """A streak of not-passing runs of one checkpoint, derived from history."""

    checkpoint: str
    outcome: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    runs: int
    message: str


def metric_value(metrics: dict[str, float | None], names: tuple[str, ...]) -> float | None:
    values = [metrics.get(n) for n in names]
    if any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None))


@dataclass(frozen=True)
class Day:
    """The newest run of one game day."""

    as_of: dt.date
    outcome: str
    metrics: dict[str, float | None]
    checks: tuple[dict[str, Any], ...] = ()

    def point(self, names: tuple[str, ...]) -> Point:
        return Point(self.as_of, metric_value(self.metrics, names), self.outcome)

    def band(self, metric: str) -> BandPoint | None:
        """The band the baseline of ``metric`` expected that day (a learned one; None while learning)."""
        for check in self.checks:
            learned = check.get("baseline")
            if check.get("name") == f"{metric}_baseline" and isinstance(learned, dict):
                return BandPoint(self.as_of, learned.get("low"), learned.get("high"))
        return None


def daily(state: SQLiteState, checkpoint: str, since: dt.datetime) -> list[Day]:
    """One row per game day (``as_of``) in the window: that day's newest run; SQLite picks the rows."""
    rows = state.read().execute(_DAILY, {"checkpoint": checkpoint, "since": since.isoformat()}).fetchall()
    days: dict[str, Day] = {}
    for r in rows:  # two runs at the same instant: keep one
        day = Day(
            dt.date.fromisoformat(r["as_of"]), r["outcome"], json.loads(r["metrics"]), tuple(json.loads(r["checks"]))
        )
        days.setdefault(r["as_of"], day)
    return list(days.values())


def episodes(state: SQLiteState, checkpoint: str, since: dt.datetime, limit: int = 20) -> list[Episode]:
    """Streaks of failed/errored/warned runs in the window, newest first."""
    params = {"checkpoint": checkpoint, "since": since.isoformat(), "limit": limit}
    return [
        Episode(
            checkpoint,
            _WORST[r["worst"]],
            dt.datetime.fromisoformat(r["opened_at"]),
            dt.datetime.fromisoformat(r["resolved_at"]) if r["resolved_at"] else None,
            r["runs"],
            r["message"],
        )
        for r in state.read().execute(_STREAKS, params).fetchall()
    ]


def streak_start(state: SQLiteState, checkpoint: str, outcome: str, since: dt.datetime) -> tuple[dt.datetime, bool]:
    """When the current run of ``outcome`` began, and whether that is only a lower bound."""
    read = state.read()
    last_other = read.execute(
        "SELECT MAX(now) FROM checkpoint_results WHERE checkpoint = ? AND now >= ? AND outcome != ?",
        (checkpoint, since.isoformat(), outcome),
    ).fetchone()[0]
    bound = "now > ?" if last_other else "now >= ?"
    first = read.execute(
        f"SELECT MIN(now) FROM checkpoint_results WHERE checkpoint = ? AND {bound}",
        (checkpoint, last_other or since.isoformat()),
    ).fetchone()[0]
    if first is None:  # the latest run is older than the window
        first = read.execute("SELECT MAX(now) FROM checkpoint_results WHERE checkpoint = ?", (checkpoint,)).fetchone()[
            0
        ]
    older = last_other is None and has_older(state, checkpoint, dt.datetime.fromisoformat(first))
    return dt.datetime.fromisoformat(first), older


def has_older(state: SQLiteState, checkpoint: str, before: dt.datetime) -> bool:
    sql = "SELECT 1 FROM checkpoint_results WHERE checkpoint = ? AND now < ? LIMIT 1"
    return state.read().execute(sql, (checkpoint, before.isoformat())).fetchone() is not None


def recent_runs(state: SQLiteState, limit: int) -> list[dict[str, Any]]:
    rows = state.read().execute("SELECT * FROM runs ORDER BY now DESC LIMIT ?", (limit,)).fetchall()
    return [{**dict(r), "now": dt.datetime.fromisoformat(r["now"])} for r in rows]
