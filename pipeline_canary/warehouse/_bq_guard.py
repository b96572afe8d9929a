"""Partition-filter guard: refuse SQL that reads a partitioned pipeline table without a date filter.

The pipeline's tables are created with ``require_partition_filter``; BigQuery rejects a query that
reads one without a ``game_date`` predicate, and without that option a full scan would be billed.
The local server does not enforce the option, so the backend checks the SQL itself before sending
it: every reference to a guarded table must have a predicate on the partition column in the WHERE
or JOIN ... ON of the SELECT that reads it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline_canary.warehouse.base import TableRef

PARTITION_COLUMN = "game_date"


@dataclass(frozen=True)
class PartitionGuard:
    """The tables that need a partition filter; matching ignores the project when either side lacks one."""

    tables: frozenset[TableRef]
    column: str = PARTITION_COLUMN

    @classmethod
    def of(cls, tables: Iterable[TableRef | str], column: str = PARTITION_COLUMN) -> PartitionGuard:
        refs = frozenset(t if isinstance(t, TableRef) else TableRef.parse(t) for t in tables)
        return cls(tables=refs, column=column)

    def guards(self, project: str | None, dataset: str, name: str) -> bool:
        for ref in self.tables:
            same_name = ref.dataset.lower() == dataset.lower() and ref.name.lower() == name.lower()
            if same_name and (ref.project is None or project is None or ref.project == project):
                return True
        return False

    def violations(self, sql: str) -> list[str]:
        """The guarded tables ``sql`` reads without a predicate on the partition column (empty if none)."""
        return list(_violations(sql, self))


@functools.lru_cache(maxsize=512)
def _violations(sql: str, guard: PartitionGuard) -> tuple[str, ...]:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        statements = sqlglot.parse(sql, read="bigquery")
    except ParseError as exc:
        return (f"SQL does not parse as BigQuery SQL, so its partition filters cannot be checked: {exc}",)
    found: list[str] = []
    for statement in statements:
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            project = table.catalog or None
            if not table.db or not guard.guards(project, table.db, table.name):
                continue
            if not _has_partition_predicate(table, guard.column):
                found.append(
                    f"{'.'.join(p for p in (table.catalog, table.db, table.name) if p)} is read without a "
                    f"{guard.column} predicate (the table requires a partition filter)"
                )
    return tuple(found)


def _has_partition_predicate(table: object, column: str) -> bool:
    from sqlglot import exp

    assert isinstance(table, exp.Table)
    select = table.find_ancestor(exp.Select)
    if select is None:  # DML/DDL reading the table directly: look at the whole statement
        root = table.root()
        return any(c.name.lower() == column for c in root.find_all(exp.Column))
    alias = table.alias_or_name.lower()
    scopes: list[exp.Expression] = []
    if select.args.get("where") is not None:
        scopes.append(select.args["where"])
    for join in select.args.get("joins") or ():
        if join.args.get("on") is not None:
            scopes.append(join.args["on"])
    for scope in scopes:
        for col in scope.find_all(exp.Column):
            if col.name.lower() != column or col.find_ancestor(exp.Select) is not select:
                continue
            if not col.table or col.table.lower() == alias:
                return True
    return False
