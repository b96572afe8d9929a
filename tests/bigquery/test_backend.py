"""BigQueryWarehouse against the real client and a local server: binding, metadata, errors, timeouts."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline_canary.config import WarehouseConfig
from pipeline_canary.errors import ConfigError, TableNotFoundError, WarehouseError, WarehouseTimeoutError
from pipeline_canary.warehouse import connect
from pipeline_canary.warehouse.base import TableRef
from pipeline_canary.warehouse.bigquery import BigQueryWarehouse

from .conftest import BigQueryServer, free_port

pytestmark = pytest.mark.bigquery


@pytest.fixture
def games(bq_warehouse: BigQueryWarehouse, dataset: str) -> TableRef:
    """A small table partitioned by game_date, built through the client like the pipeline's."""
    from google.cloud import bigquery

    schema = [
        bigquery.SchemaField("game_date", "DATE", mode="REQUIRED"),
        bigquery.SchemaField("game_id", "STRING", mode="REQUIRED"),
        bigquery.SchemaField("points", "INTEGER"),
        bigquery.SchemaField("score", "FLOAT"),
        bigquery.SchemaField("is_active", "BOOLEAN"),
        bigquery.SchemaField("created_at", "TIMESTAMP"),
        bigquery.SchemaField("tags", "STRING", mode="REPEATED"),
        bigquery.SchemaField(
            "completeness",
            "RECORD",
            fields=[
                bigquery.SchemaField("games_found", "INT64"),
                bigquery.SchemaField("dates", "DATE", mode="REPEATED"),
            ],
        ),
        bigquery.SchemaField("line", "NUMERIC"),
    ]
    table = bigquery.Table(f"{bq_warehouse.project}.{dataset}.games", schema=schema)
    table.time_partitioning = bigquery.TimePartitioning(field="game_date")
    table.require_partition_filter = True
    bq_warehouse.client.create_table(table)
    rows = [
        {"game_date": f"2025-01-0{i % 3 + 1}", "game_id": f"g{i}", "points": i, "score": i / 2,
         "is_active": i % 2 == 0, "created_at": "2025-01-01T12:00:00Z", "tags": ["a"],
         "completeness": {"games_found": i, "dates": ["2025-01-01"]}, "line": "1.5"}
        for i in range(9)
    ]  # fmt: skip
    assert bq_warehouse.client.insert_rows_json(table, rows) == []
    ref = TableRef(project=bq_warehouse.project, dataset=dataset, name="games")
    bq_warehouse.guard_tables([ref])
    return ref


def test_connect_builds_the_bigquery_backend(bq_server: BigQueryServer) -> None:
    with connect(bq_server.config(max_bytes_billed=10**9)) as warehouse:
        assert isinstance(warehouse, BigQueryWarehouse)
        assert warehouse.name == "bigquery" and warehouse.sqlglot_dialect == "bigquery"
        warehouse.ping()
        assert warehouse.query("SELECT 1 AS one").one() == {"one": 1}  # maximum_bytes_billed is set


def test_parameters_are_bound_with_their_types(bq_warehouse: BigQueryWarehouse) -> None:
    now = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    result = bq_warehouse.query(
        "SELECT @d AS d, @ts AS ts, @b AS b, @i + 1 AS i, @f * 2 AS f, @s AS s, @n AS n, "
        "ARRAY_LENGTH(@ids) AS k, 2 IN UNNEST(@ids) AS has_two",
        {"d": dt.date(2025, 1, 2), "ts": now, "b": True, "i": 41, "f": 1.25, "s": "O'Brien \"x\"",
         "n": Decimal("1.5"), "ids": [1, 2, 3]},
    )  # fmt: skip
    assert result.one() == {
        "d": dt.date(2025, 1, 2), "ts": now, "b": True, "i": 42, "f": 2.5, "s": "O'Brien \"x\"",
        "n": Decimal("1.5"), "k": 3, "has_two": True,
    }  # fmt: skip
    assert "O'Brien" not in result.sql  # values are bound, never formatted into the SQL


def test_unbindable_parameters_are_refused(bq_warehouse: BigQueryWarehouse) -> None:
    with pytest.raises(WarehouseError, match="@x is None"):
        bq_warehouse.query("SELECT @x", {"x": None})
    with pytest.raises(WarehouseError, match="empty list"):
        bq_warehouse.query("SELECT @x", {"x": []})


def test_query_returns_rows_sql_and_bytes(bq_warehouse: BigQueryWarehouse, games: TableRef) -> None:
    sql = (
        f"SELECT game_date, COUNT(*) AS n, COUNTIF(is_active) AS active FROM {bq_warehouse.table_sql(games)} "
        "WHERE game_date BETWEEN @start AND @end GROUP BY game_date ORDER BY game_date"
    )
    result = bq_warehouse.query(sql, {"start": dt.date(2025, 1, 1), "end": dt.date(2025, 1, 2)})
    assert result.columns == ("game_date", "n", "active")
    assert result.rows == ((dt.date(2025, 1, 1), 3, 2), (dt.date(2025, 1, 2), 3, 1))
    assert result.sql == sql and bq_warehouse.sent[-1] == sql
    assert result.bytes_processed is None or result.bytes_processed >= 0  # the server reports 0
    assert bq_warehouse.dry_run(sql, {"start": dt.date(2025, 1, 1), "end": dt.date(2025, 1, 2)}) >= 0


