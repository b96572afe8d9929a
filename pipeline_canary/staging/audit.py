"""The cleanup audit: one state-store row per table a sweep dropped, expired or failed to touch.

Rows are written one at a time, as the sweep goes, so a sweep that dies half-way still leaves a
record of what it already did. Dry runs write nothing.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline_canary.errors import CanaryError
from pipeline_canary.state.sqlite import SQLiteState, register_schema

if TYPE_CHECKING:
    from pipeline_canary.staging.sweep import TableOutcome

ACTOR_ENV = "CANARY_ACTOR"
RECORDED_ACTIONS = ("dropped", "expired", "failed")

register_schema(
    "staging_audit",
    """
    CREATE TABLE IF NOT EXISTS staging_cleanup (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sweep_id TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        backend TEXT NOT NULL,
        dataset TEXT NOT NULL,
        table_name TEXT NOT NULL,
        created TEXT,
        age_hours REAL,
        action TEXT NOT NULL CHECK (action IN ('dropped', 'expired', 'failed')),
        detail TEXT
    );
    CREATE INDEX IF NOT EXISTS staging_cleanup_by_time ON staging_cleanup (at);
    """,
)


def current_actor(env: dict[str, str] | None = None) -> str:
    """``$CANARY_ACTOR`` (e.g. the scheduler's service account), else ``user@host``."""
    env = dict(os.environ) if env is None else env
    if env.get(ACTOR_ENV, "").strip():
        return env[ACTOR_ENV].strip()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class AuditRow:
    sweep_id: str
    at: dt.datetime
    actor: str
    backend: str
    dataset: str
    table_name: str
    created: dt.datetime | None
    age_hours: float | None
    action: str
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sweep_id": self.sweep_id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "backend": self.backend,
            "dataset": self.dataset,
            "table": self.table_name,
            "created": self.created.isoformat() if self.created else None,
            "age_hours": self.age_hours,
            "action": self.action,
            "detail": self.detail,
        }


class AuditLog:
    """Writes one sweep's actions; ``record`` is handed to the sweep as its per-table callback."""

    def __init__(self, state: SQLiteState, *, sweep_id: str, backend: str, actor: str | None = None) -> None:
        self.state = state
        self.sweep_id = sweep_id
        self.backend = backend
        self.actor = actor or current_actor()

    def check(self) -> None:
        """Raise CanaryError now if the audit cannot be written (before anything is dropped)."""
        try:
            with self.state.transaction():
                pass
        except sqlite3.Error as exc:
            raise CanaryError(f"cannot write the cleanup audit to the state store {self.state.path}: {exc}") from exc

    def record(self, outcome: TableOutcome) -> None:
        """Write one row; if that fails the sweep stops (no unrecorded drops), naming the table."""
        if outcome.action not in RECORDED_ACTIONS:
            return
        try:
            self._insert(outcome)
        except sqlite3.Error as exc:
            raise CanaryError(
                f"{outcome.action} {outcome.table} but could not record it in the state store {self.state.path}: "
                f"{exc}; stopping the sweep"
            ) from exc

    def _insert(self, outcome: TableOutcome) -> None:
        with self.state.transaction() as conn:
            conn.execute(
                "INSERT INTO staging_cleanup (sweep_id, at, actor, backend, dataset, table_name, created, "
                "age_hours, action, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.sweep_id,
                    outcome.at.isoformat(),
                    self.actor,
                    self.backend,
                    outcome.table.dataset,
                    outcome.table.name,
                    outcome.created.isoformat() if outcome.created else None,
                    None if outcome.age_hours is None else round(outcome.age_hours, 3),
                    outcome.action,
                    outcome.detail,
                ),
            )


def audit_rows(state: SQLiteState, *, sweep_id: str | None = None, limit: int = 10000) -> list[AuditRow]:
    """Recorded actions, oldest first, optionally of one sweep."""
    sql = "SELECT * FROM staging_cleanup"
    params: list[Any] = []
    if sweep_id:
        sql += " WHERE sweep_id = ?"
        params.append(sweep_id)
    sql += " ORDER BY id LIMIT ?"
    params.append(limit)
    return [
        AuditRow(
            sweep_id=r["sweep_id"],
            at=dt.datetime.fromisoformat(r["at"]),
            actor=r["actor"],
            backend=r["backend"],
            dataset=r["dataset"],
            table_name=r["table_name"],
            created=dt.datetime.fromisoformat(r["created"]) if r["created"] else None,
            age_hours=r["age_hours"],
            action=r["action"],
            detail=r["detail"],
        )
        for r in state.read().execute(sql, params).fetchall()
    ]
