"""The service against the demo warehouse: schedules, single flight, time-outs, off-days, shutdown."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.config import CanaryConfig, WarehouseConfig
from pipeline_canary.results import Outcome
from pipeline_canary.scheduler import service as service_module
from pipeline_canary.scheduler.service import Service
from pipeline_canary.session import execute
from pipeline_canary.state import open_state
from pipeline_canary.state.history import history
from tests.conftest import NOW
from tests.scheduler.conftest import HangingDuckDB, SlowWarehouse, Tracker, subprocess_env
from tests.servers.slack import running as slack_running

OFF_DAY = dt.date(2026, 7, 15)  # mid-summer: the demo season has no games


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def rows(config: CanaryConfig, name: str) -> list[object]:
    return list(history(open_state(config), name))


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Services a test started; shut down afterwards, and their abandoned run threads waited for."""
    started: list[Service] = []
    yield started
    for svc in started:
        svc.shutdown(grace_s=5)
    for thread in threading.enumerate():
        if thread.name.startswith("canary-run-"):
            thread.join(10)


def test_runs_happen_on_schedule(config_for: Callable[..., CanaryConfig], services: list[Service]) -> None:
    config = config_for(interval_s=1.0, only=["prediction_gap", "schema_parity"])
    svc = Service(config, clock=lambda: NOW)
    services.append(svc)
    svc.start()
    wait_until(lambda: all(s.runs >= 1 for s in svc.states.values()))
    first = {n: s.runs for n, s in svc.states.items()}
    began = time.monotonic()
    wait_until(lambda: all(s.runs >= first[n] + 3 for n, s in svc.states.items()))
    elapsed = time.monotonic() - began
    assert 2.0 <= elapsed <= 6.0  # three more fire times at one a second
    svc.shutdown(grace_s=5)
    for name, state in svc.states.items():
        assert len(rows(config, name)) == state.runs
        assert state.last_outcome == Outcome.PASSED.value
    assert set(svc.states) == {"prediction_gap", "schema_parity"}


def test_one_job_per_tier_runs_the_tier_together(
    config_for: Callable[..., CanaryConfig], services: list[Service]
) -> None:
    config = config_for(interval_s=0.5, extra="[schedule.tiers.routine]\ninterval_minutes = 60\n")
    svc = Service(config, clock=lambda: NOW)
    assert {j.id: j.names for j in svc.jobs.values()} == {
        "tier:critical": ("prediction_gap", "schema_parity"),
        "tier:routine": ("feature_contamination", "orphaned_staging_tables"),
    }
    assert svc.jobs["tier:routine"].period_s == 3600 and svc.states["feature_contamination"].tier == "routine"
    services.append(svc)
    svc.start()
    wait_until(lambda: svc.states["prediction_gap"].runs >= 3)
    svc.shutdown(grace_s=5)
    assert svc.states["schema_parity"].runs == svc.states["prediction_gap"].runs  # one run, both checkpoints
    assert svc.states["feature_contamination"].runs == 1  # on start; next in an hour
    gap, parity = rows(config, "prediction_gap"), rows(config, "schema_parity")
    assert [r.run_id for r in gap] == [r.run_id for r in parity]  # type: ignore[attr-defined]


def test_scheduled_and_manual_runs_never_overlap(
    config_for: Callable[..., CanaryConfig], services: list[Service]
) -> None:
    config = config_for(interval_s=0.5, only=["prediction_gap"])
    tracker = Tracker()

    def slow(wc: WarehouseConfig) -> SlowWarehouse:
        return SlowWarehouse(wc.path, 0.2, tracker)

    svc = Service(config, clock=lambda: NOW, connect=slow)
    services.append(svc)
    svc.start()
    wait_until(lambda: svc.states["prediction_gap"].running_since is not None)
    manual = [execute(config, ["prediction_gap"], now=NOW, warehouse=slow(config.warehouse)) for _ in range(3)]
    svc.shutdown(grace_s=5)
    assert tracker.peak == 1, "a manual run and a scheduled run touched the warehouse at the same time"
    assert svc.states["prediction_gap"].runs >= 1
    assert {r.get("prediction_gap").outcome for r in manual} == {Outcome.PASSED}
    assert len(rows(config, "prediction_gap")) == svc.states["prediction_gap"].runs + 3


def test_hung_duckdb_query_is_interrupted_and_recorded_errored(config_for: Callable[..., CanaryConfig]) -> None:
    config = config_for(only=["prediction_gap"], timeout_s=1.0)
    svc = Service(config, clock=lambda: NOW, connect=lambda wc: HangingDuckDB(wc.path))
    began = time.monotonic()
    result = svc.run_checkpoint("prediction_gap")
    assert time.monotonic() - began < 4
    assert result is not None
    cp = result.get("prediction_gap")
    assert cp.outcome is Outcome.ERRORED and "timed out after 1s" in cp.message
    (row,) = rows(config, "prediction_gap")
    assert row.outcome is Outcome.ERRORED and row.run_id == result.run_id  # type: ignore[attr-defined]


def test_run_stuck_outside_the_warehouse_is_recorded_by_the_service(
    config_for: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch, services: list[Service]
) -> None:
    monkeypatch.setattr(service_module, "CANCEL_GRACE_S", 0.3)
    config = config_for(only=["prediction_gap"], timeout_s=0.5)
    tracker = Tracker()

    def stuck(wc: WarehouseConfig) -> SlowWarehouse:
        return SlowWarehouse(wc.path, 2.0, tracker, honour_interrupt=False)

    svc = Service(config, clock=lambda: NOW, connect=stuck)
    result = svc.run_checkpoint("prediction_gap")
    assert result is not None and result.run_id.endswith("-errored")
    assert "timed out after 0.5s" in result.get("prediction_gap").message
    assert [r.outcome for r in rows(config, "prediction_gap")] == [Outcome.ERRORED]  # type: ignore[attr-defined]


