"""A state session: the configured store, made available to one run or command.

``sqlite``: the file at ``[state] path``, used in place (nothing to do here). ``gcs``: take the shared
lock (waiting up to ``lock_wait_s``), download the file (its generation recorded) into a private
working copy, hand the caller a config pointing at it, and at the end upload it with a precondition
on that generation and release the lock. A read-only session (``write=False``) takes no lock and
uploads nothing: a snapshot for status and reports.

:func:`save_now` uploads a write session's working copy in the middle of it: the outbox calls it
after committing a post's attempt and before sending it, so a process killed after the send leaves
the attempt in the shared state (the next run looks the post up instead of sending it again).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig

log = logging.getLogger(__name__)
_SAVERS: dict[str, Callable[[], None]] = {}  # working copy -> upload it now, for the open write sessions
_savers_lock = threading.Lock()


def save_now(config: CanaryConfig) -> bool:
    """Upload the working copy of ``config``'s write session now; False when there is none (sqlite)."""
    with _savers_lock:
        saver = _SAVERS.get(str(config.state.path))
    if saver is None:
        return False
    saver()
    return True


@contextmanager
def state_session(config: CanaryConfig, *, write: bool = True, client: object = None) -> Iterator[CanaryConfig]:
    """Yields the config whose ``[state] path`` is the store to use for this session."""
    if config.state.backend != "gcs":
        yield config
        return
    from pipeline_canary.state.gcs import GCSStateFile
    from pipeline_canary.state.gcs_lock import GCSLock
    from pipeline_canary.state.sqlite import forget_state

    assert config.state.uri is not None  # validated: backend "gcs" needs a uri
    remote = GCSStateFile.from_uri(config.state.uri, client)
    lock = GCSLock(remote.bucket, remote.lock_name, ttl_s=config.state.lock_ttl_s, wait_s=config.state.lock_wait_s)
    if write:
        held = lock.acquire()
        log.info("took the state lock %s as %s", lock.url, held.owner)
    try:
        with tempfile.TemporaryDirectory(prefix="canary-state-") as folder:
            local = Path(folder) / "state.sqlite"
            generation = remote.download(local)
            working = config.model_copy(update={"state": config.state.model_copy(update={"path": local})})
            saving = threading.Lock()

            def save() -> None:
                nonlocal generation
                with saving:
                    generation = remote.upload(local, generation)

            if write:
                with _savers_lock:
                    _SAVERS[str(local)] = save
            try:
                yield working
            except Exception:
                if write:  # what the run committed is consistent (transactions): keep it
                    forget_state(local)
                    save()
                raise
            finally:
                with _savers_lock:
                    _SAVERS.pop(str(local), None)
                forget_state(local)
            if write:
                save()
    finally:
        if write:
            lock.release()
