"""``canary docs serve`` refuses what ``canary serve``'s /docs/ refuses (one resolver): symlinks out
of the site, directory listings, NUL bytes, over-long paths; and it closes idle connections."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline_canary.reports.serve import serve_in_thread
from tests.webprobe import build_site, check_probes, closed_by_server, tracebacks


def test_impossible_paths_are_404_or_414_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "site"
    build_site(root, tmp_path / "outside")
    server, url = serve_in_thread(root)
    try:
        with caplog.at_level(logging.DEBUG):
            check_probes(url, b"")
    finally:
        server.shutdown()
        server.server_close()
    assert not tracebacks(caplog.records, capfd.readouterr().err)


def test_idle_connections_are_closed_by_the_server(tmp_path: Path) -> None:
    build_site(tmp_path / "site", tmp_path / "outside")
    server, url = serve_in_thread(tmp_path / "site", idle_timeout_s=0.5)
    try:
        assert closed_by_server(url, timeout=10), "a silent connection was still open after 10 s"
        assert closed_by_server(url, first=b"GET /index.html HTTP/1.1\r\nHost: canary\r\n\r\n", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
