"""prediction_gap: a day with games on the schedule and zero active predictions.

On 7–8 Feb 2026 ten games were scheduled and the pipeline produced no active predictions; nobody
was told. Schedule game ids are NBA numeric ids while predictions use ``YYYYMMDD_AWAY_HOME``, so
games are matched on date and team tricodes, never on raw game_id. The schedule keeps duplicate
rows for one game (append-then-merge writes; the reference view passes them through): a game is one
(game_id, game_date), and the extra rows are reported as ``duplicate_schedule_rows``, never counted.
"""

from __future__ import annotations

import logging
from typing import Any

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
from pipeline_canary.results import Threshold

log = logging.getLogger(__name__)

# The schedule table is written append-then-merge and keeps duplicate rows for one game, and the
# reference view on top of it does not deduplicate (pipeline facts 1a, 1b). A game is one
# (game_id, game_date), its row picked like the pipeline's v_nbac_schedule_latest: the highest
# game_status wins. The reference view exposes no processed_at, so rows of equal status (the same
# game in the columns read here) are ordered by their tricodes only to be deterministic.
# schedule_rows counts the rows the schedule holds for the game; more than one is a duplicate.
GAMES_SQL = """
WITH ranked AS (
  SELECT
    game_id, game_date, away_team_tricode, home_team_tricode, game_status,
    COUNT(*) OVER (PARTITION BY game_id, game_date) AS schedule_rows,
    MIN(game_status) OVER (PARTITION BY game_id, game_date) AS lowest_status,
    ROW_NUMBER() OVER (
      PARTITION BY game_id, game_date
      ORDER BY game_status DESC, away_team_tricode, home_team_tricode
    ) AS pick
  FROM {schedule}
  WHERE game_date = @as_of
    AND game_status IN (1, 2, 3)
    AND (@include_playoffs OR game_id NOT LIKE '004%')
),
games AS (
  SELECT
    CONCAT(FORMAT_DATE('%Y%m%d', game_date), '_', away_team_tricode, '_', home_team_tricode) AS game_key,
    game_id, away_team_tricode, home_team_tricode, game_status, schedule_rows, lowest_status
  FROM ranked
  WHERE pick = 1
),
active AS (
  SELECT game_id, COUNT(*) AS active_predictions, COUNT(DISTINCT system_id) AS models
  FROM {predictions}
  WHERE game_date = @as_of AND is_active = TRUE
  GROUP BY game_id
)
SELECT g.game_key, g.game_id AS schedule_game_id, g.away_team_tricode, g.home_team_tricode,
       g.game_status, g.schedule_rows, g.lowest_status,
       COALESCE(a.active_predictions, 0) AS active_predictions, COALESCE(a.models, 0) AS models
FROM games AS g
LEFT JOIN active AS a ON a.game_id = g.game_key
ORDER BY g.game_key, g.game_id
"""

TOTALS_SQL = """
SELECT
  COUNTIF(is_active = TRUE) AS active_predictions,
  COUNTIF(is_active = FALSE) AS inactive_predictions,
  COUNT(DISTINCT IF(is_active = TRUE, player_lookup, NULL)) AS players,
  COUNT(DISTINCT IF(is_active = TRUE, system_id, NULL)) AS models
FROM {predictions}
WHERE game_date = @as_of
"""


class PredictionGapSettings(Settings):
    include_playoffs: bool = False


@register
class PredictionGap(Canary):
    name = "prediction_gap"
    order = 10
    reads = {
        "schedule_table": ("game_date", "game_id", "game_status", "away_team_tricode", "home_team_tricode"),
        "predictions_table": ("game_date", "game_id", "is_active", "system_id", "player_lookup"),
    }
    headline = Headline(("active_predictions",), "Active predictions per game day", "predictions")
    title = "Prediction gap"
    description = (
        "Games are scheduled for the day but the prediction workers wrote no active predictions: "
        "the exports and best bets for the day will be empty."
    )
    severity = "critical"
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
            ),
            CheckSpec(
                name="every_game_covered",
                metric="games_without_predictions",
                threshold=Threshold(max=0, level="warn"),
                description="games with no active predictions while other games have some",
            ),
        ]

    def queries(self, ctx: CheckContext, settings: Any) -> list[Query]:
        return [
            Query(GAMES_SQL, {"as_of": ctx.as_of, "include_playoffs": settings.include_playoffs}),
            Query(TOTALS_SQL, {"as_of": ctx.as_of}),
        ]

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        games_q, totals_q = self.queries(ctx, settings)
        games = ctx.query(games_q.template, **games_q.params).records()
        if not games:
            return Observation(
                metrics={}, skip_reason=f"no games scheduled on {ctx.as_of.isoformat()}: nothing to predict"
            )
        totals = ctx.query(totals_q.template, **totals_q.params).one()
        active = int(totals["active_predictions"] or 0)
        uncovered = [g for g in games if int(g["active_predictions"]) == 0]
        duplicated = duplicate_schedule_rows(games)
        extra_rows = sum(d["duplicate_rows"] for d in duplicated)
        gap = 1 if active == 0 else 0
        metrics: dict[str, float | None] = {
            "games": len(games),
            "schedule_rows": len(games) + extra_rows,
            "duplicate_schedule_rows": extra_rows,
            "active_predictions": active,
            "inactive_predictions": int(totals["inactive_predictions"] or 0),
            "players": int(totals["players"] or 0),
            "models": int(totals["models"] or 0),
            "gap_detected": gap,
            "games_without_predictions": 0 if gap else len(uncovered),
        }
        if gap:
            summary = f"{len(games)} games scheduled on {ctx.as_of} and 0 active predictions"
        elif uncovered:
            summary = f"{len(uncovered)} of {len(games)} games have no active predictions"
        else:
            summary = f"{active} active predictions across all {len(games)} games"
        if duplicated:
            ids = ", ".join(str(d["schedule_game_id"]) for d in duplicated)
            summary += f" ({extra_rows} duplicate schedule row{'s' if extra_rows != 1 else ''} not counted: {ids})"
            log.info("prediction_gap %s: %d duplicate schedule rows (%s)", ctx.as_of, extra_rows, ids)
        return Observation(
            metrics=metrics,
            evidence={
                "games": games,
                "games_without_predictions": uncovered,
                "duplicate_schedule_rows": duplicated,
            },
            summary=summary,
        )


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
