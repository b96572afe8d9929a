"""The runner validates each canary's observation while the warehouse answers the next canary's SQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import WarehouseError
from pipeline_canary.results import CheckpointResult, Outcome
from pipeline_canary.warehouse.base import TableInfo
from pipeline_canary.warehouse.duckdb import DuckDBWarehouse
from tests.conftest import AS_OF, NOW


class GatedListing(DuckDBWarehouse):
    """DuckDB whose table listing (orphaned_staging_tables, the last canary) waits for a gate."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.opened_before_listing: bool | None = None
        self.interrupted = threading.Event()

    def tables(self, dataset: str, project: str | None = None) -> list[TableInfo]:
        self.opened_before_listing = self.gate.wait(timeout=10)
        if self.interrupted.is_set():
            raise WarehouseError("interrupted")
        return super().tables(dataset, project)

    def interrupt(self) -> None:
        self.interrupted.set()
        self.gate.set()
        super().interrupt()


def test_results_arrive_while_later_sql_is_still_running(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("incident"))
    warehouse = GatedListing(config.warehouse.path)
    seen: list[str] = []

    def on_result(result: CheckpointResult) -> None:
        seen.append(result.name)
        warehouse.gate.set()  # the listing may go on only once a result is out

    run = run_checkpoints(config, as_of=AS_OF, now=NOW, warehouse=warehouse, on_result=on_result)
    warehouse.close()
    assert warehouse.opened_before_listing is True, "no result was validated before the last canary's SQL ran"
    assert seen == ["prediction_gap", "feature_contamination", "schema_parity", "orphaned_staging_tables"]
    assert [c.outcome for c in run.checkpoints] == [Outcome.FAILED] * 4


class Stop(Exception):
    pass


def test_a_failure_while_validating_stops_the_remaining_sql(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("incident"))
    warehouse = GatedListing(config.warehouse.path)

    def on_result(result: CheckpointResult) -> None:
        raise Stop(result.name)

    with pytest.raises(Stop, match="prediction_gap"):
        run_checkpoints(config, as_of=AS_OF, now=NOW, warehouse=warehouse, on_result=on_result)
    warehouse.close()
    assert warehouse.interrupted.is_set(), "the query in flight was not interrupted"
    assert not [t for t in threading.enumerate() if t.name.startswith("canary-sql-")], "a SQL thread outlived the run"


class BrokenClose(DuckDBWarehouse):
    def close(self) -> None:
        super().close()
        raise OSError("disk went away")


def test_a_warehouse_that_fails_to_close_does_not_hang_the_run(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline_canary.warehouse as warehouse_module

    config = make_config(seeded("healthy"))
    monkeypatch.setattr(warehouse_module, "connect_pipeline", lambda cfg: BrokenClose(cfg.warehouse.path))
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(run_checkpoints(config, as_of=AS_OF, now=NOW)), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the run hung after the warehouse failed to close"
    (run,) = outcome
    assert [c.outcome for c in run.checkpoints] == [Outcome.PASSED] * 4  # type: ignore[attr-defined]


class BrokenPing(DuckDBWarehouse):
    def ping(self) -> None:
        raise RuntimeError("a bug, not a warehouse error")


def test_a_bug_in_the_sql_thread_reaches_the_caller(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("healthy"))
    warehouse = BrokenPing(config.warehouse.path)
    with pytest.raises(RuntimeError, match="a bug"):
        run_checkpoints(config, as_of=AS_OF, now=NOW, warehouse=warehouse)
    warehouse.close()


def test_the_services_cancellable_warehouse_forwards_an_interrupt(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    from pipeline_canary.scheduler._cancel import CancellableWarehouse

    inner = GatedListing(make_config(seeded("healthy")).warehouse.path)
    wrapper = CancellableWarehouse(inner)
    wrapper.interrupt()
    assert inner.interrupted.is_set()
    assert wrapper.reason is None, "an interrupt is not a cancellation: later calls still work"
    inner.close()


def test_now_with_an_offset_is_kept_in_utc() -> None:
    import datetime as dt

    from pipeline_canary.checkpoints.runner import resolve_clock

    eastern = dt.timezone(dt.timedelta(hours=-5))
    clock = resolve_clock("America/New_York", now=dt.datetime(2026, 2, 8, 22, 30, tzinfo=eastern))
    as_of, now = clock.as_of, clock.now
    assert now == dt.datetime(2026, 2, 9, 3, 30, tzinfo=dt.UTC) and now.tzinfo is dt.UTC
    assert as_of == dt.date(2026, 2, 8)  # the game date is still the pipeline's, not UTC's
