"""Game days, teams, players and the schedule, generated in DuckDB SQL (deterministic hashes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

GAME_DAYS_PER_SEASON = 165
AS_OF_GAMES = 10
PLAYERS_PER_TEAM = 13
# Tip times (local, New York) a day's games are spread over, by game number: the earliest is 19:00.
TIP_TIMES_ET: tuple[str, ...] = ("19:00", "19:00", "19:30", "19:30", "20:00", "20:00", "21:00", "22:00", "22:30")


def _tip_sql() -> str:
    """SQL over ``_games``: ``game_date_est``, the tip as a TIMESTAMPTZ (a game's slot in TIP_TIMES_ET)."""
    slots = " ".join(f"WHEN {i} THEN {int(t[:2]) * 60 + int(t[3:])}" for i, t in enumerate(TIP_TIMES_ET))
    minutes = f"CASE game_idx % {len(TIP_TIMES_ET)} {slots} END"
    return f"(CAST(game_date AS TIMESTAMP) + to_minutes(CAST({minutes} AS BIGINT))) AT TIME ZONE 'America/New_York'"


TEAMS: tuple[tuple[str, str, int], ...] = (
    ("ATL", "Atlanta Hawks", 1610612737),
    ("BOS", "Boston Celtics", 1610612738),
    ("BKN", "Brooklyn Nets", 1610612751),
    ("CHA", "Charlotte Hornets", 1610612766),
    ("CHI", "Chicago Bulls", 1610612741),
    ("CLE", "Cleveland Cavaliers", 1610612739),
    ("DAL", "Dallas Mavericks", 1610612742),
    ("DEN", "Denver Nuggets", 1610612743),
    ("DET", "Detroit Pistons", 1610612765),
    ("GSW", "Golden State Warriors", 1610612744),
    ("HOU", "Houston Rockets", 1610612745),
    ("IND", "Indiana Pacers", 1610612754),
    ("LAC", "LA Clippers", 1610612746),
    ("LAL", "Los Angeles Lakers", 1610612747),
    ("MEM", "Memphis Grizzlies", 1610612763),
    ("MIA", "Miami Heat", 1610612748),
    ("MIL", "Milwaukee Bucks", 1610612749),
    ("MIN", "Minnesota Timberwolves", 1610612750),
    ("NOP", "New Orleans Pelicans", 1610612740),
    ("NYK", "New York Knicks", 1610612752),
    ("OKC", "Oklahoma City Thunder", 1610612760),
    ("ORL", "Orlando Magic", 1610612753),
    ("PHI", "Philadelphia 76ers", 1610612755),
    ("PHX", "Phoenix Suns", 1610612756),
    ("POR", "Portland Trail Blazers", 1610612757),
    ("SAC", "Sacramento Kings", 1610612758),
    ("SAS", "San Antonio Spurs", 1610612759),
    ("TOR", "Toronto Raptors", 1610612761),
    ("UTA", "Utah Jazz", 1610612762),
    ("WAS", "Washington Wizards", 1610612764),
)

# 20 first names x 21 last names (coprime) -> 420 unique pairs for 390 roster slots.
_FIRST = [
    "jalen",
    "marcus",
    "tyrese",
    "devin",
    "jaylen",
    "darius",
    "anthony",
    "trey",
    "miles",
    "keegan",
    "scottie",
    "cade",
    "evan",
    "zion",
    "bennedict",
    "franz",
    "jabari",
    "paolo",
    "walker",
    "amen",
]
_LAST = [
    "brooks",
    "carter",
    "daniels",
    "ellis",
    "fields",
    "grant",
    "harper",
    "irving",
    "jackson",
    "keller",
    "lawson",
    "mitchell",
    "nance",
    "owens",
    "parker",
    "quinn",
    "reed",
    "sutton",
    "thompson",
    "vance",
    "wallace",
]


def _values(rows: list[tuple[Any, ...]]) -> str:
    def lit(v: Any) -> str:
        return "'" + str(v).replace("'", "''") + "'" if isinstance(v, str) else str(v)

    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def build_reference(conn: Any, as_of: dt.date, seasons: int) -> None:
    """Create temp tables ``_teams``, ``_players``, ``_days`` and ``_games``."""
    teams = [(i, tri, name, tid) for i, (tri, name, tid) in enumerate(TEAMS)]
    conn.execute(
        "CREATE TEMP TABLE _teams AS SELECT * FROM (VALUES "
        + _values(teams)
        + ") t(team_idx, tricode, team_name, team_id)"
    )
    players = []
    for team_idx in range(len(TEAMS)):
        for slot in range(PLAYERS_PER_TEAM):
            i = team_idx * PLAYERS_PER_TEAM + slot
            players.append((team_idx, slot, _FIRST[i % len(_FIRST)] + _LAST[i % len(_LAST)]))
    conn.execute(
        "CREATE TEMP TABLE _players AS SELECT team_idx, slot, player_lookup, "
        "player_lookup || '_001' AS universal_player_id, "
        # season scoring average 3..28 points; starters score more
        "round(greatest(3.0, 27.0 - slot * 1.7 - (hash(player_lookup) % 600) / 100.0), 1) AS ppg "
        "FROM (VALUES " + _values(players) + ") p(team_idx, slot, player_lookup)"
    )
    n_days = GAME_DAYS_PER_SEASON * seasons
    span = 366 * (seasons + 1) + 30
    conn.execute(
        f"""
        CREATE TEMP TABLE _days AS
        WITH cand AS (
            SELECT CAST(DATE '{as_of.isoformat()}' - CAST(i AS INTEGER) AS DATE) AS game_date
            FROM range(0, {span}) t(i)
        ), kept AS (
            SELECT game_date FROM cand
            WHERE game_date = DATE '{as_of.isoformat()}' OR (
                ((month(game_date) = 10 AND day(game_date) >= 21)
                  OR month(game_date) IN (11, 12, 1, 2, 3)
                  OR (month(game_date) = 4 AND day(game_date) <= 13))
                AND NOT (month(game_date) = 12 AND day(game_date) = 24)
                AND hash(game_date, 'off') % 100 >= 6)
        ), numbered AS (
            SELECT game_date, CAST(row_number() OVER (ORDER BY game_date DESC) - 1 AS INTEGER) AS day_idx
            FROM kept
        )
        SELECT game_date, day_idx,
               CAST(CASE WHEN month(game_date) >= 8 THEN year(game_date) ELSE year(game_date) - 1 END
                    AS INTEGER) AS season_year,
               CAST(CASE
                   WHEN day_idx = 0 THEN {AS_OF_GAMES}
                   WHEN hash(game_date, 'games') % 100 < 6 THEN 4 + hash(game_date, 'g2') % 3
                   WHEN hash(game_date, 'games') % 100 < 92 THEN 7 + hash(game_date, 'g2') % 6
                   ELSE 13 + hash(game_date, 'g2') % 3 END AS INTEGER) AS n_games,
               CAST(day_idx // {GAME_DAYS_PER_SEASON} AS INTEGER) AS chunk
        FROM numbered WHERE day_idx < {n_days}
        """
    )
    conn.execute(
        """
        CREATE TEMP TABLE _games AS
        WITH ranked AS (
            SELECT d.game_date, d.day_idx, d.season_year, d.n_games, d.chunk, t.team_idx, t.tricode,
                   t.team_name,
                   CAST(row_number() OVER (PARTITION BY d.game_date
                        ORDER BY hash(d.game_date, t.team_idx, 'matchup')) - 1 AS INTEGER) AS r
            FROM _days d CROSS JOIN _teams t
        ), paired AS (
            SELECT a.game_date, a.day_idx, a.season_year, a.n_games, a.chunk,
                   CAST(a.r // 2 AS INTEGER) AS game_idx,
                   a.team_idx AS away_idx, a.tricode AS away, a.team_name AS away_name,
                   h.team_idx AS home_idx, h.tricode AS home, h.team_name AS home_name
            FROM ranked a JOIN ranked h ON h.game_date = a.game_date AND h.r = a.r + 1
            WHERE a.r % 2 = 0 AND a.r // 2 < a.n_games
        )
        SELECT *,
               '002' || lpad(CAST(season_year % 100 AS VARCHAR), 2, '0')
                 || lpad(CAST(row_number() OVER (PARTITION BY season_year ORDER BY game_date, game_idx)
                              AS VARCHAR), 5, '0') AS nba_game_id,
               strftime(game_date, '%Y%m%d') || '_' || away || '_' || home AS game_id
        FROM paired
        """
    )


def insert_schedule(conn: Any) -> int:
    """Fill ``nba_reference.nba_schedule`` from ``_games``; returns the row count."""
    conn.execute(
        f"""
        INSERT INTO nba_reference.nba_schedule BY NAME
        SELECT nba_game_id AS game_id, game_date, season_year,
               home AS home_team_tricode, away AS away_team_tricode,
               home_name AS home_team_name, away_name AS away_team_name,
               CASE WHEN day_idx = 0 THEN 1 ELSE 3 END AS game_status,
               {_tip_sql()} AS game_date_est,
               FALSE AS is_playoffs, TRUE AS is_regular_season, FALSE AS is_all_star,
               CAST(NULL AS VARCHAR) AS playoff_round, 'regular' AS game_type
        FROM _games ORDER BY game_date, game_idx
        """
    )
    return int(conn.execute("SELECT count(*) FROM nba_reference.nba_schedule").fetchone()[0])


# Duplicate schedule rows (pipeline facts 1a, 1b): the base table was appended to before its writer
# MERGEd on (game_id, game_date), and the reference view passes every row through. A re-scrape
# before tip-off left a second copy of a scheduled game; a game scraped while scheduled and again
# once final kept both rows, status 1 beside status 3.
DUPLICATED_AS_OF_GAMES = 1
STALE_STATUS_EVERY = 40  # about one final game in 40 keeps its stale status-1 row


def insert_schedule_duplicates(
    conn: Any,
    as_of: dt.date,
    *,
    as_of_games: int = DUPLICATED_AS_OF_GAMES,
    stale_every: int | None = STALE_STATUS_EVERY,
) -> list[str]:
    """Append duplicate rows to ``nba_reference.nba_schedule`` the way append-then-merge left them.

    The first ``as_of_games`` games of ``as_of`` (by game id) get a second, identical row; before
    ``as_of``, every ``stale_every``-th final game (by a hash of its id, ``None`` for none) gets a
    second row with ``game_status = 1``. Works on a seeded warehouse too (a test's copy). Returns
    the game ids of ``as_of`` that were duplicated.
    """
    if as_of_games < 0 or (stale_every is not None and stale_every < 1):
        raise ValueError("as_of_games must be >= 0 and stale_every >= 1 (or None)")
    table = "nba_reference.nba_schedule"
    rows = conn.execute(
        f"SELECT game_id FROM {table} WHERE game_date = ? ORDER BY game_id LIMIT ?", [as_of, as_of_games]
    ).fetchall()
    ids = [str(r[0]) for r in rows]
    conn.execute(
        f"INSERT INTO {table} SELECT * FROM {table} WHERE game_date = ? AND list_contains(?, game_id)",
        [as_of, ids],
    )
    if stale_every is not None:
        conn.execute(
            f"INSERT INTO {table} SELECT * REPLACE (1 AS game_status) FROM {table} "
            "WHERE game_date < ? AND game_status = 3 AND hash(game_id, 'stale') % ? = 0",
            [as_of, stale_every],
        )
    return ids
