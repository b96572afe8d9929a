"""HTTP endpoints of ``canary serve`` on the standard library's ThreadingHTTPServer.

``/healthz`` (the process answers), ``/readyz`` (200 or 503 with the reasons), ``/status`` (JSON),
and the docs site read-only under ``/docs/``: the folder :func:`pipeline_canary.reports.docs_root`
names (as ``canary docs serve`` does), so ``/docs/`` is the canary dashboard and ``/docs/local_site/``
GX's own Data Docs, and the relative links between them resolve. Only GET and HEAD are allowed; a
docs path that would leave the docs folder (``..``, encoded or not, or a symlink pointing out) is a 404.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import posixpath
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from pipeline_canary.scheduler.status import readiness, status

if TYPE_CHECKING:
    from pipeline_canary.scheduler.service import Service

log = logging.getLogger(__name__)


def docs_root(service: Service) -> Path:
    """The docs site of the service's project: the dashboard, with GX's ``local_site/`` inside it."""
    from pipeline_canary.reports.dashboard import docs_root as site_root

    return site_root(service.config)


def resolve_docs_path(root: Path, url_path: str) -> Path | None:
    """The file under ``root`` that ``url_path`` (after ``/docs/``) names, or None if it escapes."""
    decoded = unquote(url_path)
    if "\x00" in decoded or "\\" in decoded:
        return None
    parts = [p for p in decoded.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    base = root.resolve()
    target = (base / posixpath.join(*parts)).resolve() if parts else base
    if not target.is_relative_to(base):
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


class _Handler(BaseHTTPRequestHandler):
    server: CanaryHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "pipeline-canary"

    def do_GET(self) -> None:
        self._dispatch(body=True)

    def do_HEAD(self) -> None:
        self._dispatch(body=False)

    def _refuse(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b'{"error": "read-only"}\n', "application/json", True,
                   {"Allow": "GET, HEAD"})  # fmt: skip

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

    def _dispatch(self, *, body: bool) -> None:
        path = urlsplit(self.path).path
        service = self.server.service
        if path == "/healthz":
            self._json(HTTPStatus.OK, {"status": "alive"}, body)
        elif path == "/readyz":
            ready, checks = readiness(service)
            self._json(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, {"ready": ready, **checks}, body)
        elif path == "/status":
            self._json(HTTPStatus.OK, status(service), body)
        elif path == "/docs":
            self._send(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", body, {"Location": "/docs/"})
        elif path.startswith("/docs/"):
            self._docs(path.removeprefix("/docs/"), body)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"}, body)

    def _docs(self, rest: str, body: bool) -> None:
        target = resolve_docs_path(docs_root(self.server.service), rest)
        if target is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found (run a checkpoint to build the Data Docs)"}, body)
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(HTTPStatus.OK, target.read_bytes(), ctype, body, {"Cache-Control": "no-cache"})

    def _json(self, code: HTTPStatus, data: Any, body: bool) -> None:
        payload = (json.dumps(data, default=str, indent=2) + "\n").encode()
        self._send(code, payload, "application/json", body)

    def _send(
        self, code: HTTPStatus, payload: bytes, ctype: str, body: bool, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s " + format, self.address_string(), *args)


class CanaryHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], service: Service) -> None:
        self.service = service
        super().__init__(address, _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="canary-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(5)
