"""Unknown is never passed: staging tables whose age the warehouse cannot tell are named, never dropped silently.

DuckDB keeps no creation times; the backend reads them from ``[warehouse] created_table`` or
``created_query``, by default the demo's ``_canary_meta.table_created``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.errors import ConfigError
from pipeline_canary.results import CheckpointResult, Outcome
from tests.conftest import NOW
from tests.staging.builder import DAY, build_warehouse, orphan_name

CHECKPOINT = "orphaned_staging_tables"
OLD = [orphan_name(i) for i in range(12)]  # more than a message names
YOUNG = "_staging_batch_2026_02_08_1770585900_worker_4ac8cee63946"


def run(config: CanaryConfig) -> CheckpointResult:
    return run_checkpoints(config, [CHECKPOINT], now=NOW).get(CHECKPOINT)


def staging_warehouse(path: Path, *, meta: bool) -> Path:
    """nba_predictions with 12 old staging tables, one young one and a production table."""
    tables: list[tuple[str, str, dt.datetime | None]] = [("nba_predictions", n, NOW - 3 * DAY) for n in OLD]
    tables += [("nba_predictions", YOUNG, NOW - dt.timedelta(hours=1))]
    tables += [("nba_predictions", "player_prop_predictions", NOW - 40 * DAY)]
    return build_warehouse(path, tables, meta=meta)


def test_no_creation_time_source_is_errored_naming_the_tables_and_the_fix(
    tmp_path: Path, make_config: Callable[..., CanaryConfig]
) -> None:
    cp = run(make_config(staging_warehouse(tmp_path / "wh.duckdb", meta=False)))
    assert cp.outcome is Outcome.ERRORED, cp.message
    assert "no creation time for any of the 13 staging tables in nba_predictions" in cp.message
    assert OLD[0] in cp.message and "and 3 more" in cp.message and OLD[-1] not in cp.message  # bounded
    assert "_canary_meta.table_created" in cp.message and "created_table" in cp.message
    assert "created_query" in cp.message
    assert cp.metrics["unknown_age_tables"] == 13 and cp.metrics["staging_tables"] == 13
    assert {r["table"] for r in cp.evidence["unknown_age_tables"]} == {*OLD, YOUNG}


def test_a_source_without_rows_for_the_staging_tables_is_errored(
    tmp_path: Path, make_config: Callable[..., CanaryConfig]
) -> None:
    path = staging_warehouse(tmp_path / "wh.duckdb", meta=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute("DELETE FROM _canary_meta.table_created WHERE starts_with(table_name, '_staging_')")
    cp = run(make_config(path))
    assert cp.outcome is Outcome.ERRORED, cp.message
    assert "no creation time for any of the 13 staging tables" in cp.message
    assert "_canary_meta.table_created (the default" in cp.message and "has no row for them" in cp.message


def test_some_tables_of_unknown_age_warn_naming_them(tmp_path: Path, make_config: Callable[..., CanaryConfig]) -> None:
    path = staging_warehouse(tmp_path / "wh.duckdb", meta=True)
    unknown = OLD[:2]
    with duckdb.connect(str(path)) as conn:
        # the old tables with known ages become young: only the unknown ones are in question
        conn.execute("UPDATE _canary_meta.table_created SET created_at = CAST(? AS TIMESTAMPTZ)", [NOW - DAY / 2])
        conn.execute("DELETE FROM _canary_meta.table_created WHERE table_name IN (?, ?)", unknown)
    cp = run(make_config(path))
    assert cp.outcome is Outcome.WARNED, cp.message
    assert "0 of 13 staging tables" in cp.message
    assert "2 have no creation time and could not be judged" in cp.message
    assert all(name in cp.message for name in unknown)
    check = next(c for c in cp.checks if c.name == "no_unknown_age_tables")
    assert check.outcome is Outcome.WARNED and check.observed == 2
    assert [r["table"] for r in cp.evidence["unknown_age_tables"]] == sorted(unknown)


def test_unknown_ages_do_not_hide_the_orphans_that_are_known(
    tmp_path: Path, make_config: Callable[..., CanaryConfig]
) -> None:
    path = staging_warehouse(tmp_path / "wh.duckdb", meta=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute("DELETE FROM _canary_meta.table_created WHERE table_name = ?", [OLD[0]])
    cp = run(make_config(path))
    assert cp.outcome is Outcome.FAILED
    assert cp.metrics["orphaned_tables"] == 11 and cp.metrics["unknown_age_tables"] == 1
    assert {c.name: c.outcome for c in cp.checks} == {
        "no_orphaned_tables": Outcome.FAILED,
        "no_unknown_age_tables": Outcome.WARNED,
    }


def _own_log(path: Path, *, table: str, columns: str, naive: bool = False) -> None:
    """A creation log of the user's own, with its own column names, and no _canary_meta."""
    kind = "TIMESTAMP" if naive else "TIMESTAMPTZ"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS ops")
        conn.execute(f"CREATE TABLE {table} ({columns.replace('{ts}', kind)})")
        for name in OLD:
            when = NOW - 3 * DAY
            conn.execute(f"INSERT INTO {table} VALUES (?, ?, ?)", ["nba_predictions", name, when.replace(tzinfo=None)])
        conn.execute(f"INSERT INTO {table} VALUES (?, ?, ?)", ["nba_predictions", YOUNG, NOW.replace(tzinfo=None)])


