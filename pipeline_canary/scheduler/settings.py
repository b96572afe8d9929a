"""The ``[schedule]`` section: when each checkpoint runs under ``canary serve``, and how it is served.

Precedence for one checkpoint: ``[schedule.checkpoints.NAME]``, else ``[schedule.severity.LEVEL]``
(how the pipeline split critical checks to every 15 minutes and routine ones to every 60), else
the default interval. Example::

    [schedule]
    interval_minutes = 30
    timezone = "America/New_York"
    severity.critical = { cron = "*/15 * * * *" }
    checkpoints.orphaned_staging_tables = { interval_minutes = 60, timeout_s = 120 }
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from pipeline_canary.config_types import Bounded, Section
from pipeline_canary.errors import UnknownCheckpointError

DAY_S = 24 * 3600
INTERVAL_MINUTES = Bounded(0, 7 * 24 * 60, lo_open=True, unit="minutes")  # at most weekly
TIMEOUT_S = Bounded(0, DAY_S, lo_open=True, unit="s")


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return value
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as America/New_York)") from exc
    return value


class CheckpointSchedule(Section):
    """One override: a cron expression or an interval (not both), and optionally a timeout."""

    cron: str | None = None
    interval_minutes: Annotated[float | None, INTERVAL_MINUTES] = None
    timeout_s: Annotated[float | None, TIMEOUT_S] = None
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {value!r}: {exc} (five fields, e.g. '*/15 * * * *')") from None
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> CheckpointSchedule:
        if self.cron is not None and self.interval_minutes is not None:
            raise ValueError("give either cron or interval_minutes, not both")
        return self


class ScheduleConfig(Section):
    """``canary serve``: triggers, single-flight limits, time-outs, shutdown and the HTTP address."""

    interval_minutes: Annotated[float, INTERVAL_MINUTES] = 30.0
    timezone: str | None = None  # None: the pipeline's timezone
    timeout_s: Annotated[float, TIMEOUT_S] = 300.0
    misfire_grace_s: Annotated[float, Bounded(0, DAY_S, lo_open=True, unit="s")] = 300.0
    shutdown_grace_s: Annotated[float, Bounded(0, 3600, unit="s")] = 60.0
    lock_wait_s: Annotated[float, Bounded(0, DAY_S, unit="s")] = 600.0
    run_on_start: bool = True
    host: str = "127.0.0.1"
    port: Annotated[int, Bounded(0, 65535)] = 8080
    severity: dict[str, CheckpointSchedule] = Field(default_factory=dict)
    checkpoints: dict[str, CheckpointSchedule] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _known_names(self) -> ScheduleConfig:
        if not self.checkpoints and not self.severity:
            return self
        from pipeline_canary.canaries import registry

        for name in self.checkpoints:
            try:
                registry.get(name)
            except UnknownCheckpointError as exc:  # names the choices
                raise UnknownCheckpointError(f"schedule.checkpoints.{name}: {exc}") from None
        levels = sorted({c.severity for c in registry.all()})
        for level in self.severity:
            if level not in levels:
                raise ValueError(f"unknown severity {level!r} in schedule.severity; known: {', '.join(levels)}")
        return self

    def for_checkpoint(self, name: str, severity: str) -> ResolvedSchedule:
        """The trigger and timeout that apply to one checkpoint."""
        chosen: dict[str, Any] = {"interval_minutes": self.interval_minutes, "cron": None}
        timeout, enabled = self.timeout_s, True
        for override in (self.severity.get(severity), self.checkpoints.get(name)):
            if override is None:
                continue
            if override.cron is not None:
                chosen = {"cron": override.cron, "interval_minutes": None}
            elif override.interval_minutes is not None:
                chosen = {"cron": None, "interval_minutes": override.interval_minutes}
            timeout = override.timeout_s or timeout
            enabled = override.enabled
        return ResolvedSchedule(name=name, timeout_s=timeout, enabled=enabled, **chosen)


class ResolvedSchedule(Section):
    name: str
    cron: str | None
    interval_minutes: float | None
    timeout_s: float
    enabled: bool = True

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron}"
        minutes = self.interval_minutes or 0
        return f"every {minutes:g} min" if minutes >= 1 else f"every {minutes * 60:g} s"


ServeConfig = ScheduleConfig  # the same section; the name reads better where only host/port matter
