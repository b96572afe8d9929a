"""Pack tables of the demo warehouse: see pipeline_canary.demo.pack (this module: models and grading).

* ``nba_predictions.model_registry`` (facts-checks §1.3): the 8 models that predict
  (``predictions.SYSTEM_IDS``: catboost, lgbm and xgb families), enabled with status 'active', plus
  three retired rows (deprecated, blocked by decay detection and disabled, archived with a NULL
  ``enabled``) that predict nothing.
* ``nba_predictions.prediction_accuracy`` (§1.5): the active predictions with a line of the 30 days
  before ``as_of``, graded the morning after their games (``graded_at`` 09:30 local plus 2 minutes
  per model); each model hits at its own rate (60-64 %), PASS rows are not judged (NULL).
* ``nba_predictions.model_performance_daily`` (§1.12): per model per graded date, rolling hit rates
  in percent over 7/14/30 days, and ``state`` by the pipeline's rule (HEALTHY from 58.0).

Scenarios, one phase each:

* ``grading-stale``: the last two final game days before ``as_of`` are not graded (and so have no
  performance rows): grading_freshness fails.
* ``edge-collapse``: one catboost model's ``as_of`` predictions hug the line (mean |predicted - line|
  about 0.8, below 1.2): edge_collapse_alert fails.
* ``model-blocked``: one lgbm model was blocked by decay detection two weeks ago and re-enabled by
  hand without restoring its status; it has recovered (HEALTHY). Both registry_blocked_enabled and
  model_recovery_gap fail, deliberately: the second exists for exactly this case.
* ``new-model-silent``: a model registered 10 h before ``now``, enabled and active, has no
  predictions on ``as_of``: new_model_no_predictions fails (phase5_shadow_coverage leaves models
  younger than 48 h to it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from pipeline_canary.demo.pack.models_schemas import accuracy_schema, performance_schema, registry_schema
from pipeline_canary.demo.predictions import SYSTEM_IDS
from pipeline_canary.demo.schemas import create_table_sql

if TYPE_CHECKING:
    from pipeline_canary.demo.pack import Created, PackContext

GRADING_STALE = "models.grading_stale"
EDGE_COLLAPSE = "models.edge_collapse"
MODEL_BLOCKED = "models.model_blocked"
NEW_MODEL_SILENT = "models.new_model_silent"
SCENARIOS: dict[str, frozenset[str]] = {
    "grading-stale": frozenset({GRADING_STALE}),
    "edge-collapse": frozenset({EDGE_COLLAPSE}),
    "model-blocked": frozenset({MODEL_BLOCKED}),
    "new-model-silent": frozenset({NEW_MODEL_SILENT}),
}

GRADED_DAYS = 30
COLLAPSED_MODEL = "catboost_v9_low_vegas_train0106_0205"
BLOCKED_MODEL = "lgbm_v12_noveg_train0103_0227"
NEW_MODEL = "catboost_v12_noveg_q45_train1215_0206"
NEW_MODEL_AGE = dt.timedelta(hours=10)
# Per model: the share of judged (OVER/UNDER) predictions that hit.
HIT_RATES: dict[str, float] = dict(zip(SYSTEM_IDS, (0.62, 0.60, 0.61, 0.63, 0.60, 0.62, 0.64, 0.61), strict=True))
# Retired registry rows: (model_id, status, enabled, age in days).
RETIRED: tuple[tuple[str, str, bool | None, int], ...] = (
    ("catboost_v8_33features_20251101_031522", "deprecated", False, 120),
    ("catboost_v9_q45_train1102_0115", "blocked", False, 35),
    ("xgb_v11_noveg_train1001_1201", "archived", None, 75),
)
_FRAMEWORKS = (("lgbm", "lightgbm"), ("xgb", "xgboost"), ("catboost", "catboost"))


def build(ctx: PackContext) -> Created:
    for name, fields in (
        ("model_registry", registry_schema()),
        ("prediction_accuracy", accuracy_schema()),
        ("model_performance_daily", performance_schema()),
    ):
        ctx.conn.execute(create_table_sql("nba_predictions", name, fields))
    _insert_registry(ctx)
    if EDGE_COLLAPSE in ctx.faults:
        _collapse_edges(ctx)
    _grade(ctx)
    if GRADING_STALE in ctx.faults:
        for day in last_final_days(ctx.conn, ctx.as_of):
            ctx.conn.execute("DELETE FROM nba_predictions.prediction_accuracy WHERE game_date = ?", [day])
    _performance(ctx)
    return [
        ("nba_predictions", "model_registry", ctx.now - dt.timedelta(days=160)),
        ("nba_predictions", "prediction_accuracy", ctx.now - dt.timedelta(days=150)),
        ("nba_predictions", "model_performance_daily", ctx.now - dt.timedelta(days=150)),
    ]


def last_final_days(conn: Any, as_of: dt.date, count: int = 2) -> list[dt.date]:
    """The ``count`` latest dates in the 5 days before ``as_of`` with a final (status 3) game."""
    rows = conn.execute(
        "SELECT DISTINCT game_date FROM nba_reference.nba_schedule WHERE game_status = 3 "
        "AND game_date >= ? - INTERVAL 5 DAY AND game_date < ? ORDER BY game_date DESC LIMIT ?",
        [as_of, as_of, count],
    ).fetchall()
    return [r[0] for r in rows]


def _framework(model_id: str) -> tuple[str, str]:
    """(family prefix, model_type) by the id, as the pipeline names its models."""
    return next((short, long) for short, long in _FRAMEWORKS if model_id.startswith(short))


def _registry_row(model_id: str, status: str, enabled: bool | None, created: dt.datetime, first: bool) -> list[Any]:
    short, model_type = _framework(model_id)
    found = re.search(r"_(v\d+)", model_id)
    version = found.group(1) if found else "v0"
    variant = next((v for v in ("noveg", "low_vegas", "q43", "q45", "33features") if v in model_id), "base")
    alpha = 0.43 if "q43" in model_id else 0.45 if "q45" in model_id else None
    end = created.date() - dt.timedelta(days=2)
    seed = sum(map(ord, model_id))
    return [
        model_id,
        version,
        model_type,
        f"gs://nba-props-platform-models/{model_type}/{model_id}.model",
        33 if "33features" in model_id else 54,
        end - dt.timedelta(days=90),
        end,
        38_000 + seed % 9_000,
        round(4.6 + seed % 60 / 100, 3),
        round(0.55 + seed % 70 / 1000, 4),
        round(0.58 + seed % 80 / 1000, 4),
        300 + seed % 400,
        None,
        status,
        first,
        created.date() if first else None,
        None,
        None if status == "active" else f"{status} by ops",
        created,
        "quick_retrain",
        f"{short}_{version}_{variant}",
        "v2_54features" if "33features" not in model_id else "v1_33features",
        "Quantile" if alpha else "MAE",
        alpha,
        enabled,
    ]


def _insert_registry(ctx: PackContext) -> None:
    rows = [
        _registry_row(s, "active", True, ctx.now - dt.timedelta(days=20 + 9 * i), i == 0)
        for i, s in enumerate(SYSTEM_IDS)
    ]
    rows += [_registry_row(m, st, en, ctx.now - dt.timedelta(days=age), False) for m, st, en, age in RETIRED]
    if NEW_MODEL_SILENT in ctx.faults:
        rows.append(_registry_row(NEW_MODEL, "active", True, ctx.now - NEW_MODEL_AGE, False))
    names = [f.name for f in registry_schema()]
    marks = ", ".join("?" for _ in names)
    ctx.conn.executemany(f"INSERT INTO nba_predictions.model_registry ({', '.join(names)}) VALUES ({marks})", rows)
    if MODEL_BLOCKED in ctx.faults:
        # Decay detection set enabled = FALSE, status = 'blocked'; a manual re-enable set enabled back.
        ctx.conn.execute(
            "UPDATE nba_predictions.model_registry SET status = 'blocked', notes = "
            "'blocked by decay_detection; re-enabled by hand' WHERE model_id = ?",
            [BLOCKED_MODEL],
        )


def _collapse_edges(ctx: PackContext) -> None:
    """One model's as_of predictions sit 0.6-1.0 points from the line, on the side they had."""
    ctx.conn.execute(
        """
        UPDATE nba_predictions.player_prop_predictions
        SET predicted_points = CAST(current_points_line
              + CASE WHEN predicted_points >= current_points_line THEN 1 ELSE -1 END
              * (0.6 + hash(prediction_id, 'flat') % 5 / 10.0) AS DECIMAL(5,1))
        WHERE game_date = ? AND system_id = ? AND current_points_line IS NOT NULL
        """,
        [ctx.as_of, COLLAPSED_MODEL],
    )
    ctx.conn.execute(
        "UPDATE nba_predictions.player_prop_predictions SET line_margin = predicted_points - current_points_line "
        "WHERE game_date = ? AND system_id = ? AND current_points_line IS NOT NULL",
        [ctx.as_of, COLLAPSED_MODEL],
    )


