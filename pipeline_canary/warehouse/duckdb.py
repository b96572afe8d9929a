"""The embedded default backend: a local DuckDB file holding copies of the pipeline's tables.

Datasets are DuckDB schemas. DuckDB keeps no table creation time, so the demo seeder (and anything
else that creates tables here) records it in ``_canary_meta.table_created``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pipeline_canary.dependencies import from_duckdb
from pipeline_canary.errors import CanaryError, TableNotFoundError, WarehouseError
from pipeline_canary.schema.model import Field
from pipeline_canary.warehouse.base import QueryResult, TableInfo, TableRef, Warehouse
from pipeline_canary.warehouse.duckdb_types import duckdb_to_field
from pipeline_canary.warehouse.sql import translate

META_SCHEMA = "_canary_meta"
META_TABLE = f"{META_SCHEMA}.table_created"


class DuckDBWarehouse(Warehouse):
    name: ClassVar[str] = "duckdb"
    sqlglot_dialect: ClassVar[str] = "duckdb"

    def __init__(self, path: str | Path, *, read_only: bool = True) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._conn: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        if self._conn is None:
            import duckdb

            if not self.path.exists():
                raise WarehouseError(
                    f"DuckDB warehouse {self.path} does not exist: run `canary demo` to seed it, "
                    "or point [warehouse] path at your file"
                )
            try:
                self._conn = duckdb.connect(str(self.path), read_only=self.read_only)
                self._conn.execute("SET enable_progress_bar = false")  # stdout belongs to the CLI
            except duckdb.Error as exc:
                raise self._error(exc, f"cannot open DuckDB warehouse {self.path}: {exc}") from exc
        return self._conn

    def _error(self, exc: BaseException, message: str) -> CanaryError:
        """A driver error as ours: a missing module or extension says what to install."""
        return from_duckdb(exc, str(self.path)) or WarehouseError(message)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        import duckdb

        translated = translate(sql, self.sqlglot_dialect)
        with self._lock:
            conn = self._connect()
            try:
                cursor = conn.execute(translated, dict(params or {}))
                rows = cursor.fetchall()
                columns = tuple(d[0] for d in cursor.description or ())
            except duckdb.CatalogException as exc:
                raise TableNotFoundError(f"{_first_line(exc)} (DuckDB {self.path})") from exc
            except duckdb.Error as exc:
                raise self._error(exc, f"query failed on DuckDB {self.path}: {_first_line(exc)}") from exc
        return QueryResult(columns=columns, rows=tuple(rows), bytes_processed=None, sql=translated)

    # The catalog is read without query parameters and filtered here: DuckDB imports pandas (≈140 ms)
    # the first time any statement binds parameters, and the schema gate and doctor must stay light.

    def columns(self, table: TableRef) -> list[Field]:
        import duckdb

        # TableRef validated both names; quoted identifiers, no values in the statement.
        with self._lock:
            try:
                rows = self._connect().execute(f'DESCRIBE "{table.dataset}"."{table.name}"').fetchall()
            except duckdb.CatalogException:
                rows = []
            except duckdb.Error as exc:
                raise self._error(exc, f"cannot describe {table} in DuckDB {self.path}: {_first_line(exc)}") from exc
        if not rows:
            raise TableNotFoundError(f"table {table} not found in DuckDB {self.path}")
        return [duckdb_to_field(row[0], row[1], row[2] == "YES") for row in rows]

    def tables(self, dataset: str, project: str | None = None) -> list[TableInfo]:
        import duckdb

        with self._lock:
            conn = self._connect()
            try:
                listed, schemas, created = self._catalog(conn, dataset)
            except duckdb.Error as exc:
                message = f"cannot list dataset {dataset} in DuckDB {self.path}: {_first_line(exc)}"
                raise self._error(exc, message) from exc
        if dataset not in schemas:
            raise TableNotFoundError(f"dataset {dataset} not found in DuckDB {self.path}")
        return [
            TableInfo(dataset=dataset, name=name, created=_aware(created.get(name)), rows=size, bytes=None)
            for schema, name, size in listed
            if schema == dataset
        ]

    @staticmethod
    def _catalog(conn: Any, dataset: str) -> tuple[list[Any], set[str], dict[str, dt.datetime]]:
        listed = conn.execute(
            "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() ORDER BY table_name"
        ).fetchall()
        schemas = {r[0] for r in conn.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
        created: dict[str, dt.datetime] = {}
        if any(r[0] == META_SCHEMA and r[1] == "table_created" for r in listed):
            for schema, name, when in conn.execute(
                f"SELECT dataset, table_name, max(created_at) FROM {META_TABLE} GROUP BY ALL"
            ).fetchall():
                if schema == dataset:
                    created[name] = when
        return listed, schemas, created

    def drop(self, table: TableRef) -> None:
        import duckdb

        with self._lock:
            if self._conn is not None and self.read_only:
                self._conn.close()
                self._conn = None
            try:
                with duckdb.connect(str(self.path), read_only=False) as rw:
                    rw.execute(f'DROP TABLE "{table.dataset}"."{table.name}"')
                    rw.execute(
                        f"DELETE FROM {META_TABLE} WHERE dataset = $d AND table_name = $t",
                        {"d": table.dataset, "t": table.name},
                    )
            except duckdb.CatalogException as exc:
                raise TableNotFoundError(f"table {table} not found in DuckDB {self.path}") from exc
            except duckdb.Error as exc:
                raise self._error(exc, f"cannot drop {table} in DuckDB {self.path}: {exc}") from exc

    def ping(self) -> None:
        import duckdb

        with self._lock:
            try:
                self._connect().execute("SELECT 1").fetchall()
            except duckdb.Error as exc:
                raise self._error(exc, f"DuckDB {self.path} does not answer: {_first_line(exc)}") from exc

    def interrupt(self) -> None:
        conn = self._conn  # no lock: the query holding it is what we interrupt
        if conn is not None:
            conn.interrupt()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
