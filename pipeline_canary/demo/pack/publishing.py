"""Pack tables of the demo warehouse: see pipeline_canary.demo.pack (this module: publishing).

Phases 5-6 of the pipeline after the predictions (facts-checks §1.4, §1.6-1.7, §1.9-1.11), derived
from the active predictions of each game day so dates, players and models agree with the core demo:

* ``daily_prediction_signals``: one row per system and date, from the date's active predictions
  with a line, for systems with at least 10 of them (the signal calculator after consolidation);
* ``dynamic_subset_definitions`` and ``current_subset_picks``: two exports per game day (13:30 and
  16:30 in the pipeline's timezone), ``version_id`` ``v_YYYYMMDD_HHMMSS`` from the UTC time; the
  SubsetMaterializer copies the prediction's ``quality_alert_level``, the cross-model and signal
  materializers leave it NULL (§1.9);
* ``signal_best_bets_picks``, ``best_bets_filter_audit`` and ``signal_health_daily``: see
  :mod:`pipeline_canary.demo.pack.publishing_bb`.

A day without active predictions (the prediction-gap scenario's ``as_of``) gets no signals and no
subset picks: nothing is derived from predictions that do not exist.

Scenarios, one phase each:

* ``publishing-down``: the signal calculator did not write ``as_of`` (no daily_prediction_signals);
* ``quality-leak``: the 16:30 export of ``as_of`` put three non-green picks into the quality-gated
  subset ``v9_top5_quality`` (the green-only flag is never applied, §1.9 CAVEAT);
* ``filter-jam``: the two game days before ``as_of`` had candidates but none passed the best-bets
  filters, so no picks either;
* ``signals-stale``: ``signal_health_daily`` was not written for the 4 days before ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pipeline_canary.demo.predictions import SYSTEM_IDS
from pipeline_canary.demo.schemas import create_table_sql
from pipeline_canary.schema.model import Field

if TYPE_CHECKING:
    from pipeline_canary.demo.pack import Created, PackContext

SIGNALS_MISSING = "publishing.signals_missing"
QUALITY_LEAK = "publishing.quality_leak"
FILTER_JAM = "publishing.filter_jam"
HEALTH_STALE = "publishing.signal_health_stale"

SCENARIOS: dict[str, frozenset[str]] = {
    "publishing-down": frozenset({SIGNALS_MISSING}),
    "quality-leak": frozenset({QUALITY_LEAK}),
    "filter-jam": frozenset({FILTER_JAM}),
    "signals-stale": frozenset({HEALTH_STALE}),
}

LEAK_SUBSET = "v9_top5_quality"
# Minutes after local midnight of a game day when the daily export materializes the subsets.
EXPORTS: dict[str, int] = {"same_day": 13 * 60 + 30, "export": 16 * 60 + 30}

_SIGNALS = """
game_date DATE REQ
system_id STRING REQ
total_picks INT64
high_edge_picks INT64
premium_picks INT64
pct_over FLOAT64
pct_under FLOAT64
avg_confidence FLOAT64
avg_edge FLOAT64
skew_category STRING
volume_category STRING
daily_signal STRING
signal_explanation STRING
calculated_at TIMESTAMP
optimal_over_count INT64
optimal_under_count INT64
ultra_high_edge_count INT64
anti_pattern_count INT64
avg_pvl FLOAT64
slate_size INT64
"""

_DEFINITIONS = """
subset_id STRING REQ
subset_name STRING REQ
subset_description STRING
system_id STRING
min_edge FLOAT64
min_confidence FLOAT64
signal_condition STRING
pct_over_min FLOAT64
pct_over_max FLOAT64
use_ranking BOOL
top_n INT64
is_active BOOL
created_at TIMESTAMP
notes STRING
recommendation_filter STRING
scenario_category STRING
expected_hit_rate FLOAT64
require_quality_ready BOOL
direction STRING
"""

_SUBSET_PICKS = """
game_date DATE REQ
subset_id STRING REQ
player_lookup STRING REQ
system_id STRING
prediction_id STRING
game_id STRING
rank_in_subset INT64
version_id STRING REQ
computed_at TIMESTAMP REQ
trigger_source STRING
batch_id STRING
team STRING
opponent STRING
predicted_points FLOAT64
current_points_line FLOAT64
recommendation STRING
confidence_score FLOAT64
edge FLOAT64
composite_score FLOAT64
signal_tags STRING REP
signal_count INT64
feature_quality_score FLOAT64
default_feature_count INT64
quality_alert_level STRING
subset_name STRING
min_edge FLOAT64
min_confidence FLOAT64
top_n INT64
daily_signal STRING
pct_over FLOAT64
total_predictions_available INT64
algorithm_version STRING
"""

# (subset_id, name, system_id or None, min_edge, direction, top_n, require_quality_ready, writer).
# Writer "subset" copies the prediction's quality level; "cross_model" and "signal" leave it NULL.
_SUBSETS: tuple[tuple[str, str, str | None, float, str, int, bool, str], ...] = (
    (LEAK_SUBSET, "V9 top 5 (quality ready)", SYSTEM_IDS[0], 3.0, "ANY", 5, True, "subset"),
    ("v9_q43_under_quality", "V9 Q43 unders (quality ready)", SYSTEM_IDS[1], 2.0, "UNDER", 5, True, "subset"),
    ("lgbm_v12_over", "LGBM V12 overs", SYSTEM_IDS[5], 2.5, "OVER", 5, False, "subset"),
    ("xgb_v12_top10", "XGB V12 top 10", SYSTEM_IDS[7], 2.0, "ANY", 10, False, "subset"),
    ("cross_model_consensus", "Cross-model consensus", None, 2.0, "ANY", 5, True, "cross_model"),
    ("signal_high_conviction", "Signal high conviction", None, 3.0, "ANY", 3, False, "signal"),
)


def fields(spec: str) -> list[Field]:
    """``name TYPE [REQ|REP]`` lines as Fields (the notation of demo/schemas.py)."""
    out = []
    for line in spec.strip().splitlines():
        name, typ, *mode = line.split()
        kind = {"REQ": "REQUIRED", "REP": "REPEATED"}.get("".join(mode), "NULLABLE")
        out.append(Field(name=name, type=typ, mode=kind))
    return out


def ts_literal(when: dt.datetime) -> str:
    """A TIMESTAMPTZ literal for our own generator SQL (never user input)."""
    return f"TIMESTAMPTZ '{when.astimezone(dt.UTC).strftime('%Y-%m-%d %H:%M:%S')}+00'"


def local_ts(date_sql: str, minutes: str, timezone: str) -> str:
    """SQL: the TIMESTAMPTZ ``minutes`` (an SQL expression) after local midnight of ``date_sql``."""
    return f"((CAST({date_sql} AS TIMESTAMP) + to_minutes(CAST({minutes} AS BIGINT))) AT TIME ZONE '{timezone}')"


def build(ctx: PackContext) -> Created:
    from pipeline_canary.demo.pack import publishing_bb

    created = [
        _signals(ctx),
        *_subsets(ctx),
        *publishing_bb.build(ctx),
    ]
    return created


def _signals(ctx: PackContext) -> tuple[str, str, dt.datetime]:
    conn = ctx.conn
    conn.execute(create_table_sql("nba_predictions", "daily_prediction_signals", fields(_SIGNALS)))
    skip_as_of = f"AND game_date <> DATE '{ctx.as_of.isoformat()}'" if SIGNALS_MISSING in ctx.faults else ""
    # As the writer does: premium compares the 0-100 confidence with 0.92 and avg_confidence is x100
    # (facts-checks §1.4 CAVEAT); the canaries read only daily_signal and pct_over.
    conn.execute(
        f"""
        INSERT INTO nba_predictions.daily_prediction_signals BY NAME
        WITH p AS (
            SELECT game_date, system_id, recommendation, created_at,
                   CAST(confidence_score AS DOUBLE) AS confidence,
                   CAST(predicted_points - current_points_line AS DOUBLE) AS pvl
            FROM nba_predictions.player_prop_predictions
            WHERE is_active AND current_points_line IS NOT NULL
        ), slate AS (
            SELECT game_date, count(*) AS slate_size FROM nba_predictions.player_prop_predictions GROUP BY game_date
        ), s AS (
            SELECT game_date, system_id, count(*) AS total_picks,
                   count_if(abs(pvl) >= 5) AS high_edge_picks,
                   count_if(confidence >= 0.92 AND abs(pvl) >= 3) AS premium_picks,
                   round(100.0 * count_if(recommendation = 'OVER') / count(*), 1) AS pct_over,
                   round(100.0 * count_if(recommendation = 'UNDER') / count(*), 1) AS pct_under,
                   round(avg(confidence) * 100, 2) AS avg_confidence,
                   round(avg(abs(pvl)), 2) AS avg_edge,
                   count_if(recommendation = 'OVER' AND abs(pvl) >= 3) AS optimal_over_count,
                   count_if(recommendation = 'UNDER' AND abs(pvl) >= 3) AS optimal_under_count,
                   count_if(abs(pvl) >= 4) AS ultra_high_edge_count,
                   count_if(recommendation = 'PASS') AS anti_pattern_count,
                   round(avg(pvl), 2) AS avg_pvl,
                   max(created_at) + INTERVAL 2 MINUTE AS calculated_at
            FROM p
            GROUP BY game_date, system_id
            HAVING count(*) >= 10
        ), labelled AS (
            SELECT s.*, slate.slate_size,
                   CASE WHEN pct_over < 25 THEN 'UNDER_HEAVY' WHEN pct_over > 40 THEN 'OVER_HEAVY'
                        ELSE 'BALANCED' END AS skew_category,
                   CASE WHEN high_edge_picks < 3 THEN 'LOW' WHEN high_edge_picks > 8 THEN 'HIGH'
                        ELSE 'NORMAL' END AS volume_category,
                   CASE WHEN total_picks <= 4 OR pct_over < 25 THEN 'RED'
                        WHEN high_edge_picks < 3 OR pct_over > 45 THEN 'YELLOW' ELSE 'GREEN' END AS daily_signal
            FROM s JOIN slate USING (game_date)
        )
        SELECT *, daily_signal || ': ' || total_picks || ' picks, ' || pct_over || '% over, '
                  || high_edge_picks || ' high-edge' AS signal_explanation
        FROM labelled
        WHERE calculated_at <= {ts_literal(ctx.now)} {skip_as_of}
        ORDER BY game_date, system_id
        """
    )
    return ("nba_predictions", "daily_prediction_signals", ctx.now - dt.timedelta(days=200))


def _definitions(conn: Any, created: dt.datetime) -> None:
    conn.execute(create_table_sql("nba_predictions", "dynamic_subset_definitions", fields(_DEFINITIONS)))
    rows = []
    for subset_id, name, system, min_edge, direction, top_n, gated, writer in _SUBSETS:
        system_sql = f"'{system}'" if system else "NULL"
        rows.append(
            f"('{subset_id}', '{name}', '{writer} materializer', {system_sql}, {min_edge}, 0.0, 'ANY', NULL, NULL, "
            f"TRUE, {top_n}, TRUE, {ts_literal(created)}, NULL, NULL, NULL, NULL, {gated}, '{direction}')"
        )
    conn.execute(f"INSERT INTO nba_predictions.dynamic_subset_definitions VALUES {', '.join(rows)}")


def _subsets(ctx: PackContext) -> list[tuple[str, str, dt.datetime]]:
    conn = ctx.conn
    defined = ctx.now - dt.timedelta(days=190)
    _definitions(conn, defined)
    conn.execute(create_table_sql("nba_predictions", "current_subset_picks", fields(_SUBSET_PICKS)))
    exports = ", ".join(f"('{source}', {minute})" for source, minute in EXPORTS.items())
    versions = f"""
        SELECT d.game_date, e.trigger_source, {local_ts("d.game_date", "e.minute", ctx.timezone)} AS computed_at
        FROM (SELECT DISTINCT game_date FROM nba_reference.nba_schedule
              WHERE game_status IN (1, 2, 3) AND game_date <= DATE '{ctx.as_of.isoformat()}') d
        CROSS JOIN (VALUES {exports}) e(trigger_source, minute)
    """
    conn.execute(
        f"""
        INSERT INTO nba_predictions.current_subset_picks BY NAME
        WITH v AS (
            SELECT *, 'v_' || strftime(timezone('UTC', computed_at), '%Y%m%d_%H%M%S') AS version_id
            FROM ({versions}) WHERE computed_at <= {ts_literal(ctx.now)}
        ), p AS (
            SELECT v.game_date, v.version_id, v.computed_at, v.trigger_source, p.system_id, p.prediction_id,
                   p.player_lookup, p.game_id, p.recommendation,
                   CAST(p.predicted_points AS DOUBLE) AS predicted_points,
                   CAST(p.current_points_line AS DOUBLE) AS current_points_line,
                   CAST(p.confidence_score AS DOUBLE) AS confidence_score,
                   CAST(p.predicted_points - p.current_points_line AS DOUBLE) AS pvl,
                   p.feature_quality_score, p.default_feature_count, p.quality_alert_level
            FROM v JOIN nba_predictions.player_prop_predictions p
              ON p.game_date = v.game_date AND p.created_at <= v.computed_at
            WHERE p.is_active AND p.current_points_line IS NOT NULL AND p.recommendation IN ('OVER', 'UNDER')
        ), d AS (
            SELECT * FROM nba_predictions.dynamic_subset_definitions
        ), per_model AS (  -- SubsetMaterializer: regular subsets need feature_quality_score >= 85
            SELECT p.*, d.subset_id, d.subset_name, d.min_edge, d.min_confidence, d.top_n, p.quality_alert_level AS qal
            FROM p JOIN d ON d.system_id = p.system_id
            WHERE abs(p.pvl) >= d.min_edge AND (d.direction = 'ANY' OR d.direction = p.recommendation)
              AND p.feature_quality_score >= 85
        ), consensus AS (  -- CrossModelSubsetMaterializer: 3+ models agree; level NULL
            SELECT game_date, version_id, any_value(computed_at) AS computed_at,
                   any_value(trigger_source) AS trigger_source,
                   NULL AS system_id, NULL AS prediction_id, player_lookup, any_value(game_id) AS game_id,
                   recommendation, avg(predicted_points) AS predicted_points, any_value(current_points_line)
                   AS current_points_line, avg(confidence_score) AS confidence_score, avg(pvl) AS pvl,
                   avg(feature_quality_score) AS feature_quality_score, NULL AS default_feature_count,
                   NULL AS quality_alert_level
            FROM p WHERE abs(pvl) >= 2
            GROUP BY game_date, version_id, player_lookup, recommendation
            HAVING count(DISTINCT system_id) >= 3
        ), signal AS (  -- SignalSubsetMaterializer: the day's strongest edges; level NULL
            SELECT * REPLACE (NULL AS quality_alert_level) FROM p WHERE abs(pvl) >= 3
            QUALIFY row_number() OVER (PARTITION BY version_id, player_lookup ORDER BY abs(pvl) DESC, system_id) = 1
        ), unioned AS (
            SELECT * FROM per_model
            UNION ALL BY NAME
            SELECT c.*, d.subset_id, d.subset_name, d.min_edge, d.min_confidence, d.top_n, NULL AS qal
            FROM consensus c CROSS JOIN d WHERE d.subset_id = 'cross_model_consensus'
            UNION ALL BY NAME
            SELECT s.*, d.subset_id, d.subset_name, d.min_edge, d.min_confidence, d.top_n, NULL AS qal
            FROM signal s CROSS JOIN d WHERE d.subset_id = 'signal_high_conviction'
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY version_id, subset_id ORDER BY abs(pvl) DESC, player_lookup)
                     AS rank_in_subset
            FROM unioned
            QUALIFY rank_in_subset <= top_n
        )
        SELECT r.game_date, r.subset_id, r.player_lookup, r.system_id, r.prediction_id, r.game_id, r.rank_in_subset,
               r.version_id, r.computed_at, r.trigger_source, 'daily_export_' || r.version_id AS batch_id,
               split_part(r.game_id, '_', CASE WHEN fs.is_home THEN 3 ELSE 2 END) AS team,
               fs.opponent_team_abbr AS opponent, r.predicted_points, r.current_points_line, r.recommendation,
               r.confidence_score, round(abs(r.pvl), 1) AS edge, round(abs(r.pvl) * r.confidence_score / 100, 3)
                 AS composite_score,
               CAST([] AS VARCHAR[]) AS signal_tags, 0 AS signal_count, r.feature_quality_score,
               r.default_feature_count, r.qal AS quality_alert_level, r.subset_name, r.min_edge, r.min_confidence,
               r.top_n, sig.daily_signal, sig.pct_over, sig.total_picks AS total_predictions_available,
               'v3_subsets' AS algorithm_version
        FROM ranked r
        LEFT JOIN nba_predictions.ml_feature_store_v2 fs
          ON fs.game_date = r.game_date AND fs.player_lookup = r.player_lookup
        LEFT JOIN nba_predictions.daily_prediction_signals sig
          ON sig.game_date = r.game_date AND sig.system_id = r.system_id
        ORDER BY r.game_date, r.version_id, r.subset_id, r.rank_in_subset
        """
    )
    if QUALITY_LEAK in ctx.faults:
        day = f"DATE '{ctx.as_of.isoformat()}'"
        conn.execute(
            f"""
            UPDATE nba_predictions.current_subset_picks
            SET quality_alert_level = CASE rank_in_subset WHEN 1 THEN 'red' ELSE 'yellow' END
            WHERE game_date = {day} AND subset_id = '{LEAK_SUBSET}' AND rank_in_subset <= 3
              AND version_id = (SELECT max(version_id) FROM nba_predictions.current_subset_picks
                                WHERE game_date = {day})
            """
        )
    return [
        ("nba_predictions", "dynamic_subset_definitions", defined),
        ("nba_predictions", "current_subset_picks", defined + dt.timedelta(hours=1)),
    ]
