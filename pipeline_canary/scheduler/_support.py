"""Small pieces of the service: the default warehouse, trigger periods, per-thread state, the outbox."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

    from pipeline_canary.config import CanaryConfig, WarehouseConfig
    from pipeline_canary.warehouse import Warehouse

log = logging.getLogger(__name__)


def default_connect(config: WarehouseConfig) -> Warehouse:
    from pipeline_canary.warehouse import connect

    return connect(config)


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
