"""Carry out a cleanup plan: re-check each table right before acting, keep going past failures.

The re-check compares the table as it is now with the table the plan saw: if it is gone, or its
creation time changed (dropped and re-created by a new batch with the same name), it is skipped.

Each table that passes the re-check is written down in the journal (the audit) as ``dropping``
before it is touched, and confirmed after: a sweep killed in between leaves an entry that the next
cleanup, list or audit reconciles with the warehouse (:mod:`pipeline_canary.staging.reconcile`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pipeline_canary.errors import CanaryError, ConfigError, TableNotFoundError
from pipeline_canary.staging.plan import MIN_OLDER_THAN, Candidate, Plan
from pipeline_canary.warehouse.base import TableRef, Warehouse

log = logging.getLogger(__name__)

Mode = Literal["drop", "expire"]
GONE = "no longer exists"
RECREATED = "creation time changed since the listing (re-created)"
DEFAULT_EXPIRE_IN = dt.timedelta(hours=24)
# Tests only: "<point>:<n>" holds the sweep at ``intent`` (the n-th table's entry is written, 0-based),
# ``acted`` (it is dropped, not yet confirmed) or ``confirmed``, so a test can SIGKILL it exactly there.
PAUSE_ENV = "CANARY_TEST_PAUSE_SWEEP"


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
    reconciled: list[dict[str, Any]] = field(default_factory=list)  # earlier sweeps' half-done entries, settled

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
            "reconciled": self.reconciled,
        }


class Target(Protocol):
    """How a backend re-checks and acts on one table; each returns a skip reason or None."""

    def recheck(self, candidate: Candidate) -> str | None: ...

    def act(self, candidate: Candidate) -> str | None: ...

    def close(self) -> None: ...


class Journal(Protocol):
    """Where a sweep writes down a table before touching it (``begin``) and what came of it (``finish``)."""

    def begin(self, candidate: Candidate, status: str) -> None: ...

    def finish(self, outcome: TableOutcome) -> None: ...


class _NoJournal:
    def begin(self, candidate: Candidate, status: str) -> None:
        pass

    def finish(self, outcome: TableOutcome) -> None:
        pass


class GenericTarget:
    """Any Warehouse: re-list the dataset right before each action (one cheap list call)."""

    def __init__(self, warehouse: Warehouse, mode: Mode, expire_at: dt.datetime | None) -> None:
        self.warehouse = warehouse
        self.mode = mode
        self.expire_at = expire_at

    def recheck(self, candidate: Candidate) -> str | None:
        current = {t.name: t for t in self.warehouse.tables(candidate.table.dataset, candidate.table.project)}
        now = current.get(candidate.table.name)
        if now is None:
            return GONE
        if now.created != candidate.created:
            return RECREATED
        return None

    def act(self, candidate: Candidate) -> str | None:
        try:
            if self.mode == "expire":
                self.warehouse.set_expiration(candidate.table, self.expire_at)  # type: ignore[attr-defined]
            else:
                self.warehouse.drop(candidate.table)
        except TableNotFoundError:  # dropped by someone else since the re-check
            return GONE
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
    journal: Journal | None = None,
) -> SweepResult:
    """Run ``plan``: a dry run (the default) touches nothing; a refused plan raises ConfigError.

    ``journal`` (the audit) sees each table before it is touched and once it is done; an error it
    raises stops the sweep. ``on_outcome`` callbacks (progress) see each table as soon as it is done.
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
    step = _Step(target, journal or _NoJournal(), "expired" if mode == "expire" else "dropped", clock, expire_at)
    try:
        for index, candidate in enumerate(plan.candidates):
            outcome = step.run(index, candidate)
            result.outcomes.append(outcome)
            for callback in callbacks:
                callback(outcome)
    finally:
        target.close()
    return result


@dataclass
class _Step:
    """One table: re-check, write the journal entry, act, confirm; a failure is this table's alone."""

    target: Target
    journal: Journal
    done: str
    clock: Callable[[], dt.datetime]
    expire_at: dt.datetime | None

    def run(self, index: int, candidate: Candidate) -> TableOutcome:
        action, detail = self._attempt(index, candidate)
        log.info("%s %s (%.1f h old)", action, candidate.table, candidate.age_hours)
        outcome = TableOutcome(
            table=candidate.table,
            action=action,
            at=self.clock(),
            created=candidate.created,
            age_hours=candidate.age_hours,
            detail=detail,
        )
        self.journal.finish(outcome)
        _pause_for_tests("confirmed", index, candidate)
        return outcome

    def _attempt(self, index: int, candidate: Candidate) -> tuple[str, str | None]:
        reason, failure = _guarded(self.target.recheck, candidate)
        if failure is not None:
            return "failed", failure
        if reason is not None:
            return "skipped", reason
        # Written and committed before the table is touched; if it cannot be, the sweep stops here.
        self.journal.begin(candidate, "expiring" if self.done == "expired" else "dropping")
        _pause_for_tests("intent", index, candidate)
        reason, failure = _guarded(self.target.act, candidate)
        if failure is not None:
            return "failed", failure
        _pause_for_tests("acted", index, candidate)
        if reason is not None:
            return "skipped", reason
        return self.done, f"expires {self.expire_at.isoformat()}" if self.expire_at else None


def _guarded(action: Callable[[Candidate], str | None], candidate: Candidate) -> tuple[str | None, str | None]:
    """``action``'s skip reason, or the error that means this table failed (the sweep goes on)."""
    try:
        return action(candidate), None
    except CanaryError as exc:
        log.warning("could not clean up %s: %s", candidate.table, exc)
        return None, str(exc)
    except Exception as exc:  # an unexpected driver error on one table must not end the sweep
        log.exception("unexpected error on %s", candidate.table)
        return None, f"{type(exc).__name__}: {exc}"


def _pause_for_tests(point: str, index: int, candidate: Candidate) -> None:
    """Tests only (tests/staging/test_killed_sweep.py): hold here for good when ``$CANARY_TEST_PAUSE_SWEEP`` says so."""
    if os.environ.get(PAUSE_ENV) != f"{point}:{index}":
        return
    log.warning("%s: paused at %s:%d (%s)", PAUSE_ENV, point, index, candidate.table)
    while True:
        time.sleep(3600)
