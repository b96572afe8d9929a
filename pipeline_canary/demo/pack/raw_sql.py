"""DuckDB SQL of the raw-phase pack tables (pipeline_canary.demo.pack.raw); our own generator code.

Only dates and timestamps of the seed's clock are formatted in (``Literals``), as the core demo does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

CANDIDATES_PER_MODEL = 3
ODDS_PLAYERS_PER_TEAM = 7
SNAPSHOTS: tuple[tuple[int, str], ...] = ((300, "morning"), (120, "pregame"), (35, "closing"))
PARTIAL_MISSING_GAMES = 3  # analytics-partial: the day's last games by tip have no summary rows
DEGRADED_PCT = 60  # precompute-degraded: share of the day's feature rows on the cache-miss fallback
DEGRADED_SCORE = 64.0


@dataclass(frozen=True)
class Literals:
    """SQL literals of the seed's clock: as_of, the two days before it, and now (UTC)."""

    as_of: str
    day_1: str
    day_2: str
    now: str

    @classmethod
    def of(cls, as_of: dt.date, now: dt.datetime) -> Literals:
        def day(n: int) -> str:
            return f"DATE '{(as_of - dt.timedelta(days=n)).isoformat()}'"

        stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        return cls(day(0), day(1), day(2), f"(TIMESTAMP '{stamp}' AT TIME ZONE 'UTC')")


def _utc(date_sql: str, hours: float, minutes_sql: str = "0") -> str:
    """A TIMESTAMPTZ: ``date_sql`` at ``hours`` UTC plus ``minutes_sql`` minutes."""
    return (
        f"((CAST({date_sql} AS TIMESTAMP) + to_minutes(CAST({int(hours * 60)} + ({minutes_sql}) AS BIGINT)))"
        " AT TIME ZONE 'UTC')"
    )


def games_temp() -> str:
    """Temp ``_rk_games``: every game with its tip (from the schedule) and both teams' NBA ids."""
    return """
    CREATE TEMP TABLE _rk_games AS
    SELECT g.*, s.tip, th.team_id AS home_id, ta.team_id AS away_id
    FROM _games g
    JOIN (SELECT game_id, game_date, min(game_date_est) AS tip FROM nba_reference.nba_schedule GROUP BY ALL) s
      ON s.game_id = g.nba_game_id AND s.game_date = g.game_date
    JOIN _teams th ON th.team_idx = g.home_idx
    JOIN _teams ta ON ta.team_idx = g.away_idx
    """


