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


def inspect_lock(path: Path) -> str | None:
    """Whether a run holds the lock at ``path`` now, without waiting or creating anything.

    Returns None when it is free (or no run has made it yet), else a sentence saying it is held.
    Raises ConfigError when its folder cannot hold a lock.
    """
    if not path.parent.is_dir():
        return None  # made with the first run's state store
    if not os.access(path.parent, os.W_OK):
        raise ConfigError(
            f"the run lock's folder {path.parent} is not writable; point [state] path at a writable folder"
        )
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return f"a canary run holds {path} now (a manual run or the service): runs wait for it"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
