"""``ml_feature_store_v2`` rows, generated in DuckDB SQL.

Sources decide everything: a feature is a default when its source is ``default``; every quality
column is then derived from the 60 ``feature_N_source`` columns exactly as ``quality_scorer.py``
does (facts 1d), so the stored aggregates always agree with the per-feature sources.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipeline_canary.demo.schemas import FEATURE_COUNT, OPTIONAL_FEATURES, REQUIRED_FEATURES

HEALTHY_RATE = 0.02
CONTAMINATED_RATE = 0.246
VEGAS_MISSING_PCT = 30
WINDOW_DAYS = 14
# Players out (injured, inactive) get no feature row for the game: the pipeline builds features for
# the players expected to play, so a day's row count is not exactly 26 per game.
OUT_PCT = 5
# contamination-creep: the share of each day's rows with required defaults, by days before as_of
# (index 0 is as_of itself), rising from the healthy 2% ten days before to 9% on as_of.
CREEP_PCT: tuple[float, ...] = (9.0, 7.74, 6.66, 5.73, 4.93, 4.24, 3.65, 3.14, 2.70, 2.32, 2.0)
# features-thin: the share of each as_of game's feature rows that are never written.
THIN_PCT = 40

CATEGORIES: dict[str, tuple[int, ...]] = {
    "matchup": (5, 6, 7, 8, 13, 14),
    "player_history": (*range(0, 5), *range(29, 38), 43, 44, 45, 46, 48, 49, 54, 55, 56, 58),
    "team_context": (22, 23, 24, 57),
    "vegas": (25, 26, 27, 28),
    "game_context": (*range(9, 13), *range(15, 22), *range(38, 43), 47, *range(50, 54), 59),
}
# How often a required feature is the one that defaults in a contaminated row.
DEFAULT_WEIGHTS: dict[int, float] = {
    **{i: 1.0 for i in REQUIRED_FEATURES},
    13: 12.0,
    14: 11.0,
    22: 8.0,
    23: 7.0,
    24: 6.0,
    5: 4.0,
    6: 4.0,
    7: 3.5,
    8: 3.0,
    29: 2.0,
    30: 2.0,
}
_WEIGHT_SQL = (
    "CASE {s} WHEN 'phase4' THEN 100 WHEN 'calculated' THEN 100 WHEN 'vegas' THEN 100 "
    "WHEN 'bettingpros' THEN 100 WHEN 'phase3' THEN 87 WHEN 'minutes_ppm' THEN 95 "
    "WHEN 'opponent_history' THEN 90 WHEN 'default' THEN 40 WHEN 'fallback' THEN 40 ELSE 0 END"
)
FEATURE_NAMES = (
    [
        "points_avg_last_5",
        "points_avg_last_10",
        "points_avg_season",
        "points_std_last_10",
        "games_in_last_7_days",
        "fatigue_score",
        "shot_zone_mismatch_score",
        "pace_score",
        "usage_spike_score",
        "rest_advantage",
        "injury_risk",
        "recent_trend",
        "minutes_change",
        "opponent_def_rating",
        "opponent_pace",
        "home_away",
        "back_to_back",
        "playoff_game",
        "pct_paint",
        "pct_mid_range",
        "pct_three",
        "pct_free_throw",
        "team_pace",
        "team_off_rating",
        "team_win_pct",
        "vegas_points_line",
        "vegas_opening_line",
        "vegas_line_move",
        "has_vegas_line",
        "avg_points_vs_opponent",
        "games_vs_opponent",
        "minutes_avg_last_10",
        "ppm_avg_last_10",
        "dnp_rate",
        "pts_slope_10g",
        "pts_vs_season_zscore",
        "breakout_flag",
        "star_teammates_out",
        "game_total_line",
    ]
    + [f"v12_feature_{i}" for i in range(39, 54)]
    + [
        "prop_line_delta",
        "over_rate_last_10",
        "margin_vs_line_avg_last_5",
        "blowout_minutes_risk",
        "minutes_volatility_last_10",
        "opponent_pace_mismatch",
    ]
)


def _base_source(n: int) -> str:
    if n <= 4:
        return "CASE WHEN (h >> 20) % 10 = 0 THEN 'phase3' ELSE 'phase4' END"
    if n in (25, 26, 27):
        return "CASE WHEN vegas_missing THEN 'default' WHEN (h >> 24) % 3 = 0 THEN 'bettingpros' ELSE 'vegas' END"
    if n in (15, 16, 17, 28) or 33 <= n <= 36:
        return "'calculated'"
    if n in (31, 32):
        return "'minutes_ppm'"
    if n >= 37:
        return "CASE WHEN (h >> 28) % 4 = 0 THEN 'phase4' ELSE 'calculated' END"
    return "'phase4'"


def _value(n: int) -> str:
    """A plausible value for feature n (ppg-based for scoring features)."""
    u = f"(((h % 1000003) * {n * 7919 + 104729}) % 10007) / 10007.0"
    if n <= 2:
        return f"round(ppg + ({u} - 0.5) * 4, 1)"
    if n == 3:
        return f"round(2 + {u} * 6, 1)"
    if n == 4:
        return f"floor({u} * 5)"
    if n in (25, 26):
        return "floor(ppg) + 0.5"
    if n == 27:
        return f"round(({u} - 0.5) * 2, 1) * 0.5"
    if n in (15, 16, 17, 28, 36):
        return f"CASE WHEN {u} < 0.3 THEN 1.0 ELSE 0.0 END" if n != 28 else "1.0"
    if n == 31:
        return f"round(12 + ppg * 0.9 + {u} * 4, 1)"
    return f"round({u}, 2)"


def _feature_sql(where: str) -> str:
    src = ",\n".join(
        f"CASE WHEN list_contains(req_idx, {n}) THEN 'default' ELSE {_base_source(n)} END AS s_{n}"
        if n not in OPTIONAL_FEATURES
        else f"{_base_source(n)} AS s_{n}"
        for n in range(FEATURE_COUNT)
    )
    w = {n: f"w_{n}" for n in range(FEATURE_COUNT)}
    d = {n: f"d_{n}" for n in range(FEATURE_COUNT)}
    wt = ",\n".join(
        f"{_WEIGHT_SQL.format(s=f's_{n}')} AS w_{n}, (s_{n} IN ('default', 'fallback', 'missing'))::INT AS d_{n}"
        for n in range(FEATURE_COUNT)
    )
    counted = {
        n: f"(CASE WHEN s_{n} = 'missing' THEN 0 ELSE 1 END)" if n in OPTIONAL_FEATURES else "1"
        for n in range(FEATURE_COUNT)
    }
    num = " + ".join(f"(CASE WHEN {counted[n]} = 1 THEN {w[n]} ELSE 0 END)" for n in range(FEATURE_COUNT))
    den = " + ".join(counted[n] for n in range(FEATURE_COUNT))
    cats = ",\n".join(
        f"({' + '.join(w[n] for n in idx)}) / {len(idx)}.0 AS {cat}_quality_pct,\n"
        f"({' + '.join(d[n] for n in idx)}) AS {cat}_default_count"
        for cat, idx in CATEGORIES.items()
    )
    count_src = ",\n".join(
        f"({' + '.join(f'(s_{n} = {lit!r})::INT' for n in range(FEATURE_COUNT))}) AS {col}"
        for col, lit in (
            ("phase4_feature_count", "phase4"),
            ("phase3_feature_count", "phase3"),
            ("calculated_feature_count", "calculated"),
        )
    )
    per_feature = ",\n".join(
        f"CASE WHEN s_{n} = 'default' THEN NULL ELSE {_value(n)} END AS feature_{n}_value,\n"
        f"CAST(w_{n} AS DOUBLE) AS feature_{n}_quality,\ns_{n} AS feature_{n}_source"
        for n in range(FEATURE_COUNT)
    )
    idx_list = ", ".join(f"CASE WHEN {d[n]} = 1 THEN {n} END" for n in range(FEATURE_COUNT))
    return f"""
    WITH rows AS (
        SELECT f.*, r.req_idx FROM _fr f
        LEFT JOIN _reqdef r ON r.game_date = f.game_date AND r.player_lookup = f.player_lookup
        WHERE {where}
    ), src AS (
        SELECT *, {src} FROM rows
    ), wt AS (
        SELECT *, {wt} FROM src
    ), agg AS (
        SELECT *,
          ({" + ".join(d[n] for n in range(FEATURE_COUNT))}) AS dfc,
          ({" + ".join(d[n] for n in REQUIRED_FEATURES)}) AS rdc,
          ({num}) / ({den}) AS raw_score,
          list_filter([{idx_list}], x -> x IS NOT NULL) AS def_idx,
          {cats},
          {count_src}
        FROM wt
    ), scored AS (
        SELECT *, round(CASE WHEN rdc >= 5 THEN least(raw_score, 49) WHEN rdc >= 1 THEN least(raw_score, 69)
                             ELSE raw_score END, 2) AS score
        FROM agg
    ), tiered AS (
        SELECT *,
          CASE WHEN score >= 95 THEN 'gold' WHEN score >= 85 THEN 'silver' WHEN score >= 70 THEN 'bronze'
               WHEN score >= 50 THEN 'poor' ELSE 'critical' END AS tier,
          CASE WHEN matchup_quality_pct < 50 OR score < 50 THEN 'red'
               WHEN rdc > 0 OR score < 70 OR matchup_quality_pct < 70 THEN 'yellow' ELSE 'green' END AS alert
        FROM scored
    )
    SELECT player_lookup, universal_player_id, game_date, game_id, opponent AS opponent_team_abbr, is_home,
      CAST(1 + (h >> 32) % 3 AS BIGINT) AS days_rest,
      60 AS feature_count, 'v2_54features' AS feature_version,
      CASE WHEN dfc > 0 AND rdc = 0 THEN 'phase4_partial' WHEN rdc > 0 THEN 'mixed' ELSE 'phase4' END
        AS data_source,
      score AS feature_quality_score, tier AS quality_tier, alert AS quality_alert_level,
      list_filter([
        CASE WHEN matchup_default_count = 6 THEN 'all_matchup_features_defaulted' END,
        CASE WHEN s_5 = 'default' OR s_6 = 'default' OR s_7 = 'default' OR s_8 = 'default'
             THEN 'composite_factors_missing' END,
        CASE WHEN s_13 = 'default' OR s_14 = 'default' THEN 'opponent_defense_missing' END,
        CASE WHEN dfc * 5 > 60 THEN 'high_default_rate_' || CAST(round(dfc * 100.0 / 60) AS INT) || 'pct' END,
        CASE WHEN matchup_quality_pct < 50 THEN 'matchup_quality_critical' END,
        CASE WHEN game_context_quality_pct < 50 THEN 'game_context_quality_critical' END
      ], x -> x IS NOT NULL) AS quality_alerts,
      dfc AS default_feature_count, rdc AS required_default_count, def_idx AS default_feature_indices,
      phase4_feature_count, phase3_feature_count, calculated_feature_count,
      60 - dfc AS training_quality_feature_count, {len(REQUIRED_FEATURES)} - rdc AS critical_feature_count,
      {len(OPTIONAL_FEATURES)} - (dfc - rdc) AS optional_feature_count,
      (tier IN ('gold', 'silver') AND matchup_quality_pct >= 70 AND player_history_quality_pct >= 80)
        AS is_training_ready,
      (tier IN ('gold', 'silver', 'bronze') AND score >= 70 AND matchup_quality_pct >= 50 AND rdc = 0)
        AS is_quality_ready,
      rdc = 0 AS critical_features_training_quality,
      matchup_quality_pct, player_history_quality_pct, team_context_quality_pct, vegas_quality_pct,
      game_context_quality_pct, matchup_default_count, player_history_default_count,
      team_context_default_count, vegas_default_count, game_context_default_count,
      NOT (s_5 = 'default' OR s_6 = 'default' OR s_7 = 'default' OR s_8 = 'default') AS has_composite_factors,
      NOT (s_13 = 'default' OR s_14 = 'default') AS has_opponent_defense,
      NOT vegas_missing AS has_vegas_line,
      CASE WHEN vegas_missing THEN 'none' WHEN (h >> 24) % 3 = 0 THEN 'bettingpros' ELSE 'odds_api' END
        AS vegas_line_source,
      {per_feature},
      'v2_54features' AS feature_schema_version,
      'v1_hybrid_20260205' AS quality_schema_version,
      created_at AS quality_computed_at,
      FALSE AS cache_miss_fallback_used,
      'phase4' AS primary_data_source,
      CASE WHEN matchup_default_count > 0 THEN 'partial' ELSE 'complete' END AS matchup_data_status,
      10 AS expected_games_count, 10 AS actual_games_count, 100.0 AS completeness_percentage,
      0 AS missing_games_count, TRUE AS is_production_ready, 0 AS reprocess_attempt_count,
      FALSE AS circuit_breaker_active, FALSE AS manual_override_required, FALSE AS season_boundary_detected,
      FALSE AS backfill_bootstrap_mode, 'processed_successfully' AS processing_decision_reason,
      FALSE AS early_season_flag,
      CAST(100 + (h >> 36) % 400 AS BIGINT) AS feature_generation_time_ms,
      {{'games_found': 10, 'games_expected': 10, 'is_complete': TRUE, 'is_bootstrap': FALSE,
        'contributing_game_dates': CAST([] AS DATE[])}} AS historical_completeness,
      created_at
    FROM tiered
    ORDER BY game_date, game_id, player_lookup
    """


def build_feature_rows(
    conn: Any, as_of: dt.date, now: dt.datetime, contaminated: bool, *, creep: bool = False, thin: bool = False
) -> None:
    """Create temp ``_fr`` (one row per player expected to play per game) and ``_reqdef`` (required defaults).

    ``creep``: the days from ``as_of - 10`` to ``as_of`` have ``CREEP_PCT`` of their rows contaminated
    (each day exactly, by its row count); ``thin``: each ``as_of`` game loses ``THIN_PCT`` of its rows.
    """
    rate = CONTAMINATED_RATE if contaminated else HEALTHY_RATE
    now_lit = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    start = as_of - dt.timedelta(days=WINDOW_DAYS)
    days_before = f"date_diff('day', game_date, DATE '{as_of.isoformat()}')"
    creep_rate = f"CASE {days_before} " + " ".join(f"WHEN {d} THEN {p / 100}" for d, p in enumerate(CREEP_PCT)) + " END"
    creeping = f"{days_before} BETWEEN 0 AND {len(CREEP_PCT) - 1}" if creep else "FALSE"
    thinned = f"day_idx = 0 AND thin_rk <= round({THIN_PCT / 100} * game_rows)" if thin else "FALSE"
    conn.execute(
        f"""
        CREATE TEMP TABLE _fr AS
        WITH base AS (
            SELECT g.game_date, g.day_idx, g.chunk, g.game_id, g.n_games, g.game_idx, p.player_lookup,
                   p.universal_player_id, p.slot, p.ppg, side.is_home,
                   CASE WHEN side.is_home THEN g.away ELSE g.home END AS opponent,
                   hash(p.player_lookup, g.game_date) AS h,
                   g.game_date >= DATE '{start.isoformat()}' AND g.game_date < DATE '{as_of.isoformat()}'
                     AS in_window
            FROM _games g
            CROSS JOIN (VALUES (TRUE), (FALSE)) side(is_home)
            JOIN _players p ON p.team_idx = CASE WHEN side.is_home THEN g.home_idx ELSE g.away_idx END
            WHERE hash(p.player_lookup, g.game_date, 'out') % 100 >= {OUT_PCT}
        ), thinned AS (
            SELECT *, row_number() OVER (PARTITION BY game_date, game_id ORDER BY hash(h, 'thin'), player_lookup)
                        AS thin_rk,
                   count(*) OVER (PARTITION BY game_date, game_id) AS game_rows
            FROM base
        ), kept AS (
            SELECT * EXCLUDE (thin_rk, game_rows) FROM thinned WHERE NOT ({thinned})
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY in_window ORDER BY hash(h, 'contam'), player_lookup,
                                          game_date) AS rk,
                   count(*) OVER (PARTITION BY in_window) AS n_in,
                   row_number() OVER (PARTITION BY game_date ORDER BY hash(h, 'contam'), player_lookup) AS day_rk,
                   count(*) OVER (PARTITION BY game_date) AS n_day
            FROM kept
        )
        SELECT * EXCLUDE (rk, n_in, day_rk, n_day),
               CASE WHEN {creeping} THEN day_rk <= round({creep_rate} * n_day)
                    WHEN in_window THEN rk <= round({rate} * n_in)
                    ELSE hash(h, 'contam') % 1000 < 20 END
                 AS contaminated,
               (h >> 8) % 100 < {VEGAS_MISSING_PCT} AS vegas_missing,
               CAST(CASE WHEN (h >> 16) % 100 < 35 THEN 1 WHEN (h >> 16) % 100 < 60 THEN 2
                    WHEN (h >> 16) % 100 < 76 THEN 3 WHEN (h >> 16) % 100 < 88 THEN 4
                    WHEN (h >> 16) % 100 < 95 THEN 5 ELSE 6 END AS INTEGER) AS k,
               least(CAST(game_date AS TIMESTAMP) + INTERVAL 11 HOUR + to_minutes(CAST(h % 90 AS BIGINT)),
                     TIMESTAMP '{now_lit}' - INTERVAL 30 MINUTE) AT TIME ZONE 'UTC' AS created_at
        FROM ranked
        ORDER BY game_date, game_id, player_lookup
        """
    )
    weights = ", ".join(f"({j}, {w})" for j, w in sorted(DEFAULT_WEIGHTS.items()))
    conn.execute(
        f"""
        CREATE TEMP TABLE _reqdef AS
        WITH cand AS (
            SELECT f.game_date, f.player_lookup, f.k, w.j,
                   ln((hash(f.h, w.j, 'pick') % 1000000 + 1) / 1000001.0) / w.wt AS key
            FROM _fr f CROSS JOIN (VALUES {weights}) w(j, wt)
            WHERE f.contaminated
        )
        SELECT game_date, player_lookup, list(j ORDER BY j) AS req_idx FROM (
            SELECT *, row_number() OVER (PARTITION BY game_date, player_lookup ORDER BY key DESC) AS rn
            FROM cand)
        WHERE rn <= k GROUP BY game_date, player_lookup
        """
    )


def insert_features(conn: Any, chunk: int) -> None:
    """Append the feature rows of one chunk (a season's worth of game days), ordered by date."""
    conn.execute("INSERT INTO nba_predictions.ml_feature_store_v2 BY NAME " + _feature_sql(f"f.chunk = {chunk}"))
