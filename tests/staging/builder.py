"""Small DuckDB warehouses built declaratively: staging orphans among adversarial neighbours."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from pipeline_canary.warehouse.duckdb_connect import connect_duckdb

NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def orphan_name(i: int) -> str:
    return f"_staging_batch_2026_02_01_{1738400000 + i}_prediction_worker_00123_abc_{i:08x}"


ORPHANS = [orphan_name(i) for i in range(5)]
FRESH = "_staging_batch_2026_02_08_1770585900_worker_4ac8cee63946"
# Tables a cleanup must never touch, whatever their age: (schema, name).
SURVIVORS = [
    ("nba_predictions", "player_prop_predictions"),
    ("nba_predictions", "staging_notes"),
    ("nba_predictions", "_staging_"),
    ("nba_predictions", "_staging_notes"),
    ("nba_predictions", "_staging_x; DROP TABLE nba_predictions.player_prop_predictions; --"),
    ("nba_predictions", '_staging_batch_2026_02_01_1738400000_w"; DROP TABLE player_prop_predictions; --'),
    ("nba_predictions", "_STAGING_BATCH_2026_02_01_1738400099_WORKER_0123456789AB"),
    ("nba_predictions", "_Staging_batch_2026_02_01_1738400098_worker_0123456789ab"),
    ("nba_predictions", FRESH),
    ("nba_analytics", orphan_name(100)),
    ("nba_analytics", "_staging_"),
    ("nba_predictions_staging", orphan_name(101)),
]


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def build_warehouse(path: Path, tables: list[tuple[str, str, dt.datetime | None]], *, meta: bool = True) -> Path:
    """Create ``tables`` (schema, name, created) with 3 rows each, recording creation times in meta.

    ``meta=False``: no ``_canary_meta`` at all, as in a warehouse the demo did not build.
    """
    with connect_duckdb(path) as conn:
        if meta:
            conn.execute("CREATE SCHEMA IF NOT EXISTS _canary_meta")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _canary_meta.table_created "
                "(dataset VARCHAR, table_name VARCHAR, created_at TIMESTAMPTZ)"
            )
        for schema, name, created in tables:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
            conn.execute(f"CREATE TABLE {_q(schema)}.{_q(name)} AS SELECT range AS i FROM range(3)")
            if meta and created is not None:
                conn.execute("INSERT INTO _canary_meta.table_created VALUES (?, ?, ?)", [schema, name, created])
    return path


def default_tables() -> list[tuple[str, str, dt.datetime | None]]:
    old = NOW - 40 * DAY
    tables: list[tuple[str, str, dt.datetime | None]] = [
        ("nba_predictions", name, NOW - (2 + i) * DAY) for i, name in enumerate(ORPHANS)
    ]
    for schema, name in SURVIVORS:
        tables.append((schema, name, NOW - dt.timedelta(minutes=12) if name == FRESH else old))
    return tables


def snapshot(path: Path) -> dict[str, object]:
    """Every table with its row count, the meta rows, and the file's digest."""
    with connect_duckdb(path, read_only=True) as conn:
        names = conn.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall()
        counts = {
            (s, t): conn.execute(f"SELECT count(*) FROM {_q(s)}.{_q(t)}").fetchone()[0]  # type: ignore[index]
            for s, t in names
        }
        meta = conn.execute("SELECT * FROM _canary_meta.table_created ORDER BY 1, 2").fetchall()
    return {"counts": counts, "meta": meta, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