def gamebook(t: Literals, *, scrapers_down: bool) -> str:
    down = f"AND b.game_date NOT IN ({t.day_2}, {t.day_1})" if scrapers_down else ""
    status = (
        "CASE WHEN slot = 12 THEN 'inactive' WHEN slot >= 10 OR (slot = 9 AND bh % 4 = 0) THEN 'dnp' ELSE 'active' END"
    )
    return f"""
    INSERT INTO nba_raw.nbac_gamebook_player_stats BY NAME
    WITH box AS (
        SELECT g.game_id, g.game_date, g.season_year, g.game_idx, g.home, g.away, p.player_lookup, p.slot,
               p.ppg, CASE WHEN side.is_home THEN g.home ELSE g.away END AS team,
               hash(p.player_lookup, g.game_date, 'box') AS bh
        FROM _rk_games g CROSS JOIN (VALUES (TRUE), (FALSE)) side(is_home)
        JOIN _players p ON p.team_idx = CASE WHEN side.is_home THEN g.home_idx ELSE g.away_idx END
        WHERE g.game_date < {t.as_of}
    ), st AS (
        SELECT *, {status} AS player_status,
               CASE WHEN slot <= 4 THEN 28 + (bh % 1000) / 100.0 ELSE 8 + ((bh >> 10) % 1600) / 100.0 END AS mins,
               CAST(greatest(0, round(ppg + (((bh >> 20) % 1000) / 1000.0 - 0.5) * 12)) AS BIGINT) AS pts
        FROM box
    ), b AS (
        SELECT *, player_status = 'active' AS played,
               {_utc("game_date + 1", 7, "game_idx * 7")} AS processed_at
        FROM st
    )
    SELECT game_id, strftime(game_date, '%Y%m%d') || '/' || away || home AS game_code, game_date, season_year,
           home AS home_team_abbr, away AS away_team_abbr,
           upper(player_lookup[1]) || player_lookup[2:] AS player_name,
           upper(player_lookup[1]) || player_lookup[2:] AS player_name_original, player_lookup,
           team AS team_abbr, player_status,
           CASE player_status WHEN 'dnp' THEN 'DNP - Coach''s Decision' WHEN 'inactive' THEN 'Inactive - Injury/Illness'
           END AS dnp_reason,
           'resolved' AS name_resolution_status, 1.0 AS name_resolution_confidence,
           CASE WHEN played THEN CAST(floor(mins) AS BIGINT) || ':'
                || lpad(CAST(CAST(floor((mins - floor(mins)) * 60) AS BIGINT) AS VARCHAR), 2, '0') END AS minutes,
           CASE WHEN played THEN round(mins, 2) END AS minutes_decimal,
           CASE WHEN played THEN pts END AS points,
           CASE WHEN played THEN CAST(round(pts * 0.38) AS BIGINT) END AS field_goals_made,
           CASE WHEN played THEN CAST(round(pts * 0.8) + 2 AS BIGINT) END AS field_goals_attempted,
           CASE WHEN played THEN CAST(pts // 9 AS BIGINT) END AS three_pointers_made,
           CASE WHEN played THEN CAST(pts // 4 AS BIGINT) END AS three_pointers_attempted,
           CASE WHEN played THEN CAST(pts // 6 AS BIGINT) END AS free_throws_made,
           CASE WHEN played THEN CAST(pts // 5 AS BIGINT) END AS free_throws_attempted,
           CASE WHEN played THEN CAST(1 + (bh >> 30) % 10 AS BIGINT) END AS total_rebounds,
           CASE WHEN played THEN CAST((bh >> 34) % 8 AS BIGINT) END AS assists,
           CASE WHEN played THEN CAST((bh >> 38) % 3 AS BIGINT) END AS steals,
           CASE WHEN played THEN CAST((bh >> 40) % 2 AS BIGINT) END AS blocks,
           CASE WHEN played THEN CAST((bh >> 42) % 4 AS BIGINT) END AS turnovers,
           CASE WHEN played THEN CAST((bh >> 44) % 5 AS BIGINT) END AS personal_fouls,
           CASE WHEN played THEN CAST((bh >> 46) % 31 AS BIGINT) - 15 END AS plus_minus,
           'gamebook-' || strftime(game_date, '%Y%m%d') AS processed_by_run_id,
           'nba-com/gamebooks-data/' || strftime(game_date, '%Y-%m-%d') || '/' || game_id || '.json'
             AS source_file_path,
           md5(game_id || player_lookup) AS data_hash, processed_at, FALSE AS requires_manual_review
    FROM b
    WHERE processed_at <= {t.now} {down}
    ORDER BY game_date, game_id, team_abbr, player_lookup
    """


