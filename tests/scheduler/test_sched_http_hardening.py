"""``canary serve``'s HTTP endpoints under probes: impossible docs paths, and idle connections."""

from __future__ import annotations

import logging
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


@pytest.fixture
def started(config_for: Callable[..., CanaryConfig]) -> Iterator[tuple[Service, CanaryHTTPServer, Tracker]]:
    """A service whose first run will be stuck for 30 s in a slow warehouse, and its HTTP server (idle
    connections closed after 0.5 s). Tests call ``start()``."""
    tracker = Tracker()

    def slow(wc: WarehouseConfig) -> SlowWarehouse:
        return SlowWarehouse(wc.path, 30, tracker)

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


def test_idle_connections_are_closed_by_the_server(started: tuple[Service, CanaryHTTPServer, Tracker]) -> None:
    _, server, _ = started
    with ThreadPoolExecutor(20) as pool:
        idle = list(pool.map(lambda _: closed_by_server(server.url, timeout=10), range(20)))
    assert all(idle), f"{idle.count(False)} of 20 silent connections were still open after 10 s"
    kept_alive = closed_by_server(server.url, first=b"GET /healthz HTTP/1.1\r\nHost: canary\r\n\r\n", timeout=10)
    assert kept_alive, "a keep-alive connection left idle after its answer was still open after 10 s"
