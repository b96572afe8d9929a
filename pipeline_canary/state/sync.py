"""A state session: the configured store, made available to one run or command.

``sqlite``: the file at ``[state] path``, used in place (nothing to do here). ``gcs``: take the shared
lock (waiting up to ``lock_wait_s``), download the file (its generation recorded) into a private
working copy, hand the caller a config pointing at it, and at the end upload it with a precondition
on that generation and release the lock. A read-only session (``write=False``) takes no lock and
uploads nothing: a snapshot for status and reports. ``save_now`` uploads a write session's working
copy before its end (the cleanup audit does, before each drop).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig

log = logging.getLogger(__name__)
_UPLOADERS: dict[str, Callable[[], None]] = {}  # working copy -> upload it now (open gcs write sessions)


def save_now(config: CanaryConfig) -> None:
    """Upload the working copy ``config`` points at now, if it belongs to a gcs write session (else nothing)."""
    upload = _UPLOADERS.get(str(config.state.path))
    if upload is not None:
        upload()


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

            def upload() -> None:
                nonlocal generation
                generation = remote.upload(local, generation)

            if write:
                _UPLOADERS[str(local)] = upload
            try:
                yield working
            except Exception:
                if write:  # what the run committed is consistent (transactions): keep it
                    forget_state(local)
                    upload()
                raise
            finally:
                _UPLOADERS.pop(str(local), None)
                forget_state(local)
            if write:
                upload()
    finally:
        if write:
            lock.release()
