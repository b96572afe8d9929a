"""The runner collects canaries in a bounded pool: concurrently, each alone in its errors, in canary order.

Concurrency is proven without timing: the statements meet at a barrier (inside DuckDB, on each worker's
own cursor) or wait for each other, with a generous timeout that fails the canary instead of hanging.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.canaries import CheckContext, Observation
from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import WarehouseError
from pipeline_canary.results import CheckpointResult, Outcome
from pipeline_canary.scheduler._cancel import CancellableWarehouse
from pipeline_canary.warehouse.base import QueryResult
from pipeline_canary.warehouse.duckdb import DuckDBWarehouse
from tests.checkpoints.sql_canaries import WAIT_S, GamesCanary, games_canaries, registered
from tests.conftest import AS_OF, NOW
from tests.scheduler.conftest import SlowWarehouse, Tracker

Configure = Callable[..., CanaryConfig]


@pytest.fixture
def pooled(seeded: Callable[[str], Path], make_config: Configure) -> Callable[[int], CanaryConfig]:
    """``pooled(size)`` -> a config over the healthy demo with ``max_concurrent_queries = size``."""
    return lambda size: make_config(seeded("healthy"), warehouse_keys=f"max_concurrent_queries = {size}\n")


class Rendezvous(DuckDBWarehouse):
    """DuckDB with a SQL function ``rendezvous()`` that returns only once ``parties`` statements call it."""

    def __init__(self, path: Path, parties: int) -> None:
        super().__init__(path)
        self.barrier = threading.Barrier(parties, timeout=WAIT_S)

    def _connect(self) -> Any:
        fresh = self._conn is None
        conn = super()._connect()
        if fresh:  # registered on the connection, callable from every cursor opened on it
            conn.create_function("rendezvous", self._meet, [], "BIGINT", side_effects=True)
        return conn

    def _meet(self) -> int:
        self.barrier.wait()
        return 1


def test_statements_run_at_once_each_on_its_own_duckdb_cursor(pooled: Callable[[int], CanaryConfig]) -> None:
    sql = (
        "SELECT @k AS k, rendezvous() AS met, games"
        " FROM (SELECT COUNT(*) AS games FROM {schedule} WHERE game_date = @as_of)"
    )
    warehouse = Rendezvous(pooled(4).warehouse.path, parties=4)
    with registered(*games_canaries(4, sql=sql)) as names:
        run = run_checkpoints(pooled(4), names, as_of=AS_OF, now=NOW, warehouse=warehouse)
    warehouse.close()
    # A serial runner breaks the barrier after WAIT_S: every canary is then errored, naming it.
    assert [(c.name, c.outcome, c.message) for c in run.checkpoints] == [(n, Outcome.PASSED, "10 games") for n in names]
    assert warehouse.barrier.n_waiting == 0 and not warehouse.barrier.broken


class Reversed(DuckDBWarehouse):
    """Statement ``k`` returns only after statement ``k + 1`` has: the canaries finish last to first.

    Each reports ``1000 + k`` bytes processed, which must be counted by canary ``k`` alone.
    """

    def __init__(self, path: Path, count: int) -> None:
        super().__init__(path)
        self.finished = [threading.Event() for _ in range(count)]
        self.order: list[int] = []

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        k = (params or {})["k"]
        if k + 1 < len(self.finished) and not self.finished[k + 1].wait(WAIT_S):
            raise WarehouseError(f"statement {k + 1} never finished: the statements did not run at once")
        try:
            return dataclasses.replace(super().query(sql, params), bytes_processed=1000 + k)
        finally:
            self.order.append(k)
            self.finished[k].set()


def test_results_are_validated_as_they_arrive_and_reported_in_canary_order(
    pooled: Callable[[int], CanaryConfig], caplog: pytest.LogCaptureFixture
) -> None:
    config = pooled(4)
    warehouse = Reversed(config.warehouse.path, 4)
    reported: list[str] = []

    def on_result(result: CheckpointResult) -> None:
        reported.append(result.name)

    with registered(*games_canaries(4)) as names, caplog.at_level(logging.INFO, "pipeline_canary.checkpoints"):
        run = run_checkpoints(pooled(4), names, as_of=AS_OF, now=NOW, warehouse=warehouse, on_result=on_result)
    warehouse.close()
    assert warehouse.order == [3, 2, 1, 0]
    validated = [getattr(r, "checkpoint", None) for r in caplog.records if r.getMessage() == "checkpoint finished"]
    assert validated == names[::-1], "GX validated the results in another order than they arrived"
    assert reported == [c.name for c in run.checkpoints] == names
    assert {c.outcome for c in run.checkpoints} == {Outcome.PASSED}
    assert [c.bytes_processed for c in run.checkpoints] == [1000, 1001, 1002, 1003]


class Crashing(GamesCanary):
    name = "pool_crash"

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        raise RuntimeError("a bug in this canary")


def test_a_failing_canary_errors_alone(pooled: Callable[[int], CanaryConfig]) -> None:
    missing = "SELECT @k AS k, COUNT(*) AS games FROM `nba_reference`.`no_such_table` WHERE game_date = @as_of"
    (broken,) = games_canaries(1, sql=missing, prefix="pool_broken")
    # A pool of two: the threads whose statement failed go on with the next canaries on the same cursor.
    with registered(broken, Crashing, *games_canaries(4)) as names:
        run = run_checkpoints(pooled(2), names, as_of=AS_OF, now=NOW)
    by_name = {c.name: c for c in run.checkpoints}
    assert [c.name for c in run.checkpoints] == names
    assert by_name["pool_broken_00"].outcome is Outcome.ERRORED
    assert "no_such_table" in by_name["pool_broken_00"].message
    assert by_name["pool_crash"].outcome is Outcome.ERRORED
    assert "internal error in pool_crash: RuntimeError: a bug in this canary" in by_name["pool_crash"].message
    good = [c for c in run.checkpoints if c.name.startswith("pool_0")]
    assert [(c.outcome, c.metrics["games"]) for c in good] == [(Outcome.PASSED, 10)] * 4


def test_a_pool_of_one_sends_one_statement_at_a_time(pooled: Callable[[int], CanaryConfig]) -> None:
    tracker = Tracker()
    config = pooled(1)
    warehouse = SlowWarehouse(config.warehouse.path, 0.0, tracker)
    with registered(*games_canaries(5)) as names:
        run = run_checkpoints(pooled(1), names, as_of=AS_OF, now=NOW, warehouse=warehouse)
    warehouse.close()
    assert (tracker.calls, tracker.peak) == (5, 1)
    assert [(c.name, c.outcome) for c in run.checkpoints] == [(n, Outcome.PASSED) for n in names]


class Endless(DuckDBWarehouse):
    """Every canary statement is a DuckDB scan that would run for hours on the worker's cursor."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entered = threading.Semaphore(0)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        import duckdb

        self.entered.release()
        try:
            self._cursor().execute("SELECT sum(a * a % 7) FROM range(10000000000000) t(a)").fetchall()
        except duckdb.Error as exc:
            raise WarehouseError(f"DuckDB: {exc}") from exc
        raise AssertionError("the endless query finished")


def test_cancelling_a_run_interrupts_every_statement_in_flight(pooled: Callable[[int], CanaryConfig]) -> None:
    config = pooled(3)
    inner = Endless(config.warehouse.path)
    warehouse = CancellableWarehouse(inner)
    box: dict[str, Any] = {}
    with registered(*games_canaries(3)) as names:
        worker = threading.Thread(
            target=lambda: box.update(run=run_checkpoints(pooled(3), names, as_of=AS_OF, now=NOW, warehouse=warehouse)),
            daemon=True,
        )
        worker.start()
        for _ in names:
            assert inner.entered.acquire(timeout=WAIT_S), "the statements did not all start"
        deadline = time.monotonic() + WAIT_S
        while worker.is_alive() and time.monotonic() < deadline:  # again until the run ends: a
            warehouse.cancel("cut off by the test")  # statement may start just after a cancel
            worker.join(0.1)
    assert not worker.is_alive(), "a statement kept running after the run was cancelled"
    inner.close()
    run = box["run"]
    assert [(c.name, c.outcome) for c in run.checkpoints] == [(n, Outcome.ERRORED) for n in names]
    assert all("cut off by the test" in c.message for c in run.checkpoints)
