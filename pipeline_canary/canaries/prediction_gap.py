"""prediction_gap: a day with games on the schedule and zero active predictions.

On 7–8 Feb 2026 ten games were scheduled and the pipeline produced no active predictions; nobody
was told. Schedule game ids are NBA numeric ids while predictions use ``YYYYMMDD_AWAY_HOME``, so
games are matched on date and team tricodes, never on raw game_id. The schedule keeps duplicate
rows for one game (append-then-merge writes; the reference view passes them through): a game is one
(game_id, game_date), and the extra rows are reported as ``duplicate_schedule_rows``, never counted.

Deadlines: the pipeline writes a day's predictions in runs during that day (8 AM, 1 PM, 4 PM ET), so
predictions are due by ``due_by`` (local time in the pipeline's timezone) and each game by
``lead_hours`` before its tip (from the game calendar: ``[pipeline] tip_column``, see ``_tips``), whichever
comes first for the day. Without tip times only ``due_by`` applies, and the result says so. Before the
day's deadline the checkpoint is *pending* (a skip with the due time); after it, games whose own
deadline has not passed are listed as pending in the evidence and not judged yet. Only predictions
written by the run's ``now`` (``created_at <= @now``) are seen, so a replay or a simulated clock
sees what a live run would have seen then.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import field_validator

from pipeline_canary.canaries._deadlines import as_utc, describe, describe_lead, local_deadline, parse_local_time
from pipeline_canary.canaries._tips import setup_note
from pipeline_canary.canaries.base import (
    Canary,
    CheckContext,
    CheckSpec,
    Headline,
    Observation,
    Query,
    Settings,
    register,
)
from pipeline_canary.config_types import Bounded
from pipeline_canary.errors import WarehouseError
from pipeline_canary.findings import Finding
from pipeline_canary.game_calendar import Game, GameType
from pipeline_canary.results import Threshold

if TYPE_CHECKING:
    from pipeline_canary.config import PipelineConfig
    from pipeline_canary.warehouse.base import Warehouse

log = logging.getLogger(__name__)

# The day's games come from the run's game calendar (pipeline_canary.game_calendar): a game is one
# (game_id, game_date) with status 1-3, its row picked like the pipeline's v_nbac_schedule_latest
# (the highest game_status wins), with the number of rows the schedule holds for it (more than one
# is a duplicate) and its tip ([pipeline] tip_column / tip_table; None without one, and the calendar says why).
#
# Predictions as of @now (facts 1c): only rows written by then count, and is_active means "the newest
# row of its (game_id, player_lookup, system_id)". A row written by @now and replaced after @now was
# active at @now, though it is inactive today; so a (game, player, model) counts as one active
# prediction when it had a row written by @now and has an active row today. Rows of keys with no
# active row (invalidated, sanity-check failures, the Feb 2026 outage) never count.
_KEYS_CTE = """
keys AS (
  SELECT game_id, player_lookup, system_id,
         LOGICAL_OR(is_active) AS active_today,
         MIN(created_at) AS first_written,
         COUNTIF(created_at <= @now) AS rows_written,
         COUNTIF(created_at > @now) AS rows_written_later
  FROM {predictions}
  WHERE game_date = @as_of
  GROUP BY game_id, player_lookup, system_id
)"""

# Active predictions per game (the predictions' game_id is YYYYMMDD_AWAY_HOME: the calendar's game key).
GAMES_SQL = (
    "\nWITH"
    + _KEYS_CTE
    + """
SELECT game_id, COUNT(*) AS active_predictions, COUNT(DISTINCT system_id) AS models
FROM keys
WHERE active_today AND first_written <= @now
GROUP BY game_id
"""
)


TOTALS_SQL = (
    "\nWITH"
    + _KEYS_CTE
    + """
