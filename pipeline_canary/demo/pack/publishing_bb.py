"""Best bets and signal health of the demo warehouse (see pipeline_canary.demo.pack.publishing).

* ``signal_best_bets_picks``: the export at 17:00 in the pipeline's timezone on each game day picks
  the day's strongest edges (one per player, |predicted - line| >= 3, active predictions with a
  line): 2-5 picks, none on about one game day in seven (auto-halt), but 3-5 on each of the last
  four game days up to ``as_of``. Days before ``as_of`` are graded.
* ``best_bets_filter_audit``: one row per game day of the same export: the candidates, how many
  passed the filters (the picks plus a few the top-5 cut left out), the rejections as JSON.
* ``signal_health_daily``: one row per signal tag per date, written the morning after (after
  grading, even when nothing was graded), for the 60 days before ``as_of``; hit rates from the
  graded picks carrying the tag.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pipeline_canary.demo.pack.publishing import FILTER_JAM, HEALTH_STALE, fields, local_ts, ts_literal
from pipeline_canary.demo.schemas import create_table_sql

if TYPE_CHECKING:
    from pipeline_canary.demo.pack import Created, PackContext

SIGNAL_TAGS: tuple[str, ...] = (
    "high_edge",
    "minutes_surge",
    "cold_snap",
    "blowout_recovery",
    "3pt_bounce",
    "home_under",
    "bench_under",
    "model_consensus",
)
EXPORT_MINUTE = 17 * 60
HEALTH_DAYS = 60
STALE_DAYS = 4

_PICKS = """
player_lookup STRING REQ
game_id STRING REQ
game_date DATE REQ
system_id STRING REQ
player_name STRING
team_abbr STRING
opponent_team_abbr STRING
predicted_points NUMERIC(5,1)
line_value NUMERIC(5,1)
recommendation STRING
edge NUMERIC(5,1)
confidence_score NUMERIC(4,3)
signal_tags STRING REP
signal_count INT64
real_signal_count INT64
composite_score NUMERIC(6,4)
rank INT64
source_model_id STRING
source_model_family STRING
algorithm_version STRING
actual_points INT64
prediction_correct BOOL
is_voided BOOL
signal_status STRING
retracted_at TIMESTAMP
created_at TIMESTAMP
"""

_AUDIT = """
game_date DATE
total_candidates INT64
passed_filters INT64
rejected_json STRING
algorithm_version STRING
computed_at TIMESTAMP
"""

_HEALTH = """
game_date DATE REQ
signal_tag STRING REQ
hr_7d FLOAT64
hr_14d FLOAT64
hr_30d FLOAT64
hr_season FLOAT64
picks_7d INT64
picks_14d INT64
picks_30d INT64
picks_season INT64
divergence_7d_vs_season FLOAT64
regime STRING
status STRING
hr_over_7d FLOAT64
hr_under_7d FLOAT64
picks_over_7d INT64
picks_under_7d INT64
is_model_dependent BOOL
computed_at TIMESTAMP
"""


def build(ctx: PackContext) -> Created:
    conn = ctx.conn
    as_of = f"DATE '{ctx.as_of.isoformat()}'"
    now = ts_literal(ctx.now)
    jam = "TRUE" if FILTER_JAM in ctx.faults else "FALSE"
    tags = "[" + ", ".join(f"'{t}'" for t in SIGNAL_TAGS) + "]"
    for table, spec in (("signal_best_bets_picks", _PICKS), ("best_bets_filter_audit", _AUDIT)):
        conn.execute(create_table_sql("nba_predictions", table, fields(spec)))
    conn.execute(
        f"""
        CREATE TEMP TABLE _bb_days AS
        WITH d AS (
            SELECT DISTINCT game_date FROM nba_reference.nba_schedule
            WHERE game_status IN (1, 2, 3) AND game_date <= {as_of}
        ), ranked AS (
            SELECT game_date, row_number() OVER (ORDER BY game_date DESC) AS recent,
                   hash(game_date, 'best-bets') AS h,
                   {local_ts("game_date", str(EXPORT_MINUTE), ctx.timezone)} AS exported_at
            FROM d
        )
        SELECT *, CASE WHEN {jam} AND recent IN (2, 3) THEN 0
                       WHEN recent <= 4 THEN 3 + h % 3
                       WHEN h % 7 = 0 THEN 0
                       ELSE 2 + h % 4 END AS quota
        FROM ranked WHERE exported_at <= {now}
        """
    )
    conn.execute(
        """
        CREATE TEMP TABLE _bb_candidates AS
        SELECT p.game_date, p.player_lookup, p.game_id, p.system_id, p.recommendation, p.predicted_points,
               p.current_points_line, p.confidence_score,
               CAST(p.predicted_points - p.current_points_line AS DOUBLE) AS pvl
        FROM nba_predictions.player_prop_predictions p JOIN _bb_days d ON d.game_date = p.game_date
        WHERE p.is_active AND p.current_points_line IS NOT NULL AND p.recommendation IN ('OVER', 'UNDER')
          AND p.created_at <= d.exported_at AND abs(p.predicted_points - p.current_points_line) >= 3
        """
    )
    conn.execute(
        f"""
        INSERT INTO nba_predictions.signal_best_bets_picks BY NAME
        WITH best AS (
            SELECT * FROM _bb_candidates
            QUALIFY row_number() OVER (PARTITION BY game_date, player_lookup ORDER BY abs(pvl) DESC, system_id) = 1
        ), ranked AS (
            SELECT b.*, d.quota, d.exported_at, hash(b.game_date, b.player_lookup, 'bb') AS ph,
                   row_number() OVER (PARTITION BY b.game_date ORDER BY abs(b.pvl) DESC, b.player_lookup) AS rank
            FROM best b JOIN _bb_days d USING (game_date)
            QUALIFY rank <= d.quota
        ), graded AS (
            SELECT r.*, CASE WHEN r.game_date < {as_of} THEN CAST(round(CAST(r.current_points_line AS DOUBLE)
                        + (CAST(r.ph % 200 AS INTEGER) - 95) / 10.0, 0) AS BIGINT) END AS actual
            FROM ranked r
        )
        SELECT g.player_lookup,
