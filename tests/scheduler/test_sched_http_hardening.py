"""``canary serve``'s HTTP endpoints under probes and bursts: impossible docs paths, 200 concurrent
requests while a run is stuck in the warehouse, and idle connections."""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline_canary.config import CanaryConfig, WarehouseConfig
from pipeline_canary.scheduler.http import CanaryHTTPServer, docs_root
from pipeline_canary.scheduler.service import Service
from tests.conftest import NOW
from tests.scheduler.conftest import SlowWarehouse, Tracker
from tests.webprobe import build_site, check_probes, closed_by_server, tracebacks

BURST = 200
BOUND_S = 2.0  # the bound for every answer in the burst
PING_S = 2.5  # the warehouse answers a ping, slowly: over the bound, within readiness's 3 s timeout


@pytest.fixture
def started(config_for: Callable[..., CanaryConfig]) -> Iterator[tuple[Service, CanaryHTTPServer, Tracker]]:
    """A service whose first run will be stuck for 30 s in a slow warehouse (pings take 2.5 s), and its
    HTTP server (idle connections closed after 0.5 s). Tests call ``start()``."""
    tracker = Tracker()

    def slow(wc: WarehouseConfig) -> SlowWarehouse:
        return SlowWarehouse(wc.path, 30, tracker, ping_delay=PING_S)

    config = config_for(interval_s=3600, only=["prediction_gap"], run_on_start=True)
    svc = Service(config, clock=lambda: NOW, connect=slow)
    server = CanaryHTTPServer(("127.0.0.1", 0), svc, idle_timeout_s=0.5)
    server.start()
    try:
        yield svc, server, tracker
    finally:
        svc.shutdown(grace_s=0.5)
        server.stop()


def test_impossible_docs_paths_are_404_or_414_without_a_traceback(
    started: tuple[Service, CanaryHTTPServer, Tracker],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    svc, server, _ = started
    build_site(docs_root(svc), tmp_path / "outside")
    with caplog.at_level(logging.DEBUG):
        check_probes(server.url, b"/docs")
    assert not tracebacks(caplog.records, capfd.readouterr().err)


def timed_get(url: str, path: str, go: threading.Barrier) -> tuple[str, int, float]:
    host, port = url.removeprefix("http://").split(":")
    go.wait()
    began = time.monotonic()
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return path, response.status, time.monotonic() - began
    finally:
        conn.close()


def test_a_burst_during_a_run_is_answered_quickly_and_readiness_stays_true(
    started: tuple[Service, CanaryHTTPServer, Tracker],
) -> None:
    svc, server, tracker = started
    svc.start()
    deadline = time.monotonic() + 20
    while tracker.active == 0 and time.monotonic() < deadline:  # the run is inside its first query
        time.sleep(0.02)
    assert tracker.active == 1 and svc.states["prediction_gap"].running_since is not None
    paths = [("/healthz", "/readyz", "/status")[i % 3] for i in range(BURST)]
    go = threading.Barrier(BURST)
    with ThreadPoolExecutor(BURST) as pool:
        answers = list(pool.map(lambda p: timed_get(server.url, p, go), paths))
    assert tracker.active == 1, "the run finished during the burst; it was meant to be in progress"
    assert [a for a in answers if a[1] != 200] == [], "a non-200 answer (a false 503?) during the run"
    assert svc.warehouse_health.last is not None and svc.warehouse_health.last.result == "ok"
    slowest = max(answers, key=lambda a: a[2])
    assert slowest[2] < BOUND_S, f"{slowest[0]} took {slowest[2]:.2f}s"


def test_idle_connections_are_closed_by_the_server(started: tuple[Service, CanaryHTTPServer, Tracker]) -> None:
    _, server, _ = started
    with ThreadPoolExecutor(20) as pool:
        idle = list(pool.map(lambda _: closed_by_server(server.url, timeout=10), range(20)))
    assert all(idle), f"{idle.count(False)} of 20 silent connections were still open after 10 s"
    kept_alive = closed_by_server(server.url, first=b"GET /healthz HTTP/1.1\r\nHost: canary\r\n\r\n", timeout=10)
    assert kept_alive, "a keep-alive connection left idle after its answer was still open after 10 s"