def player_game_summary(t: Literals, *, partial: bool) -> str:
    cut = f"AND NOT (g.game_date = {t.day_1} AND g.game_idx >= g.n_games - {PARTIAL_MISSING_GAMES})" if partial else ""
    return f"""
    INSERT INTO nba_analytics.player_game_summary BY NAME
    WITH s AS (
        SELECT b.*, g.game_idx, g.n_games, p.ppg,
               CASE WHEN b.team_abbr = b.home_team_abbr THEN b.away_team_abbr ELSE b.home_team_abbr END AS opp,
               floor(p.ppg) + 0.5 AS line,
               b.player_status <> 'active' OR coalesce(b.minutes_decimal, 0) = 0 AS dnp,
               {_utc("b.game_date + 1", 9, "g.game_idx * 3")} AS pgs_at
        FROM nba_raw.nbac_gamebook_player_stats b
        JOIN _rk_games g ON g.game_id = b.game_id AND g.game_date = b.game_date
        JOIN _players p ON p.player_lookup = b.player_lookup
        WHERE TRUE {cut}
    )
    SELECT player_lookup, player_lookup || '_001' AS universal_player_id, player_name AS player_full_name,
           game_id, game_date, team_abbr, opp AS opponent_team_abbr, season_year, points,
           CAST(round(minutes_decimal, 1) AS DECIMAL(5,1)) AS minutes_played, assists, steals, blocks, turnovers,
           field_goals_attempted AS fg_attempts, field_goals_made AS fg_makes,
           three_pointers_attempted AS three_pt_attempts, three_pointers_made AS three_pt_makes,
           free_throws_attempted AS ft_attempts, free_throws_made AS ft_makes, plus_minus, personal_fouls,
           coalesce(minutes_decimal, 0) > 20 AS starter_flag, FALSE AS win_flag,
           CAST(line AS DECIMAL(4,1)) AS points_line,
           CASE WHEN NOT dnp THEN CASE WHEN points > line THEN 'OVER' ELSE 'UNDER' END END AS over_under_result,
           CASE WHEN NOT dnp THEN CAST(points - line AS DECIMAL(6,2)) END AS margin,
           'odds_api' AS points_line_source,
           player_status = 'active' AS is_active, player_status, dnp AS is_dnp, dnp_reason,
           processed_at AS source_nbac_last_updated, CAST(1 AS BIGINT) AS source_nbac_rows_found,
           CAST(100 AS DECIMAL(5,2)) AS source_nbac_completeness_pct,
           'high' AS data_quality_tier, 'nbac_gamebook' AS primary_source_used, FALSE AS is_partial_game_data,
           CAST(100 AS DECIMAL(5,2)) AS game_completeness_pct, 'Final' AS game_status_at_processing,
           CAST(game_date AS VARCHAR) || '_' || player_lookup AS dedup_key, CAST(1 AS BIGINT) AS record_version,
           pgs_at AS first_processed_at, md5(game_id || player_lookup || 'pgs') AS data_hash,
           pgs_at AS created_at, pgs_at AS processed_at
    FROM s
    WHERE pgs_at <= {t.now}
    ORDER BY game_date, game_id, team_abbr, player_lookup
    """


def summary_duplicates(t: Literals) -> str:
    """analytics-partial: a retry re-appended the first game of as_of-1 under its NBA numeric id."""
    return f"""
    INSERT INTO nba_analytics.player_game_summary
    SELECT s.* REPLACE (g.nba_game_id AS game_id, CAST(2 AS BIGINT) AS record_version,
                        s.processed_at + INTERVAL 2 HOUR AS processed_at, s.created_at + INTERVAL 2 HOUR AS created_at)
    FROM nba_analytics.player_game_summary s
    JOIN _rk_games g ON g.game_id = s.game_id AND g.game_date = s.game_date
    WHERE s.game_date = {t.day_1} AND g.game_idx = 0
    """


