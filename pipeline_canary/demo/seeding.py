"""``seed()``: build the embedded demo warehouse (a DuckDB file) for one scenario.

What each scenario guarantees (1 season or more; ``as_of`` = date of ``now`` in ``timezone``):

* every scenario: ~165 game days walking back from ``as_of``; ``as_of`` has exactly 10 games with
  ``game_status = 1`` (earlier days are final, 3); 8 models (``model_registry``) predict ~75
  players per game day each, spread over every game, plus ~25% superseded inactive rows; the
  feature store has a row per player and game except for the ~5% of players out that day;
  3 fresh staging tables of today's batch (created 12, 41 and 83 minutes before ``now``);
  neighbours ``staging_notes``, ``model_registry``, ``prediction_accuracy`` (last 30 days graded).
* healthy: required-feature contamination over the 14 days before ``as_of`` is exactly 2.0%
  (rounded row count); ~30% of rows default only the optional vegas features 25-27.
* prediction-gap: no active predictions on ``as_of``; its rows are all ``is_active = FALSE``.
* missing-game: one game of ``as_of`` (its first, tipping at 19:00 ET, due by 17:00) has no active
  predictions, only inactive rows; the other nine are predicted as usual.
* contamination: 24.6% of the feature rows in ``[as_of - 14 days, as_of)`` have 1-6 required
  defaults, most often 13, 14, then 22-24, then 5-8; earlier days stay at ~2%.
* schema-drift: ``player_prop_predictions`` lacks ``vegas_line_source`` and ``required_default_count``.
* orphaned-staging: 668 more staging tables created 25 h to ~30 days before ``now`` (batch_,
  regen_, linecheck_ and fallback_ batch ids); most are empty, every 50th holds 3 rows.
* predictions-drop: each of ``as_of``'s games gets predictions for 3 players instead of 8 (every
  model, every game still covered): about 60% fewer active predictions than a 10-game day has.
* contamination-creep: the share of feature rows with required defaults rises day by day from 2.0%
  ten days before ``as_of`` to 9.0% on ``as_of`` (``features.CREEP_PCT``); the 14 days before ``as_of``
  average about 3.7%, under feature_contamination's 5% warning.
* features-thin: ``as_of``'s feature store lacks 40% of each game's rows (never written); the
  remaining players are predicted as usual.
* model-stops: one long-standing model (``predictions.STOPPED_MODEL``) writes nothing on ``as_of``;
  the other seven predict as usual.
* incident: all four faults at once, on a schedule that also holds the duplicate rows the
  pipeline's append-then-merge writes leave (facts 1a): one of ``as_of``'s 10 games is listed twice
  (11 rows), and about one past final game in 40 keeps a stale ``game_status = 1`` row beside it.

Creation times of every table are in ``_canary_meta.table_created``; ``_canary_meta.demo`` holds
the arguments (``seeded_at`` is the only wall-clock value in the file).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline_canary.demo import calendar, features, pack, predictions, staging
from pipeline_canary.demo.schemas import (
    create_table_sql,
    feature_store_schema,
    predictions_schema,
    schedule_schema,
)

log = logging.getLogger(__name__)

SCENARIOS: tuple[str, ...] = (
    "healthy",
    "prediction-gap",
    "missing-game",
    "contamination",
    "schema-drift",
    "orphaned-staging",
    "incident",
)
# Scenarios no fixed threshold catches: one metric moves far from its own history, which only a
# learned baseline judges (pipeline_canary/demo/caught.py: CAUGHT_BY_BASELINE).
BASELINE_SCENARIOS: tuple[str, ...] = ("predictions-drop", "contamination-creep", "features-thin", "model-stops")
# Which faults each scenario switches on.
_FAULTS: dict[str, frozenset[str]] = {
    "healthy": frozenset(),
    "prediction-gap": frozenset({"gap"}),
    "missing-game": frozenset({"missing_game"}),
    "contamination": frozenset({"contamination"}),
    "schema-drift": frozenset({"drift"}),
    "orphaned-staging": frozenset({"orphans"}),
    "incident": frozenset({"gap", "contamination", "drift", "orphans", "duplicates"}),
    **pack.SCENARIOS,  # one per phase of the NBA pack (pipeline_canary/demo/pack)
    "predictions-drop": frozenset({"drop"}),
    "contamination-creep": frozenset({"creep"}),
    "features-thin": frozenset({"thin"}),
    "model-stops": frozenset({"model_stops"}),
}
SCENARIOS += tuple(s for s in pack.SCENARIOS if s not in SCENARIOS) + BASELINE_SCENARIOS

BLOCK_SIZE = 262144  # DuckDB's default; smaller blocks disable ALP compression of DOUBLEs
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoInfo:
    """What ``seed`` built."""

    path: Path
    scenario: str
    seasons: int
    as_of: dt.date
    now: dt.datetime
    game_days: int
    rows: dict[str, int]


# The demo shows a game day as of its evening: after the coordinator's last run (LAST_CALL, 4 PM ET)
# and every prediction deadline, before the first tip. Earlier in the day an empty day is honestly
# not an outage yet (prediction_gap is pending until 10:00).
DEMO_EVENING = dt.time(18, 0)


def demo_clock(timezone: str = "America/New_York", wall: dt.datetime | None = None) -> dt.datetime:
    """The demo's "now": the wall clock from 18:00 local on, else 18:00 local the day before (UTC)."""
    wall = (wall or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    zone = ZoneInfo(timezone)
    local = wall.astimezone(zone)
    if local.time() >= DEMO_EVENING:
        return wall
    return dt.datetime.combine(local.date() - dt.timedelta(days=1), DEMO_EVENING, zone).astimezone(dt.UTC)


def scenario_faults(scenario: str) -> frozenset[str]:
    """The faults ('gap', 'missing_game', 'contamination', 'drift', 'orphans', 'duplicates', 'drop', 'creep',
    'thin', 'model_stops', and the pack's) a scenario has."""
    if scenario not in _FAULTS:
        raise ValueError(f"unknown demo scenario {scenario!r}; choose one of: {', '.join(SCENARIOS)}")
    return _FAULTS[scenario]


def seed(
    path: str | Path,
    *,
    scenario: str = "incident",
    seasons: int = 1,
    now: dt.datetime | None = None,
    timezone: str = "America/New_York",
    progress: Progress | None = None,
) -> DemoInfo:
    """(Re)create the demo DuckDB warehouse at ``path`` and return what it holds.

    The data ends on ``as_of`` (the date of ``now`` in ``timezone``), a game day with 10 scheduled
    games. The file is built next to ``path`` and renamed into place at the end.
    """
    faults = scenario_faults(scenario)
    if isinstance(seasons, bool) or not isinstance(seasons, int) or seasons < 1:
        raise ValueError(f"seasons must be an integer >= 1 (valid: 1, 2, 3, ...), got {seasons!r}")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {timezone!r}: use an IANA name like America/New_York") from exc
    if now is None:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    now = now.astimezone(dt.UTC)
    as_of = now.astimezone(zone).date()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.seeding-{os.getpid()}")
    _remove(tmp)
    log.info("seeding demo warehouse %s: scenario=%s seasons=%d as_of=%s", target, scenario, seasons, as_of)
    try:
        info = _build(tmp, target, scenario, faults, seasons, as_of, now, timezone, progress)
    except BaseException:
        _remove(tmp)
        raise
    _remove(Path(f"{target}.wal"))
    os.replace(tmp, target)
    log.info("demo warehouse ready: %s (%s)", target, info.rows)
    return info


def _build(
    tmp: Path,
    target: Path,
    scenario: str,
    faults: frozenset[str],
    seasons: int,
    as_of: dt.date,
    now: dt.datetime,
    timezone: str,
    progress: Progress | None,
) -> DemoInfo:
    from pipeline_canary.warehouse.duckdb_connect import connect_duckdb

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    conn = connect_duckdb()
    try:
        conn.execute("SET enable_progress_bar = false")  # stdout belongs to the CLI (--json)
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(f"ATTACH '{_sql_str(tmp)}' AS demo (BLOCK_SIZE {BLOCK_SIZE})")
        conn.execute("USE demo")
        for schema in ("nba_reference", "nba_predictions"):
            conn.execute(f"CREATE SCHEMA {schema}")
        pred_fields = predictions_schema(drift="drift" in faults)
        conn.execute(create_table_sql("nba_reference", "nba_schedule", schedule_schema()))
        conn.execute(create_table_sql("nba_predictions", "player_prop_predictions", pred_fields))
        conn.execute(create_table_sql("nba_predictions", "ml_feature_store_v2", feature_store_schema()))

        report("schedule", 0, 1)
        calendar.build_reference(conn, as_of, seasons)
        calendar.insert_schedule(conn)
        if "duplicates" in faults:
            calendar.insert_schedule_duplicates(conn, as_of)
        report("schedule", 1, 1)
        features.build_feature_rows(
            conn, as_of, now, contaminated="contamination" in faults, creep="creep" in faults, thin="thin" in faults
        )
        for done, chunk in enumerate(range(seasons - 1, -1, -1)):
            report("seasons", done, seasons)
            features.insert_features(conn, chunk)
            predictions.insert_predictions(
                conn,
                chunk,
                pred_fields,
                now,
                as_of_gap="gap" in faults,
                missing_game="missing_game" in faults,
                as_of_drop="drop" in faults,
                stopped_model=predictions.STOPPED_MODEL if "model_stops" in faults else None,
            )
        report("seasons", seasons, seasons)

        first_day = _scalar(conn, "SELECT min(game_date) FROM _days")
        base_created = dt.datetime.combine(first_day - dt.timedelta(days=30), dt.time(17), dt.UTC)
        created: list[tuple[str, str, dt.datetime]] = [
            ("nba_reference", "nba_schedule", base_created),
            ("nba_predictions", "player_prop_predictions", base_created),
            ("nba_predictions", "ml_feature_store_v2", base_created + dt.timedelta(hours=1)),
        ]
        neighbours = staging.create_neighbours(conn, now)
        created += [("nba_predictions", name, now - dt.timedelta(days=40 + i)) for i, name in enumerate(neighbours)]
        report("pack tables", 0, 1)
        created += pack.build(pack.PackContext(conn, as_of, now, timezone, faults))
        report("pack tables", 1, 1)
        plan = staging.staging_plan(now, timezone, orphans="orphans" in faults)
        staging.create_staging(conn, plan, lambda d, t: report("staging", d, t))
        created += [("nba_predictions", name, when) for name, when, _ in plan]
        staging.write_meta(conn, created, scenario, seasons, as_of, now, dt.datetime.now(dt.UTC).replace(microsecond=0))
        rows = {
            f"{s}.{t}": int(_scalar(conn, f'SELECT count(*) FROM "{s}"."{t}"'))
            for s, t in (
                ("nba_reference", "nba_schedule"),
                ("nba_predictions", "player_prop_predictions"),
                ("nba_predictions", "ml_feature_store_v2"),
                ("nba_predictions", "prediction_accuracy"),
            )
        }
        rows["staging_tables"] = len(plan)
        game_days = int(_scalar(conn, "SELECT count(*) FROM _days"))
        conn.execute("CHECKPOINT demo")
        conn.execute("USE memory")
        conn.execute("DETACH demo")
    finally:
        conn.close()
    return DemoInfo(
        path=target,
        scenario=scenario,
        seasons=seasons,
        as_of=as_of,
        now=now,
        game_days=game_days,
        rows=rows,
    )


def iter_tables(path: str | Path) -> Iterator[tuple[str, str, dt.datetime | None]]:
    """Yield (dataset, table, created_at) for every table in a demo warehouse (read-only)."""
    from pipeline_canary.warehouse.duckdb_connect import connect_duckdb

    with connect_duckdb(path, read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        result = conn.execute(
            "SELECT t.schema_name, t.table_name, m.created_at FROM duckdb_tables() t "
            "LEFT JOIN _canary_meta.table_created m "
            "ON m.dataset = t.schema_name AND m.table_name = t.table_name "
            "ORDER BY 1, 2"
        ).fetchall()
    yield from ((str(s), str(t), c) for s, t, c in result)


def _scalar(conn: Any, sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    return None if row is None else row[0]


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        if p.exists():
            p.unlink()
