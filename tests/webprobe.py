"""Probes for the two read-only HTTP servers: a site with symlinks out of it, and a raw HTTP client.

The client writes the request line byte for byte (http.client refuses a NUL or a 256-character
component before it reaches the server), and reads until the server closes the connection.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

# (request target under the site's prefix, status): every way a path could be impossible.
PROBES: tuple[tuple[bytes, int], ...] = (
    (b"/", 200),
    (b"/sub", 301),
    (b"/sub/", 200),
    (b"/inner_link.html", 200),  # a symlink that stays inside the site is fine
    (b"/passwd_link", 404),  # a symlink to a file outside
    (b"/etc_link/", 404),  # a symlink to a directory outside: no listing
    (b"/etc_link/secret.txt", 404),
    (b"/etc_link", 404),
    (b"/sub_out/", 404),  # a folder whose index.html points outside
    (b"/empty/", 404),  # a directory without index.html: no listing
    (b"/loop", 404),  # a symlink loop
    (b"/index.html%00", 404),
    (b"/index.html\x00", 404),
    (b"/\x00/index.html", 404),
    (b"/%2e%2e/outside/secret.txt", 404),
    (b"/..%2f..%2f..%2fetc/passwd", 404),
    (b"/" + b"a" * 256, 414),  # one component over NAME_MAX
    (b"/sub/" + b"%41" * 300 + b".html", 414),
    (b"/" + b"a/" * 2100, 414),  # the whole path over PATH_MAX
)


def build_site(root: Path, outside: Path) -> None:
    """A site under ``root`` with symlinks (file, directory, index.html, a loop) into ``outside``."""
    (root / "sub").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "sub_out").mkdir()
    (root / "index.html").write_text("<html>index</html>")
    (root / "sub" / "index.html").write_text("<html>sub</html>")
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text("secret")
    os.symlink(root / "index.html", root / "inner_link.html")
    os.symlink("/etc/passwd", root / "passwd_link")
    os.symlink(outside, root / "etc_link")
    os.symlink(outside / "secret.txt", root / "sub_out" / "index.html")
    os.symlink(root / "loop", root / "loop")


def raw_get(url: str, target: bytes, *, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send ``GET target HTTP/1.1`` as is; the status (0 if the server answered nothing) and raw reply."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: canary\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    if not reply.startswith(b"HTTP/"):
        return 0, reply
    return int(reply.split(b" ", 2)[1]), reply


def closed_by_server(url: str, *, first: bytes = b"", timeout: float = 30.0) -> bool:
    """Connect, send ``first`` (maybe a whole request), then nothing: does the server hang up?"""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(first)
        try:
            while sock.recv(65536):
                pass  # the answer to ``first``, if any; then the server must close the connection
        except TimeoutError:
            return False
    return True


def check_probes(url: str, prefix: bytes, *, outside_marker: bytes = b"secret") -> None:
    """Every probe gets its status (a 301 says where), and nothing from outside the site comes back."""
    for target, expected in PROBES:
        code, reply = raw_get(url, prefix + target)
        assert code == expected, (target[:80], code, reply[:300])
        assert outside_marker not in reply and b"root:" not in reply, target[:80]
        if code == 301:
            assert b"\r\nLocation: " + prefix + target + b"/\r\n" in reply, reply


def tracebacks(records: list[logging.LogRecord], stderr: str) -> list[str]:
    """Tracebacks the server logged or printed (socketserver prints them to stderr)."""
    logged = [r.getMessage() for r in records if r.exc_info or "Traceback" in r.getMessage()]
    return logged + (["stderr: " + stderr] if "Traceback" in stderr else [])