def test_partition_guard_refuses_unfiltered_reads_before_sending(
    bq_warehouse: BigQueryWarehouse, games: TableRef
) -> None:
    table = bq_warehouse.table_sql(games)
    sent_before = len(bq_warehouse.sent)
    with pytest.raises(WarehouseError, match=r"games is read without a game_date predicate"):
        bq_warehouse.query(f"SELECT COUNT(*) FROM {table}")
    with pytest.raises(WarehouseError, match="game_date predicate"):
        bq_warehouse.query(f"SELECT COUNT(*) FROM {table} WHERE points > 1")
    assert len(bq_warehouse.sent) == sent_before
    ok = bq_warehouse.query(f"SELECT COUNT(*) AS n FROM {table} g WHERE g.game_date = @d", {"d": dt.date(2025, 1, 3)})
    assert ok.one() == {"n": 3}
    unguarded = BigQueryWarehouse(bq_warehouse.client, partition_guard=False)
    assert unguarded.query(f"SELECT COUNT(*) AS n FROM {table}").one() == {"n": 9}


def test_columns_normalises_types_and_keeps_nesting(bq_warehouse: BigQueryWarehouse, games: TableRef) -> None:
    fields = {f.name: f for f in bq_warehouse.columns(games)}
    assert [(f.name, f.type, f.mode) for f in fields.values()][:7] == [
        ("game_date", "DATE", "REQUIRED"),
        ("game_id", "STRING", "REQUIRED"),
        ("points", "INT64", "NULLABLE"),
        ("score", "FLOAT64", "NULLABLE"),
        ("is_active", "BOOL", "NULLABLE"),
        ("created_at", "TIMESTAMP", "NULLABLE"),
        ("tags", "STRING", "REPEATED"),
    ]
    record = fields["completeness"]
    assert record.type == "RECORD"
    assert [(f.name, f.type, f.mode) for f in record.fields] == [
        ("games_found", "INT64", "NULLABLE"),
        ("dates", "DATE", "REPEATED"),
    ]
    assert fields["line"].type == "NUMERIC"


def test_tables_lists_tables_with_creation_times(
    bq_warehouse: BigQueryWarehouse, games: TableRef, dataset: str
) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    client = bq_warehouse.client
    client.create_table(f"{bq_warehouse.project}.{dataset}._staging_a")
    client.query(f"CREATE VIEW `{bq_warehouse.project}.{dataset}.v_games` AS SELECT 1 AS x", job_retry=None).result()
    listed = bq_warehouse.tables(dataset)
    assert [t.name for t in listed] == ["_staging_a", "games"]  # views are not tables
    assert all(t.dataset == dataset and t.created is not None and t.created > before for t in listed)
    assert all(t.created is not None and t.created.tzinfo is not None for t in listed)


def test_tables_of_missing_dataset(bq_warehouse: BigQueryWarehouse) -> None:
    with pytest.raises(TableNotFoundError, match="no_such_dataset"):
        bq_warehouse.tables("no_such_dataset")


def test_drop_and_expiration(bq_warehouse: BigQueryWarehouse, games: TableRef, dataset: str) -> None:
    staging = TableRef(dataset=dataset, name="_staging_b")
    bq_warehouse.client.create_table(f"{bq_warehouse.project}.{dataset}._staging_b")
    bq_warehouse.set_expiration(staging, dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    bq_warehouse.drop(staging)
    assert [t.name for t in bq_warehouse.tables(dataset)] == ["games"]
    with pytest.raises(TableNotFoundError, match="_staging_b"):
        bq_warehouse.drop(staging)
    with pytest.raises(TableNotFoundError, match="_staging_b"):
        bq_warehouse.set_expiration(staging, dt.datetime.now(dt.UTC))


def test_missing_table_and_bad_sql_are_named(bq_warehouse: BigQueryWarehouse, dataset: str) -> None:
    with pytest.raises(TableNotFoundError, match="nope"):
        bq_warehouse.columns(TableRef(dataset=dataset, name="nope"))
    with pytest.raises(TableNotFoundError, match=f"{dataset}.nope"):
        bq_warehouse.query(f"SELECT * FROM `{dataset}.nope` WHERE game_date = @d", {"d": dt.date(2025, 1, 1)})
    with pytest.raises(WarehouseError) as info:
        bq_warehouse.query("SELECT no_such_function(1)", {})
    assert "\n" not in str(info.value)


def test_from_config_requires_a_project_and_a_readable_key() -> None:
    with pytest.raises(ConfigError, match=r"warehouse\.project"):
        BigQueryWarehouse.from_config(WarehouseConfig(backend="bigquery"))
    with pytest.raises(ConfigError, match=r"warehouse\.credentials_file"):
        BigQueryWarehouse.from_config(
            WarehouseConfig(backend="bigquery", project="canary-local", credentials_file=Path("/nonexistent/key.json"))
        )


def test_unreachable_endpoint_fails_in_seconds() -> None:
    cfg = WarehouseConfig(
        backend="bigquery", project="canary-local", api_endpoint=f"http://127.0.0.1:{free_port()}", timeout_s=2
    )
    warehouse = BigQueryWarehouse.from_config(cfg)
    for call in (warehouse.ping, lambda: warehouse.query("SELECT 1"), lambda: warehouse.tables("x")):
        started = time.monotonic()
        with pytest.raises(WarehouseError, match=r"cannot reach BigQuery at http://127\.0\.0\.1:\d+"):
            call()
        assert time.monotonic() - started < 10


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: what a hung proxy looks like."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    sock.close()


def test_silent_endpoint_times_out(silent_server: int) -> None:
    cfg = WarehouseConfig(
        backend="bigquery", project="canary-local", api_endpoint=f"http://127.0.0.1:{silent_server}", timeout_s=1
    )
    warehouse = BigQueryWarehouse.from_config(cfg)
    started = time.monotonic()
    with pytest.raises(WarehouseTimeoutError, match="did not answer in time"):
        warehouse.ping()
    assert time.monotonic() - started < 10
