"""The warehouse interface every backend implements: small on purpose.

Canary SQL is written once, in BigQuery's dialect, with named ``@parameters`` for values and
``{placeholders}`` for table names. A backend runs it (translating with sqlglot where needed),
describes tables, lists tables with creation times and drops tables.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pipeline_canary.errors import ConfigError
from pipeline_canary.schema.model import Field

# matched with fullmatch: "$" would also match before a trailing newline ("events\n")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,1023}")
_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")


def validate_identifier(value: str, what: str = "identifier") -> str:
    """Return ``value`` if it is a safe dataset, table or column name, else raise ConfigError."""
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise ConfigError(f"invalid {what} {value!r}: use letters, digits and underscores, not starting with a digit")
    return value


@dataclass(frozen=True)
class TableRef:
    """A table named by config: ``dataset.table`` or ``project.dataset.table``, validated."""

    dataset: str
    name: str
    project: str | None = None

    def __post_init__(self) -> None:
        validate_identifier(self.dataset, "dataset name")
        validate_identifier(self.name, "table name")
        if self.project is not None and not _PROJECT.fullmatch(self.project):
            raise ConfigError(f"invalid project id {self.project!r}: 6-30 lowercase letters, digits or hyphens")

    @classmethod
    def parse(cls, text: str) -> TableRef:
        parts = text.split(".") if isinstance(text, str) else []
        if len(parts) == 2:
            return cls(dataset=parts[0], name=parts[1])
        if len(parts) == 3:
            return cls(project=parts[0], dataset=parts[1], name=parts[2])
        raise ConfigError(f"invalid table name {text!r}: expected dataset.table or project.dataset.table")

    def with_name(self, name: str) -> TableRef:
        return TableRef(dataset=self.dataset, name=name, project=self.project)

    def __str__(self) -> str:
        return ".".join(p for p in (self.project, self.dataset, self.name) if p)


@dataclass(frozen=True)
class TableInfo:
    """A table as listed in a dataset; ``created`` is None where the backend does not know it."""

    dataset: str
    name: str
    created: dt.datetime | None
    rows: int | None = None
    bytes: int | None = None


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    bytes_processed: int | None = None
    sql: str = ""

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def one(self) -> dict[str, Any]:
        """The single row an aggregate query returns; an empty result is an error, not zeros."""
        if len(self.rows) != 1:
            from pipeline_canary.errors import WarehouseError

            raise WarehouseError(f"expected one row from an aggregate query, got {len(self.rows)}")
        return dict(zip(self.columns, self.rows[0], strict=True))


class Warehouse(ABC):
    """A backend. Implementations keep their driver imports inside their own module."""

    name: ClassVar[str]
    sqlglot_dialect: ClassVar[str]

    @abstractmethod
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Run BigQuery-dialect ``sql`` with named ``@params`` bound as query parameters."""

    @abstractmethod
    def columns(self, table: TableRef) -> list[Field]:
        """Describe ``table``'s columns in BigQuery's vocabulary; TableNotFoundError if absent."""

    @abstractmethod
    def tables(self, dataset: str, project: str | None = None) -> list[TableInfo]:
        """List the tables of ``dataset`` with creation times; TableNotFoundError if absent."""

    def creation_time_source(self) -> str:
        """Where ``tables`` gets creation times from, for people; NoCreationTimesError (with its fix) if nowhere."""
        return f"{self.name} reports every table's creation time"

    @abstractmethod
    def drop(self, table: TableRef) -> None:
        """Drop ``table``. Callers (staging cleanup) own every guard; this only drops."""

    def with_sizes(self, tables: list[TableInfo]) -> list[TableInfo]:
        """``tables`` with rows and bytes filled in where the backend can tell (may cost a call each)."""
        return tables

    def dry_run(self, sql: str, params: Mapping[str, Any] | None = None) -> int | None:
        """Bytes the warehouse estimates ``sql`` would scan, without running it; None if unknown."""
        return None

    @abstractmethod
    def ping(self) -> None:
        """Raise WarehouseError if the warehouse cannot be reached."""

    def table_sql(self, table: TableRef) -> str:
        """``table`` quoted for BigQuery-dialect SQL (the dialect canary SQL is written in)."""
        return ".".join(f"`{p}`" for p in (table.project, table.dataset, table.name) if p)

    def interrupt(self) -> None:  # noqa: B027 - optional hook
        """Cancel the statement in flight, if the backend can (the scheduler's per-run timeout)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
