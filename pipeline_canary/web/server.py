"""The HTTP server and read-only handler that ``canary serve`` and ``canary docs serve`` share.

Under a burst the standard library's defaults fall over: socketserver listens with a backlog of 5
(200 concurrent requests mostly timed out waiting to be accepted) and never times a connection out
(idle sockets were held, each by a thread, for as long as the client liked). :class:`SiteServer`
listens with a backlog of :data:`BACKLOG` and closes a connection that sends nothing for
``idle_timeout_s``; a client that goes away or stalls is a debug line, not a traceback on stderr.

:class:`SiteHandler` answers GET and HEAD only (405 otherwise); subclasses route in :meth:`dispatch`
and serve files with :meth:`send_site_file`, which goes through :func:`pipeline_canary.web.paths.resolve`.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline_canary.web.paths import resolve

log = logging.getLogger(__name__)

BACKLOG = 256  # pending connections the kernel queues before accept() (socketserver's default: 5)
IDLE_TIMEOUT_S = 5.0  # a connection that sends nothing for this long is closed


class SiteServer(ThreadingHTTPServer):
    """A thread per connection, a real listen backlog, and a per-connection idle timeout."""

    daemon_threads = True
    request_queue_size = BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.idle_timeout_s = idle_timeout_s
        super().__init__(address, handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line instead of socketserver's traceback on stderr."""
        exc = sys.exc_info()[1]
        peer = client_address[0] if isinstance(client_address, tuple) else client_address
        if isinstance(exc, OSError):  # the client went away, or stalled past the timeout
            log.debug("connection from %s ended: %s: %s", peer, type(exc).__name__, exc)
        else:
            log.error("HTTP request from %s failed", peer, exc_info=True)


class SiteHandler(BaseHTTPRequestHandler):
    """Read-only HTTP/1.1: GET and HEAD, JSON answers, files from a folder through the safe resolver."""

    server: SiteServer
    protocol_version = "HTTP/1.1"
    server_version = "pipeline-canary"

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout_s)  # reads and writes alike

    def do_GET(self) -> None:
        self.dispatch(urlsplit(self.path).path, body=True)

    def do_HEAD(self) -> None:
        self.dispatch(urlsplit(self.path).path, body=False)

    def _refuse(self) -> None:
        self.send_payload(HTTPStatus.METHOD_NOT_ALLOWED, b'{"error": "read-only"}\n', "application/json", True,
                          {"Allow": "GET, HEAD"})  # fmt: skip

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

    def dispatch(self, path: str, *, body: bool) -> None:
        """Answer a GET (``body``) or HEAD for the URL path ``path`` (still percent-encoded)."""
        raise NotImplementedError

    def send_site_file(self, root: Path, rest: str, body: bool, *, missing: str = "not found") -> None:
        """The file ``rest`` names under ``root``; 301, 404 (``missing`` says why) or 414 otherwise."""
        found = resolve(root, rest)
        if found.status is HTTPStatus.MOVED_PERMANENTLY:
            location = "/" + urlsplit(self.path).path.lstrip("/") + "/"  # never "//host/"
            self.send_payload(found.status, b"", "text/plain", body, {"Location": location})
            return
        if found.status is HTTPStatus.REQUEST_URI_TOO_LONG:
            self.send_json(found.status, {"error": "path too long"}, body)
            return
        path = found.path
        payload = _read(path) if path is not None else None
        if path is None or payload is None:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": missing}, body)
            return
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.send_payload(HTTPStatus.OK, payload, ctype, body, {"Cache-Control": "no-cache"})

    def send_json(self, code: HTTPStatus, data: Any, body: bool) -> None:
        payload = (json.dumps(data, default=str, indent=2) + "\n").encode()
        self.send_payload(code, payload, "application/json", body)

    def send_payload(
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


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # unreadable, or gone since it was resolved
        return None