SELECT
  COUNTIF(active_today AND first_written <= @now) AS active_predictions,
  SUM(rows_written) - COUNTIF(active_today AND first_written <= @now) AS inactive_predictions,
  COUNT(DISTINCT IF(active_today AND first_written <= @now, player_lookup, NULL)) AS players,
  COUNT(DISTINCT IF(active_today AND first_written <= @now, system_id, NULL)) AS models,
  SUM(rows_written_later) AS rows_written_after_now
FROM keys
"""
)


# The same two statements at each clock of a series (@clocks, one game day; observe_series, for replays):
# the keys CTE once per clock (series_now in place of @now), and one totals row per clock, also
# for a day without predictions (the LEFT JOIN: the values TOTALS_SQL gives over no keys).
_SERIES_KEYS_CTE = """
keys AS (
  SELECT series_now, game_id, player_lookup, system_id,
         LOGICAL_OR(is_active) AS active_today,
         MIN(created_at) AS first_written,
         COUNTIF(created_at <= series_now) AS rows_written,
         COUNTIF(created_at > series_now) AS rows_written_later
  FROM {predictions} CROSS JOIN UNNEST(@clocks) AS series_now
  WHERE game_date = @as_of
  GROUP BY series_now, game_id, player_lookup, system_id
)"""

SERIES_GAMES_SQL = (
    "\nWITH"
    + _SERIES_KEYS_CTE
    + """
SELECT series_now, game_id, COUNT(*) AS active_predictions, COUNT(DISTINCT system_id) AS models
FROM keys
WHERE active_today AND first_written <= series_now
GROUP BY series_now, game_id
"""
)

SERIES_TOTALS_SQL = (
    "\nWITH"
    + _SERIES_KEYS_CTE
    + """
SELECT
  clocks.clock AS series_now,
  COUNTIF(active_today AND first_written <= clocks.clock) AS active_predictions,
  SUM(rows_written) - COUNTIF(active_today AND first_written <= clocks.clock) AS inactive_predictions,
  COUNT(DISTINCT IF(active_today AND first_written <= clocks.clock, player_lookup, NULL)) AS players,
  COUNT(DISTINCT IF(active_today AND first_written <= clocks.clock, system_id, NULL)) AS models,
  SUM(rows_written_later) AS rows_written_after_now
