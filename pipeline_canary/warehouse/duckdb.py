"""The embedded default backend: a local DuckDB file holding copies of the pipeline's tables.

Datasets are DuckDB schemas. DuckDB keeps no table creation time: the backend reads them from the
source ``[warehouse]`` configures (``created_table`` or ``created_query``; see
:mod:`pipeline_canary.warehouse.duckdb_created`), by default ``_canary_meta.table_created``, which
the demo seeder fills. Without a source every table's age is unknown.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pipeline_canary.dependencies import from_duckdb
from pipeline_canary.errors import CanaryError, NoCreationTimesError, TableNotFoundError, WarehouseError
from pipeline_canary.schema.model import Field
from pipeline_canary.warehouse.base import QueryResult, TableInfo, TableRef, Warehouse
from pipeline_canary.warehouse.duckdb_created import DEFAULT_TABLE, FIX, CreatedSource, CreatedTimes, quoted
from pipeline_canary.warehouse.duckdb_types import duckdb_to_field
from pipeline_canary.warehouse.sql import translate

META_SCHEMA = DEFAULT_TABLE.dataset
META_TABLE = f"{META_SCHEMA}.{DEFAULT_TABLE.name}"


class DuckDBWarehouse(Warehouse):
    name: ClassVar[str] = "duckdb"
    sqlglot_dialect: ClassVar[str] = "duckdb"

    def __init__(self, path: str | Path, *, read_only: bool = True, created: CreatedSource | None = None) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.created_source = created or CreatedSource()
        self._conn: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        if self._conn is None:
            import duckdb

            if not self.path.exists():
                raise WarehouseError(
                    f"DuckDB warehouse {self.path} does not exist: run `canary demo` to seed the demo folder's "
                    "(`canary demo --config FILE` seeds the one a configuration file names), "
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
                listed, schemas, created = self._catalog(conn)
            except duckdb.Error as exc:
                message = f"cannot list dataset {dataset} in DuckDB {self.path}: {_first_line(exc)}"
                raise self._error(exc, message) from exc
        if dataset not in schemas:
            raise TableNotFoundError(f"dataset {dataset} not found in DuckDB {self.path}")
        known = created or {}
        return [
            TableInfo(dataset=dataset, name=name, created=known.get((schema, name)), rows=size, bytes=None)
            for schema, name, size in listed
            if schema == dataset
        ]

    def _catalog(self, conn: Any) -> tuple[list[Any], set[str], CreatedTimes | None]:
        listed = conn.execute(
            "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() ORDER BY table_name"
        ).fetchall()
        schemas = {r[0] for r in conn.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
        created = self.created_source.read(conn, {(r[0], r[1]) for r in listed}, str(self.path))
        return listed, schemas, created

    def creation_time_source(self) -> str:
        import duckdb

        with self._lock:
            conn = self._connect()
            try:
                _, _, created = self._catalog(conn)
            except duckdb.Error as exc:
                raise self._error(exc, f"cannot read the catalog of DuckDB {self.path}: {_first_line(exc)}") from exc
        if created is None:
            raise NoCreationTimesError(
                f"DuckDB keeps no table creation times, and {self.path} has no {DEFAULT_TABLE} (the default "
                "source, written by `canary demo`): every table's age is unknown",
                FIX,
            )
        return f"{self.created_source.describe()}: {len(created)} tables"

    def drop(self, table: TableRef) -> None:
        import duckdb

        with self._lock:
            if self._conn is not None and self.read_only:
                self._conn.close()
                self._conn = None
            try:
                with duckdb.connect(str(self.path), read_only=False) as rw:
                    rw.execute(f'DROP TABLE "{table.dataset}"."{table.name}"')
                    if self.created_source.is_default_table and _exists(rw, DEFAULT_TABLE):
                        rw.execute(
                            f"DELETE FROM {quoted(DEFAULT_TABLE)} WHERE dataset = $d AND table_name = $t",
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


def _exists(conn: Any, table: TableRef) -> bool:
    rows = conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    return (table.dataset, table.name) in {(r[0], r[1]) for r in rows}


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
