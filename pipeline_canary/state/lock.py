"""The one lock shared by manual runs and the scheduler: runs never overlap or double-alert."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline_canary.errors import CanaryError, ConfigError

_THREAD_LOCKS: dict[str, threading.Lock] = {}


class LockTimeoutError(CanaryError):
    """Another run held the lock for longer than we were willing to wait."""


@contextmanager
def run_lock(path: Path, *, timeout_s: float = 600.0) -> Iterator[None]:
    """An exclusive lock across processes (flock) and threads of this process."""
    key = str(path.resolve())
    thread_lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
    deadline = time.monotonic() + timeout_s
    if not thread_lock.acquire(timeout=max(timeout_s, 0)):
        raise LockTimeoutError(f"another run in this process held {path} for over {timeout_s:g}s")
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the run lock {path} next to the state store ([state] path): {exc.strerror}; "
                "point [state] path at a writable folder"
            ) from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeoutError(
                            f"another canary run holds {path}; waited {timeout_s:g}s. "
                            "If no run is active, the lock is stale only if its process is gone."
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
    finally:
        thread_lock.release()