def raw_schedule(t: Literals) -> str:
    """One raw row per reference row (its duplicates too); scores from the gamebook when it has them."""
    return f"""
    INSERT INTO nba_raw.nbac_schedule BY NAME
    WITH pts AS (
        SELECT game_date, game_id, team_abbr, sum(points) AS points
        FROM nba_raw.nbac_gamebook_player_stats GROUP BY ALL
    ), r AS (
        SELECT s.*, th.team_id AS home_id, ta.team_id AS away_id,
               strftime(s.game_date, '%Y%m%d') || '_' || s.away_team_tricode || '_' || s.home_team_tricode AS gb_id,
               CASE WHEN s.game_status = 3 THEN {_utc("s.game_date + 1", 6)} ELSE {_utc("s.game_date", 10)} END
                 AS written_at
        FROM nba_reference.nba_schedule s
        JOIN _teams th ON th.tricode = s.home_team_tricode
        JOIN _teams ta ON ta.tricode = s.away_team_tricode
    ), scored AS (
        SELECT r.*,
               CASE WHEN game_status = 3 THEN CAST(coalesce(ph.points, 100 + hash(r.game_id, 'h') % 30) AS BIGINT)
               END AS home_score,
               CASE WHEN game_status = 3 THEN CAST(coalesce(pa.points, 100 + hash(r.game_id, 'a') % 30) AS BIGINT)
               END AS away_score
        FROM r
        LEFT JOIN pts ph ON ph.game_date = r.game_date AND ph.game_id = r.gb_id AND ph.team_abbr = r.home_team_tricode
        LEFT JOIN pts pa ON pa.game_date = r.game_date AND pa.game_id = r.gb_id AND pa.team_abbr = r.away_team_tricode
    )
    SELECT game_id, strftime(game_date, '%Y%m%d') || '/' || away_team_tricode || home_team_tricode AS game_code,
           CAST(season_year AS VARCHAR) AS season,
           CAST(season_year AS VARCHAR) || '-' || lpad(CAST((season_year + 1) % 100 AS VARCHAR), 2, '0')
             AS season_nba_format,
           season_year, game_date, game_date_est, game_status,
           CASE game_status WHEN 1 THEN 'Scheduled' WHEN 2 THEN 'In Progress' WHEN 3 THEN 'Final' ELSE 'Unknown' END
             AS game_status_text,
           home_id AS home_team_id, home_team_tricode, home_team_name,
           away_id AS away_team_id, away_team_tricode, away_team_name,
           is_regular_season, is_playoffs, is_all_star, playoff_round, home_score AS home_team_score,
           away_score AS away_team_score,
           CASE WHEN home_score > away_score THEN home_team_tricode WHEN away_score > home_score THEN away_team_tricode
           END AS winning_team_tricode,
           'api_stats' AS data_source, least(written_at, {t.now}) AS source_updated_at,
           'nba-com/schedule/' || strftime(game_date, '%Y-%m-%d') || '/schedule.json' AS source_file_path,
           least(written_at, {t.now}) AS scrape_timestamp, least(written_at, {t.now}) AS created_at,
           md5(game_id || CAST(game_status AS VARCHAR)) AS data_hash, least(written_at, {t.now}) AS processed_at
    FROM scored
    ORDER BY game_date, game_id
    """


def odds(t: Literals, *, scrapers_down: bool) -> str:
    snaps = ", ".join(f"({m}, '{tag}')" for m, tag in SNAPSHOTS)
    down = f"AND NOT (g.game_date IN ({t.day_2}, {t.day_1}) AND s.m < {SNAPSHOTS[0][0]})" if scrapers_down else ""
    return f"""
    INSERT INTO nba_raw.odds_api_player_points_props BY NAME
    WITH o AS (
        SELECT g.nba_game_id, g.game_date, g.tip, g.home, g.away, p.player_lookup, p.ppg, bk.bookmaker, s.m, s.tag,
               g.tip - to_minutes(CAST(s.m AS BIGINT)) - INTERVAL 20 SECOND AS snap_at
        FROM _rk_games g
        CROSS JOIN (VALUES (TRUE), (FALSE)) side(is_home)
        JOIN _players p ON p.team_idx = CASE WHEN side.is_home THEN g.home_idx ELSE g.away_idx END
                       AND p.slot < {ODDS_PLAYERS_PER_TEAM}
        CROSS JOIN (VALUES ('draftkings'), ('fanduel')) bk(bookmaker)
        CROSS JOIN (VALUES {snaps}) s(m, tag)
        WHERE g.game_date <= {t.as_of} {down}
    )
    SELECT nba_game_id AS game_id, printf('%016x', hash(nba_game_id, 'event')) AS odds_api_event_id, game_date,
           tip AS game_start_time, home AS home_team_abbr, away AS away_team_abbr, snap_at AS snapshot_timestamp,
           tag AS snapshot_tag, snap_at + INTERVAL 2 MINUTE AS capture_timestamp,
           CAST(m AS BIGINT) AS minutes_before_tipoff, bookmaker,
           upper(player_lookup[1]) || player_lookup[2:] AS player_name, player_lookup,
           floor(ppg) + 0.5 AS points_line, 1.91 AS over_price, 1.91 AS under_price,
           CAST(-110 AS BIGINT) AS over_price_american, CAST(-110 AS BIGINT) AS under_price_american,
           'current' AS data_source, printf('%016x', hash(nba_game_id, player_lookup, bookmaker, tag)) AS data_hash,
           snap_at + INTERVAL 5 MINUTE AS processed_at
    FROM o
    WHERE snap_at + INTERVAL 5 MINUTE <= {t.now}
    ORDER BY game_date, game_id, player_lookup, bookmaker, snapshot_timestamp
    """


