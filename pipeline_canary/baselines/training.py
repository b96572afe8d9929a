"""A baseline's training points, from the run history the state store keeps (no warehouse scans).

One point per past game day: the value the checkpoint recorded nearest the same time of that day
(``match_minutes``), because most metrics grow through a game day (predictions at 8 AM, 1 PM and
4 PM) and a 10 AM value must be compared with other days' 10 AM values. Never learned from: the
days being judged (``detection_days``), days on which an incident of the checkpoint was open, days
on which any check of the checkpoint failed or warned (the baseline itself, or a fixed warning line
a slow creep crossed without opening an incident), and days the caller knows were incidents (a
backtest's ``--known-incident``): a leaked anomaly would widen the band until it hides the next one.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pipeline_canary.baselines.learn import Band, Learning, learn
from pipeline_canary.baselines.spec import Baseline, check_name, derived_metrics
from pipeline_canary.state.sqlite import has_table

if TYPE_CHECKING:
    from pipeline_canary.state.sqlite import SQLiteState

_FLAGGED = ("failed", "warned")


@dataclass(frozen=True)
class Point:
    as_of: dt.date
    value: float


def _minutes_into_day(as_of: dt.date, moment: dt.datetime, zone: ZoneInfo) -> float:
    start = dt.datetime.combine(as_of, dt.time(0), zone)
    return (moment.astimezone(zone) - start).total_seconds() / 60


class Trainer:
    """Learns the bands of one run's baselines from ``state`` (read only)."""

    def __init__(self, state: SQLiteState, timezone: str, exclude_days: Collection[dt.date] = ()) -> None:
        self.state = state
        self.zone = ZoneInfo(timezone)
        self.exclude_days = frozenset(exclude_days)

    def bands(
        self, checkpoint: str, baselines: Iterable[tuple[str, Baseline]], as_of: dt.date, now: dt.datetime
    ) -> dict[str, Band | Learning]:
        """Per baseline check name: its band for the run at ``now`` about ``as_of``, or why none is learned."""
        wanted = list(baselines)
        if not wanted:
            return {}
        oldest = min(as_of - dt.timedelta(days=b.detection_days + b.training_days - 1) for _, b in wanted)
        rows = self._rows(checkpoint, oldest, as_of)
        incident_days = self._incident_days(checkpoint, oldest, as_of)
        target = _minutes_into_day(as_of, now, self.zone)
        out: dict[str, Band | Learning] = {}
        for metric, baseline in wanted:
            points = self.points(rows, metric, baseline, as_of, target, incident_days)
            out[check_name(metric, baseline)] = learn(baseline, [p.value for p in points])
        return out

    def points(
        self,
        rows: list[tuple[dt.date, dt.datetime, dict[str, float | None], list[dict[str, object]]]],
        metric: str,
        baseline: Baseline,
        as_of: dt.date,
        target: float,
        incident_days: frozenset[dt.date],
    ) -> list[Point]:
        judged = baseline.judged_metric(metric)
        last = as_of - dt.timedelta(days=baseline.detection_days)
        first = last - dt.timedelta(days=baseline.training_days - 1)
        best: dict[dt.date, tuple[float, float]] = {}  # day -> (distance, value)
        flagged: set[dt.date] = set()
        for day, moment, metrics, checks in rows:
            if not first <= day <= last:
                continue
            if any(c.get("outcome") in _FLAGGED for c in checks):  # the baseline or a fixed check
                flagged.add(day)
            value = derived_metrics(metrics, ((metric, baseline),)).get(judged)
            if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
                continue
            distance = abs(_minutes_into_day(day, moment, self.zone) - target)
            if distance <= baseline.match_minutes and (day not in best or distance <= best[day][0]):
                best[day] = (distance, float(value))
        skip = flagged | incident_days | self.exclude_days
        return [
            Point(day, value)
            for day, (_, value) in sorted(best.items())
            if day not in skip and (baseline.seasonality != "weekday" or day.weekday() == as_of.weekday())
        ]

    def _rows(
        self, checkpoint: str, oldest: dt.date, as_of: dt.date
    ) -> list[tuple[dt.date, dt.datetime, dict[str, float | None], list[dict[str, object]]]]:
        cursor = self.state.read().execute(
            "SELECT as_of, now, metrics, checks FROM checkpoint_results"
            " WHERE checkpoint = ? AND as_of >= ? AND as_of < ? AND outcome != 'errored'",
            (checkpoint, oldest.isoformat(), as_of.isoformat()),
        )
        return [
            (dt.date.fromisoformat(a), dt.datetime.fromisoformat(n), json.loads(m), json.loads(c))
            for a, n, m, c in cursor.fetchall()
        ]

    def _incident_days(self, checkpoint: str, oldest: dt.date, as_of: dt.date) -> frozenset[dt.date]:
        """The game days an incident of ``checkpoint`` covered: its game date, or the days it was open."""
        conn = self.state.read()
        if not has_table(conn, "alert_incidents"):
            return frozenset()
        days: set[dt.date] = set()
        rows = conn.execute(
            "SELECT game_date, first_failed_at, resolved_at FROM alert_incidents WHERE checkpoint = ?",
            (checkpoint,),
        ).fetchall()
        for game_date, first, resolved in rows:
            if game_date:
                days.add(dt.date.fromisoformat(game_date))
                continue
            start = dt.datetime.fromisoformat(first).astimezone(self.zone).date()
            end = dt.datetime.fromisoformat(resolved).astimezone(self.zone).date() if resolved else as_of
            day = max(start, oldest)
            while day <= min(end, as_of):
                days.add(day)
                day += dt.timedelta(days=1)
        return frozenset(days)
