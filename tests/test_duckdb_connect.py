"""DuckDB never installs or loads an extension on its own: not on the backend's connections, not anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline_canary.errors import MissingDependencyError
from pipeline_canary.staging._duckdb import DuckDBTarget
from pipeline_canary.warehouse.duckdb import DuckDBWarehouse
from pipeline_canary.warehouse.duckdb_connect import SAFE_CONFIG, connect_duckdb

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline_canary"
HELPER = PACKAGE / "warehouse" / "duckdb_connect.py"
SETTINGS_SQL = (
    "SELECT name, value FROM duckdb_settings() "
    "WHERE name IN ('autoinstall_known_extensions', 'autoload_known_extensions', 'allow_community_extensions')"
)
OFF = {name: "false" for name in SAFE_CONFIG}


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with connect_duckdb(path) as conn:
        conn.execute("CREATE SCHEMA nba_predictions; CREATE TABLE nba_predictions.t AS SELECT 1 AS i")
    return path


def _settings(rows: list[tuple[object, ...]] | tuple[tuple[object, ...], ...]) -> dict[str, str]:
    return {str(name): str(value).lower() for name, value in rows}


def test_backend_connections_have_autoinstall_and_autoload_off(warehouse: Path) -> None:
    with DuckDBWarehouse(warehouse) as wh:  # read-only, as checkpoints use it
        assert _settings(wh.query(SETTINGS_SQL).rows) == OFF
    wh = DuckDBWarehouse(warehouse)
    target = DuckDBTarget(wh)  # the cleanup sweep's read-write connection
    try:
        assert _settings(target.conn.execute(SETTINGS_SQL).fetchall()) == OFF
    finally:
        target.close()


def test_a_statement_needing_an_extension_fails_naming_it_and_fetches_nothing(warehouse: Path) -> None:
    # As a view in a foreign file would: reading an https:// URL needs httpfs, which DuckDB would
    # otherwise download from extensions.duckdb.org over plain HTTP and load.
    with DuckDBWarehouse(warehouse) as wh, pytest.raises(MissingDependencyError) as info:
        wh.query("SELECT * FROM read_csv('https://127.0.0.1:9/x.csv')")
    message = str(info.value)
    assert "'httpfs'" in message and "not installed" in message
    assert "download" not in message.lower() and "automatically install" not in message


def _direct_connects(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and node.attr == "connect" and ast.unparse(node.value) == "duckdb":
            found.append(f"{where} duckdb.connect")
        imported = isinstance(node, ast.ImportFrom) and node.module == "duckdb"
        if imported and any(a.name == "connect" for a in node.names):  # type: ignore[attr-defined]
            found.append(f"{where} from duckdb import connect")
    return found


def test_no_module_but_the_helper_calls_duckdb_connect() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 50
    offenders = [hit for path in modules if path != HELPER for hit in _direct_connects(path)]
    assert offenders == [], "use pipeline_canary.warehouse.duckdb_connect.connect_duckdb"
    assert _direct_connects(HELPER)  # the scan does see the one real call