_PHASE4 = (
    ("team_defense_zone_analysis", -40),
    ("player_shot_zone_analysis", -30),
    ("player_composite_factors", -20),
    ("player_daily_cache", -10),
)


def phase_completions(t: Literals, *, partial_phase3: bool, partial_cache: bool) -> str:
    """phase3 after the summary rows of each date; phase4's five processors around the feature rows."""
    p3_status = f"CASE WHEN game_date = {t.day_1} THEN 'partial' ELSE 'success' END" if partial_phase3 else "'success'"
    cache_partial = f"processor_name = 'player_daily_cache' AND game_date = {t.day_1}" if partial_cache else "FALSE"
    procs = ", ".join(f"('{name}', {offset})" for name, offset in _PHASE4)
    return f"""
    INSERT INTO nba_orchestration.phase_completions BY NAME
    WITH p3 AS (
        SELECT 'phase3' AS phase, 'player_game_summary' AS processor_name, game_date, {p3_status} AS status,
               count(*) AS record_count, max(processed_at) + INTERVAL 2 MINUTE AS completed_at
        FROM nba_analytics.player_game_summary GROUP BY game_date
    ), fs AS (
        SELECT game_date, count(*) AS n, min(created_at) AS first_at, max(created_at) AS last_at
        FROM nba_predictions.ml_feature_store_v2 WHERE game_date <= {t.as_of} GROUP BY game_date
    ), p4 AS (
        SELECT 'phase4' AS phase, pr.name AS processor_name, fs.game_date, 'success' AS status,
               CAST(fs.n // 2 AS BIGINT) AS record_count, fs.first_at + to_minutes(CAST(pr.off_min AS BIGINT))
                 AS completed_at
        FROM fs CROSS JOIN (VALUES {procs}) pr(name, off_min)
        UNION ALL
        SELECT 'phase4', 'ml_feature_store', game_date, 'success', n, last_at + INTERVAL 1 MINUTE FROM fs
    ), done AS (
        SELECT * FROM p3 UNION ALL
        SELECT phase, processor_name, game_date,
               CASE WHEN {cache_partial} THEN 'partial' ELSE status END,
               CASE WHEN {cache_partial} THEN record_count // 3 ELSE record_count END, completed_at
        FROM p4
    )
    SELECT phase, processor_name, game_date, status, CAST(record_count AS BIGINT) AS record_count,
           substr(md5(phase || CAST(game_date AS VARCHAR)), 1, 12) AS correlation_id,
           substr(md5(processor_name || CAST(game_date AS VARCHAR)), 1, 16) AS execution_id,
           completed_at, FALSE AS is_incremental, completed_at + INTERVAL 3 SECOND AS inserted_at
    FROM done
    WHERE completed_at <= {t.now}
    ORDER BY game_date, phase, completed_at
    """


