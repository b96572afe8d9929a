"""Which file a URL path names under a root folder, or why there is none.

The one resolver behind ``canary serve``'s ``/docs/`` and ``canary docs serve``. A path that leaves
the root (``..``, encoded or not, a backslash, a symlink pointing out, file or directory) or names
nothing servable (a NUL byte, a missing file, a symlink loop, a directory without ``index.html``:
directories are never listed) is a 404. A component longer than ``NAME_MAX`` or a path longer than
``PATH_MAX`` is a 414 (the filesystem would refuse it with "File name too long"). A directory named
without its trailing slash is a 301 to the slash, so the relative links of its ``index.html`` resolve.
Nothing here raises for any input.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote

NAME_MAX = 255  # bytes in one path component (Linux, macOS)
PATH_MAX = 4096  # bytes in a whole path (Linux)


@dataclass(frozen=True)
class Resolved:
    """``status`` 200 with the file's real ``path``, 301 (add a slash), 404 or 414."""

    status: HTTPStatus
    path: Path | None = None


NOT_FOUND = Resolved(HTTPStatus.NOT_FOUND)
TOO_LONG = Resolved(HTTPStatus.REQUEST_URI_TOO_LONG)
ADD_SLASH = Resolved(HTTPStatus.MOVED_PERMANENTLY)


def resolve(root: Path, url_path: str) -> Resolved:
    """The file under ``root`` that ``url_path`` (percent-encoded, relative to the root) names."""
    decoded = unquote(url_path)
    parts = [p for p in decoded.split("/") if p not in ("", ".")]
    if len(decoded.encode("utf-8", "surrogateescape")) > PATH_MAX or any(_too_long(p) for p in parts):
        return TOO_LONG
    if "\x00" in decoded or "\\" in decoded or ".." in parts:
        return NOT_FOUND
    try:
        base = root.resolve()
        target = _inside(base, base.joinpath(*parts))
        if target is not None and target.is_dir():
            if parts and not decoded.endswith("/"):
                return ADD_SLASH
            target = _inside(base, target / "index.html")
        if target is None or not target.is_file():
            return NOT_FOUND
    except OSError as exc:  # e.g. the root itself is too deep, or unreadable
        return TOO_LONG if exc.errno == errno.ENAMETOOLONG else NOT_FOUND
    except (RuntimeError, ValueError):  # a symlink loop (RuntimeError before Python 3.13)
        return NOT_FOUND
    return Resolved(HTTPStatus.OK, target)


def _too_long(part: str) -> bool:
    return len(part.encode("utf-8", "surrogateescape")) > NAME_MAX


def _inside(base: Path, path: Path) -> Path | None:
    """``path`` with every symlink followed, or None if that lands outside ``base``."""
    real = path.resolve()
    return real if real.is_relative_to(base) else None
