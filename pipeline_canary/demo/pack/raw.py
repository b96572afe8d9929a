"""Pack tables of the demo warehouse: see pipeline_canary.demo.pack (this module: raw, phases 1-4).

Built from the core demo's temp ``_games``/``_players``/``_teams``, the schedule, the feature store
and the predictions, so games, players, dates and models agree (SQL in ``raw_sql``). Write times
follow a game day D in New York (UTC in the tables):

* ``nba_raw.nbac_schedule``: the base table under ``nba_reference.nba_schedule``, one row per row
  of it (duplicates included), the NBA numeric ``game_id``; final rows written ~1 AM ET on D+1;
* ``nba_raw.nbac_gamebook_player_stats``: the 26 rostered players of each played game (10-11
  active, the rest 'dnp' or 'inactive' with NULL stats), ``YYYYMMDD_AWAY_HOME`` ids, ~2-3 AM ET D+1;
* ``nba_analytics.player_game_summary``: one row per gamebook row, ~4-5 AM ET on D+1;
* ``nba_raw.odds_api_player_points_props``: 7 players a team, 2 books, snapshots 300, 120 and 35
  minutes before the tip (``snapshot_tag`` morning/pregame/closing), the numeric ``game_id`` the
  processor looks up in the schedule; nothing after ``now`` (today's closing lines are not due);
* ``nba_orchestration.phase_completions``: phase3 ``player_game_summary`` after the summary rows of
  D; the five phase4 processors for D around the feature store's rows of D (6-7:30 AM ET on D);
* ``nba_predictions.model_bb_candidates``: the 3 largest-edge actionable active predictions per
  model per game day, written 20 minutes after the prediction run they come from.

Scenarios (one phase each):

* ``scrapers-down``: the gamebook and odds-props scrapers were down from the afternoon of as_of-2
  to this morning: no gamebook (so no summary) rows for as_of-2 and as_of-1, and of their odds
  only the morning snapshots. The schedule scraper kept running.
* ``analytics-partial``: the Phase 3 run for as_of-1 stopped part way: its last 3 games (the
  latest tips) have no summary rows, and a retry re-appended the first game's rows under the NBA
  numeric id (same players, same date); its phase3 completion says 'partial'.
* ``precompute-degraded``: Phase 4's player_daily_cache was partial for as_of-1: ~60% of that
  day's feature rows used the cache-miss fallback and score at most 64 (not quality-ready). Only
  the quality columns change; ``required_default_count`` is left alone.
* ``candidates-stalled``: Phase 4 completed this morning, the best-bets export never ran: no
  model_bb_candidates rows for as_of.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pipeline_canary.demo.pack import raw_sql
from pipeline_canary.demo.pack.raw_schemas import TABLES
from pipeline_canary.demo.schemas import create_table_sql

if TYPE_CHECKING:
    from pipeline_canary.demo.pack import Created, PackContext

SCRAPERS_DOWN = "raw.scrapers_down"
ANALYTICS_PARTIAL = "raw.analytics_partial"
PRECOMPUTE_DEGRADED = "raw.precompute_degraded"
CANDIDATES_STALLED = "raw.candidates_stalled"

SCENARIOS: dict[str, frozenset[str]] = {
    "scrapers-down": frozenset({SCRAPERS_DOWN}),
    "analytics-partial": frozenset({ANALYTICS_PARTIAL}),
    "precompute-degraded": frozenset({PRECOMPUTE_DEGRADED}),
    "candidates-stalled": frozenset({CANDIDATES_STALLED}),
}


def build(ctx: PackContext) -> Created:
    """Create the six raw-phase tables (the feature store is degraded in place for its scenario)."""
    conn = ctx.conn
    for dataset in {d for d, _ in TABLES}:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
    for (dataset, table), fields in TABLES.items():
        conn.execute(create_table_sql(dataset, table, fields))
    lits = raw_sql.Literals.of(ctx.as_of, ctx.now)
    faults = ctx.faults
    if PRECOMPUTE_DEGRADED in faults:
        conn.execute(raw_sql.degrade_feature_store(lits))
    conn.execute(raw_sql.games_temp())
    conn.execute(raw_sql.gamebook(lits, scrapers_down=SCRAPERS_DOWN in faults))
    conn.execute(raw_sql.player_game_summary(lits, partial=ANALYTICS_PARTIAL in faults))
    if ANALYTICS_PARTIAL in faults:
        conn.execute(raw_sql.summary_duplicates(lits))
    conn.execute(raw_sql.raw_schedule(lits))
    conn.execute(raw_sql.odds(lits, scrapers_down=SCRAPERS_DOWN in faults))
    conn.execute(
        raw_sql.phase_completions(
            lits, partial_phase3=ANALYTICS_PARTIAL in faults, partial_cache=PRECOMPUTE_DEGRADED in faults
        )
    )
    conn.execute(raw_sql.bb_candidates(lits, stalled=CANDIDATES_STALLED in faults))
    first_day = conn.execute("SELECT min(game_date) FROM _days").fetchone()[0]
    base = dt.datetime.combine(first_day - dt.timedelta(days=30), dt.time(17), dt.UTC)
    return [(dataset, table, base + dt.timedelta(hours=2 + i)) for i, (dataset, table) in enumerate(TABLES)]
