"""The HTTP endpoints on a real server in a thread: health, readiness, status and read-only docs."""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.scheduler.http import CanaryHTTPServer, docs_root
from pipeline_canary.scheduler.service import Service
from pipeline_canary.scheduler.status import readiness
from pipeline_canary.web.paths import resolve
from tests.conftest import NOW


def test_docs_paths_cannot_leave_the_docs_folder(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "validations").mkdir(parents=True)
    (root / "index.html").write_text("<html>docs</html>")
    (root / "validations" / "a.html").write_text("a")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    assert resolve(root, "").path == (root / "index.html").resolve()
    assert resolve(root, "validations/a.html").path == (root / "validations" / "a.html").resolve()
    assert resolve(root, "./validations/./a.html").path is not None
    for escape in ("../secret.txt", "%2e%2e/secret.txt", "validations/../../secret.txt", "link.txt",
                   "..%5csecret.txt", "index.html%00", "missing.html", str(tmp_path / "secret.txt")):  # fmt: skip
        assert resolve(root, escape).status == 404, escape


@pytest.fixture
def served(config_for: Callable[..., CanaryConfig]) -> Iterator[tuple[Service, str]]:
    config = config_for(interval_s=3600, only=["prediction_gap"], run_on_start=False)
    svc = Service(config, clock=lambda: NOW)
    server = CanaryHTTPServer(("127.0.0.1", 0), svc)
    server.start()
    try:
        yield svc, server.url
    finally:
        svc.shutdown(grace_s=1)
        server.stop()


def request(url: str, path: str, method: str = "GET") -> tuple[int, bytes, dict[str, str]]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path)  # sent as written: no client-side normalisation of ".."
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def test_health_status_and_readiness(served: tuple[Service, str]) -> None:
    svc, url = served
    code, body, _ = request(url, "/healthz")
    assert code == 200 and json.loads(body) == {"status": "alive"}
    code, body, _ = request(url, "/readyz")
    assert code == 503 and json.loads(body)["scheduler"] is False  # not started yet
    svc.start()
    code, body, _ = request(url, "/readyz")
    assert code == 200, body
    assert json.loads(body)["warehouse"] == "ok"
    svc.run_checkpoint("prediction_gap")
    code, body, headers = request(url, "/status")
    assert code == 200 and headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert data["scheduler"] == "running"
    (cp,) = data["checkpoints"]
    assert cp["name"] == "prediction_gap" and cp["last_outcome"] == "passed" and cp["schedule"] == "every 60 min"
    assert cp["next_run"] is not None and cp["last_run"] is not None and cp["running"] is False


def test_readiness_reports_a_silent_checkpoint_and_an_unreachable_warehouse(
    served: tuple[Service, str], tmp_path: Path
) -> None:
    svc, _ = served
    svc.start()
    state = svc.states["prediction_gap"]
    state.last_finished_mono = time.monotonic() - 3 * state.period_s
    ready, checks = readiness(svc)
    assert not ready and checks["stale"][0]["checkpoint"] == "prediction_gap"
    assert checks["warehouse"] == "ok"
    state.last_finished_mono = time.monotonic()
    svc.config = svc.config.model_copy(
        update={"warehouse": svc.config.warehouse.model_copy(update={"path": tmp_path / "gone.duckdb"})}
    )
    assert readiness(svc)[0], "readiness is the last background check, not a ping per request"
    svc.warehouse_health.check()  # the monitor's next round
    ready, checks = readiness(svc)
    assert not ready and "does not exist" in checks["warehouse"]


def test_docs_are_served_read_only(served: tuple[Service, str]) -> None:
    svc, url = served
    root = docs_root(svc)
    root.mkdir(parents=True)
    (root / "index.html").write_text("<html>index</html>")
    (root.parent / "outside.txt").write_text("outside")
    code, body, headers = request(url, "/docs/")
    assert code == 200 and body == b"<html>index</html>" and headers["Content-Type"] == "text/html"
    assert request(url, "/docs")[0] == 301
    assert request(url, "/docs/../outside.txt")[0] == 404
    assert request(url, "/docs/%2e%2e/outside.txt")[0] == 404
    assert request(url, "/docs/index.html", "HEAD")[1] == b""
    for method in ("POST", "PUT", "DELETE"):
        assert request(url, "/docs/index.html", method)[0] == 405
    assert request(url, "/nope")[0] == 404


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for name, value in attrs if name in ("href", "src") and value]


def relative_links(page: bytes) -> list[str]:
    parser = _Links()
    parser.feed(page.decode())
    return [h for h in parser.hrefs if not urlsplit(h).scheme and not h.startswith(("/", "#", "//"))]


def test_docs_serve_the_dashboard_and_gx_site_with_working_cross_links(served: tuple[Service, str]) -> None:
    from pipeline_canary.reports import build_site

    svc, url = served
    svc.run_checkpoint("prediction_gap")
    site = build_site(svc.config, now=NOW)
    code, dashboard, headers = request(url, "/docs/")
    assert code == 200 and headers["Content-Type"] == "text/html"
    assert dashboard == site.index.read_bytes()  # the canary dashboard, not GX's index
    code, gx_index, _ = request(url, "/docs/local_site/index.html")
    assert code == 200 and site.gx_index is not None and gx_index == site.gx_index.read_bytes()
    links = relative_links(dashboard)
    assert any(link.startswith("local_site/") for link in links), links  # links into GX's pages
    assert any(link.startswith("checkpoints/") for link in links), links
    for link in links:
        target = urljoin("/docs/", urlsplit(link).path)
        assert request(url, target)[0] == 200, f"dashboard link {link} -> {target}"
    back = [link for link in relative_links(gx_index) if link.endswith("index.html") and link.startswith("..")]
    assert back, "GX's index has no link back to the dashboard"
    for link in back:
        target = urljoin("/docs/local_site/index.html", link)
        code, body, _ = request(url, target)
        assert code == 200 and body == dashboard, f"GX backlink {link} -> {target}"
