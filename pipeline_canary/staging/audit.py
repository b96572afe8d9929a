"""The cleanup audit: one state-store row per table a sweep dropped, expired or failed to touch.

Each drop is a unit with its row: the row is written and committed as ``dropping`` (``expiring``)
before the table is touched, and confirmed (``dropped``, ``failed`` with the reason) after. A sweep
that dies in between leaves its entry ``dropping``; the next cleanup, list or ``staging audit``
settles it against the warehouse (:mod:`pipeline_canary.staging.reconcile`). Dry runs write nothing.

``status`` is the entry's lifecycle; ``action`` (the column rows had before ``status`` existed, and
what older readers see) only ever says ``dropped`` or ``expired`` once that is confirmed: an
unconfirmed entry reads ``failed``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline_canary.errors import CanaryError
from pipeline_canary.state.sqlite import SQLiteState, register_schema

if TYPE_CHECKING:
    from pipeline_canary.staging.plan import Candidate
    from pipeline_canary.staging.sweep import TableOutcome

ACTOR_ENV = "CANARY_ACTOR"
RECORDED_ACTIONS = ("dropped", "expired", "failed")
PENDING = ("dropping", "expiring")  # written, not yet confirmed
UNCONFIRMED = "not confirmed yet: the sweep writes this entry before touching the table"

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
    # Added with the two-step entries; NULL in rows written before (their action is their status).
    columns=(("staging_cleanup", "status", "TEXT"),),
    after_columns="""
    CREATE INDEX IF NOT EXISTS staging_cleanup_pending ON staging_cleanup (status)
        WHERE status IN ('dropping', 'expiring');
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
    id: int
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
    status: str

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sweep_id": self.sweep_id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "backend": self.backend,
            "dataset": self.dataset,
            "table": self.table_name,
            "created": self.created.isoformat() if self.created else None,
            "age_hours": self.age_hours,
            "status": self.status,
            "action": self.action,
            "detail": self.detail,
        }


class AuditLog:
    """One sweep's journal: ``begin`` before a table is touched, ``finish`` once it is done.

    ``durable`` is called after each ``begin`` commits, before the table is touched: with a shared
    state (``[state] backend = "gcs"``) it uploads the store, so the entry survives the process.
    """

    def __init__(
        self,
        state: SQLiteState,
        *,
        sweep_id: str,
        backend: str,
        actor: str | None = None,
        durable: Callable[[], object] | None = None,
    ) -> None:
        self.state = state
        self.sweep_id = sweep_id
        self.backend = backend
        self.actor = actor or current_actor()
        self.durable = durable
        self._open: int | None = None  # the entry begun and not finished

    def check(self) -> None:
        """Raise CanaryError now if the audit cannot be written (before anything is dropped)."""
        try:
            with self.state.transaction():
                pass
        except sqlite3.Error as exc:
            raise CanaryError(f"cannot write the cleanup audit to the state store {self.state.path}: {exc}") from exc

    def begin(self, candidate: Candidate, status: str) -> None:
        """Commit a ``status`` (``dropping``) entry; if that fails the sweep stops before touching the table."""
        try:
            with self.state.transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO staging_cleanup (sweep_id, at, actor, backend, dataset, table_name, created, "
                    "age_hours, action, detail, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'failed', ?, ?)",
                    (
                        self.sweep_id,
                        _utcnow().isoformat(),
                        self.actor,
                        self.backend,
                        candidate.table.dataset,
                        candidate.table.name,
                        candidate.created.isoformat() if candidate.created else None,
                        round(candidate.age_hours, 3),
                        UNCONFIRMED,
                        status,
                    ),
                )
        except sqlite3.Error as exc:
            raise CanaryError(
                f"could not record {status} {candidate.table} in the state store {self.state.path}: {exc}; "
                "stopping the sweep before touching it"
            ) from exc
        self._open = cursor.lastrowid
        if self.durable is not None:
            self.durable()

    def finish(self, outcome: TableOutcome) -> None:
        """Confirm the begun entry (or record a failed re-check); a skipped table leaves no entry.

        If that fails the sweep stops, naming the table; its entry stays pending and is reconciled later.
        """
        begun, self._open = self._open, None
        try:
            with self.state.transaction() as conn:
                if outcome.action not in RECORDED_ACTIONS:  # skipped: nothing was done to it
                    if begun is not None:
                        conn.execute("DELETE FROM staging_cleanup WHERE id = ?", (begun,))
                elif begun is not None:
                    conn.execute(
                        "UPDATE staging_cleanup SET at = ?, action = ?, status = ?, detail = ? WHERE id = ?",
                        (outcome.at.isoformat(), outcome.action, outcome.action, outcome.detail, begun),
                    )
                else:
                    self._insert(conn, outcome)
        except sqlite3.Error as exc:
            raise CanaryError(
                f"{outcome.action} {outcome.table} but could not record it in the state store {self.state.path}: "
                f"{exc}; stopping the sweep (the next cleanup reconciles its entry)"
            ) from exc

    def _insert(self, conn: sqlite3.Connection, outcome: TableOutcome) -> None:
        conn.execute(
            "INSERT INTO staging_cleanup (sweep_id, at, actor, backend, dataset, table_name, created, "
            "age_hours, action, detail, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                outcome.action,
            ),
        )


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def audit_rows(
    state: SQLiteState,
    *,
    sweep_id: str | None = None,
    limit: int = 10000,
    latest: bool = False,
    pending: bool = False,
) -> list[AuditRow]:
    """Recorded entries, oldest first: optionally of one sweep, only pending ones, or the ``latest`` ``limit``."""
    where: list[str] = []
    params: list[Any] = []
    if sweep_id:
        where.append("sweep_id = ?")
        params.append(sweep_id)
    if pending:
        where.append("status IN (?, ?)")
        params += list(PENDING)
    sql = "SELECT * FROM staging_cleanup" + (" WHERE " + " AND ".join(where) if where else "")
    sql += f" ORDER BY id {'DESC' if latest else ''} LIMIT ?"
    params.append(limit)
    if latest:
        sql = f"SELECT * FROM ({sql}) ORDER BY id"
    return [
        AuditRow(
            id=r["id"],
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
            status=r["status"] or r["action"],
        )
        for r in state.read().execute(sql, params).fetchall()
    ]
