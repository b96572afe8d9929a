"""The long-lived service: APScheduler runs one job per tier (and per checkpoint scheduled on its
own), one run at a time.

Every run goes through :func:`pipeline_canary.session.execute` (the shared file lock with a manual
``canary run``, then the sinks): a tier's job runs every checkpoint of the tier in one run
(``[schedule.tiers]``, pipeline_canary.scheduler.settings). Single flight has three layers: APScheduler
(``max_instances=1``, ``coalesce``, a misfire grace time), one run slot in this process, and the
session's lock across processes.

Time-outs: a Python thread cannot be killed. Each run executes in a worker thread over a
:class:`CancellableWarehouse`; the clock starts when the run first touches the warehouse (so waiting
for a manual run's lock does not count). At the deadline the warehouse is cancelled (DuckDB's
query is interrupted) and the canary ends ``errored`` with the reason through the normal path, so
history and alerts see it once. A run still stuck after that is recorded ``errored`` here through
the same sinks; its thread is abandoned (a daemon), and its own late result, if any, is recorded too.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pipeline_canary.results import CheckpointResult, Outcome, RunResult
from pipeline_canary.scheduler._cancel import CancellableWarehouse
from pipeline_canary.scheduler._support import (
    close_thread_state,
    default_connect,
    flush_outbox,
    period_s,
    volatile_state,
)
from pipeline_canary.scheduler.health import WarehouseMonitor
from pipeline_canary.state.lock import LockTimeoutError

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

    from pipeline_canary.config import CanaryConfig, WarehouseConfig
    from pipeline_canary.scheduler.settings import ResolvedSchedule, ScheduleConfig
    from pipeline_canary.warehouse import Warehouse

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 5.0  # how long an interrupted run gets to record itself


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Job:
    """One scheduled job: the checkpoints it runs together, on one trigger with one timeout."""

    id: str  # "tier:NAME", or the checkpoint's name for one scheduled on its own
    names: tuple[str, ...]
    schedule: ResolvedSchedule
    period_s: float

    def describe(self) -> str:
        return self.id if self.names == (self.id,) else f"{self.id} ({len(self.names)} checkpoints)"


@dataclass
class CheckpointState:
    """What ``/status`` and ``/readyz`` know about one checkpoint."""

    name: str
    severity: str
    schedule: ResolvedSchedule
    period_s: float
    tier: str = ""
    job: str = ""
    running_since: dt.datetime | None = None
    last_outcome: str | None = None
    last_message: str = ""
    last_run: dt.datetime | None = None
    last_run_id: str | None = None
    last_duration_s: float | None = None
    last_finished_mono: float | None = None
    runs: int = 0


class Service:
    """The scheduler, its run slot and per-checkpoint state. ``start()``, then ``shutdown()``."""

    def __init__(
        self,
        config: CanaryConfig,
        *,
        settings: ScheduleConfig | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        as_of: dt.date | None = None,
        connect: Callable[[WarehouseConfig], Warehouse] | None = None,
    ) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.config = config
        self.settings = settings or config.schedule
        self.tz = ZoneInfo(self.settings.timezone or config.pipeline.timezone)
        self._clock, self._as_of = clock, as_of
        self.connect_warehouse = connect or functools.partial(
            default_connect, partitioned_tables=config.guarded_tables()
        )
        self._slot = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = False
        self._active: dict[str, CancellableWarehouse] = {}
        self._guard = threading.Lock()
        self.started_mono = time.monotonic()
        self.warehouse_health = WarehouseMonitor(self._ping_warehouse)
        self.jobs = self._plan_jobs()
        self.states: dict[str, CheckpointState] = {}
        for job in self.jobs.values():
            for name in job.names:
                severity, tier = config.catalogue.get(name).severity, config.tier_of(name)
                self.states[name] = CheckpointState(name, severity, job.schedule, job.period_s, tier, job.id)
        self.scheduler = BackgroundScheduler(
            timezone=self.tz,
            executors={"default": ThreadPoolExecutor(max_workers=max(1, len(self.jobs)))},
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": self.settings.misfire_grace_s,
            },
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._warn_if_state_is_volatile()
        self._load_history()
        self.started_mono = time.monotonic()
        first = dt.datetime.now(self.tz) if self.settings.run_on_start else None
        for job in self.jobs.values():
            kwargs: dict[str, Any] = {"next_run_time": first} if first is not None else {}
            self.scheduler.add_job(
                self.run_job, self._trigger(job.schedule), args=[job.id], id=job.id, name=job.id, **kwargs
            )
        self.scheduler.start()
        self.warehouse_health.check()  # /readyz knows the warehouse from the start
        self.warehouse_health.start()
        log.info(
            "scheduler started",
            extra={"jobs": {j.id: f"{j.schedule.describe()}: {', '.join(j.names)}" for j in self.jobs.values()}},
        )

    def _plan_jobs(self) -> dict[str, Job]:
        """One job per tier with checkpoints in it, and one per checkpoint with a schedule of its own."""
        by_tier: dict[str, list[str]] = {}
        own: list[Job] = []
        for canary in self.config.catalogue.all():
            tier = self.config.tier_of(canary.name)
            if not self.settings.own_job(canary.name):
                by_tier.setdefault(tier, []).append(canary.name)
                continue
            resolved = self.settings.for_checkpoint(canary.name, tier)
            if resolved.enabled:
                own.append(Job(canary.name, (canary.name,), resolved, period_s(self._trigger(resolved))))
        jobs = {}
        for tier in self.settings.tier_names() + tuple(t for t in by_tier if t not in self.settings.tier_names()):
            resolved = self.settings.for_tier(tier)
            if by_tier.get(tier) and resolved.enabled:
                period = period_s(self._trigger(resolved))
                jobs[resolved.name] = Job(resolved.name, tuple(by_tier[tier]), resolved, period)
        return {**jobs, **{j.id: j for j in own}}

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running) and not self._stopping.is_set()

    def shutdown(self, grace_s: float | None = None) -> int | None:
        """Stop taking runs, let the current one finish within the grace, flush the outbox."""
        grace = self.settings.shutdown_grace_s if grace_s is None else grace_s
        with self._guard:
            if self._stopped:
                return None
            self._stopped = True
        self._stopping.set()
        self.warehouse_health.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if not self._slot.acquire(timeout=grace):
            with self._guard:
                active = list(self._active.items())
            for name, warehouse in active:
                log.warning("cancelling %s: shutdown grace of %gs ran out", name, grace, extra={"checkpoint": name})
                warehouse.cancel(f"run of {name} cut off: the service shut down (grace {grace:g}s)")
            if not self._slot.acquire(timeout=CANCEL_GRACE_S * 2):
                log.error("a run did not stop after cancellation; exiting without it")
        delivered = flush_outbox(self.config)
        log.info("scheduler stopped", extra={"alerts_delivered": delivered})
        return delivered

    # -- one run ---------------------------------------------------------------------------
    def run_job(self, job_id: str) -> RunResult | None:
        """Run one job's checkpoints now (the scheduled job); None if it did not run (stopping, lock busy)."""
        return self._run_now(self.jobs[job_id])

    def run_checkpoint(self, name: str) -> RunResult | None:
        """Run one checkpoint now, with its job's timeout; None if it did not run (stopping, lock busy)."""
        state = self.states[name]
        return self._run_now(Job(name, (name,), state.schedule, state.period_s))

    def _run_now(self, job: Job) -> RunResult | None:
        if not self._acquire_slot():
            what = "shutting down" if self._stopping.is_set() else "busy"
            log.warning("run of %s not started: %s", job.describe(), what)
            return None
        try:
            if self._stopping.is_set():
                return None
            return self._run(job)
        finally:
            self._slot.release()

    def _acquire_slot(self) -> bool:
        deadline = time.monotonic() + self.settings.lock_wait_s
        while not self._stopping.is_set():
            if self._slot.acquire(timeout=0.1):
                return True
            if time.monotonic() >= deadline:
                return False
        return False

    def _run(self, job: Job) -> RunResult | None:
        from pipeline_canary.session import execute

        states = [self.states[n] for n in job.names]
        timeout = job.schedule.timeout_s
        warehouse = CancellableWarehouse(self.connect_warehouse(self.config.warehouse))
        now = self._clock() if self._clock else _utcnow()
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["result"] = execute(
                    self.config, list(job.names), as_of=self._as_of, now=now, warehouse=warehouse,
                    lock_timeout_s=self.settings.lock_wait_s,
                )  # fmt: skip
            except BaseException as exc:
                box["error"] = exc
            finally:
                warehouse.close()
                close_thread_state(self.config)

        worker = threading.Thread(target=work, name=f"canary-run-{job.id}", daemon=True)
        started = time.monotonic()
        for state in states:
            state.running_since = _utcnow()
        with self._guard:
            self._active[job.id] = warehouse
        try:
            worker.start()
            lock_deadline = started + self.settings.lock_wait_s + 5
            while worker.is_alive() and not warehouse.started.wait(0.05) and time.monotonic() < lock_deadline:
                pass
            worker.join(timeout)
            if worker.is_alive():
                what = f"checkpoint {job.id}" if job.names == (job.id,) else f"run of {job.describe()}"
                warehouse.cancel(f"{what} timed out after {timeout:g}s and was cut off")
                worker.join(CANCEL_GRACE_S)
        finally:
            with self._guard:
                self._active.pop(job.id, None)
            for state in states:
                state.running_since = None
        result: RunResult | None = box.get("result")
        if result is None:
            error = box.get("error")
            if isinstance(error, LockTimeoutError):
                log.warning("run of %s not started: %s", job.describe(), error, extra={"job": job.id})
                return None
            reason = warehouse.reason or f"run of {job.describe()} crashed: {type(error).__name__}: {error}"
            if error is not None:
                log.error("run of %s crashed", job.describe(), exc_info=error, extra={"job": job.id})
            result = self._record_errored(job, reason, now, time.monotonic() - started)
        for state in states:
            self._finished(state, result)
        return result

    def _record_errored(self, job: Job, reason: str, now: dt.datetime, duration_s: float) -> RunResult:
        """A run that produced no result of its own: record ``errored`` through the session's sinks."""
        from pipeline_canary.checkpoints.runner import resolve_clock
        from pipeline_canary.session import default_sinks

        clock = resolve_clock(self.config.pipeline.timezone, self._as_of, now)
        as_of, now = clock.as_of, clock.now
        label = job.id.replace("tier:", "tier-")
        result = RunResult(
            run_id=f"{now.strftime('%Y%m%dT%H%M%SZ')}-{label}-errored",
            as_of=as_of,
            now=now,
            checkpoints=tuple(CheckpointResult.errored(name, reason, duration_s) for name in job.names),
            duration_s=duration_s,
            replay=clock.replay,
            now_source=clock.now_source,
        )
        for sink in default_sinks(alert=result.live):
            try:
                sink(self.config, result)
            except Exception:
                log.exception("result sink %s failed", getattr(sink, "__name__", sink))
        return result

    def _finished(self, state: CheckpointState, result: RunResult) -> None:
        cp = next((c for c in result.checkpoints if c.name == state.name), None)
        outcome = cp.outcome if cp else Outcome.ERRORED
        state.last_outcome = outcome.value
        state.last_message = cp.message if cp else "no result"
        state.last_run = _utcnow()
        state.last_run_id = result.run_id
        state.last_duration_s = round(result.duration_s, 4)
        state.last_finished_mono = time.monotonic()
        state.runs += 1
        level = logging.ERROR if outcome in (Outcome.FAILED, Outcome.ERRORED) else logging.INFO
        log.log(
            level,
            "run finished: %s %s",
            state.name,
            outcome.value,
            extra={
                "checkpoint": state.name,
                "outcome": outcome.value,
                "duration_s": round(result.duration_s, 4),
                "bytes_processed": cp.bytes_processed if cp else None,
                "run_id": result.run_id,
                "as_of": result.as_of.isoformat(),
            },
        )

    # -- helpers ---------------------------------------------------------------------------
    def _trigger(self, schedule: ResolvedSchedule) -> BaseTrigger:
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        if schedule.cron is not None:
            return CronTrigger.from_crontab(schedule.cron, timezone=self.tz)
        return IntervalTrigger(seconds=(schedule.interval_minutes or 0) * 60, timezone=self.tz)

    def _ping_warehouse(self) -> None:
        """One reachability check, on its own connection (the configuration as it is now)."""
        warehouse = self.connect_warehouse(self.config.warehouse)
        try:
            warehouse.ping()
        finally:
            warehouse.close()

    def _warn_if_state_is_volatile(self) -> None:
        if self.config.state.backend == "gcs":
            return  # kept in Cloud Storage: the local copy lives for one run only
        path = self.config.state.path
        reason = volatile_state(path)
        if reason is not None:
            log.warning(
                "the state store %s will not survive a restart: %s. On a restart, open incidents and "
                "alerts still unsent in the outbox are lost, and incidents still failing post a new "
                "Slack parent message; run history starts empty. Put [state] path on a persistent "
                "volume (see deploy/cloud-run.md).",
                path,
                reason,
                extra={"state_path": str(path)},
            )

    def _load_history(self) -> None:
        """Last outcomes from the state store, so ``/status`` is useful right after a restart."""
        try:
            from pipeline_canary.state import open_state
            from pipeline_canary.state.history import history
            from pipeline_canary.state.sync import state_session

            with state_session(self.config, write=False) as config:  # gcs: a snapshot, no lock
                store = open_state(config)
                if self.config.alerting.enabled:  # /readyz knows whether Slack refused us before the restart
                    from pipeline_canary.alerting import refusal

                    refusal.current(store)
                for name, state in self.states.items():
                    rows = history(store, name, limit=1)
                    if rows:
                        row = rows[0]
                        state.last_outcome, state.last_message = row.outcome.value, row.message
                        state.last_run, state.last_run_id = row.now, row.run_id
                        state.last_duration_s = round(row.duration_s, 4)
        except Exception:  # status is a convenience; the schedule must start regardless
            log.warning("could not read run history", exc_info=True)

    def next_run(self, name: str) -> dt.datetime | None:
        state = self.states.get(name)
        job = self.scheduler.get_job(state.job) if self.running and state is not None else None
        return job.next_run_time if job is not None else None