FROM (SELECT clock FROM UNNEST(@clocks) AS clock) AS clocks
LEFT JOIN keys ON keys.series_now = clocks.clock
GROUP BY clocks.clock
"""
)


NOT_PLAYOFFS: tuple[GameType, ...] = ("preseason", "regular", "all_star", "other")  # include_playoffs = false


class PredictionGapSettings(Settings):
    include_playoffs: bool = False
    # Predictions are due by this local time (pipeline timezone) on the game day: the FIRST run is at
    # 8 AM ET and the FINAL_RETRY at 1 PM, so 10:00 leaves the first run two hours.
    due_by: str = "10:00"
    # ... and each game by this long before its tip, if that is earlier.
    lead_hours: Annotated[float, Bounded(0, 24, unit="h")] = 2.0
    # (The tip times come from the game calendar: [pipeline] tip_column / tip_table.)

    @field_validator("due_by")
    @classmethod
    def _local_time(cls, value: str) -> str:
        parse_local_time(value)
        return value

    @property
    def due_time(self) -> dt.time:
        return parse_local_time(self.due_by)

    @property
    def lead(self) -> dt.timedelta:
        return dt.timedelta(hours=self.lead_hours)


@register
class PredictionGap(Canary):
    name = "prediction_gap"
    order = 10
    reads = {
        "schedule_table": (
            "game_date",
            "game_id",
            "game_status",
            "away_team_tricode",
            "home_team_tricode",
        ),  # and the game calendar's tip time ([pipeline] tip_column / tip_table): checked by setup_notes
        "predictions_table": ("game_date", "game_id", "is_active", "system_id", "player_lookup", "created_at"),
    }
    headline = Headline(("active_predictions",), "Active predictions per game day", "predictions")
    uses_calendar = True  # the day's games and their tips
    title = "Prediction gap"
    description = (
        "Games are scheduled for the day but the prediction workers wrote no active predictions: "
        "the exports and best bets for the day will be empty."
    )
    severity = "critical"
    tier = "critical"  # the pipeline runs phase5_prediction_gap in its critical tier
    runbook = (
        "Check the prediction coordinator's batch for the date (Firestore prediction_batches), the "
        "worker logs for write errors (schema mismatch, quota) and the quality gate's blocked-player "
        "count; re-run the coordinator /start for the date once the cause is fixed."
    )
    settings_model = PredictionGapSettings

    def checks(self, settings: Any) -> list[CheckSpec]:
        return [
            CheckSpec(
                name="no_prediction_gap",
                metric="gap_detected",
                threshold=Threshold(max=0, level="fail"),
                description="1 when games are scheduled and there are zero active predictions",
                evidence=("games_without_predictions",),
            ),
            CheckSpec(
                name="every_game_covered",
                metric="games_without_predictions",
                threshold=Threshold(max=0, level="warn"),
                description="games with no active predictions while other games have some",
                evidence=("games_without_predictions",),
            ),
        ]

    def evidence_line(self, table: str, row: Mapping[str, Any]) -> str:
        game = f"{row['game_key']} ({row['schedule_game_id']})"
        if table == "duplicate_schedule_rows":
            return f"{game}: listed {row['schedule_rows']} times in the schedule ({row['duplicate_rows']} not counted)"
        if table == "games_pending":
            return f"{game}: predictions not due yet (due by {_hhmm(row.get('due_at'))})"
        count = int(row["active_predictions"])
        return f"{game}: {count} active prediction{'' if count == 1 else 's'}"

    def queries(self, ctx: CheckContext, settings: Any) -> list[Query]:
        return [
            Query(GAMES_SQL, {"as_of": ctx.as_of, "now": ctx.now}),
            Query(TOTALS_SQL, {"as_of": ctx.as_of, "now": ctx.now}),
        ]

    def setup_notes(self, warehouse: Warehouse, pipeline: PipelineConfig, settings: Any) -> list[Finding]:
        level, detail, fix = setup_note(warehouse, pipeline, settings)
        return [Finding("prediction_gap tip times", level != "fail", detail, fix, warning=level == "warn")]

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        games_q, totals_q = self.queries(ctx, settings)
        day = self._day(ctx, settings)
        if isinstance(day, Observation):
            return day
        active = {str(r["game_id"]): r for r in ctx.query(games_q.template, **games_q.params).records()}
        return self._observation(
            ctx, settings, day, ctx.now, active, lambda: ctx.query(totals_q.template, **totals_q.params).one()
        )

    def observe_series(
        self, ctx: CheckContext, settings: Any, clocks: Sequence[dt.datetime]
    ) -> dict[dt.datetime, Observation] | None:
        """:meth:`collect` at each of ``clocks``: SERIES_GAMES_SQL and SERIES_TOTALS_SQL (once, over the
        clocks past the day's first deadline), each clock's rows built into its observation as
        :meth:`collect` builds them. Runs on DuckDB (a list parameter) and on BigQuery (an ARRAY<TIMESTAMP>
        parameter; tests/bigquery/test_series.py runs it on the local server)."""
        skipped = self.calendar_skip(ctx)
        day = skipped or self._day(ctx, settings)
        if isinstance(day, Observation):
            return {clock: replace(day) for clock in clocks}
        clocks = list(dict.fromkeys(clocks))
        if not clocks:
            return {}
        active: dict[dt.datetime, dict[str, dict[str, Any]]] = {clock: {} for clock in clocks}
        for row in ctx.query(SERIES_GAMES_SQL, as_of=ctx.as_of, clocks=clocks).records():
            active[_clock(row, active)][str(row["game_id"])] = row
        judged = [clock for clock in clocks if clock >= day.first_due]  # before it: pending, no totals (collect)
        totals: dict[dt.datetime, dict[str, Any]] = {}
        if judged:
            for row in ctx.query(SERIES_TOTALS_SQL, as_of=ctx.as_of, clocks=judged).records():
                totals[_clock(row, judged)] = row
            if len(totals) != len(judged):
                raise WarehouseError(f"expected one totals row per clock, got {len(totals)} for {len(judged)} clocks")
        return {
            clock: self._observation(
                ctx, settings, day, clock, active[clock], functools.partial(totals.__getitem__, clock)
            )
            for clock in clocks
        }

    def _day(self, ctx: CheckContext, settings: Any) -> _Day | Observation:
        """The as-of date's scheduled games and deadlines (they do not depend on ``now``), or the skip: none."""
        types: tuple[GameType, ...] | None = None if settings.include_playoffs else NOT_PLAYOFFS
        calendar = ctx.calendar()
        scheduled = calendar.games_on(ctx.as_of, types)
        if not scheduled:
            return Observation(
                metrics={}, skip_reason=f"no games scheduled on {ctx.as_of.isoformat()}: nothing to predict"
            )
        day_due = local_deadline(ctx.as_of, settings.due_time, ctx.pipeline.timezone)
        return _Day(sorted(scheduled, key=lambda g: (g.key, g.game_id)), calendar.tips_missing, day_due, settings.lead)

    def _observation(
        self,
        ctx: CheckContext,
        settings: Any,
        day: _Day,
        now: dt.datetime,
        active: Mapping[str, Mapping[str, Any]],
        fetch_totals: Callable[[], Mapping[str, Any]],
    ) -> Observation:
        """The observation at ``now`` from its rows: ``active`` (GAMES_SQL's, by game) and the totals
        (TOTALS_SQL's row, fetched only once the day's first deadline has passed)."""
        missing = day.missing
        note = f"per-game lead not applied: {missing}" if missing else ""
        timezone = ctx.pipeline.timezone
        day_due = day.day_due
        games = [with_deadline(_game(g, active.get(g.key)), day_due, settings.lead) for g in day.scheduled]
        first = min(games, key=lambda g: (g["due_at"], g["game_key"]))
        first_due = min(day_due, first["due_at"])
        if now < first_due:
            reason = f"predictions due by {describe(first_due, timezone, ctx.as_of)}"
            if first_due < day_due:
                reason += f", {describe_lead(settings.lead)} before the first tip ({first['game_key']})"
            reason += f"; checked again then{'; ' + note if missing else ''}"
            return Observation(
                metrics={},
                evidence={"games_pending": [_evidence(g) for g in games], **_deadline_evidence(missing)},
                skip_reason=reason,
                due_at=first_due,
            )
        totals = fetch_totals()
        total_active = int(totals["active_predictions"] or 0)
        due = [g for g in games if g["due_at"] <= now]
        pending = [g for g in games if g["due_at"] > now]
        uncovered = [g for g in due if int(g["active_predictions"]) == 0]
        duplicated = duplicate_schedule_rows(games)
        extra_rows = sum(d["duplicate_rows"] for d in duplicated)
        gap = 1 if total_active == 0 else 0
        metrics: dict[str, float | None] = {
            "games": len(games),
            "games_due": len(due),
            "games_pending": len(pending),
            "schedule_rows": len(games) + extra_rows,
            "duplicate_schedule_rows": extra_rows,
            "active_predictions": total_active,
            "inactive_predictions": int(totals["inactive_predictions"] or 0),
            "rows_written_after_now": int(totals["rows_written_after_now"] or 0),
            "players": int(totals["players"] or 0),
            "models": int(totals["models"] or 0),
            "gap_detected": gap,
            "games_without_predictions": 0 if gap else len(uncovered),
        }
        if gap:
            summary = f"{len(games)} games scheduled on {ctx.as_of} and 0 active predictions"
        elif uncovered:
            summary = f"{len(uncovered)} of {len(due)} games due have no active predictions"
        else:
            summary = f"{total_active} active predictions across all {len(due)} games due"
        if pending and not gap:
            next_due = min(g["due_at"] for g in pending)
            summary += f"; {len(pending)} not due yet (next by {describe(next_due, timezone, ctx.as_of)})"
        if duplicated:
            ids = ", ".join(str(d["schedule_game_id"]) for d in duplicated)
            summary += f" ({extra_rows} duplicate schedule row{'s' if extra_rows != 1 else ''} not counted: {ids})"
            log.info("prediction_gap %s: %d duplicate schedule rows (%s)", ctx.as_of, extra_rows, ids)
        if missing:
            summary += f"; {note}"
        return Observation(
            metrics=metrics,
            evidence={
                "games": [_evidence(g) for g in games],
                "games_without_predictions": [_evidence(g) for g in uncovered],
                "games_pending": [_evidence(g) for g in pending],
                "duplicate_schedule_rows": duplicated,
                **_deadline_evidence(missing),
            },
            summary=summary,
        )


@dataclass(frozen=True)
class _Day:
    """What a game day's observations share whatever the clock: its games (sorted) and deadlines."""

    scheduled: list[Game]
    missing: str | None  # why the per-game lead cannot be applied (no tip times), or None
    day_due: dt.datetime
    lead: dt.timedelta

    @property
    def first_due(self) -> dt.datetime:
        """The day's first deadline: before it every observation is pending."""
        return min(
            [
                self.day_due,
                *(with_deadline({"tip_at": g.tip_at}, self.day_due, self.lead)["due_at"] for g in self.scheduled),
            ]
        )


def _clock(row: Mapping[str, Any], clocks: Collection[dt.datetime]) -> dt.datetime:
    """The clock of a series row (``series_now``), one of those asked for."""
    clock = as_utc(row["series_now"])
    if clock is None or clock not in clocks:
        raise WarehouseError(f"a series row is for clock {row['series_now']!r}, not one of the {len(clocks)} asked for")
    return clock


def _game(game: Game, active: Mapping[str, Any] | None) -> dict[str, Any]:
    """A scheduled game with its active predictions, as the evidence shows it."""
    return {
        "game_key": game.key,
        "schedule_game_id": game.game_id,
        "away_team_tricode": game.away,
        "home_team_tricode": game.home,
        "game_status": game.status,
        "tip_at": game.tip_at,
        "schedule_rows": game.schedule_rows,
        "lowest_status": game.lowest_status,
        "active_predictions": int(active["active_predictions"]) if active else 0,
        "models": int(active["models"]) if active else 0,
    }


def with_deadline(game: dict[str, Any], day_due: dt.datetime, lead: dt.timedelta) -> dict[str, Any]:
    """``game`` with ``tip_at`` in UTC and ``due_at``: ``lead`` before its tip.

    A game whose tip time is unknown is due when the day is (``day_due``): unknown is never "not due yet".
    """
    tip = as_utc(game.get("tip_at"))
    return {**game, "tip_at": tip, "due_at": day_due if tip is None else tip - lead}


def _hhmm(value: Any) -> str:
    """An ISO time of the evidence as ``2026-02-08 22:30 UTC``."""
    try:
        moment = as_utc(value)
    except (TypeError, ValueError):
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


def _deadline_evidence(missing: str | None) -> dict[str, list[dict[str, Any]]]:
    """Evidence that the per-game lead was not applied, and why (``missing``; nothing when it was)."""
    return {"deadline": [{"per_game_lead": "not applied", "reason": missing}]} if missing else {}


def _evidence(game: dict[str, Any]) -> dict[str, Any]:
    """An evidence row: times as ISO text (reports, Slack and --json show them as they are)."""
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in game.items()}


def duplicate_schedule_rows(games: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The games the schedule lists more than once: which game, how many rows, which statuses."""
    return [
        {
            "schedule_game_id": g["schedule_game_id"],
            "game_key": g["game_key"],
            "schedule_rows": int(g["schedule_rows"]),
            "duplicate_rows": int(g["schedule_rows"]) - 1,
            "game_status": g["game_status"],
            "lowest_status": g["lowest_status"],
        }
        for g in games
        if int(g["schedule_rows"]) > 1
    ]
