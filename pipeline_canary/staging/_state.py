"""The state a cleanup command works in: the configured store, behind the lock every run and sweep takes.

``sqlite``: the run lock file next to the store (the one ``canary run`` takes). ``gcs``: a state
session (its shared lock; the store downloaded, and uploaded at the end). Read-only uses take no
lock: a snapshot. Half-done audit entries are reconciled only under the lock, and only when it is
free at once: a held lock means a sweep may be running, and its entries are not half-done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline_canary.errors import CanaryError
from pipeline_canary.state.lock import LockTimeoutError

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.staging.reconcile import Reconciled
    from pipeline_canary.warehouse.base import Warehouse

log = logging.getLogger(__name__)
LOCK_WAIT_S = 600.0  # as `canary run` waits for the sqlite run lock


@contextmanager
def cleanup_state(config: CanaryConfig, *, write: bool, wait_s: float | None = None) -> Iterator[CanaryConfig]:
    """The config whose ``[state] path`` is the store to use; with ``write``, holding the lock.

    ``wait_s`` bounds the wait for the lock (default: 600 s for sqlite, ``[state] lock_wait_s`` for gcs);
    LockTimeoutError (StateBusyError for gcs) when it stays held.
    """
    from pipeline_canary.state.lock import run_lock
    from pipeline_canary.state.sync import state_session

    if config.state.backend == "gcs":
        if wait_s is not None:
            config = config.model_copy(update={"state": config.state.model_copy(update={"lock_wait_s": wait_s})})
        with state_session(config, write=write) as working:
            yield working
        return
    if not write:
        yield config
        return
    with run_lock(config.state.path.with_suffix(".lock"), timeout_s=LOCK_WAIT_S if wait_s is None else wait_s):
        yield config


@dataclass(frozen=True)
class Settlement:
    """What ``settle`` did: the entries it reconciled, and why others were left (``errored``: it could not look)."""

    reconciled: list[Reconciled] = field(default_factory=list)
    left: str | None = None
    errored: bool = False


def settle(config: CanaryConfig, warehouse: Callable[[], AbstractContextManager[Warehouse]]) -> Settlement:
    """Reconcile half-done entries if the lock is free now; ``warehouse`` is opened only if there are some."""
    from pipeline_canary.staging.audit import audit_rows, current_actor
    from pipeline_canary.staging.reconcile import reconcile
    from pipeline_canary.state import open_state

    with cleanup_state(config, write=False) as snapshot:
        pending = len(audit_rows(open_state(snapshot), pending=True))
    if not pending:
        return Settlement()
    entries = f"{pending} half-done cleanup entr{'y' if pending == 1 else 'ies'} left as they are"
    try:
        with warehouse() as wh, cleanup_state(config, write=True, wait_s=0) as working:
            return Settlement(reconcile(open_state(working), wh, actor=current_actor()))
    except LockTimeoutError as exc:
        return Settlement(left=f"{entries}: a sweep or run holds the lock ({exc})")
    except CanaryError as exc:
        log.debug("reconcile failed", exc_info=True)
        return Settlement(left=f"{entries}: could not reconcile them with the warehouse: {exc}", errored=True)
