"""One cleanup as the CLI and the automatic post-checkpoint sink both do it: list, plan, sweep, audit."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from pipeline_canary.errors import ConfigError
from pipeline_canary.staging.plan import DEFAULT_MAX_TABLES, Plan, build_plan
from pipeline_canary.staging.sweep import DEFAULT_EXPIRE_IN, Mode, SweepResult, TableOutcome, new_sweep_id, sweep

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.results import RunResult
    from pipeline_canary.warehouse.base import Warehouse

log = logging.getLogger(__name__)
CHECKPOINT = "orphaned_staging_tables"
FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # clock skew between hosts


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def plan_cleanup(
    config: CanaryConfig,
    warehouse: Warehouse,
    *,
    older_than: dt.timedelta,
    now: dt.datetime | None = None,
    max_tables: int = DEFAULT_MAX_TABLES,
    read_only: bool = False,
) -> Plan:
    """List the configured staging dataset and plan; ``now`` (default: the clock) fixes ages.

    A ``now`` in the future would overstate every age, so only read-only callers may use one.
    """
    listing_started = _utcnow()
    if now is not None and not read_only and now > listing_started + FUTURE_TOLERANCE:
        raise ConfigError(
            f"--now {now.isoformat()} is in the future: every table would look older than it is, and young "
            "tables could be dropped. Use a past or present --now (or none) for a cleanup"
        )
    listed = warehouse.tables(config.pipeline.staging_dataset)
    if read_only:  # `staging list` shows sizes where the backend can tell; a sweep does not need them
        prefix = config.pipeline.staging_prefix
        listed = warehouse.with_sizes([t for t in listed if t.name.startswith(prefix)]) + [
            t for t in listed if not t.name.startswith(prefix)
        ]
    extra = {"min_older_than": dt.timedelta(0)} if read_only else {}
    return build_plan(
        listed,
        dataset=config.pipeline.staging_dataset,
        prefix=config.pipeline.staging_prefix,
        older_than=older_than,
        now=now or listing_started,
        listing_started=min(listing_started, now) if now else listing_started,
        max_tables=max_tables,
        **extra,
    )


def run_cleanup(
    config: CanaryConfig,
    warehouse: Warehouse,
    plan: Plan,
    *,
    execute: bool = False,
    mode: Mode = "drop",
    expire_in: dt.timedelta = DEFAULT_EXPIRE_IN,
    on_outcome: Iterable[Callable[[TableOutcome], None]] = (),
    actor: str | None = None,
) -> tuple[SweepResult, str]:
    """Sweep ``plan`` recording each action in the state store; returns the result and the actor.

    With ``execute`` the caller holds the lock (``staging._state.cleanup_state`` or the run's) and
    ``config`` is that session's: half-done entries of earlier sweeps are reconciled first, and each
    entry is written before its table is touched (uploaded first with a shared state).
    """
    from pipeline_canary.staging.audit import AuditLog
    from pipeline_canary.staging.reconcile import reconcile
    from pipeline_canary.state import open_state
    from pipeline_canary.state.sync import save_now

    sweep_id = new_sweep_id()
    state = open_state(config)
    audit = AuditLog(state, sweep_id=sweep_id, backend=warehouse.name, actor=actor, durable=lambda: save_now(config))
    reconciled = []
    if execute:
        audit.check()  # an unwritable state store stops the sweep before the first drop, not after
        reconciled = reconcile(state, warehouse, actor=audit.actor)
        for item in reconciled:
            log.warning("%s", item.line())
    result = sweep(
        warehouse,
        plan,
        execute=execute,
        mode=mode,
        expire_in=expire_in,
        on_outcome=on_outcome,
        sweep_id=sweep_id,
        journal=audit,
    )
    result.reconciled = [item.to_dict() for item in reconciled]
    return result, audit.actor


def auto_cleanup_sink(config: CanaryConfig, result: RunResult) -> None:
    """After a run: if ``auto_cleanup`` is on and the checkpoint found orphans, drop them.

    The same guards as ``canary staging cleanup --execute --older-than {max_age_hours}h``; the
    caller (``session.execute``) already holds the run lock.
    """
    settings = config.settings_for(CHECKPOINT)
    if not getattr(settings, "auto_cleanup", False):
        return
    checkpoint = next((c for c in result.checkpoints if c.name == CHECKPOINT), None)
    if checkpoint is None or not checkpoint.metrics.get("orphaned_tables"):
        return
    from pipeline_canary.errors import CanaryError
    from pipeline_canary.warehouse import connect

    cutoff = dt.timedelta(hours=settings.max_age_hours)
    try:
        with connect(config.warehouse) as warehouse:
            plan = plan_cleanup(config, warehouse, older_than=cutoff, now=result.now)
            if plan.refused:
                log.error("automatic staging cleanup refused: %s", plan.refusal)
                return
            sweep_result, actor = run_cleanup(config, warehouse, plan, execute=True)
    except CanaryError as exc:
        # A refused --now, or e.g. DuckDB under the scheduler: the run's read-only connection is still open in this
        # process, and DuckDB allows no read-write one beside it. Nothing was dropped.
        log.error("automatic staging cleanup could not run: %s; run `canary staging cleanup --execute`", exc)
        return
    summary = sweep_result.summary()
    level = logging.ERROR if sweep_result.failed else logging.WARNING
    log.log(level, "automatic staging cleanup by %s (sweep %s): %s", actor, sweep_result.sweep_id, summary)