def _grade(ctx: PackContext) -> None:
    """Grade the active predictions with a line of the GRADED_DAYS before as_of, the morning after."""
    rates = ", ".join(f"('{s}', {i}, {HIT_RATES[s]})" for i, s in enumerate(SYSTEM_IDS))
    start = ctx.as_of - dt.timedelta(days=GRADED_DAYS)
    blocked_until = ctx.as_of - dt.timedelta(days=14)
    # model-blocked: the model decayed (45 %) until decay detection blocked it, then recovered (66 %).
    hit = (
        f"CASE WHEN system_id = '{BLOCKED_MODEL}' THEN CASE WHEN game_date < DATE '{blocked_until}' THEN 0.45 "
        "ELSE 0.66 END ELSE rate END"
        if MODEL_BLOCKED in ctx.faults
        else "rate"
    )
    ctx.conn.execute(
        f"""
        INSERT INTO nba_predictions.prediction_accuracy BY NAME
        WITH src AS (
            SELECT p.*, r.sys_idx, {hit} AS hit_rate, hash(p.prediction_id, 'grade') AS gh,
                   CAST(p.current_points_line AS DOUBLE) AS line
            FROM nba_predictions.player_prop_predictions p
            JOIN (VALUES {rates}) r(system_id, sys_idx, rate) USING (system_id)
            WHERE p.game_date >= DATE '{start}' AND p.game_date < DATE '{ctx.as_of}'
              AND p.is_active AND p.current_points_line IS NOT NULL
        ), judged AS (
            SELECT *, recommendation IN ('OVER', 'UNDER') AS is_judged,
                   gh % 1000 < hit_rate * 1000 AS hit
            FROM src
        ), outcome AS (
            SELECT *, CASE WHEN is_judged THEN (recommendation = 'OVER') = hit ELSE (gh >> 20) % 2 = 0 END
                        AS went_over
            FROM judged
        ), scored AS (
            SELECT *, CAST(CASE WHEN went_over THEN line + 0.5 + (gh >> 10) % 7
                                ELSE greatest(0, line - 0.5 - (gh >> 10) % 7) END AS BIGINT) AS actual
            FROM outcome
        )
        SELECT player_lookup, game_id, game_date, system_id, predicted_points,
               CAST(confidence_score / 100 AS DECIMAL(4,3)) AS confidence_score,
               CAST(least(10, 1 + floor(confidence_score / 10)) AS BIGINT) AS confidence_decile,
               recommendation, current_points_line AS line_value, actual AS actual_points,
               CAST(abs(actual - predicted_points) AS DECIMAL(5,1)) AS absolute_error,
               CAST(actual - predicted_points AS DECIMAL(5,1)) AS signed_error,
               CASE WHEN is_judged THEN hit END AS prediction_correct,
               abs(actual - predicted_points) <= 3 AS within_3_points,
               abs(actual - predicted_points) <= 5 AS within_5_points,
               TRUE AS has_prop_line, line_source, is_actionable, filter_reason,
               FALSE AS is_voided, CAST(NULL AS VARCHAR) AS void_reason, model_version,
               (CAST(game_date AS TIMESTAMP) + INTERVAL 1 DAY + to_minutes(CAST(570 + sys_idx * 2 AS BIGINT)))
                 AT TIME ZONE '{ctx.timezone}' AS graded_at
        FROM scored
        ORDER BY game_date, system_id, player_lookup
        """
    )


