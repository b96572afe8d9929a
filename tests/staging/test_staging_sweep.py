"""Sweeps against a real DuckDB file: dry runs change nothing, only orphans go, failures don't stop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.errors import ConfigError, WarehouseError
from pipeline_canary.staging.audit import AuditLog, audit_rows, current_actor
from pipeline_canary.staging.plan import UNKNOWN_AGE, Candidate, build_plan
from pipeline_canary.staging.sweep import GONE, RECREATED, GenericTarget, sweep
from pipeline_canary.state.sqlite import SQLiteState
from pipeline_canary.warehouse.base import TableInfo
from pipeline_canary.warehouse.duckdb import DuckDBWarehouse
from pipeline_canary.warehouse.duckdb_connect import connect_duckdb
from pipeline_canary.warehouse.duckdb_created import CreatedSource
from tests.staging.builder import DAY, NOW, ORPHANS, SURVIVORS, build_warehouse, default_tables, snapshot

Names = Callable[[Path], set[tuple[str, str]]]


def plan_for(wh: DuckDBWarehouse, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "dataset": "nba_predictions",
        "prefix": "_staging_",
        "older_than": dt.timedelta(hours=24),
        "now": NOW,
    }
    args.update(kw)
    return build_plan(wh.tables(args["dataset"]), **args)


def test_dry_run_changes_nothing(small_warehouse: Path) -> None:
    before = snapshot(small_warehouse)
    wh = DuckDBWarehouse(small_warehouse)
    result = sweep(wh, plan_for(wh))
    wh.close()
    assert not result.executed and result.outcomes == []
    assert sorted(c.table.name for c in result.plan.candidates) == sorted(ORPHANS)
    assert snapshot(small_warehouse) == before


def test_execute_drops_exactly_the_orphans(small_warehouse: Path, table_names: Names, tmp_path: Path) -> None:
    before = table_names(small_warehouse)
    state = SQLiteState(tmp_path / "state.sqlite")
    audit = AuditLog(state, sweep_id="s1", backend="duckdb", actor="ops@test")
    wh = DuckDBWarehouse(small_warehouse)
    result = sweep(wh, plan_for(wh), execute=True, journal=audit)
    assert result.summary() == {"found": 10, "planned": 5, "dropped": 5, "expired": 0, "skipped": 5, "failed": 0}
    assert before - table_names(small_warehouse) == {("nba_predictions", n) for n in ORPHANS}
    assert set(SURVIVORS) <= table_names(small_warehouse)
    # the warehouse still answers read-only queries afterwards, and meta rows of dropped tables are gone
    remaining = wh.query("SELECT table_name FROM _canary_meta.table_created").rows
    assert not {r[0] for r in remaining} & set(ORPHANS)
    rows = audit_rows(state)
    assert [r.table_name for r in rows] == [o.table.name for o in result.outcomes]
    assert {r.action for r in rows} == {"dropped"} and {r.actor for r in rows} == {"ops@test"}
    assert all(r.age_hours and r.age_hours > 24 for r in rows)


def test_refused_plan_touches_nothing(small_warehouse: Path) -> None:
    before = snapshot(small_warehouse)
    wh = DuckDBWarehouse(small_warehouse)
    with pytest.raises(ConfigError, match="max-tables 4"):
        sweep(wh, plan_for(wh, max_tables=4), execute=True)
    wh.close()
    assert snapshot(small_warehouse) == before


def test_table_created_after_listing_started_survives(small_warehouse: Path, table_names: Names) -> None:
    wh = DuckDBWarehouse(small_warehouse)
    # the listing "started" 2.5 days before now: orphans 0 (2 d) and 1 (3 d)... only 1+ existed then
    result = sweep(wh, plan_for(wh, listing_started=NOW - dt.timedelta(days=2.5)), execute=True)
    assert ("nba_predictions", ORPHANS[0]) in table_names(small_warehouse)
    assert result.dropped == 4


def _touch_created(path: Path, name: str, created: dt.datetime | None) -> None:
    with connect_duckdb(path) as conn:
        if created is None:
            conn.execute(f'DROP TABLE nba_predictions."{name}"')
        else:
            conn.execute("UPDATE _canary_meta.table_created SET created_at = ? WHERE table_name = ?", [created, name])


@pytest.mark.parametrize("generic", [False, True], ids=["duckdb-target", "generic-target"])
def test_recheck_skips_tables_gone_or_recreated_since_listing(
    small_warehouse: Path, table_names: Names, generic: bool
) -> None:
    wh = DuckDBWarehouse(small_warehouse)
    plan = plan_for(wh)
    wh.close()
    _touch_created(small_warehouse, ORPHANS[0], None)
    _touch_created(small_warehouse, ORPHANS[1], NOW - dt.timedelta(minutes=1))
    target = GenericTarget(wh, "drop", None) if generic else None
    result = sweep(wh, plan, execute=True, target=target)
    details = {o.table.name: (o.action, o.detail) for o in result.outcomes}
    assert details[ORPHANS[0]] == ("skipped", GONE)
    assert details[ORPHANS[1]] == ("skipped", RECREATED)
    assert ("nba_predictions", ORPHANS[1]) in table_names(small_warehouse)
    assert result.dropped == 3 and result.skipped == 5 + 2


class FlakyTarget:
    """Fails on one table, drops the others through the real warehouse."""

    def __init__(self, wh: DuckDBWarehouse, bad: str, error: Exception) -> None:
        self.inner = GenericTarget(wh, "drop", None)
        self.bad, self.error = bad, error

    def recheck(self, candidate: Candidate) -> str | None:
        return self.inner.recheck(candidate)

    def act(self, candidate: Candidate) -> str | None:
        if candidate.table.name == self.bad:
            raise self.error
        return self.inner.act(candidate)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("error", [WarehouseError("permission denied"), RuntimeError("driver bug")])
def test_one_failure_is_reported_and_the_sweep_continues(
    small_warehouse: Path, table_names: Names, tmp_path: Path, error: Exception
) -> None:
    state = SQLiteState(tmp_path / "state.sqlite")
    audit = AuditLog(state, sweep_id="s2", backend="duckdb", actor="ops@test")
    wh = DuckDBWarehouse(small_warehouse)
    result = sweep(wh, plan_for(wh), execute=True, target=FlakyTarget(wh, ORPHANS[2], error), journal=audit)
    assert (result.dropped, result.failed) == (4, 1)
    failed = [o for o in result.outcomes if o.action == "failed"]
    assert failed[0].table.name == ORPHANS[2] and str(error) in (failed[0].detail or "")
    assert ("nba_predictions", ORPHANS[2]) in table_names(small_warehouse)
    # its entry, written as "dropping" before the attempt, now says failed and why
    (entry,) = [r for r in audit_rows(state) if r.table_name == ORPHANS[2]]
    assert (entry.status, entry.action) == ("failed", "failed") and str(error) in (entry.detail or "")


def test_expire_is_refused_on_duckdb_even_in_a_dry_run(small_warehouse: Path) -> None:
    wh = DuckDBWarehouse(small_warehouse)
    with pytest.raises(ConfigError, match="--expire is not supported on the duckdb backend"):
        sweep(wh, plan_for(wh), mode="expire")
    with pytest.raises(ConfigError, match="not supported"):
        sweep(wh, plan_for(wh), mode="expire", execute=True)


class ExpiringWarehouse(DuckDBWarehouse):
    """A DuckDB warehouse that records expirations instead (stands in for BigQuery's)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.expirations: dict[str, dt.datetime] = {}

    def set_expiration(self, table: Any, when: dt.datetime) -> None:
        self.expirations[table.name] = when


def test_expire_mode_sets_expirations_and_drops_nothing(small_warehouse: Path, tmp_path: Path) -> None:
    wh = ExpiringWarehouse(small_warehouse)
    state = SQLiteState(tmp_path / "state.sqlite")
    audit = AuditLog(state, sweep_id="s3", backend="bigquery", actor="ops@test")
    clock = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
    before = snapshot(small_warehouse)
    result = sweep(wh, plan_for(wh), mode="expire", execute=True, clock=lambda: clock, journal=audit)
    wh.close()
    assert result.expired == 5 and result.dropped == 0
    assert set(wh.expirations) == set(ORPHANS) and set(wh.expirations.values()) == {clock + DAY}
    assert snapshot(small_warehouse)["counts"] == before["counts"]
    assert {r.action for r in audit_rows(state)} == {"expired"}


def test_actor_prefers_the_environment() -> None:
    assert current_actor({"CANARY_ACTOR": "scheduler@prod"}) == "scheduler@prod"
    assert "@" in current_actor({})


def test_a_list_only_plan_cannot_be_executed(small_warehouse: Path) -> None:
    wh = DuckDBWarehouse(small_warehouse)
    plan = plan_for(wh, older_than=dt.timedelta(minutes=10), min_older_than=dt.timedelta(0))
    before = snapshot(small_warehouse)
    wh.close()
    with pytest.raises(ConfigError, match="cutoff under"):
        sweep(wh, plan, execute=True)
    assert snapshot(small_warehouse) == before


def test_without_a_creation_time_source_nothing_is_dropped(tmp_path: Path, table_names: Names) -> None:
    path = build_warehouse(tmp_path / "no-meta.duckdb", default_tables(), meta=False)
    before = table_names(path)
    wh = DuckDBWarehouse(path)
    plan = plan_for(wh)
    assert plan.candidates == () and len(plan.skipped) == 10
    assert {s.reason for s in plan.skipped if s.name in ORPHANS} == {UNKNOWN_AGE}
    # even a plan made while the times were known is not carried out once they are not
    stale = build_plan(
        [TableInfo("nba_predictions", n, NOW - 3 * DAY) for n in ORPHANS],
        dataset="nba_predictions",
        prefix="_staging_",
        older_than=DAY,
        now=NOW,
    )
    for target in (None, GenericTarget(wh, "drop", None)):
        result = sweep(wh, stale, execute=True, target=target)
        assert result.dropped == 0 and {o.detail for o in result.outcomes} == {RECREATED}
    wh.close()
    assert table_names(path) == before


def test_a_table_of_unknown_age_among_known_orphans_is_kept(small_warehouse: Path, table_names: Names) -> None:
    with connect_duckdb(small_warehouse) as conn:
        conn.execute("DELETE FROM _canary_meta.table_created WHERE table_name = ?", [ORPHANS[0]])
    wh = DuckDBWarehouse(small_warehouse)
    result = sweep(wh, plan_for(wh), execute=True)
    assert result.dropped == 4 and ("nba_predictions", ORPHANS[0]) in table_names(small_warehouse)
    assert next(s.reason for s in result.plan.skipped if s.name == ORPHANS[0]) == UNKNOWN_AGE


@pytest.mark.parametrize("generic", [False, True], ids=["duckdb-target", "generic-target"])
def test_a_configured_source_drives_the_sweep_and_is_left_as_it_was(
    tmp_path: Path, table_names: Names, generic: bool
) -> None:
    tables = default_tables()
    path = build_warehouse(tmp_path / "own-log.duckdb", tables, meta=False)
    with connect_duckdb(path) as conn:
        conn.execute("CREATE SCHEMA ops")
        conn.execute("CREATE TABLE ops.created (dataset VARCHAR, table_name VARCHAR, created_at TIMESTAMPTZ)")
        conn.executemany("INSERT INTO ops.created VALUES (?, ?, ?)", [list(t) for t in tables])
        log_before = conn.execute("SELECT count(*) FROM ops.created").fetchone()
    before = table_names(path)
    wh = DuckDBWarehouse(path, created=CreatedSource.from_config("ops.created", None))
    target = GenericTarget(wh, "drop", None) if generic else None
    result = sweep(wh, plan_for(wh), execute=True, target=target)
    wh.close()
    assert result.dropped == 5 and result.failed == 0, result.outcomes
    assert before - table_names(path) == {("nba_predictions", n) for n in ORPHANS}
    with connect_duckdb(path, read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM ops.created").fetchone() == log_before  # the user's, untouched
    assert not any(schema == "_canary_meta" for schema, _ in table_names(path))


def test_an_audit_written_before_entries_had_a_status_is_migrated(small_warehouse: Path, tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:  # the table as the first release created it, with one row
        old.executescript(
            "CREATE TABLE staging_cleanup (id INTEGER PRIMARY KEY AUTOINCREMENT, sweep_id TEXT NOT NULL, "
            "at TEXT NOT NULL, actor TEXT NOT NULL, backend TEXT NOT NULL, dataset TEXT NOT NULL, "
            "table_name TEXT NOT NULL, created TEXT, age_hours REAL, action TEXT NOT NULL "
            "CHECK (action IN ('dropped', 'expired', 'failed')), detail TEXT);"
            "INSERT INTO staging_cleanup (sweep_id, at, actor, backend, dataset, table_name, action) "
            "VALUES ('s0', '2026-01-01T00:00:00+00:00', 'ops@old', 'duckdb', 'nba_predictions', 'gone', 'dropped');"
        )
    state = SQLiteState(path)
    wh = DuckDBWarehouse(small_warehouse)
    sweep(wh, plan_for(wh), execute=True, journal=AuditLog(state, sweep_id="s1", backend="duckdb", actor="ops@test"))
    rows = audit_rows(state)
    assert (rows[0].table_name, rows[0].status, rows[0].action) == ("gone", "dropped", "dropped")
    assert [r.status for r in rows[1:]] == ["dropped"] * 5 and {r.sweep_id for r in rows[1:]} == {"s1"}


def test_reconcile_reads_each_half_done_entry_from_the_warehouse(small_warehouse: Path, tmp_path: Path) -> None:
    """Gone: dropped. There as the sweep saw it: not dropped. Its name re-used by a newer table: dropped."""
    from pipeline_canary.staging.reconcile import reconcile

    state = SQLiteState(tmp_path / "state.sqlite")
    wh = DuckDBWarehouse(small_warehouse)
    candidates = {c.table.name: c for c in plan_for(wh).candidates}
    killed = AuditLog(state, sweep_id="killed", backend="duckdb", actor="ops@test")
    for name in ORPHANS[:3]:
        killed.begin(candidates[name], "dropping")
    wh.close()
    _touch_created(small_warehouse, ORPHANS[0], None)  # dropped before the kill
    _touch_created(small_warehouse, ORPHANS[2], NOW - dt.timedelta(hours=1))  # dropped, then re-created by a batch
    settled = {r.entry.table_name: r for r in reconcile(state, wh, actor="ops@later")}
    wh.close()
    assert {n: r.status for n, r in settled.items()} == {
        ORPHANS[0]: "dropped (reconciled)",
        ORPHANS[1]: "not dropped (reconciled)",
        ORPHANS[2]: "dropped (reconciled)",
    }
    assert "no longer exists" in settled[ORPHANS[0]].detail and "still exists" in settled[ORPHANS[1]].detail
    assert "one of that name was created" in settled[ORPHANS[2]].detail
    rows = {r.table_name: r for r in audit_rows(state)}
    assert {n: (r.status, r.action) for n, r in rows.items()} == {
        ORPHANS[0]: ("dropped (reconciled)", "dropped"),
        ORPHANS[1]: ("not dropped (reconciled)", "failed"),
        ORPHANS[2]: ("dropped (reconciled)", "dropped"),
    }
    assert all("reconciled" in (r.detail or "") and "by ops@later" in (r.detail or "") for r in rows.values())
    assert reconcile(state, wh, actor="ops@later") == []  # settled once
    wh.close()
