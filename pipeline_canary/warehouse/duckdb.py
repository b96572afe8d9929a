"""The embedded default backend: a local DuckDB file holding copies of the pipeline's tables.

Datasets are DuckDB schemas. DuckDB keeps no table creation time: the backend reads them from the
source ``[warehouse]`` configures (``created_table`` or ``created_query``; see
:mod:`pipeline_canary.warehouse.duckdb_created`), by default ``_canary_meta.table_created``, which
the demo seeder fills. Without a source every table's age is unknown.

A DuckDB connection is not thread-safe; a cursor (a connection of its own to the same database) is
the way to use one from several threads. Every statement runs on the calling thread's cursor, so a
run's canaries query concurrently, one cursor per worker; the connection itself only opens them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pipeline_canary.dependencies import from_duckdb
from pipeline_canary.errors import CanaryError, NoCreationTimesError, TableNotFoundError, WarehouseError
from pipeline_canary.schema.model import Field
from pipeline_canary.warehouse.base import QueryResult, TableInfo, TableRef, Warehouse
from pipeline_canary.warehouse.duckdb_connect import connect_duckdb
from pipeline_canary.warehouse.duckdb_created import DEFAULT_TABLE, FIX, CreatedSource, CreatedTimes, quoted
from pipeline_canary.warehouse.duckdb_types import duckdb_to_field
from pipeline_canary.warehouse.sql import translate

log = logging.getLogger(__name__)

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
        self._lock = threading.Lock()  # opens, closes and drops (a drop holds it); never held by a read
        self._cursors: dict[threading.Thread, Any] = {}

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
                self._conn = connect_duckdb(self.path, read_only=self.read_only)
                self._conn.execute("SET enable_progress_bar = false")  # stdout belongs to the CLI
            except duckdb.Error as exc:
                raise self._error(exc, f"cannot open DuckDB warehouse {self.path}: {exc}") from exc
        return self._conn

    def _cursor(self) -> Any:
        """The calling thread's cursor, opened on first use (cursors of finished threads are closed then)."""
        import duckdb

        thread = threading.current_thread()
        with self._lock:
            cursor = self._cursors.get(thread)
            if cursor is None:
                conn = self._connect()
                for gone in [t for t in self._cursors if not t.is_alive()]:
                    self._cursors.pop(gone).close()
                try:
                    cursor = conn.cursor()
                    cursor.execute("SET enable_progress_bar = false")
                except duckdb.Error as exc:
                    raise self._error(exc, f"cannot open a cursor on DuckDB {self.path}: {exc}") from exc
                self._cursors[thread] = cursor
        return cursor

    def _close_all(self) -> None:
        """Close every cursor and the connection (the caller holds the lock)."""
        for cursor in self._cursors.values():
            cursor.close()
        self._cursors.clear()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _error(self, exc: BaseException, message: str) -> CanaryError:
        """A driver error as ours: a missing module or extension says what to install."""
        return from_duckdb(exc, str(self.path)) or WarehouseError(message)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        import duckdb

        translated = translate(sql, self.sqlglot_dialect)
        cursor = self._cursor()
        try:
            cursor.execute(translated, dict(params or {}))
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
        cursor = self._cursor()
        try:
            rows = cursor.execute(f'DESCRIBE "{table.dataset}"."{table.name}"').fetchall()
        except duckdb.CatalogException:
            rows = []
        except duckdb.Error as exc:
            raise self._error(exc, f"cannot describe {table} in DuckDB {self.path}: {_first_line(exc)}") from exc
        if not rows:
            raise TableNotFoundError(f"table {table} not found in DuckDB {self.path}")
        return [duckdb_to_field(row[0], row[1], row[2] == "YES") for row in rows]

    def tables(self, dataset: str, project: str | None = None) -> list[TableInfo]:
        import duckdb

        cursor = self._cursor()
        try:
            listed, schemas, created = self._catalog(cursor)
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

        cursor = self._cursor()
        try:
            _, _, created = self._catalog(cursor)
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
            if self.read_only:
                self._close_all()
            try:
                with connect_duckdb(self.path, read_only=False) as rw:
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

        cursor = self._cursor()
        try:
            cursor.execute("SELECT 1").fetchall()
        except duckdb.Error as exc:
            raise self._error(exc, f"DuckDB {self.path} does not answer: {_first_line(exc)}") from exc

    def interrupt(self) -> None:
        """Interrupt the statement running on every cursor (and on the connection)."""
        import duckdb

        # no lock: it may be held across a statement, and a copy of the dict is atomic
        for conn in [self._conn, *self._cursors.values()]:
            if conn is not None:
                try:
                    conn.interrupt()
                except duckdb.Error:  # closed meanwhile: nothing left to interrupt on it
                    log.debug("interrupt of a closed DuckDB cursor", exc_info=True)

    def close(self) -> None:
        with self._lock:
            self._close_all()


def _exists(conn: Any, table: TableRef) -> bool:
    rows = conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    return (table.dataset, table.name) in {(r[0], r[1]) for r in rows}


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
