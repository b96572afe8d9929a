"""The warehouse layer: one small interface, a DuckDB backend (embedded default) and BigQuery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline_canary.warehouse.base import QueryResult, TableInfo, TableRef, Warehouse, validate_identifier

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig, WarehouseConfig

__all__ = ["QueryResult", "TableInfo", "TableRef", "Warehouse", "connect", "connect_pipeline", "validate_identifier"]


def connect(config: WarehouseConfig, *, read_only: bool = True, partitioned_tables: Sequence[str] = ()) -> Warehouse:
    """The backend named by ``config.backend``; driver imports happen only here, lazily.

    ``partitioned_tables`` (the configured pipeline tables) must be read with a ``game_date``
    filter; the BigQuery backend refuses any query that reads them without one.
    """
    if config.backend == "duckdb":
        from pipeline_canary.warehouse.duckdb import DuckDBWarehouse
        from pipeline_canary.warehouse.duckdb_created import CreatedSource

        created = CreatedSource.from_config(config.created_table, config.created_query)
        return DuckDBWarehouse(config.path, read_only=read_only, created=created)
    if config.backend == "bigquery":
        from pipeline_canary.warehouse.bigquery import BigQueryWarehouse

        warehouse = BigQueryWarehouse.from_config(config)
        if partitioned_tables:
            warehouse.guard_tables(partitioned_tables)
        return warehouse
    raise ValueError(f"unknown warehouse backend {config.backend!r}")


def connect_pipeline(config: CanaryConfig, *, read_only: bool = True) -> Warehouse:
    """The configured backend, guarding the partition filter of the pipeline tables and of the tables
    canary files declare ``partitioned``."""
    return connect(config.warehouse, read_only=read_only, partitioned_tables=config.guarded_tables())
