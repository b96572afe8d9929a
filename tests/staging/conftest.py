"""Fixtures for the staging cleanup tests (helpers live in ``builder``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.staging.builder import build_warehouse, default_tables


@pytest.fixture
def small_warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "small.duckdb", default_tables())


@pytest.fixture
def table_names() -> Callable[[Path], set[tuple[str, str]]]:
    def names(path: Path) -> set[tuple[str, str]]:
        with duckdb.connect(str(path), read_only=True) as conn:
            return {(s, t) for s, t in conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}

    return names
