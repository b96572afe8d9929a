"""DuckDB drops for a sweep: one read-write connection held for the whole sweep.

``DuckDBWarehouse.drop`` opens a read-write connection per call (about 0.2 s each on the demo
file, two minutes for 668 tables). A sweep holds one instead. While it is open DuckDB's file lock
keeps every other writer out, so the table list and creation times read once under that lock stay
current for the whole sweep except for our own drops, which are tracked: re-checking each table
against them is the same re-check as re-listing before each drop, without ~10 ms of catalog scan
per table. Each table's DROP and ``_canary_meta`` row removal commit together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipeline_canary.errors import NoCreationTimesError, WarehouseError
from pipeline_canary.staging.plan import Candidate
from pipeline_canary.staging.sweep import GONE, RECREATED
from pipeline_canary.warehouse.duckdb import DuckDBWarehouse
from pipeline_canary.warehouse.duckdb_connect import connect_duckdb
from pipeline_canary.warehouse.duckdb_created import DEFAULT_TABLE, quoted


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBTarget:
    def __init__(self, warehouse: DuckDBWarehouse) -> None:
        import duckdb

        self.warehouse = warehouse
        warehouse.close()  # DuckDB refuses a read-write and a read-only connection to one file at once
        try:
            self.conn: Any = connect_duckdb(warehouse.path, read_only=False)
            self.tables: set[tuple[str, str]] = {
                (schema, name)
                for schema, name in self.conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
            }
            source = warehouse.created_source
            # Only the demo's own table is kept in step with drops; a configured source is the user's.
            self.has_meta = source.is_default_table and (DEFAULT_TABLE.dataset, DEFAULT_TABLE.name) in self.tables
            self.conn.execute("BEGIN TRANSACTION")  # a configured query runs here, on a read-write connection
            try:
                created = source.read(self.conn, self.tables, str(warehouse.path))
            finally:
                self.conn.execute("ROLLBACK")
            # No source: no creation times, so no table here matches a candidate's and none is dropped.
            self.created: dict[tuple[str, str], dt.datetime] = created or {}
        except NoCreationTimesError:
            self.conn.close()
            raise
        except duckdb.Error as exc:
            raise WarehouseError(
                f"cannot open DuckDB {warehouse.path} for writing: {exc}. Is another process using it?"
            ) from exc

    def recheck(self, candidate: Candidate) -> str | None:
        key = (candidate.table.dataset, candidate.table.name)
        if key not in self.tables:
            return GONE
        if self.created.get(key) != candidate.created:
            return RECREATED
        return None

    def act(self, candidate: Candidate) -> str | None:
        import duckdb

        key = (candidate.table.dataset, candidate.table.name)
        try:
            self.conn.execute("BEGIN TRANSACTION")
            try:
                self.conn.execute(f"DROP TABLE {_quote(key[0])}.{_quote(key[1])}")
                if self.has_meta:
                    self.conn.execute(
                        f"DELETE FROM {quoted(DEFAULT_TABLE)} WHERE dataset = $d AND table_name = $t",
                        {"d": key[0], "t": key[1]},
                    )
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except duckdb.CatalogException:
            self.tables.discard(key)
            return GONE
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot drop {candidate.table} in DuckDB {self.warehouse.path}: {exc}") from exc
        self.tables.discard(key)
        self.created.pop(key, None)
        return None

    def close(self) -> None:
        self.conn.close()
