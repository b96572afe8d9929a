"""HTTP endpoints of ``canary serve`` on :class:`pipeline_canary.web.server.SiteServer`.

``/healthz`` (the process answers), ``/readyz`` (200 or 503 with the reasons), ``/status`` (JSON),
all answered from the service's state in memory, never waiting on a run or the warehouse; and the
docs site read-only under ``/docs/``: the folder :func:`pipeline_canary.reports.docs_root` names (as
``canary docs serve`` does, through the same resolver), so ``/docs/`` is the canary dashboard and
``/docs/local_site/`` GX's own Data Docs, and the relative links between them resolve. Only GET and
HEAD are allowed; a docs path that would leave the docs folder (``..``, encoded or not, or a symlink
pointing out) or names a directory without ``index.html`` is a 404, an over-long one a 414.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline_canary.scheduler.status import readiness, status
from pipeline_canary.web.server import IDLE_TIMEOUT_S, SiteHandler, SiteServer

if TYPE_CHECKING:
    from pipeline_canary.scheduler.service import Service


def docs_root(service: Service) -> Path:
    """The docs site of the service's project: the dashboard, with GX's ``local_site/`` inside it."""
    from pipeline_canary.reports.dashboard import docs_root as site_root

    return site_root(service.config)


class _Handler(SiteHandler):
    server: CanaryHTTPServer

    def dispatch(self, path: str, *, body: bool) -> None:
        service = self.server.service
        if path == "/healthz":
            self.send_json(HTTPStatus.OK, {"status": "alive"}, body)
        elif path == "/readyz":
            ready, checks = readiness(service)
            self.send_json(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, {"ready": ready, **checks}, body)
        elif path == "/status":
            self.send_json(HTTPStatus.OK, status(service), body)
        elif path == "/docs":
            self.send_payload(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", body, {"Location": "/docs/"})
        elif path.startswith("/docs/"):
            self.send_site_file(docs_root(service), path.removeprefix("/docs/"), body,
                                missing="not found (run a checkpoint to build the Data Docs)")  # fmt: skip
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found"}, body)


class CanaryHTTPServer(SiteServer):
    def __init__(self, address: tuple[str, int], service: Service, *, idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        self.service = service
        super().__init__(address, _Handler, idle_timeout_s=idle_timeout_s)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="canary-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(5)
