"""Fixtures for the staging cleanup tests (helpers live in ``builder``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.warehouse.duckdb_connect import connect_duckdb
from tests.staging.builder import build_warehouse, default_tables


@pytest.fixture
def small_warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "small.duckdb", default_tables())


@pytest.fixture
def table_names() -> Callable[[Path], set[tuple[str, str]]]:
    def names(path: Path) -> set[tuple[str, str]]:
        with connect_duckdb(path, read_only=True) as conn:
            return {(s, t) for s, t in conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}

    return names
