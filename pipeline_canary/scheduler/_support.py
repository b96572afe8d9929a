"""Small pieces of the service: the default warehouse, trigger periods, per-thread state, the outbox,
and whether the state store would survive a restart."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

    from pipeline_canary.config import CanaryConfig, WarehouseConfig
    from pipeline_canary.warehouse import Warehouse

log = logging.getLogger(__name__)


def default_connect(config: WarehouseConfig, *, partitioned_tables: Sequence[str] = ()) -> Warehouse:
    from pipeline_canary.warehouse import connect

    return connect(config, partitioned_tables=partitioned_tables)


def close_thread_state(config: CanaryConfig) -> None:
    """The state store keeps one connection per thread; a run's thread ends, so its connection goes."""
    try:
        from pipeline_canary.state import open_state

        open_state(config).close()
    except Exception:
        log.debug("closing the run thread's state connection failed", exc_info=True)


def period_s(trigger: BaseTrigger) -> float:
    """Seconds between two fire times (for cron: the next two), used by readiness."""
    interval = getattr(trigger, "interval", None)
    if isinstance(interval, dt.timedelta):
        return interval.total_seconds()
    now = dt.datetime.now(dt.UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + dt.timedelta(seconds=1)) if first else None
    return (second - first).total_seconds() if first and second else 86400.0


def flush_outbox(config: CanaryConfig) -> int | None:
    """Deliver pending alerts (``pipeline_canary.alerting.deliver_pending``) if alerting has it."""
    try:
        from pipeline_canary.alerting import deliver_pending  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    try:
        return int(deliver_pending(config))
    except Exception:
        log.exception("flushing the alert outbox failed")
        return None


VOLATILE_FS = frozenset({"tmpfs", "ramfs"})
VOLATILE_PREFIXES = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run"))


def read_mounts(path: str = "/proc/mounts") -> list[tuple[str, str]]:
    """``(mount point, filesystem type)`` of every mount; empty where there is no /proc."""
    try:
        with open(path, encoding="utf-8") as fh:
            rows = [line.split() for line in fh]
    except OSError:
        return []
    return [(row[1].replace("\\040", " "), row[2]) for row in rows if len(row) >= 3]


def volatile_state(
    path: Path, *, mounts: Sequence[tuple[str, str]] | None = None, env: Mapping[str, str] | None = None
) -> str | None:
    """Why the state store at ``path`` would not survive a restart of the instance, or None.

    It would not if it is in memory (a tmpfs or ramfs mount), under /tmp or another scratch folder,
    or, on Cloud Run (``K_SERVICE`` is set), on the container's own filesystem rather than a mounted
    volume: Cloud Run's container filesystem is in memory.
    """
    env = os.environ if env is None else env
    target = Path(os.path.abspath(path))
    mounts = read_mounts() if mounts is None else mounts
    best: tuple[str, str] | None = None
    for point, fstype in mounts:
        if target.is_relative_to(point) and (best is None or len(point) > len(best[0])):
            best = (point, fstype)
    if best is not None and best[1] in VOLATILE_FS:
        return f"it is on a {best[1]} mount ({best[0]}), in memory"
    scratch = next((p for p in VOLATILE_PREFIXES if target.is_relative_to(p)), None)
    if scratch is not None:
        return f"it is under {scratch}, scratch space that does not survive a restart"
    if env.get("K_SERVICE") and (best is None or best[0] == "/"):
        return "on Cloud Run the container's own filesystem is in memory (mount a volume for it)"
    return None
