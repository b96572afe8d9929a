"""Serve a built site over HTTP (127.0.0.1 by default): the dashboard and GX's pages, nothing else.

The same server and resolver as ``canary serve``'s ``/docs/`` (:mod:`pipeline_canary.web`): files
only, no directory listings (a directory's ``index.html`` is served), no symlinks out of the site,
404 or 414 for any impossible path.
"""

from __future__ import annotations

import threading
from pathlib import Path

from pipeline_canary.web.server import IDLE_TIMEOUT_S, SiteHandler, SiteServer


class DocsServer(SiteServer):
    """Serves the files under ``root``."""

    def __init__(self, address: tuple[str, int], root: Path, *, idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        self.root = root
        super().__init__(address, _DocsHandler, idle_timeout_s=idle_timeout_s)


class _DocsHandler(SiteHandler):
    server: DocsServer

    def dispatch(self, path: str, *, body: bool) -> None:
        self.send_site_file(self.server.root, path.removeprefix("/"), body)


def make_server(
    root: Path, host: str = "127.0.0.1", port: int = 8000, *, idle_timeout_s: float = IDLE_TIMEOUT_S
) -> DocsServer:
    """A server for ``root`` (port 0 picks a free port: read it from ``server.server_address``)."""
    return DocsServer((host, port), root, idle_timeout_s=idle_timeout_s)


def serve_in_thread(
    root: Path, host: str = "127.0.0.1", port: int = 0, *, idle_timeout_s: float = IDLE_TIMEOUT_S
) -> tuple[DocsServer, str]:
    """Start serving in a daemon thread; returns the server (call ``shutdown()``) and its base URL."""
    server = make_server(root, host, port, idle_timeout_s=idle_timeout_s)
    threading.Thread(target=server.serve_forever, name="canary-docs", daemon=True).start()
    return server, base_url(server)


def base_url(server: SiteServer) -> str:
    return server.url + "/"