g.game_id, g.game_date, g.system_id,
               split_part(g.game_id, '_', CASE WHEN fs.is_home THEN 3 ELSE 2 END) AS team_abbr,
               fs.opponent_team_abbr, g.predicted_points, g.current_points_line AS line_value,
               g.recommendation, round(abs(g.pvl), 1) AS edge, round(g.confidence_score / 100, 3) AS confidence_score,
               list_distinct(list_filter([CASE WHEN abs(g.pvl) >= 4 THEN 'high_edge' END,
                                          {tags}[CAST(2 + g.ph % 7 AS BIGINT)],
                                          {tags}[CAST(2 + (g.ph >> 8) % 7 AS BIGINT)]], x -> x IS NOT NULL))
                 AS signal_tags,
               g.rank, g.system_id AS source_model_id, split_part(g.system_id, '_', 1) AS source_model_family,
               'v5_signal_best_bets' AS algorithm_version, g.actual AS actual_points,
               CASE WHEN g.actual IS NULL THEN NULL WHEN g.recommendation = 'OVER' THEN g.actual > g.current_points_line
                    ELSE g.actual < g.current_points_line END AS prediction_correct,
               FALSE AS is_voided,
               CASE WHEN g.ph % 23 = 0 THEN 'retracted_clv' WHEN g.game_date < {as_of} - 120 THEN NULL
                    ELSE 'active' END AS signal_status,
               CASE WHEN g.ph % 23 = 0 THEN g.exported_at + INTERVAL 90 MINUTE END AS retracted_at,
               g.exported_at AS created_at
        FROM graded g
        LEFT JOIN nba_predictions.ml_feature_store_v2 fs
          ON fs.game_date = g.game_date AND fs.player_lookup = g.player_lookup
        ORDER BY g.game_date, g.rank
        """
    )
    conn.execute(
        "UPDATE nba_predictions.signal_best_bets_picks SET signal_count = len(signal_tags), "
        "real_signal_count = len(list_filter(signal_tags, x -> x <> 'high_edge')), "
        "composite_score = round(CAST(edge AS DOUBLE) * CAST(confidence_score AS DOUBLE) / 10, 4)"
    )
    conn.execute(
        """
        INSERT INTO nba_predictions.best_bets_filter_audit BY NAME
        WITH c AS (SELECT game_date, count(*) AS candidates FROM _bb_candidates GROUP BY game_date),
        p AS (SELECT game_date, count(*) AS picks FROM nba_predictions.signal_best_bets_picks GROUP BY game_date),
        a AS (
            SELECT d.game_date, d.exported_at, coalesce(c.candidates, 0) AS total_candidates,
                   CASE WHEN coalesce(p.picks, 0) = 0 THEN 0
                        ELSE least(coalesce(c.candidates, 0), p.picks + d.h % 3) END AS passed_filters
            FROM _bb_days d LEFT JOIN c USING (game_date) LEFT JOIN p USING (game_date)
        )
        SELECT game_date, total_candidates, passed_filters,
               CASE WHEN total_candidates > 0 AND passed_filters = 0
                    THEN '{"model_health_gate": ' || total_candidates || '}'
                    ELSE '{"edge_floor": ' || (total_candidates - passed_filters) // 2
                         || ', "player_blacklist": ' || (total_candidates - passed_filters) // 4
                         || ', "top_n_cut": ' || (total_candidates - passed_filters
                            - (total_candidates - passed_filters) // 2 - (total_candidates - passed_filters) // 4)
                         || '}' END AS rejected_json,
               'v5_signal_best_bets' AS algorithm_version, exported_at AS computed_at
        FROM a ORDER BY game_date
        """
    )
    conn.execute("DROP TABLE _bb_candidates")
    conn.execute("DROP TABLE _bb_days")
    created = ctx.now - dt.timedelta(days=180)
    return [
        ("nba_predictions", "signal_best_bets_picks", created),
        ("nba_predictions", "best_bets_filter_audit", created + dt.timedelta(hours=1)),
        _health(ctx, tags),
    ]


def _health(ctx: PackContext, tags: str) -> tuple[str, str, dt.datetime]:
    conn = ctx.conn
    conn.execute(create_table_sql("nba_predictions", "signal_health_daily", fields(_HEALTH)))
    last = ctx.as_of - dt.timedelta(days=1 + (STALE_DAYS if HEALTH_STALE in ctx.faults else 0))
    first = ctx.as_of - dt.timedelta(days=HEALTH_DAYS)

    def window(days: int, extra: str = "TRUE") -> str:
        return f"x.game_date > d.game_date - {days} AND {extra}"

    def rate(days: int, extra: str = "TRUE") -> str:
        cond = window(days, extra)
        return f"round(100.0 * count_if({cond} AND x.prediction_correct) / nullif(count_if({cond}), 0), 1)"

    over, under = "x.recommendation = 'OVER'", "x.recommendation = 'UNDER'"
    conn.execute(
        f"""
        INSERT INTO nba_predictions.signal_health_daily BY NAME
        WITH dates AS (
            SELECT CAST(t.d AS DATE) AS game_date
            FROM range(DATE '{first.isoformat()}', DATE '{last.isoformat()}' + 1, INTERVAL 1 DAY) t(d)
        ), tagged AS (
            SELECT game_date, recommendation, prediction_correct, unnest(signal_tags) AS signal_tag
            FROM nba_predictions.signal_best_bets_picks WHERE prediction_correct IS NOT NULL
        ), h AS (
            SELECT d.game_date, t.signal_tag,
                   {rate(7)} AS hr_7d, {rate(14)} AS hr_14d, {rate(30)} AS hr_30d,
                   round(100.0 * count_if(x.prediction_correct) / nullif(count(x.game_date), 0), 1) AS hr_season,
                   count_if({window(7)}) AS picks_7d, count_if({window(14)}) AS picks_14d,
                   count_if({window(30)}) AS picks_30d, count(x.game_date) AS picks_season,
                   {rate(7, over)} AS hr_over_7d, {rate(7, under)} AS hr_under_7d,
                   count_if({window(7, over)}) AS picks_over_7d, count_if({window(7, under)}) AS picks_under_7d
            FROM dates d
            CROSS JOIN (SELECT unnest({tags}) AS signal_tag) t
            LEFT JOIN tagged x ON x.signal_tag = t.signal_tag AND x.game_date <= d.game_date
            GROUP BY d.game_date, t.signal_tag
        )
        SELECT *, round(hr_7d - hr_season, 1) AS divergence_7d_vs_season,
               CASE WHEN hr_7d - hr_season > 10 THEN 'HOT' WHEN hr_7d - hr_season < -10 THEN 'COLD'
                    ELSE 'NORMAL' END AS regime,
               CASE WHEN hr_7d - hr_season < -10 THEN 'DEGRADING' WHEN hr_7d < 50 THEN 'WATCH'
                    ELSE 'HEALTHY' END AS status,
               signal_tag = 'model_consensus' AS is_model_dependent,
               {local_ts("game_date + 1", "600", ctx.timezone)} AS computed_at
        FROM h ORDER BY game_date, signal_tag
        """
    )
    return ("nba_predictions", "signal_health_daily", ctx.now - dt.timedelta(days=170))
