"""Staging tables, non-staging neighbours and the ``_canary_meta`` bookkeeping tables.

Staging names follow ``batch_staging_writer._generate_staging_table_name`` (facts 3):
``_staging_{batch_id}_{worker_id}`` with every ``-`` replaced by ``_``.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from pipeline_canary.demo.schemas import create_table_sql, predictions_schema
from pipeline_canary.schema.model import Field

ORPHAN_COUNT = 668
ROWS_PER_TABLE = 3
FRESH_MINUTES: tuple[int, ...] = (12, 41, 83)
ORPHAN_MIN_AGE = dt.timedelta(hours=25)
ORPHAN_MAX_AGE = dt.timedelta(days=30)
STAGING_COLUMNS: tuple[str, ...] = (
    "prediction_id",
    "system_id",
    "player_lookup",
    "game_date",
    "game_id",
    "predicted_points",
    "confidence_score",
    "recommendation",
    "current_points_line",
    "is_active",
    "created_at",
    "default_feature_count",
    "vegas_line_source",
    "required_default_count",
)
_REGEN_REASONS = ("line_update", "injury_news", "model_refresh")


def _hex(seed: str, n: int) -> str:
    a = zlib.crc32(seed.encode())
    b = zlib.crc32((seed + "#").encode())
    return f"{a:08x}{b:08x}"[:n]


def _worker_id(seed: str) -> str:
    if zlib.crc32(seed.encode()) % 5 == 0:
        return f"worker_{_hex(seed, 12)}"
    rev = 100 + zlib.crc32(("rev" + seed).encode()) % 40
    return f"prediction-worker-{rev:05d}-{_hex('r' + seed, 3)}_{_hex(seed, 8)}"


def staging_name(batch_id: str, worker_id: str) -> str:
    """The staging table name the batch writer would use."""
    return f"_staging_{batch_id}_{worker_id}".replace("-", "_")


def staging_plan(now: dt.datetime, tz: str, orphans: bool) -> list[tuple[str, dt.datetime, int]]:
    """(table name, created_at, rows) per staging table: 3 fresh ones, plus 668 orphans if asked.

    Most orphans are empty: a consolidation whose MERGE affected 0 rows keeps its staging tables
    (facts 3), and every non-empty DuckDB table costs a 256 KB block. Every 50th orphan has rows.
    """
    zone = ZoneInfo(tz)
    as_of = now.astimezone(zone).date()
    batch_start = now - dt.timedelta(minutes=95)
    batch = f"batch_{as_of.isoformat()}_{int(batch_start.timestamp())}"
    plan = [
        (staging_name(batch, _worker_id(f"fresh{i}")), now - dt.timedelta(minutes=m), ROWS_PER_TABLE)
        for i, m in enumerate(FRESH_MINUTES)
    ]
    if not orphans:
        return plan
    span = (ORPHAN_MAX_AGE - ORPHAN_MIN_AGE).total_seconds()
    for i in range(ORPHAN_COUNT):
        jitter = zlib.crc32(f"age{i}".encode()) % 1800
        age = ORPHAN_MIN_AGE + dt.timedelta(seconds=span * i / ORPHAN_COUNT + jitter)
        created = now - age
        unix = int(created.timestamp())
        day = created.astimezone(zone).date().isoformat()
        kind = i % 10
        if kind <= 5:
            batch_id = f"batch_{day}_{unix}"
        elif kind <= 7:
            batch_id = f"regen_{day}_{_REGEN_REASONS[i % 3]}_{unix}"
        elif kind == 8:
            batch_id = f"linecheck_{day}_{unix}"
        else:
            batch_id = f"fallback_{unix * 1000 + i % 1000}"
        rows = ROWS_PER_TABLE if i % 50 == 0 else 0
        plan.append((staging_name(batch_id, _worker_id(f"orphan{i}")), created, rows))
    return plan


def staging_fields() -> list[Field]:
    by_name = {f.name: f for f in predictions_schema()}
    return [by_name[c] for c in STAGING_COLUMNS]


def create_staging(
    conn: Any, plan: list[tuple[str, dt.datetime, int]], tick: Callable[[int, int], None] | None = None
) -> None:
    """Create each staging table with a few rows written by the worker shortly before creation."""
    fields = staging_fields()
    for n, (name, created, rows) in enumerate(plan):
        conn.execute(create_table_sql("nba_predictions", name, fields))
        if tick is not None and (n % 50 == 0 or n == len(plan) - 1):
            tick(n + 1, len(plan))
        if rows == 0:
            continue
        created_lit = created.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        conn.execute(
            f"""
            INSERT INTO nba_predictions."{name}" BY NAME
            SELECT md5('{name}' || i) AS prediction_id,
                   'catboost_v9_33features_20260201_011018' AS system_id,
                   'player' || CAST(hash('{name}', i) % 390 AS VARCHAR) AS player_lookup,
                   CAST(TIMESTAMP '{created_lit}' AS DATE) AS game_date,
                   strftime(TIMESTAMP '{created_lit}', '%Y%m%d') || '_LAL_GSW' AS game_id,
                   CAST(8 + hash('{name}', i, 'p') % 200 / 10.0 AS DECIMAL(5,1)) AS predicted_points,
                   CAST(60 + hash('{name}', i, 'c') % 3500 / 100.0 AS DECIMAL(5,2)) AS confidence_score,
                   CASE WHEN i % 2 = 0 THEN 'OVER' ELSE 'UNDER' END AS recommendation,
                   CAST(14.5 AS DECIMAL(4,1)) AS current_points_line,
                   TRUE AS is_active,
                   TIMESTAMP '{created_lit}' AT TIME ZONE 'UTC' AS created_at,
                   0 AS default_feature_count,
                   'odds_api' AS vegas_line_source,
                   CAST(NULL AS BIGINT) AS required_default_count
            FROM range({rows}) t(i)
            """
        )


def create_neighbours(conn: Any, now: dt.datetime) -> list[str]:
    """Non-staging tables in nba_predictions that a staging cleanup must never touch (their names).

    ``staging_notes`` only: the other neighbours (``model_registry``, ``prediction_accuracy``,
    ``model_performance_daily``) are the NBA pack's models tables, built by
    ``pipeline_canary.demo.pack.models``.
    """
    now_lit = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    conn.execute(
        "CREATE TABLE nba_predictions.staging_notes (note_id BIGINT NOT NULL, author VARCHAR, "
        "note VARCHAR, created_at TIMESTAMPTZ NOT NULL)"
    )
    conn.execute(
        f"""
        INSERT INTO nba_predictions.staging_notes VALUES
        (1, 'ops', 'staging tables older than 24h are orphans; cleanup runs 08:00 UTC',
         TIMESTAMP '{now_lit}' AT TIME ZONE 'UTC' - INTERVAL 45 DAY),
        (2, 'ops', 'do not delete this table: it is not a _staging_ table',
         TIMESTAMP '{now_lit}' AT TIME ZONE 'UTC' - INTERVAL 44 DAY)
        """
    )
    return ["staging_notes"]


def write_meta(
    conn: Any,
    created: list[tuple[str, str, dt.datetime]],
    scenario: str,
    seasons: int,
    as_of: dt.date,
    now: dt.datetime,
    seeded_at: dt.datetime,
) -> None:
    """Fill ``_canary_meta.table_created`` and ``_canary_meta.demo``."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS _canary_meta")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _canary_meta.table_created "
        "(dataset VARCHAR, table_name VARCHAR, created_at TIMESTAMPTZ)"
    )
    conn.execute(
        "CREATE TABLE _canary_meta.demo (scenario VARCHAR, seasons INTEGER, as_of DATE, "
        "now TIMESTAMPTZ, seeded_at TIMESTAMPTZ)"
    )
    conn.execute("INSERT INTO _canary_meta.demo VALUES (?, ?, ?, ?, ?)", [scenario, seasons, as_of, now, seeded_at])
    rows = [*created, ("_canary_meta", "table_created", now), ("_canary_meta", "demo", now)]
    conn.executemany("INSERT INTO _canary_meta.table_created VALUES (?, ?, ?)", rows)
