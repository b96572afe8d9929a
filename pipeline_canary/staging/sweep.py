"""Carry out a cleanup plan: re-check each table right before acting, keep going past failures.

The re-check compares the table as it is now with the table the plan saw: if it is gone, or its
creation time changed (dropped and re-created by a new batch with the same name), it is skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pipeline_canary.errors import CanaryError, ConfigError
from pipeline_canary.staging.plan import MIN_OLDER_THAN, Candidate, Plan
from pipeline_canary.warehouse.base import TableRef, Warehouse

log = logging.getLogger(__name__)

Mode = Literal["drop", "expire"]
GONE = "no longer exists"
RECREATED = "creation time changed since the listing (re-created)"
DEFAULT_EXPIRE_IN = dt.timedelta(hours=24)


@dataclass(frozen=True)
class TableOutcome:
    """What happened to one candidate: ``dropped``, ``expired``, ``skipped`` or ``failed``."""

    table: TableRef
    action: str
    at: dt.datetime
    created: dt.datetime | None
    age_hours: float | None
    detail: str | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "dataset": self.table.dataset,
            "table": self.table.name,
            "action": self.action,
            "at": self.at.isoformat(),
            "age_hours": None if self.age_hours is None else round(self.age_hours, 1),
            "detail": self.detail,
        }


@dataclass
class SweepResult:
    plan: Plan
    mode: Mode
    executed: bool
    sweep_id: str
    outcomes: list[TableOutcome] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def found(self) -> int:
        return self.plan.found

    @property
    def dropped(self) -> int:
        return self.count("dropped")

    @property
    def expired(self) -> int:
        return self.count("expired")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def skipped(self) -> int:
        """Kept by the plan's guards, plus candidates the re-check kept."""
        return len(self.plan.skipped) + self.count("skipped")

    def summary(self) -> dict[str, int]:
        return {
            "found": self.found,
            "planned": len(self.plan.candidates),
            "dropped": self.dropped,
            "expired": self.expired,
            "skipped": self.skipped,
            "failed": self.failed,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "sweep_id": self.sweep_id,
            "mode": self.mode,
            "executed": self.executed,
            "summary": self.summary(),
            "plan": self.plan.to_dict(),
            "outcomes": [o.to_row() for o in self.outcomes],
        }


class Target(Protocol):
    """How a backend re-checks and acts on one table; ``apply`` returns a skip reason or None."""

    def apply(self, candidate: Candidate) -> str | None: ...

    def close(self) -> None: ...


class GenericTarget:
    """Any Warehouse: re-list the dataset right before each action (one cheap list call)."""

    def __init__(self, warehouse: Warehouse, mode: Mode, expire_at: dt.datetime | None) -> None:
        self.warehouse = warehouse
        self.mode = mode
        self.expire_at = expire_at

    def apply(self, candidate: Candidate) -> str | None:
        current = {t.name: t for t in self.warehouse.tables(candidate.table.dataset, candidate.table.project)}
        now = current.get(candidate.table.name)
        if now is None:
            return GONE
        if now.created != candidate.created:
            return RECREATED
        if self.mode == "expire":
            self.warehouse.set_expiration(candidate.table, self.expire_at)  # type: ignore[attr-defined]
        else:
            self.warehouse.drop(candidate.table)
        return None

    def close(self) -> None:
        pass


def supports_expire(warehouse: Warehouse) -> bool:
    return callable(getattr(warehouse, "set_expiration", None))


def check_mode(warehouse: Warehouse, mode: Mode) -> None:
    """ConfigError (exit 2) if ``warehouse`` cannot do ``mode``: DuckDB has no table expiration."""
    if mode == "expire" and not supports_expire(warehouse):
        raise ConfigError(
            f"--expire is not supported on the {warehouse.name} backend: it has no table expiration. "
            "Drop the tables instead with --execute (without --expire)"
        )


def open_target(warehouse: Warehouse, mode: Mode, expire_at: dt.datetime | None) -> Target:
    """The fastest safe target for ``warehouse``: DuckDB drops on one read-write connection."""
    check_mode(warehouse, mode)
    from pipeline_canary.warehouse.duckdb import DuckDBWarehouse

    if mode == "drop" and isinstance(warehouse, DuckDBWarehouse):
        from pipeline_canary.staging._duckdb import DuckDBTarget

        return DuckDBTarget(warehouse)
    return GenericTarget(warehouse, mode, expire_at)


def new_sweep_id() -> str:
    return uuid.uuid4().hex[:12]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sweep(
    warehouse: Warehouse,
    plan: Plan,
    *,
    execute: bool = False,
    mode: Mode = "drop",
    expire_in: dt.timedelta = DEFAULT_EXPIRE_IN,
    on_outcome: Iterable[Callable[[TableOutcome], None]] = (),
    clock: Callable[[], dt.datetime] = _utcnow,
    target: Target | None = None,
    sweep_id: str | None = None,
) -> SweepResult:
    """Run ``plan``: a dry run (the default) touches nothing; a refused plan raises ConfigError.

    ``on_outcome`` callbacks (audit, progress) see each table as soon as it is done.
    """
    if plan.refusal:
        raise ConfigError(plan.refusal)
    if execute and plan.older_than < MIN_OLDER_THAN:  # a plan made for `staging list` only
        raise ConfigError(f"refusing to act on a plan with a cutoff under {MIN_OLDER_THAN}")
    check_mode(warehouse, mode)
    result = SweepResult(plan=plan, mode=mode, executed=execute, sweep_id=sweep_id or new_sweep_id())
    callbacks = list(on_outcome)
    if not execute or not plan.candidates:
        return result
    expire_at = clock() + expire_in if mode == "expire" else None
    target = target or open_target(warehouse, mode, expire_at)
    done = "expired" if mode == "expire" else "dropped"
    try:
        for candidate in plan.candidates:
            outcome = _apply_one(target, candidate, done, clock, expire_at)
            result.outcomes.append(outcome)
            for callback in callbacks:
                callback(outcome)
    finally:
        target.close()
    return result


def _apply_one(
    target: Target, candidate: Candidate, done: str, clock: Callable[[], dt.datetime], expire_at: dt.datetime | None
) -> TableOutcome:
    detail = f"expires {expire_at.isoformat()}" if expire_at else None
    try:
        reason = target.apply(candidate)
    except CanaryError as exc:
        log.warning("could not clean up %s: %s", candidate.table, exc)
        action, detail = "failed", str(exc)
    except Exception as exc:  # an unexpected driver error on one table must not end the sweep
        log.exception("unexpected error on %s", candidate.table)
        action, detail = "failed", f"{type(exc).__name__}: {exc}"
    else:
        action = done if reason is None else "skipped"
        if reason is not None:
            detail = reason
        log.info("%s %s (%.1f h old)", action, candidate.table, candidate.age_hours)
    return TableOutcome(
        table=candidate.table,
        action=action,
        at=clock(),
        created=candidate.created,
        age_hours=candidate.age_hours,
        detail=detail,
    )