def _performance(ctx: PackContext) -> None:
    """One row per model per graded date, 45 minutes after its grading."""
    ctx.conn.execute(
        """
        INSERT INTO nba_predictions.model_performance_daily BY NAME
        WITH daily AS (
            SELECT system_id AS model_id, game_date, count(prediction_correct) AS picks,
                   count_if(prediction_correct) AS wins, count_if(NOT prediction_correct) AS losses,
                   max(graded_at) AS graded_at
            FROM nba_predictions.prediction_accuracy GROUP BY ALL
        ), rolled AS (
            SELECT d.model_id, d.game_date, any_value(d.picks) AS picks, any_value(d.wins) AS wins,
                   any_value(d.losses) AS losses, any_value(d.graded_at) AS graded_at,
                   sum(w.wins) FILTER (WHERE w.game_date > d.game_date - 7) AS wins_7,
                   sum(w.picks) FILTER (WHERE w.game_date > d.game_date - 7) AS n_7,
                   sum(w.wins) FILTER (WHERE w.game_date > d.game_date - 14) AS wins_14,
                   sum(w.picks) FILTER (WHERE w.game_date > d.game_date - 14) AS n_14,
                   sum(w.wins) AS wins_30, sum(w.picks) AS n_30
            FROM daily d JOIN daily w
              ON w.model_id = d.model_id AND w.game_date <= d.game_date AND w.game_date > d.game_date - 30
            GROUP BY d.model_id, d.game_date
        ), rated AS (
            SELECT *, round(100.0 * wins_7 / nullif(n_7, 0), 1) AS hr_7 FROM rolled
        ), stated AS (
            SELECT *, CASE WHEN hr_7 IS NULL OR n_7 < 5 THEN 'INSUFFICIENT_DATA' WHEN hr_7 < 52.4 THEN 'BLOCKED'
                           WHEN hr_7 < 55.0 THEN 'DEGRADING' WHEN hr_7 < 58.0 THEN 'WATCH' ELSE 'HEALTHY' END AS state
            FROM rated
        ), acted AS (
            SELECT *, lag(state) OVER (PARTITION BY model_id ORDER BY game_date) AS before FROM stated
        )
        SELECT a.model_id, a.game_date, a.hr_7 AS rolling_hr_7d,
               round(100.0 * wins_14 / nullif(n_14, 0), 1) AS rolling_hr_14d,
               round(100.0 * wins_30 / nullif(n_30, 0), 1) AS rolling_hr_30d,
               n_7 AS rolling_n_7d, n_14 AS rolling_n_14d, n_30 AS rolling_n_30d,
               picks AS daily_picks, wins AS daily_wins, losses AS daily_losses,
               round(100.0 * wins / nullif(picks, 0), 1) AS daily_hr, state,
               CASE WHEN before IN ('BLOCKED', 'DEGRADING') AND state IN ('WATCH', 'HEALTHY') THEN 'RECOVERED'
                    WHEN state IN ('BLOCKED', 'DEGRADING') AND before NOT IN ('BLOCKED', 'DEGRADING') THEN 'DEGRADED'
                    ELSE 'NO_CHANGE' END AS action,
               'rolling_hr_7d ' || coalesce(CAST(hr_7 AS VARCHAR), 'NULL') || ' over ' || n_7 || ' picks'
                 AS action_reason,
               date_diff('day', r.training_end_date, a.game_date) AS days_since_training,
               graded_at + INTERVAL 45 MINUTE AS computed_at
        FROM acted a
        LEFT JOIN (SELECT model_id, max(training_end_date) AS training_end_date
                   FROM nba_predictions.model_registry GROUP BY ALL) r USING (model_id)
        ORDER BY a.game_date, a.model_id
        """
    )