def test_off_day_is_skipped_with_the_reason_and_the_schedule_keeps_running(
    config_for: Callable[..., CanaryConfig], services: list[Service]
) -> None:
    config = config_for(interval_s=0.5, only=["prediction_gap"])
    svc = Service(config, clock=lambda: NOW, as_of=OFF_DAY)
    services.append(svc)
    svc.start()
    wait_until(lambda: svc.states["prediction_gap"].runs >= 2)
    svc.shutdown(grace_s=5)
    recorded = rows(config, "prediction_gap")
    assert len(recorded) >= 2
    for row in recorded:
        assert row.outcome is Outcome.SKIPPED  # type: ignore[attr-defined]
        assert "no games scheduled on 2026-07-15" in row.message  # type: ignore[attr-defined]


def test_shutdown_lets_the_current_run_finish_then_flushes_the_outbox(
    config_for: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline_canary.alerting import outbox

    real_flush = service_module.flush_outbox
    flushes: list[tuple[int, int | None]] = []  # (pending before, delivered)

    def spy(config: CanaryConfig) -> int | None:
        before = len(outbox.pending(open_state(config)))
        delivered = real_flush(config)
        flushes.append((before, delivered))
        return delivered

    monkeypatch.setattr(service_module, "flush_outbox", spy)
    with slack_running() as slack:
        monkeypatch.setenv("CANARY_SLACK_TOKEN", slack.token)
        monkeypatch.setenv("CANARY_SLACK_API_URL", slack.api_url)
        monkeypatch.delenv("CANARY_SLACK_WEBHOOK_URL", raising=False)
        monkeypatch.delenv("CANARY_SLACK_CHANNEL", raising=False)
        config = config_for(
            "incident", extra="[alerting]\nbackoff_s = 0.01\ntimeout_s = 2\nmax_attempts = 2\n",
            interval_s=0.3, only=["prediction_gap", "schema_parity"], own=["prediction_gap", "schema_parity"],
        )  # fmt: skip
        svc = Service(config, clock=lambda: NOW, connect=lambda wc: SlowWarehouse(wc.path, 0.4, Tracker()))
        svc.start()
        wait_until(lambda: all(s.runs >= 1 for s in svc.states.values()))
        assert len(slack.parents()) == 2  # one per failing check, posted by the runs themselves

        def just_started() -> bool:
            since = [s.running_since for s in svc.states.values() if s.running_since is not None]
            return bool(since) and dt.datetime.now(dt.UTC) - since[0] < dt.timedelta(seconds=0.2)

        wait_until(just_started)
        running = next(n for n, s in svc.states.items() if s.running_since is not None)
        runs_before = svc.states[running].runs
        slack.fail("500", times=2)  # the running run cannot deliver its edit: it stays queued
        delivered = svc.shutdown(grace_s=10)
    assert not svc.running
    assert svc.states[running].runs == runs_before + 1  # the run in flight finished
    assert svc.states[running].last_outcome == Outcome.FAILED.value
    assert flushes == [(1, 1)] and delivered == 1  # the shutdown delivered what the run could not
    assert outbox.pending(open_state(config)) == []
    assert [c.status for c in slack.calls if c.status == 500] == [500, 500]
    assert len(slack.parents()) == 2 and any(p.edits for p in slack.parents())  # the flushed edit
    counts = {n: len(rows(config, n)) for n in svc.states}
    assert counts[running] >= 1
    time.sleep(1.0)
    assert {n: len(rows(config, n)) for n in svc.states} == counts  # nothing runs after shutdown


def test_shutdown_grace_running_out_cuts_the_run_off_and_records_it(config_for: Callable[..., CanaryConfig]) -> None:
    config = config_for(interval_s=60, only=["prediction_gap"])
    svc = Service(config, clock=lambda: NOW, connect=lambda wc: SlowWarehouse(wc.path, 30, Tracker()))
    svc.start()
    wait_until(lambda: svc.states["prediction_gap"].running_since is not None)
    began = time.monotonic()
    svc.shutdown(grace_s=0.3)
    assert time.monotonic() - began < 3
    (row,) = rows(config, "prediction_gap")
    assert row.outcome is Outcome.ERRORED and "shut down" in row.message  # type: ignore[attr-defined]


HOLD_LOCK = """
import sys, time
from pathlib import Path
from pipeline_canary.state.lock import run_lock
with run_lock(Path(sys.argv[1]), timeout_s=10):
    print("locked", flush=True)
    time.sleep(2.0)
    print(time.time(), flush=True)
"""


def test_a_manual_run_in_another_process_holds_off_the_scheduled_run(
    config_for: Callable[..., CanaryConfig], tmp_path: Path
) -> None:
    config = config_for(only=["prediction_gap"], timeout_s=1.0)  # lock wait does not count toward it
    lock = config.state.path.with_suffix(".lock")
    manual = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True, env=subprocess_env()
    )
    assert manual.stdout is not None and manual.stdout.readline().strip() == "locked"
    tracker = Tracker()
    first_call: list[float] = []

    class Timed(SlowWarehouse):
        def query(self, sql: str, params: Any = None) -> Any:
            first_call.append(time.time())
            return super().query(sql, params)

    svc = Service(config, clock=lambda: NOW, connect=lambda wc: Timed(wc.path, 0.0, tracker))
    result = svc.run_checkpoint("prediction_gap")
    released = float(manual.stdout.readline())
    assert manual.wait(10) == 0
    assert result is not None and result.get("prediction_gap").outcome is Outcome.PASSED
    assert min(first_call) >= released
