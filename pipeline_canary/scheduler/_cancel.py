"""A warehouse that can be cancelled from another thread: how a hung run is cut off.

A Python thread cannot be killed, so a time-out is enforced where the time goes: in the warehouse.
``cancel()`` interrupts the query in flight (DuckDB: ``connection.interrupt()``; BigQuery calls
already carry their own ``timeout_s``) and makes every later call raise ``WarehouseError`` with the
reason, so the canary reports ``errored`` with that reason and the run ends through the normal path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from pipeline_canary.errors import WarehouseError
from pipeline_canary.schema.model import Field
from pipeline_canary.warehouse.base import QueryResult, TableInfo, TableRef, Warehouse

log = logging.getLogger(__name__)


class CancellableWarehouse(Warehouse):
    """Delegates to ``inner``; ``started`` is set on the first call (the run holds the lock by then)."""

    name: ClassVar[str] = "cancellable"
    sqlglot_dialect: ClassVar[str] = ""

    def __init__(self, inner: Warehouse) -> None:
        self.inner = inner
        self.started = threading.Event()
        self.reason: str | None = None

    def cancel(self, reason: str) -> None:
        """Stop the run: interrupt the running query and fail every later call with ``reason``."""
        self.reason = reason
        interrupt = getattr(self.inner, "interrupt", None)
        if callable(interrupt):
            try:
                interrupt()
            except Exception:  # the connection may be closing at the same moment
                log.debug("interrupt failed", exc_info=True)

    def interrupt(self) -> None:
        """Interrupt the query in flight without cancelling the run (the runner stops on its own)."""
        interrupt = getattr(self.inner, "interrupt", None)
        if callable(interrupt):
            interrupt()

    def _call(self, method: str, *args: Any) -> Any:
        self.started.set()
        if self.reason is not None:
            raise WarehouseError(self.reason)
        try:
            value = getattr(self.inner, method)(*args)
        except Exception as exc:
            if self.reason is not None:
                raise WarehouseError(self.reason) from exc
            raise
        if self.reason is not None:  # cancelled while the call ran: its answer comes too late
            raise WarehouseError(self.reason)
        return value

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        result: QueryResult = self._call("query", sql, params)
        return result

    def columns(self, table: TableRef) -> list[Field]:
        fields: list[Field] = self._call("columns", table)
        return fields

    def tables(self, dataset: str, project: str | None = None) -> list[TableInfo]:
        infos: list[TableInfo] = self._call("tables", dataset, project)
        return infos

    def drop(self, table: TableRef) -> None:
        self._call("drop", table)

    def ping(self) -> None:
        self._call("ping")

    def table_sql(self, table: TableRef) -> str:
        return self.inner.table_sql(table)

    def close(self) -> None:
        self.inner.close()
