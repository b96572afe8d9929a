"""Incidents: one per (checkpoint, check, game date), opened, kept and resolved by a pure state machine.

:func:`evaluate` takes the current incidents of one checkpoint, its latest result, the run's
``now`` and the policy, and returns the new incident states and the messages they call for; it does
no I/O, so every rule is unit-tested and every run can be replayed. Persistence (the
``alert_incidents`` table) and :func:`list_incidents` live below it.

Lifecycle: ``pending`` (failing, below the alert threshold: no message yet) → ``open`` (parent
message posted; edited every run; thread replies on material change or as reminders) →
``resolved``. A pending streak that passes again is simply dropped. A checkpoint that cannot run
(``errored``) opens its own ``canary_blind`` incident after K consecutive errored runs. A check that
*warns* opens an incident only when its warnings notify (``notify = "warn"``): a ``warning``
incident, announced after K consecutive warned runs like any warning, resolved when it passes.

Incidents belong to what they are about: a check of a game date (``game_date``) is advanced only by
results for that date; a date-less one (``game_date`` None: the current state, and ``canary_blind``)
only by the newest live run (:func:`scope`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pipeline_canary.results import CheckpointResult, CheckResult, Outcome
from pipeline_canary.state.sqlite import SQLiteState, register_schema

BLIND = "canary_blind"
Status = Literal["pending", "open", "resolved", "closed"]  # closed: its game day ended, never passing
IntentKind = Literal["open", "update", "reply", "resolve"]


@dataclass(frozen=True)
class Policy:
    failures_before_alert: int = 2
    errored_before_blind: int = 3
    reminder: dt.timedelta = dt.timedelta(hours=4)
    material_change_pct: float = 20.0

    @classmethod
    def from_config(cls, config: Any) -> Policy:
        return cls(
            failures_before_alert=config.failures_before_alert,
            errored_before_blind=config.errored_before_blind,
            reminder=dt.timedelta(hours=config.reminder_hours),
            material_change_pct=config.material_change_pct,
        )


@dataclass(frozen=True)
class Incident:
    checkpoint: str
    check: str
    status: Status
    severity: str
    channel: str
    first_failed_at: dt.datetime
    last_seen_at: dt.datetime
    runs: int = 1
    last_value: float | None = None
    message: str = ""
    threshold: str = ""
    opened_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    notified_value: float | None = None
    notified_at: dt.datetime | None = None
    id: int | None = None
    parent_outbox_id: int | None = None
    game_date: dt.date | None = None  # None: about the current state, not a game date

    @property
    def kind(self) -> str:
        return "blind" if self.check == BLIND else "check"

    @property
    def key(self) -> str:
        """Unique among current incidents: one per (checkpoint, check, game date)."""
        return f"{self.checkpoint}/{self.check}@{self.game_date or ''}"


@dataclass(frozen=True)
class Intent:
    """A message an incident calls for; rendering and delivery happen elsewhere."""

    kind: IntentKind
    incident: Incident
    reason: str = ""


@dataclass
class Transition:
    incidents: list[Incident] = field(default_factory=list)
    dropped: list[Incident] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)


def evaluate(
    current: Mapping[str, Incident],
    result: CheckpointResult,
    *,
    now: dt.datetime,
    policy: Policy,
    severity: str,
    channel: str,
    game_date: dt.date | None = None,
    warn_checks: Collection[str] = (),
) -> Transition:
    """Advance the incidents of one checkpoint (``current``: by check name) by one result.

    New check incidents are about ``game_date``; ``canary_blind`` is never about a date. Warnings of
    the checks in ``warn_checks`` notify: they open ``warning`` incidents (others count as passing).
    """
    out = Transition()
    blind = current.get(BLIND)
    if result.outcome is Outcome.ERRORED:
        value = float((blind.runs if blind else 0) + 1)
        _failing(out, blind, result.name, BLIND, value, result.message, "", now, policy, severity, channel,
                 threshold_runs=policy.errored_before_blind)  # fmt: skip
        return out
    if blind is not None:
        _recovered(out, blind, now)
    for check in result.checks:
        previous = current.get(check.name)
        warns = check.outcome is Outcome.WARNED and check.name in warn_checks
        if check.outcome is Outcome.FAILED or warns:
            level = "warning" if warns else severity
            threshold_runs = 1 if level == "critical" else policy.failures_before_alert
            _failing(out, previous, result.name, check.name, check.observed, check.message, _threshold(check), now,
                     policy, level, channel, threshold_runs=threshold_runs, game_date=game_date)  # fmt: skip
        elif check.outcome in (Outcome.PASSED, Outcome.WARNED) and previous is not None:
            _recovered(out, previous, now)
    return out


def _failing(
    out: Transition,
    previous: Incident | None,
    checkpoint: str,
    check: str,
    value: float | None,
    message: str,
    threshold: str,
    now: dt.datetime,
    policy: Policy,
    severity: str,
    channel: str,
    *,
    threshold_runs: int,
    game_date: dt.date | None = None,
) -> None:
    if previous is None:
        incident = Incident(
            checkpoint=checkpoint, check=check, status="pending", severity=severity, channel=channel,
            first_failed_at=now, last_seen_at=now, runs=1, last_value=value, message=message, threshold=threshold,
            game_date=game_date,
        )  # fmt: skip
    else:
        incident = replace(previous, runs=previous.runs + 1, last_seen_at=now, last_value=value, message=message,
                           threshold=threshold or previous.threshold)  # fmt: skip
    if incident.status == "pending":
        if incident.runs >= threshold_runs:
            incident = replace(incident, status="open", opened_at=now, notified_at=now, notified_value=value)
            out.intents.append(Intent("open", incident))
        out.incidents.append(incident)
        return
    reason = ""
    if check != BLIND and _material_change(incident.notified_value, value, policy.material_change_pct):
        reason = "changed"
    elif incident.notified_at is None or now - incident.notified_at >= policy.reminder:
        reason = "reminder"
    if reason:
        incident = replace(incident, notified_at=now, notified_value=value)
    out.intents.append(Intent("update", incident))
    if reason:
        out.intents.append(Intent("reply", incident, reason))
    out.incidents.append(incident)


def _recovered(out: Transition, previous: Incident, now: dt.datetime) -> None:
    if previous.status == "pending":
        out.dropped.append(previous)
        return
    if previous.status == "open":
        incident = replace(previous, status="resolved", resolved_at=now)
        out.incidents.append(incident)
        out.intents.append(Intent("resolve", incident))


def scope(transition: Transition, *, date_less: bool) -> Transition:
    """``transition`` without what a result may not touch: date-less incidents unless ``date_less``."""
    if date_less:
        return transition

    def allowed(incident: Incident) -> bool:
        return incident.game_date is not None

    return Transition(
        incidents=[i for i in transition.incidents if allowed(i)],
        dropped=[i for i in transition.dropped if allowed(i)],
        intents=[i for i in transition.intents if allowed(i.incident)],
    )


def _material_change(before: float | None, after: float | None, pct: float) -> bool:
    if before is None or after is None:
        return before is not after
    if before == after:
        return False
    if before == 0:
        return True
    return abs(after - before) / abs(before) * 100.0 > pct


def _threshold(check: CheckResult) -> str:
    return check.threshold.describe() if check.threshold else ""


# --- persistence ---------------------------------------------------------------------------------

register_schema(
    "alert_incidents",
    """
    CREATE TABLE IF NOT EXISTS alert_incidents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        checkpoint TEXT NOT NULL,
        check_name TEXT NOT NULL,
        status TEXT NOT NULL,
        severity TEXT NOT NULL,
        channel TEXT NOT NULL,
        first_failed_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        runs INTEGER NOT NULL,
        last_value REAL,
        message TEXT NOT NULL,
        threshold TEXT NOT NULL,
        opened_at TEXT,
        resolved_at TEXT,
        notified_value REAL,
        notified_at TEXT,
        parent_outbox_id INTEGER
    );
    CREATE INDEX IF NOT EXISTS alert_incidents_by_status ON alert_incidents (status, opened_at);
    """,
    columns=(("alert_incidents", "game_date", "TEXT"),),
    after_columns="""
    DROP INDEX IF EXISTS alert_incidents_current;  -- one per (checkpoint, check) before game dates
    CREATE UNIQUE INDEX IF NOT EXISTS alert_incidents_current_by_day
        ON alert_incidents (checkpoint, check_name, COALESCE(game_date, ''))
        WHERE status IN ('pending', 'open');
    """,
)

_COLUMNS = (
    "checkpoint", "check_name", "status", "severity", "channel", "first_failed_at", "last_seen_at", "runs",
    "last_value", "message", "threshold", "opened_at", "resolved_at", "notified_value", "notified_at",
    "parent_outbox_id", "game_date",
)  # fmt: skip


def _ts(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _row(incident: Incident) -> tuple[Any, ...]:
    i = incident
    return (
        i.checkpoint, i.check, i.status, i.severity, i.channel, _ts(i.first_failed_at), _ts(i.last_seen_at), i.runs,
        i.last_value, i.message, i.threshold, _ts(i.opened_at), _ts(i.resolved_at), i.notified_value,
        _ts(i.notified_at), i.parent_outbox_id, i.game_date.isoformat() if i.game_date else None,
    )  # fmt: skip


def _from_row(r: Any) -> Incident:
    return Incident(
        id=r["id"], checkpoint=r["checkpoint"], check=r["check_name"], status=r["status"], severity=r["severity"],
        channel=r["channel"], first_failed_at=dt.datetime.fromisoformat(r["first_failed_at"]),
        last_seen_at=dt.datetime.fromisoformat(r["last_seen_at"]), runs=r["runs"], last_value=r["last_value"],
        message=r["message"], threshold=r["threshold"], opened_at=_dt(r["opened_at"]),
        resolved_at=_dt(r["resolved_at"]), notified_value=r["notified_value"], notified_at=_dt(r["notified_at"]),
        parent_outbox_id=r["parent_outbox_id"],
        game_date=dt.date.fromisoformat(r["game_date"]) if r["game_date"] else None,
    )  # fmt: skip


def current_incidents(conn: Any, checkpoint: str, game_date: dt.date | None = None) -> dict[str, Incident]:
    """Pending and open incidents of one checkpoint about ``game_date`` (None: date-less), by check name."""
    rows = conn.execute(
        "SELECT * FROM alert_incidents WHERE checkpoint = ? AND status IN ('pending', 'open') AND game_date IS ?",
        (checkpoint, game_date.isoformat() if game_date else None),
    ).fetchall()
    return {r["check_name"]: _from_row(r) for r in rows}


def is_newest(conn: Any, checkpoint: str, now: dt.datetime) -> bool:
    """No live run of ``checkpoint`` is newer than ``now`` (history, and the incidents' last sightings)."""
    stamp = now.isoformat()
    newer_run = conn.execute(
        "SELECT 1 FROM checkpoint_results WHERE checkpoint = ? AND now > ? AND replay = 0 LIMIT 1", (checkpoint, stamp)
    ).fetchone()
    newer_sighting = conn.execute(
        "SELECT 1 FROM alert_incidents WHERE checkpoint = ? AND last_seen_at > ? LIMIT 1", (checkpoint, stamp)
    ).fetchone()
    return newer_run is None and newer_sighting is None


def drop_stale_pending(conn: Any, checkpoint: str, before: dt.date) -> None:
    """Forget pending streaks (never alerted) about game days before ``before``: those days are over."""
    conn.execute(
        "DELETE FROM alert_incidents WHERE checkpoint = ? AND status = 'pending' AND game_date < ?",
        (checkpoint, before.isoformat()),
    )


def close_past_days(conn: Any, checkpoint: str, before: dt.date, now: dt.datetime) -> Transition:
    """Close the open incidents about game days before ``before``: no live run will check those days again.

    They never passed, so they are ``closed``, not resolved; each gets a last reply saying so. (A
    replay of that day with ``--alert`` cannot reopen them: replays never touch live incidents.)
    """
    rows = conn.execute(
        "SELECT * FROM alert_incidents WHERE checkpoint = ? AND status = 'open' AND game_date < ?",
        (checkpoint, before.isoformat()),
    ).fetchall()
    out = Transition()
    for row in rows:
        incident = replace(_from_row(row), status="closed", resolved_at=now)
        out.incidents.append(incident)
        out.intents.append(Intent("resolve", incident, "game day over"))
    return out


def save(conn: Any, incidents: Iterable[Incident], dropped: Iterable[Incident] = ()) -> list[Incident]:
    """Insert or update incidents (inside the caller's transaction); returns them with their ids."""
    for gone in dropped:
        conn.execute("DELETE FROM alert_incidents WHERE id = ?", (gone.id,))
    saved = []
    for incident in incidents:
        if incident.id is None:
            cur = conn.execute(
                f"INSERT INTO alert_incidents ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                _row(incident),
            )
            incident = replace(incident, id=cur.lastrowid)
        else:
            sets = ", ".join(f"{c} = ?" for c in _COLUMNS)
            conn.execute(f"UPDATE alert_incidents SET {sets} WHERE id = ?", (*_row(incident), incident.id))
        saved.append(incident)
    return saved


def set_parent(conn: Any, incident_id: int, outbox_id: int) -> None:
    conn.execute("UPDATE alert_incidents SET parent_outbox_id = ? WHERE id = ?", (outbox_id, incident_id))


def move_parent(conn: Any, old_outbox_id: int, new_outbox_id: int) -> None:
    """The incident whose parent message was ``old_outbox_id`` is announced by ``new_outbox_id`` now."""
    conn.execute(
        "UPDATE alert_incidents SET parent_outbox_id = ? WHERE parent_outbox_id = ?", (new_outbox_id, old_outbox_id)
    )


def list_incidents(state: SQLiteState, *, open_only: bool = False, limit: int = 500) -> list[Incident]:
    """Open, resolved and closed incidents (never pending streaks), newest first."""
    statuses = ("open",) if open_only else ("open", "resolved", "closed")
    marks = ", ".join("?" * len(statuses))
    rows = (
        state.read()
        .execute(
            f"SELECT * FROM alert_incidents WHERE status IN ({marks}) ORDER BY opened_at DESC, id DESC LIMIT ?",
            (*statuses, limit),
        )
        .fetchall()
    )
    return [_from_row(r) for r in rows]
