"""Settle half-done cleanup entries: a sweep killed after writing ``dropping`` and before confirming.

Whether its drop happened is read from the warehouse: a table that is gone (or whose name now
belongs to a table created later) was dropped, ``dropped (reconciled)``; one still there as the
sweep saw it was not, ``not dropped (reconciled)``. Only run while holding the lock every sweep
holds (no sweep is running then, so every pending entry belongs to one that died).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline_canary.errors import TableNotFoundError
from pipeline_canary.staging.audit import AuditRow, audit_rows
from pipeline_canary.state.sqlite import SQLiteState
from pipeline_canary.warehouse.base import TableInfo, Warehouse

# (was pending as, table still there as the sweep saw it) -> (status, action)
OUTCOMES = {
    ("dropping", False): ("dropped (reconciled)", "dropped"),
    ("dropping", True): ("not dropped (reconciled)", "failed"),
    ("expiring", False): ("expired (reconciled)", "expired"),
    ("expiring", True): ("expiry unconfirmed (reconciled)", "failed"),
}


@dataclass(frozen=True)
class Reconciled:
    """One pending entry, settled: what it said and what it says now."""

    entry: AuditRow
    status: str
    action: str  # the entry's action column: dropped / expired only when that is what happened
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.entry.to_dict(), "was": self.entry.status, "status": self.status, "detail": self.detail}

    def line(self) -> str:
        return line(self.to_dict())


def line(reconciled: dict[str, Any]) -> str:
    """One reconciled entry (``Reconciled.to_dict()``) for people."""
    r = reconciled
    return f"reconciled  {r['dataset']}.{r['table']}: {r['was']} -> {r['status']} ({r['detail']})"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reconcile(
    state: SQLiteState, warehouse: Warehouse, *, actor: str, clock: Callable[[], dt.datetime] = _utcnow
) -> list[Reconciled]:
    """Settle every pending entry in ``state`` against ``warehouse``; the caller holds the sweep lock.

    A warehouse that cannot be listed raises (CanaryError) and leaves the entries pending.
    """
    pending = audit_rows(state, pending=True)
    listings: dict[str, dict[str, TableInfo]] = {}
    settled = []
    for entry in pending:
        if entry.dataset not in listings:
            try:
                listings[entry.dataset] = {t.name: t for t in warehouse.tables(entry.dataset)}
            except TableNotFoundError:  # the whole dataset is gone
                listings[entry.dataset] = {}
        settled.append(_settle(entry, listings[entry.dataset].get(entry.table_name), actor, clock()))
    if settled:
        with state.transaction() as conn:
            for item in settled:
                conn.execute(
                    "UPDATE staging_cleanup SET status = ?, action = ?, detail = ? WHERE id = ? AND status = ?",
                    (item.status, item.action, item.detail, item.entry.id, item.entry.status),
                )
    return settled


def _settle(entry: AuditRow, now: TableInfo | None, actor: str, at: dt.datetime) -> Reconciled:
    same = now is not None and (entry.created is None or now.created is None or now.created == entry.created)
    status, action = OUTCOMES[(entry.status, same)]
    stopped = f"sweep {entry.sweep_id} stopped before confirming"
    if now is None:
        found = "the table no longer exists"
    elif not same:
        assert now.created is not None
        found = f"the table it saw is gone; one of that name was created {now.created.isoformat()}"
    elif entry.status == "expiring":
        found = "the table still exists and its expiration may not be set: run the cleanup again"
    else:
        found = "the table still exists (a later cleanup may drop it)"
    return Reconciled(entry, status, action, f"{stopped}; {found}; reconciled {at.isoformat()} by {actor}")
