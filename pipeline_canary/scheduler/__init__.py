"""``canary serve``: checkpoints on schedules, single flight, time-outs, HTTP endpoints, JSON logs.

Importing this package stays light (``config`` imports ``settings``); APScheduler and the service
load on first use of :class:`Service`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline_canary.scheduler.settings import CheckpointSchedule, ScheduleConfig, ServeConfig

if TYPE_CHECKING:
    from pipeline_canary.scheduler.service import Service

__all__ = ["CheckpointSchedule", "ScheduleConfig", "ServeConfig", "Service"]


def __getattr__(name: str) -> Any:
    if name == "Service":
        from pipeline_canary.scheduler.service import Service

        return Service
    raise AttributeError(name)
