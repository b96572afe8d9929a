"""Copy a seeded DuckDB demo warehouse into BigQuery (or the local server) through the client.

Datasets and tables are created with the demo's schema (tables with a ``game_date`` DATE column are
partitioned by it; the pipeline's tables also get ``require_partition_filter``), then rows are
streamed with ``insert_rows_json`` in batches (``load_table_from_json`` fails on the local server).

BigQuery sets a table's creation time itself, so the demo's back-dated creation times cannot be
copied. Tables are created oldest first, with a short pause wherever the demo's creation times are
more than an hour apart, so that the order and the big gaps stay distinguishable; the
:class:`LoadReport` keeps both times so a caller can pick a "now" that gives the same ages
classification (see tests/bigquery/test_scenarios.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import logging
import math
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline_canary.schema.model import Field, normalize_type
from pipeline_canary.warehouse.base import TableRef

log = logging.getLogger(__name__)

META_DATASET = "_canary_meta"  # the DuckDB demo's own bookkeeping; BigQuery keeps creation times itself
PIPELINE_TABLES = frozenset(
    {
        ("nba_reference", "nba_schedule"),
        ("nba_predictions", "player_prop_predictions"),
        ("nba_predictions", "ml_feature_store_v2"),
    }
)
PARTITION_COLUMN = "game_date"
ORDER_GAP = dt.timedelta(hours=1)


@dataclass
class LoadedTable:
    ref: TableRef
    demo_created: dt.datetime | None
    created: dt.datetime | None
    rows: int = 0


@dataclass
class LoadReport:
    project: str
    tables: dict[str, LoadedTable] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


def load_demo(
    duckdb_path: str | Path,
    client_or_warehouse: Any,
    project: str,
    *,
    since: dt.date | Mapping[str, dt.date] | None = None,
    batch_size: int = 2000,
    datasets: Iterable[str] | None = None,
) -> LoadReport:
    """Create the demo's datasets and tables in ``project`` and copy their rows.

    ``since`` copies only rows with ``game_date >= since`` (the days the checks read), which keeps
    a load into the local server to seconds; a mapping gives it per ``"dataset.table"``, with
    ``"*"`` for the rest. ``datasets`` limits which DuckDB schemas are copied.
    """
    from pipeline_canary.demo.seeding import iter_tables
    from pipeline_canary.warehouse.duckdb_connect import connect_duckdb

    client = getattr(client_or_warehouse, "client", client_or_warehouse)
    wanted = set(datasets) if datasets is not None else None
    listed = [
        (ds, name, created)
        for ds, name, created in iter_tables(duckdb_path)
        if ds != META_DATASET and (wanted is None or ds in wanted)
    ]
    # The pipeline's tables first, then the rest oldest first (unknown creation times last).
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    listed.sort(key=lambda t: ((t[0], t[1]) not in PIPELINE_TABLES, _utc(t[2]) or far, t[0], t[1]))
    report = LoadReport(project=project)
    with connect_duckdb(duckdb_path, read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        schemas = _schemas(conn)
        sizes = {
            (s, t): n
            for s, t, n in conn.execute(
                "SELECT schema_name, table_name, estimated_size FROM duckdb_tables()"
            ).fetchall()
        }
        for dataset in sorted({ds for ds, _, _ in listed}):
            client.create_dataset(f"{project}.{dataset}", exists_ok=True)
        previous: dt.datetime | None = None
        for dataset, name, demo_created in listed:
            demo_created = _utc(demo_created)
            if previous and demo_created and demo_created - previous > ORDER_GAP:
                time.sleep(0.005)  # creation times have millisecond resolution
            previous = demo_created or previous
            ref = TableRef(project=project, dataset=dataset, name=name)
            fields = schemas[(dataset, name)]
            table = client.create_table(_table(ref, fields, (dataset, name) in PIPELINE_TABLES))
            report.tables[f"{dataset}.{name}"] = LoadedTable(ref, demo_created, table.created)
        for key, loaded in report.tables.items():
            if not sizes.get((loaded.ref.dataset, loaded.ref.name)):
                continue
            first_day = since.get(key, since.get("*")) if isinstance(since, Mapping) else since
            if not any(f.name == PARTITION_COLUMN for f in schemas[(loaded.ref.dataset, loaded.ref.name)]):
                first_day = None
            loaded.rows = _copy_rows(conn, client, loaded.ref, first_day, batch_size)
            if loaded.rows:
                log.debug("copied %d rows into %s", loaded.rows, key)
    log.info("loaded %d tables, %d rows into %s", len(report.tables), report.rows, project)
    return report


def to_schema_field(f: Field) -> Any:
    """Our Field as a google SchemaField (NUMERIC keeps its precision and scale)."""
    from google.cloud import bigquery

    base = normalize_type(f.type)
    extra: dict[str, Any] = {}
    if base in ("NUMERIC", "BIGNUMERIC") and "(" in f.type:
        parts = f.type[f.type.index("(") + 1 : f.type.rindex(")")].split(",")
        extra["precision"] = int(parts[0])
        extra["scale"] = int(parts[1]) if len(parts) > 1 else 0
    return bigquery.SchemaField(f.name, base, mode=f.mode, fields=[to_schema_field(sub) for sub in f.fields], **extra)


def _table(ref: TableRef, fields: list[Field], require_filter: bool) -> Any:
    from google.cloud import bigquery

    table = bigquery.Table(str(ref), schema=[to_schema_field(f) for f in fields])
    if any(f.name == PARTITION_COLUMN and f.base_type == "DATE" for f in fields):
        table.time_partitioning = bigquery.TimePartitioning(field=PARTITION_COLUMN)
        table.require_partition_filter = require_filter or None
    return table


def _copy_rows(conn: Any, client: Any, ref: TableRef, since: dt.date | None, batch_size: int) -> int:
    where, params = "", {}
    if since is not None:
        where, params = f' WHERE "{PARTITION_COLUMN}" >= $since', {"since": since}
    cursor = conn.execute(f'SELECT * FROM "{ref.dataset}"."{ref.name}"{where}', params)
    names = [d[0] for d in cursor.description]
    copied = 0
    for batch in _batches(cursor, batch_size):
        rows = [{k: _json(v) for k, v in zip(names, row, strict=True) if v is not None} for row in batch]
        errors = client.insert_rows_json(str(ref), rows)
        if errors:
            raise RuntimeError(f"inserting into {ref} failed: {errors[:3]}")
        copied += len(rows)
    return copied


def _schemas(conn: Any) -> dict[tuple[str, str], list[Field]]:
    """Every table's columns in one query (one per table costs 30 ms each over 700 tables)."""
    from pipeline_canary.warehouse.duckdb_types import duckdb_to_field

    found: dict[tuple[str, str], list[Field]] = {}
    rows = conn.execute(
        "SELECT table_schema, table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall()
    for schema, table, column, type_, nullable in rows:
        found.setdefault((schema, table), []).append(duckdb_to_field(column, type_, nullable == "YES"))
    return found


def _batches(cursor: Any, size: int) -> Iterator[list[tuple[Any, ...]]]:
    while batch := cursor.fetchmany(size):
        yield batch


def _json(value: Any) -> Any:
    """A DuckDB value as the JSON insertAll expects (dates as ISO text, NUMERIC as a string)."""
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items() if v is not None}
    return value


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
