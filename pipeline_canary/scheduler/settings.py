"""The ``[schedule]`` section: when the checkpoints run under ``canary serve``, and how it is served.

Checkpoints run in **tiers** (how the pipeline runs its critical checks every 15 minutes and its
routine ones every 60): one job per tier runs every checkpoint of the tier together, on
``[schedule.tiers.NAME]``'s trigger, else the default interval. A canary's tier is its own
(``canary list`` shows it) unless ``[checkpoints.NAME] tier`` overrides it. The tiers ``critical``
and ``routine`` always exist; ``[schedule.tiers.NAME]`` declares more. A checkpoint with a
``[schedule.checkpoints.NAME]`` entry runs in a job of its own (its trigger and timeout, else its
tier's); ``enabled = false`` takes it off the schedule. Example::

    [schedule]
    interval_minutes = 30
    timezone = "America/New_York"
    tiers.critical = { interval_minutes = 15 }
    tiers.routine = { interval_minutes = 60 }
    checkpoints.orphaned_staging_tables = { cron = "0 8 * * *", timeout_s = 120 }

``[schedule.severity.LEVEL]`` (before tiers) is an error that says what to write instead.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pipeline_canary.config_types import Bounded, Section
from pipeline_canary.errors import UnknownCheckpointError

_TIER = re.compile(r"[a-z][a-z0-9_]{0,62}")

DAY_S = 24 * 3600
BUILT_IN_TIERS = ("critical", "routine")
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
    tiers: dict[str, CheckpointSchedule] = Field(default_factory=dict)
    severity: dict[str, Any] = Field(default_factory=dict)  # replaced by tiers: an error that says so
    checkpoints: dict[str, CheckpointSchedule] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _known_names(self, info: ValidationInfo) -> ScheduleConfig:
        if self.severity:
            level = next(iter(self.severity))
            tier = "critical" if level == "critical" else "routine"
            raise ValueError(
                f"[schedule.severity.{level}] was replaced by tiers: write [schedule.tiers.{tier}] with the same "
                "trigger (a canary's tier is in `canary list`; critical canaries are tier critical, warning ones "
                'routine) and set [checkpoints.NAME] tier = "..." to move one'
            )
        for tier in self.tiers:
            if not _TIER.fullmatch(tier):
                raise ValueError(f"schedule.tiers.{tier}: a tier name is lowercase letters, digits and _")
        if not self.checkpoints:
            return self
        catalogue: Any = (info.context or {}).get("catalogue")
        if catalogue is None:
            from pipeline_canary.canaries import registry as catalogue
        for name in self.checkpoints:
            try:
                catalogue.get(name)
            except UnknownCheckpointError as exc:  # names the choices
                raise UnknownCheckpointError(f"schedule.checkpoints.{name}: {exc}") from None
        return self

    def tier_names(self) -> tuple[str, ...]:
        """Every tier: the built-in ``critical`` and ``routine`` and those of ``[schedule.tiers]``."""
        return tuple(dict.fromkeys((*BUILT_IN_TIERS, *self.tiers)))

    def for_tier(self, tier: str) -> ResolvedSchedule:
        """The trigger and timeout of a tier's job: ``[schedule.tiers.NAME]``, else the defaults."""
        chosen: dict[str, Any] = {"interval_minutes": self.interval_minutes, "cron": None}
        timeout, enabled = self.timeout_s, True
        override = self.tiers.get(tier)
        if override is not None:
            if override.cron is not None:
                chosen = {"cron": override.cron, "interval_minutes": None}
            elif override.interval_minutes is not None:
                chosen = {"cron": None, "interval_minutes": override.interval_minutes}
            timeout = override.timeout_s or timeout
            enabled = override.enabled
        return ResolvedSchedule(name=f"tier:{tier}", timeout_s=timeout, enabled=enabled, **chosen)

    def own_job(self, name: str) -> bool:
        """Whether a checkpoint runs in a job of its own (it has a ``[schedule.checkpoints.NAME]`` entry)."""
        return name in self.checkpoints

    def for_checkpoint(self, name: str, tier: str) -> ResolvedSchedule:
        """The trigger and timeout that apply to one checkpoint: its own entry, else its tier's."""
        tier_schedule = self.for_tier(tier)
        override = self.checkpoints.get(name)
        if override is None:
            return tier_schedule
        chosen: dict[str, Any] = {"cron": tier_schedule.cron, "interval_minutes": tier_schedule.interval_minutes}
        if override.cron is not None:
            chosen = {"cron": override.cron, "interval_minutes": None}
        elif override.interval_minutes is not None:
            chosen = {"cron": None, "interval_minutes": override.interval_minutes}
        timeout = override.timeout_s or tier_schedule.timeout_s
        return ResolvedSchedule(name=name, timeout_s=timeout, enabled=override.enabled, **chosen)


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