def test_a_configured_table_is_the_source(tmp_path: Path, make_config: Callable[..., CanaryConfig]) -> None:
    path = staging_warehouse(tmp_path / "wh.duckdb", meta=False)
    _own_log(path, table="ops.created", columns="dataset VARCHAR, table_name VARCHAR, created_at {ts}")
    cp = run(make_config(path, warehouse_keys='created_table = "ops.created"\n'))
    assert cp.outcome is Outcome.FAILED, cp.message
    assert cp.metrics["orphaned_tables"] == 12 and cp.metrics["unknown_age_tables"] == 0
    assert cp.metrics["oldest_age_hours"] == 72.0


def test_a_configured_query_is_the_source(tmp_path: Path, make_config: Callable[..., CanaryConfig]) -> None:
    path = staging_warehouse(tmp_path / "wh.duckdb", meta=False)
    _own_log(path, table="ops.events", columns="schema_name VARCHAR, tbl VARCHAR, made {ts}", naive=True)
    query = "SELECT schema_name, tbl, made FROM ops.events WHERE tbl <> '" + OLD[0] + "'"
    cp = run(make_config(path, warehouse_keys=f'created_query = "{query}"\n'))
    assert cp.metrics["orphaned_tables"] == 11 and cp.metrics["unknown_age_tables"] == 1
    assert cp.metrics["oldest_age_hours"] == 72.0  # a TIMESTAMP without a zone is UTC
    assert OLD[0] in cp.message


def test_a_configured_source_that_is_missing_or_wrong_is_errored(
    tmp_path: Path, make_config: Callable[..., CanaryConfig]
) -> None:
    path = staging_warehouse(tmp_path / "wh.duckdb", meta=False)
    cp = run(make_config(path, warehouse_keys='created_table = "ops.nope"\n'))
    assert cp.outcome is Outcome.ERRORED
    assert "table ops.nope ([warehouse] created_table) does not exist" in cp.message
    cp = run(make_config(path, warehouse_keys='created_query = "SELECT 1 AS a, 2 AS b"\n'))
    assert cp.outcome is Outcome.ERRORED and "[warehouse] created_query returned 2 columns, not 3" in cp.message
    cp = run(make_config(path, warehouse_keys="created_query = \"SELECT 'a', 'b', 'c'\"\n"))
    assert cp.outcome is Outcome.ERRORED and "as a creation time" in cp.message


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        ('created_table = "ops.t"\ncreated_query = "SELECT 1, 2, 3"\n', "not both"),
        ('created_table = "p-roject.ops.t"\n', "warehouse.created_table: 'p-roject.ops.t': a DuckDB table is"),
        ('created_table = "ops.t; DROP"\n', "warehouse.created_table: invalid table name"),
        ('created_query = "DROP TABLE ops.t"\n', "warehouse.created_query: must be one SELECT"),
        ('created_query = "SELECT 1, 2, 3; DELETE FROM ops.t"\n', "warehouse.created_query: must be one SELECT"),
        ('backend = "bigquery"\nproject = "nba-props-platform"\ncreated_table = "ops.t"\n', "duckdb backend only"),
    ],
)
def test_bad_creation_time_settings_are_configuration_errors(tmp_path: Path, keys: str, fragment: str) -> None:
    path = tmp_path / "canary.toml"
    path.write_text(f"[warehouse]\n{keys}", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    assert fragment in str(exc.value) and str(path) in str(exc.value)