def bb_candidates(t: Literals, *, stalled: bool) -> str:
    """Per model per game day the largest-edge actionable active predictions, 20 minutes after their run."""
    stall = f"AND p.game_date <> {t.as_of}" if stalled else ""
    return f"""
    INSERT INTO nba_predictions.model_bb_candidates BY NAME
    WITH c AS (
        SELECT p.system_id, p.player_lookup, p.game_id, p.game_date, CAST(p.predicted_points AS DOUBLE) AS predicted,
               CAST(p.current_points_line AS DOUBLE) AS line, p.recommendation,
               abs(CAST(p.line_margin AS DOUBLE)) AS edge, CAST(p.confidence_score AS DOUBLE) AS confidence,
               p.feature_quality_score AS fqs, p.created_at, g.home, g.away,
               row_number() OVER (PARTITION BY p.system_id, p.game_date
                                  ORDER BY abs(p.line_margin) DESC, p.player_lookup) AS rk
        FROM nba_predictions.player_prop_predictions p
        JOIN _rk_games g ON g.game_id = p.game_id AND g.game_date = p.game_date
        WHERE p.is_active AND p.is_actionable AND p.recommendation IN ('OVER', 'UNDER')
          AND p.game_date <= {t.as_of} {stall}
    ), named AS (
        SELECT c.*, pl.team_idx, tm.tricode AS team, c.created_at + INTERVAL 20 MINUTE AS export_at
        FROM c JOIN _players pl ON pl.player_lookup = c.player_lookup JOIN _teams tm ON tm.team_idx = pl.team_idx
        WHERE rk <= {CANDIDATES_PER_MODEL}
    )
    SELECT game_date, player_lookup, game_id, system_id, system_id AS source_pipeline,
           CASE WHEN system_id LIKE 'lgbm%' THEN 'lgbm' WHEN system_id LIKE 'xgb%' THEN 'xgb' ELSE 'catboost' END
             AS source_model_family,
           upper(player_lookup[1]) || player_lookup[2:] AS player_name, team AS team_abbr,
           CASE WHEN team = home THEN away ELSE home END AS opponent_team_abbr,
           predicted AS predicted_points, line AS line_value, recommendation, edge, confidence AS confidence_score,
           round(edge * confidence / 10, 2) AS composite_score, CAST(1 + hash(player_lookup) % 3 AS BIGINT)
             AS signal_count, CAST(hash(player_lookup) % 2 AS BIGINT) AS real_signal_count,
           ['edge_' || CAST(CAST(floor(edge) AS BIGINT) AS VARCHAR)] AS signal_tags, fqs AS feature_quality_score,
           CAST(rk AS BIGINT) AS rank_in_pipeline, rk = 1 AS was_selected,
           CASE WHEN rk = 1 THEN 'selected' ELSE 'volume_cap' END AS selection_reason,
           CAST(rk AS BIGINT) AS merge_rank, CAST(1 AS BIGINT) AS pipeline_agreement_count,
           CASE WHEN team = home THEN 'home' ELSE 'away' END AS home_away, 'bb_v3' AS algorithm_version,
           export_at AS created_at, export_at AS export_run_at
    FROM named
    WHERE export_at <= {t.now}
    ORDER BY game_date, system_id, rank_in_pipeline
    """


def degrade_feature_store(t: Literals) -> str:
    """precompute-degraded: the day before's rows on the cache-miss fallback score lower (quality columns only)."""
    return f"""
    UPDATE nba_predictions.ml_feature_store_v2
    SET cache_miss_fallback_used = TRUE,
        feature_quality_score = least(feature_quality_score, {DEGRADED_SCORE}),
        quality_tier = CASE WHEN feature_quality_score < 50 THEN 'critical' ELSE 'poor' END,
        is_quality_ready = FALSE, is_training_ready = FALSE,
        quality_alert_level = CASE WHEN quality_alert_level = 'red' THEN 'red' ELSE 'yellow' END
    WHERE game_date = {t.day_1} AND hash(player_lookup, 'cache_miss') % 100 < {DEGRADED_PCT}
    """
