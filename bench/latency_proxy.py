"""A small HTTP proxy on 127.0.0.1 that makes the local BigQuery server answer like BigQuery: slowly.

BigQuery takes about a second per job whatever its size; the local server answers in milliseconds.
The proxy forwards every request to the server and holds each request that creates a query job
(``POST .../jobs`` or ``POST .../queries``) for ``latency`` seconds first, concurrently for
concurrent requests: the latency is per statement, not a queue.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding",
     "upgrade", "content-length"}
)  # fmt: skip


class _Forward(BaseHTTPRequestHandler):
    """One instance per client connection; it keeps one upstream connection of its own."""

    protocol_version = "HTTP/1.1"
    upstream_port = 0
    latency = 0.0
    _upstream: http.client.HTTPConnection | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_upstream(self, body: bytes | None) -> tuple[http.client.HTTPResponse, bytes]:
        """The server's answer; a kept-alive connection the server closed meanwhile is opened again once."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        for attempt in (1, 2):
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=120)
            try:
                self._upstream.request(self.command, self.path, body=body, headers=headers)
                response = self._upstream.getresponse()
                return response, response.read()
            except ConnectionError:  # RemoteDisconnected too
                self._upstream.close()
                self._upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command == "POST" and self.path.split("?")[0].endswith(("/jobs", "/queries")):
            time.sleep(self.latency)  # the injected latency of one statement
        response, data = self._send_upstream(body)
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() not in ("server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def finish(self) -> None:
        super().finish()
        if self._upstream is not None:
            self._upstream.close()


class LatencyProxy:
    """``with LatencyProxy(upstream_port, latency) as proxy:`` -> ``proxy.endpoint`` to point the client at."""

    def __init__(self, upstream_port: int, latency: float) -> None:
        handler = type("Forward", (_Forward,), {"upstream_port": upstream_port, "latency": latency})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="latency-proxy", daemon=True)

    def set_latency(self, seconds: float) -> None:
        self.server.RequestHandlerClass.latency = seconds  # type: ignore[attr-defined]

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
