"""``player_prop_predictions`` rows, generated in DuckDB SQL from the feature-store rows.

Per game day about 75 players get a prediction from each of the 8 models (the players are spread
over every game), plus about 25% superseded inactive rows (an earlier run for the same key).

Write times follow the coordinator's runs (pipeline facts 7), on the game day in New York: every key
is first written by the FIRST run at 8 AM ET; the ~25% rewritten keys get their active row from the
FINAL_RETRY (1 PM) or LAST_CALL (4 PM) run, which deactivates the 8 AM row. Each model's rows land
3 minutes after the previous model's. Nothing is written after the seed's ``now``: a run not yet
due leaves its key's earlier row active (and is_active, superseded_by say so).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipeline_canary.schema.model import Field

PER_DAY_PER_MODEL = 75
SUPERSEDED_PCT = 25
PIPELINE_TIMEZONE = "America/New_York"  # the coordinator's schedule (FIRST 8 AM ET, ...)
# Prediction run mode -> minutes after local midnight when it writes (pipeline facts 7).
RUN_MINUTES: dict[str, int] = {"FIRST": 8 * 60, "FINAL_RETRY": 13 * 60, "LAST_CALL": 16 * 60}
MODEL_STAGGER_MIN = 3
# predictions-drop: the share of each as_of game's usual players that still get predictions (the
# others are never written), at least one player per game.
DROP_KEEP = 0.4

SYSTEM_IDS: tuple[str, ...] = (
    "catboost_v9_33features_20260201_011018",
    "catboost_v9_q43_train1102_0131",
    "catboost_v9_low_vegas_train0106_0205",
    "catboost_v12_noveg_train0118_0315",
    "catboost_v16_noveg_train1201_0215",
    "lgbm_v12_noveg_train0103_0227",
    "lgbm_v12_noveg_train1215_0214",
    "xgb_v12_noveg_train1215_0214",
)
# model-stops: a long-standing model (registered 74 days before the demo's now, not the production
# one, feeding no subset) that writes nothing on the as_of day.
STOPPED_MODEL = SYSTEM_IDS[6]

_UUID = (
    "substr(m, 1, 8) || '-' || substr(m, 9, 4) || '-4' || substr(m, 14, 3) || '-a' || substr(m, 18, 3)"
    " || '-' || substr(m, 21, 12)"
)

# Column name -> SQL expression over the ``pred`` relation built below.
_COLUMNS: dict[str, str] = {
    "prediction_id": _UUID,
    "system_id": "system_id",
    "player_lookup": "player_lookup",
    "universal_player_id": "universal_player_id",
    "game_date": "game_date",
    "game_id": "game_id",
    "prediction_version": "1",
    "predicted_points": "CAST(predicted AS DECIMAL(5,1))",
    "confidence_score": "CAST(55 + (ph % 4000) / 100.0 AS DECIMAL(5,2))",
    "recommendation": (
        "CASE WHEN NOT has_line THEN 'NO_LINE' WHEN abs(edge) < 0.5 THEN 'PASS' "
        "WHEN edge > 0 THEN 'OVER' ELSE 'UNDER' END"
    ),
    "current_points_line": "CASE WHEN has_line THEN CAST(line AS DECIMAL(4,1)) END",
    "line_margin": "CASE WHEN has_line THEN CAST(edge AS DECIMAL(5,2)) END",
    "line_source": "CASE WHEN has_line THEN 'ACTUAL_PROP' ELSE 'ESTIMATED_AVG' END",
    "estimated_line_value": "CASE WHEN NOT has_line THEN CAST(line AS DECIMAL(4,1)) END",
    "estimation_method": "CASE WHEN NOT has_line THEN 'points_avg_last_10' END",
    "line_source_api": (
        "CASE WHEN NOT has_line THEN 'ESTIMATED' WHEN vls = 'bettingpros' THEN 'BETTINGPROS' ELSE 'ODDS_API' END"
    ),
    "sportsbook": ("CASE WHEN NOT has_line THEN NULL WHEN ph % 2 = 0 THEN 'DRAFTKINGS' ELSE 'FANDUEL' END"),
    "was_line_fallback": "vls = 'bettingpros'",
    "line_minutes_before_game": "CASE WHEN has_line THEN CAST(60 + ph % 400 AS BIGINT) END",
    "is_active": "is_active",
    "created_at": "created_at",
    "superseded_by": "superseded_by",
    "is_actionable": "filter_reason IS NULL",
    "filter_reason": "filter_reason",
    "has_prop_line": "has_line",
    "injury_status_at_prediction": "CASE WHEN ph % 17 = 0 THEN 'questionable' ELSE 'available' END",
    "injury_flag_at_prediction": "ph % 17 = 0",
    "injury_checked_at": "created_at - INTERVAL 20 MINUTE",
    "teammate_usage_boost": "round((ph % 300) / 100.0, 2)",
    "teammate_opportunity_score": "round((ph % 1000) / 10.0, 1)",
    "build_commit_sha": "'3f9c2ab'",
    "deployment_revision": "'prediction-worker-00123-abc'",
    "predicted_at": "created_at",
    "prediction_run_mode": "run_mode",
    "kalshi_available": "FALSE",
    "feature_quality_score": "CAST(fqs AS DOUBLE)",
    "low_quality_flag": "fqs < 70",
    "matchup_data_status": "mds",
    "is_quality_ready": "iqr",
    "quality_alert_level": "qal",
    "matchup_quality_pct": "mqp",
    "default_feature_count": "dfc",
    "default_feature_indices": "dfi",
    "vegas_line_source": "vls",
    "required_default_count": "CAST(NULL AS BIGINT)",
    "prediction_made_before_game": "TRUE",
    "scoring_tier": (
        "CASE WHEN slot <= 1 THEN 'star' WHEN slot <= 4 THEN 'starter' WHEN slot <= 8 THEN 'role' ELSE 'bench' END"
    ),
    "tier_adjustment": "0.0",
    "scenario_category": "CASE WHEN edge > 0 THEN 'over_standard' ELSE 'under_standard' END",
    "scenario_flags": "'{}'",
    "model_version": "regexp_extract(system_id, '_(v[0-9]+)', 1)",
    "feature_version": "'v2_54features'",
    "feature_count": "60",
    "expected_games_count": "10",
    "actual_games_count": "10",
    "completeness_percentage": "100.0",
    "missing_games_count": "0",
    "is_production_ready": "TRUE",
    "reprocess_attempt_count": "0",
    "circuit_breaker_active": "FALSE",
    "manual_override_required": "FALSE",
    "season_boundary_detected": "FALSE",
    "backfill_bootstrap_mode": "FALSE",
    "processing_decision_reason": "'processed_successfully'",
}


def insert_predictions(
    conn: Any,
    chunk: int,
    columns: list[Field],
    now: dt.datetime,
    as_of_gap: bool,
    missing_game: bool = False,
    *,
    as_of_drop: bool = False,
    stopped_model: str | None = None,
) -> None:
    """Append one chunk's predictions (ordered by date) into the table with ``columns``.

    ``as_of_gap``: the as_of day gets no active rows, only inactive ones (the Feb 2026 incident).
    ``missing_game``: so does the as_of day's first game (game_idx 0, the earliest tip) alone.
    ``as_of_drop``: each as_of game gets predictions for ``DROP_KEEP`` of its usual players (rounded
    down, at least one); the others get no rows at all. ``stopped_model``: that system_id writes no
    rows on the as_of day; the other models predict as usual.
    """
    names = {f.name for f in columns}
    select = ",\n".join(f"{expr} AS {name}" for name, expr in _COLUMNS.items() if name in names)
    systems = ", ".join(f"('{s}', {i})" for i, s in enumerate(SYSTEM_IDS))
    now_lit = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    gap = "TRUE" if as_of_gap else "(game_idx = 0)" if missing_game else "FALSE"
    per_game = f"ceil({PER_DAY_PER_MODEL} / f.n_games)"
    if as_of_drop:
        per_game = f"CASE WHEN f.day_idx = 0 THEN greatest(1, floor({per_game} * {DROP_KEEP})) ELSE {per_game} END"
    stopped = "FALSE" if stopped_model is None else f"(p.day_idx = 0 AND s.system_id = '{stopped_model}')"
    first, last = conn.execute(f"SELECT min(game_date), max(game_date) FROM _days WHERE chunk = {chunk}").fetchone()
    conn.execute(
        f"""
        INSERT INTO nba_predictions.player_prop_predictions BY NAME
        WITH picked AS (
            SELECT f.* EXCLUDE (created_at), fs.feature_quality_score AS fqs, fs.is_quality_ready AS iqr,
                   fs.quality_alert_level AS qal, fs.matchup_quality_pct AS mqp,
                   fs.default_feature_count AS dfc, fs.default_feature_indices AS dfi,
                   fs.required_default_count AS rdc, fs.vegas_line_source AS vls,
                   fs.matchup_data_status AS mds
            FROM _fr f
            JOIN nba_predictions.ml_feature_store_v2 fs
              ON fs.game_date = f.game_date AND fs.player_lookup = f.player_lookup
            WHERE f.chunk = {chunk}
              AND fs.game_date BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}'
              AND f.game_date BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}'
            QUALIFY row_number() OVER (PARTITION BY f.game_id ORDER BY hash(f.h, 'pick')) <= {per_game}
        ), expanded AS (
            SELECT p.*, s.system_id, s.sys_idx, v.is_superseded,
                   hash(p.h, s.system_id) AS ph,
                   CASE WHEN NOT (hash(p.h, s.system_id, 'sup') % 100 < {SUPERSEDED_PCT}) THEN 'FIRST'
                        WHEN hash(p.h, s.system_id, 'rerun') % 2 = 0 THEN 'FINAL_RETRY'
                        ELSE 'LAST_CALL' END AS key_run
            FROM picked p
            CROSS JOIN (VALUES {systems}) s(system_id, sys_idx)
            CROSS JOIN (VALUES (FALSE), (TRUE)) v(is_superseded)
            WHERE (NOT v.is_superseded OR hash(p.h, s.system_id, 'sup') % 100 < {SUPERSEDED_PCT}) AND NOT {stopped}
        ), timed AS (
            SELECT *, CASE WHEN is_superseded THEN 'FIRST' ELSE key_run END AS run_mode,
                   {_local_run_ts("'FIRST'")} AS first_ts,
                   {_local_run_ts("key_run")} AS key_run_ts
            FROM expanded
        ), written AS (
            SELECT *, CASE WHEN is_superseded THEN first_ts ELSE key_run_ts END AS created_ts,
                   is_superseded AND key_run_ts <= TIMESTAMP '{now_lit}' AS replaced
            FROM timed
            WHERE (CASE WHEN is_superseded THEN first_ts ELSE key_run_ts END) <= TIMESTAMP '{now_lit}'
        ), pred AS (
            SELECT *,
                   NOT vegas_missing AS has_line,
                   floor(ppg) + 0.5 AS line,
                   round((((ph >> 12) % 1000) / 1000.0 * 8 - 4)
                         * CASE WHEN system_id LIKE 'catboost%' THEN 0.9 ELSE 1.1 END, 1) AS edge,
                   floor(ppg) + 0.5 + round((((ph >> 12) % 1000) / 1000.0 * 8 - 4)
                         * CASE WHEN system_id LIKE 'catboost%' THEN 0.9 ELSE 1.1 END, 1) AS predicted,
                   CASE WHEN {gap} AND day_idx = 0 THEN FALSE ELSE NOT replaced END AS is_active,
                   md5(system_id || player_lookup || CAST(game_date AS VARCHAR) || CAST(is_superseded AS VARCHAR))
                     AS m,
                   replaced AND NOT ({gap} AND day_idx = 0) AS has_successor,
                   CASE WHEN rdc > 0 THEN 'has_default_features'
                        WHEN NOT iqr THEN 'not_quality_ready'
                        WHEN abs(round((((ph >> 12) % 1000) / 1000.0 * 8 - 4), 1)) < 3 THEN 'low_edge'
                   END AS filter_reason
            FROM written
        )
        SELECT {select}
        FROM (SELECT *, created_ts AT TIME ZONE 'UTC' AS created_at,
                     CASE WHEN has_successor THEN {_UUID.replace("m,", "m2,")} END AS superseded_by
              FROM (SELECT *, md5(system_id || player_lookup || CAST(game_date AS VARCHAR) || 'false') AS m2
                    FROM pred))
        ORDER BY game_date, system_id, player_lookup, created_at
        """
    )


def _local_run_ts(run_mode: str) -> str:
    """SQL: the UTC write time (TIMESTAMP) of run ``run_mode`` (an SQL expression) on ``game_date``."""
    minutes = " ".join(f"WHEN '{mode}' THEN {m}" for mode, m in RUN_MINUTES.items())
    local = (
        f"CAST(game_date AS TIMESTAMP) + to_minutes(CAST((CASE {run_mode} {minutes} END)"
        f" + sys_idx * {MODEL_STAGGER_MIN} AS BIGINT))"
    )
    return f"timezone('UTC', ({local}) AT TIME ZONE '{PIPELINE_TIMEZONE}')"
