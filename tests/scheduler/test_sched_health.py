"""The background warehouse check behind /readyz: bounded, remembered, and never piled up."""

from __future__ import annotations

import threading
import time

from pipeline_canary.scheduler.health import WarehouseMonitor


def test_a_hanging_ping_is_reported_and_not_started_again_until_it_ends() -> None:
    release = threading.Event()
    calls: list[float] = []

    def ping() -> None:
        calls.append(time.monotonic())
        release.wait(30)

    monitor = WarehouseMonitor(ping, timeout_s=0.2)
    assert monitor.last is None
    assert monitor.check().result == "no answer within 0.2s"
    second = monitor.check()
    assert "an earlier ping is still waiting" in second.result and len(calls) == 1
    assert monitor.last == second
    release.set()
    deadline = time.monotonic() + 10
    while monitor.check().result != "ok" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert monitor.last is not None and monitor.last.result == "ok" and len(calls) == 2


def test_the_reason_a_ping_failed_is_kept() -> None:
    def ping() -> None:
        raise ConnectionError("warehouse gone")

    monitor = WarehouseMonitor(ping)
    assert monitor.check().result == "ConnectionError: warehouse gone"
