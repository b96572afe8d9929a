"""Where the DuckDB backend reads table creation times from: DuckDB itself keeps none.

A source is either a table with the columns ``dataset``, ``table_name`` and ``created_at`` or a
query returning three columns (dataset, table name, creation time), set in ``[warehouse]`` as
``created_table`` or ``created_query``. Without either, the demo's ``_canary_meta.table_created``
is read if it exists; if it does not, every table's age is unknown (and the checkpoints say so). A
configured source that is missing or broken is an error. Where a table has several rows, the
latest time counts; a time without a timezone is UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pipeline_canary.errors import NoCreationTimesError
from pipeline_canary.warehouse.base import TableRef

DEFAULT_TABLE = TableRef(dataset="_canary_meta", name="table_created")
FIX = (
    'set [warehouse] created_table = "dataset.table" (columns dataset, table_name, created_at) or '
    'created_query = "SELECT dataset, table_name, created_at FROM ..." (see README, [warehouse])'
)

CreatedTimes = dict[tuple[str, str], dt.datetime]


def quoted(table: TableRef) -> str:
    """``table`` as a DuckDB identifier (TableRef validated both names)."""
    return f'"{table.dataset}"."{table.name}"'


def check_query(text: str) -> str:
    """``text`` if it is one read-only query (SELECT, UNION, WITH ...) in DuckDB's SQL; ValueError otherwise."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise ValueError(f"not a query DuckDB's SQL parser can read: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ValueError("must be one SELECT query returning dataset, table name and creation time")
    return text


@dataclass(frozen=True)
class CreatedSource:
    """The configured source of creation times (the default: the demo's table, if present)."""

    table: TableRef = DEFAULT_TABLE
    query: str | None = None
    configured: bool = False

    @classmethod
    def from_config(cls, created_table: str | None, created_query: str | None) -> CreatedSource:
        if created_query is not None:
            return cls(query=check_query(created_query), configured=True)
        if created_table is not None:
            return cls(table=TableRef.parse(created_table), configured=True)
        return cls()

    @property
    def is_default_table(self) -> bool:
        """The demo's own table: the backend removes a dropped table's row from it (and only from it)."""
        return self.query is None and not self.configured

    def describe(self) -> str:
        if self.query is not None:
            return "[warehouse] created_query"
        if self.configured:
            return f"table {self.table} ([warehouse] created_table)"
        return f"table {self.table} (the default, written by `canary demo`)"

    def read(self, conn: Any, present: set[tuple[str, str]], where: str) -> CreatedTimes | None:
        """Creation times by (dataset, table), or None when there is no source at all (default table absent).

        ``present`` is every (schema, table) in the file; ``where`` names the file for messages.
        Raises NoCreationTimesError when a configured source is missing or returns something else.
        """
        import duckdb

        if self.query is None and (self.table.dataset, self.table.name) not in present:
            if not self.configured:
                return None
            raise NoCreationTimesError(
                f"{self.describe()} does not exist in DuckDB {where}",
                "create it, or point [warehouse] created_table (or created_query) at the creation times",
            )
        sql = self.query or f"SELECT dataset, table_name, created_at FROM {quoted(self.table)}"
        try:
            cursor = conn.execute(sql)
            rows = cursor.fetchall()
            width = len(cursor.description or ())
        except duckdb.Error as exc:
            from pipeline_canary.dependencies import from_duckdb

            missing = from_duckdb(exc, where)  # e.g. pytz, which TIMESTAMPTZ values need
            if missing is not None:
                raise missing from exc
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise NoCreationTimesError(
                f"reading creation times from {self.describe()} failed in DuckDB {where}: {first}",
                "fix the query or table named in [warehouse] (see README, [warehouse])",
            ) from exc
        if width != 3:
            raise NoCreationTimesError(
                f"{self.describe()} returned {width} columns, not 3", "return dataset, table name and creation time"
            )
        return _latest(rows, self.describe())


def _latest(rows: list[tuple[Any, ...]], what: str) -> CreatedTimes:
    found: CreatedTimes = {}
    for dataset, name, created in rows:
        if created is None:
            continue
        if not isinstance(created, dt.datetime):
            raise NoCreationTimesError(
                f"{what} returned {type(created).__name__} {created!r} as a creation time",
                "return a TIMESTAMP or TIMESTAMPTZ as the third column",
            )
        created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
        key = (str(dataset), str(name))
        if key not in found or created > found[key]:
            found[key] = created
    return found
