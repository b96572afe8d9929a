"""The warehouse layer: one small interface, a DuckDB backend (embedded default) and BigQuery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline_canary.warehouse.base import QueryResult, TableInfo, TableRef, Warehouse, validate_identifier

if TYPE_CHECKING:
    from pipeline_canary.config import WarehouseConfig

__all__ = ["QueryResult", "TableInfo", "TableRef", "Warehouse", "connect", "validate_identifier"]


def connect(config: WarehouseConfig, *, read_only: bool = True) -> Warehouse:
    """The backend named by ``config.backend``; driver imports happen only here, lazily."""
    if config.backend == "duckdb":
        from pipeline_canary.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(config.path, read_only=read_only)
    if config.backend == "bigquery":
        from pipeline_canary.warehouse.bigquery import BigQueryWarehouse

        return BigQueryWarehouse.from_config(config)
    raise ValueError(f"unknown warehouse backend {config.backend!r}")
