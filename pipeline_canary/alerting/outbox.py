"""The durable alert outbox: every message is written here before it is sent.

A row is ``pending`` until Slack confirms it (``sent``, with the message ``ts``); an edit overtaken
by a newer edit of the same parent is ``superseded``; an edit in webhook mode (impossible there) is
``skipped``; a message Slack rejects for its content (``invalid_blocks``, ``msg_too_long``) is
``rejected`` and replaced by a plain-text form of itself (:func:`replace`). A message Slack refuses
to take from us (a bad token, a missing scope, an unknown channel) stays ``pending``. ``attempts``
is committed *before* each send, so after a crash a row with attempts is known to be possibly
delivered and is looked up in Slack before it is sent again.

``unanswered`` counts the posts of a row that may be in Slack without Slack having confirmed them
(the connection dropped or timed out after the request went out, or the process died mid-send): it
is raised with ``attempts`` before a post and lowered again when Slack answers, whatever the answer.
A row whose post went unanswered and cannot be looked up gets one more post, marked as possibly
repeated; if that one goes unanswered too the row is ``sent_unconfirmed`` (delivered, unconfirmed:
never posted again). :attr:`OutboxRow.state` names these cases for ``canary alerts status``.

Rows hold the channel, the mode and the rendered payload only, never a token or a webhook URL.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pipeline_canary.state.sqlite import SQLiteState, register_schema

Kind = Literal["open", "update", "reply", "test"]
Status = Literal["pending", "sent", "sent_unconfirmed", "superseded", "skipped", "rejected"]
MAX_UNANSWERED = 2  # posts of one row that may be in Slack unconfirmed: the original and one marked copy

register_schema(
    "alert_outbox",
    """
    CREATE TABLE IF NOT EXISTS alert_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        channel TEXT NOT NULL,
        mode TEXT NOT NULL,
        payload TEXT NOT NULL,
        incident_id INTEGER,
        parent_id INTEGER REFERENCES alert_outbox (id),
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        attempted_at TEXT,
        sent_at TEXT,
        ts TEXT,
        channel_id TEXT,
        last_error TEXT
    );
    CREATE INDEX IF NOT EXISTS alert_outbox_by_status ON alert_outbox (status, id);
    CREATE TABLE IF NOT EXISTS alert_channels (
        name TEXT PRIMARY KEY,
        channel_id TEXT NOT NULL
    );
    """,
    columns=(("alert_outbox", "unanswered", "INTEGER NOT NULL DEFAULT 0"),),
)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    uid: str
    kind: str
    channel: str
    mode: str
    payload: dict[str, Any]
    incident_id: int | None
    parent_id: int | None
    status: str
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    ts: str | None
    channel_id: str | None
    last_error: str | None
    unanswered: int = 0

    @property
    def state(self) -> str:
        """``status``, or what an unanswered post makes of it: ``ambiguous`` (pending, in Slack or not),
        ``sent_possibly_twice`` (a marked copy was confirmed, the first post may be there too),
        ``sent_unconfirmed`` (never confirmed, never re-posted)."""
        if self.unanswered and self.status == "pending":
            return "ambiguous"
        if self.unanswered and self.status == "sent":
            return "sent_possibly_twice"
        return self.status

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "channel": self.channel,
            "mode": self.mode,
            "incident_id": self.incident_id,
            "parent_id": self.parent_id,
            "status": self.status,
            "state": self.state,
            "attempts": self.attempts,
            "unanswered": self.unanswered,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "ts": self.ts,
            "last_error": self.last_error,
            "text": self.payload.get("text", ""),
        }


def _from_row(r: Any) -> OutboxRow:
    return OutboxRow(
        id=r["id"],
        uid=r["uid"],
        kind=r["kind"],
        channel=r["channel"],
        mode=r["mode"],
        payload=json.loads(r["payload"]),
        incident_id=r["incident_id"],
        parent_id=r["parent_id"],
        status=r["status"],
        attempts=r["attempts"],
        created_at=dt.datetime.fromisoformat(r["created_at"]),
        sent_at=dt.datetime.fromisoformat(r["sent_at"]) if r["sent_at"] else None,
        ts=r["ts"],
        channel_id=r["channel_id"],
        last_error=r["last_error"],
        unanswered=r["unanswered"],
    )


def enqueue(
    conn: Any,
    *,
    kind: Kind,
    channel: str,
    mode: str,
    payload: dict[str, Any],
    created_at: dt.datetime,
    incident_id: int | None = None,
    parent_id: int | None = None,
) -> int:
    """Add a message inside the caller's transaction (with the incident change that caused it)."""
    cur = conn.execute(
        "INSERT INTO alert_outbox (uid, kind, channel, mode, payload, incident_id, parent_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (uuid.uuid4().hex, kind, channel, mode, json.dumps(payload), incident_id, parent_id, created_at.isoformat()),
    )
    return int(cur.lastrowid)


def get(state: SQLiteState, outbox_id: int) -> OutboxRow | None:
    row = state.read().execute("SELECT * FROM alert_outbox WHERE id = ?", (outbox_id,)).fetchone()
    return _from_row(row) if row else None


def pending(state: SQLiteState) -> list[OutboxRow]:
    rows = state.read().execute("SELECT * FROM alert_outbox WHERE status = 'pending' ORDER BY id").fetchall()
    return [_from_row(r) for r in rows]


def rows(state: SQLiteState, *, limit: int = 200, status: str | None = None) -> list[OutboxRow]:
    sql = "SELECT * FROM alert_outbox" + (" WHERE status = ?" if status else "") + " ORDER BY id DESC LIMIT ?"
    params: tuple[Any, ...] = (status, limit) if status else (limit,)
    return [_from_row(r) for r in state.read().execute(sql, params).fetchall()]


def unconfirmed(state: SQLiteState, *, limit: int = 20) -> list[OutboxRow]:
    """Delivered rows Slack never confirmed, or confirmed only as a marked copy (newest first)."""
    sql = (
        "SELECT * FROM alert_outbox WHERE status = 'sent_unconfirmed' OR (status = 'sent' AND unanswered > 0) "
        "ORDER BY id DESC LIMIT ?"
    )
    return [_from_row(r) for r in state.read().execute(sql, (limit,)).fetchall()]


def counts(state: SQLiteState) -> dict[str, int]:
    found = state.read().execute("SELECT status, COUNT(*) AS n FROM alert_outbox GROUP BY status").fetchall()
    return {r["status"]: r["n"] for r in found}


def record_attempt(state: SQLiteState, outbox_id: int, at: dt.datetime, *, post: bool = True) -> None:
    """Committed before the request goes out: from now on the row may already be in Slack.

    A post also counts as unanswered until :func:`answered` (an edit cannot duplicate anything).
    """
    with state.transaction() as conn:
        conn.execute(
            "UPDATE alert_outbox SET attempts = attempts + 1, attempted_at = COALESCE(attempted_at, ?), "
            "unanswered = unanswered + ? WHERE id = ?",
            (at.isoformat(), int(post), outbox_id),
        )


def answered(state: SQLiteState, outbox_id: int) -> None:
    """Slack answered the last post (an error counts: it was not stored), so it is not ambiguous."""
    with state.transaction() as conn:
        conn.execute("UPDATE alert_outbox SET unanswered = MAX(unanswered - 1, 0) WHERE id = ?", (outbox_id,))


def checked_absent(state: SQLiteState, outbox_id: int) -> None:
    """A look-up found none of the row's unanswered posts in Slack: none of them is a copy to worry about."""
    with state.transaction() as conn:
        conn.execute("UPDATE alert_outbox SET unanswered = 0 WHERE id = ?", (outbox_id,))


def mark_sent(
    state: SQLiteState,
    outbox_id: int,
    *,
    at: dt.datetime,
    ts: str | None = None,
    channel_id: str | None = None,
    answered: bool = False,
    found: bool = False,
) -> None:
    """``answered``: Slack confirmed the post just made; ``found``: a look-up found the row in Slack."""
    unanswered = "0" if found else "MAX(unanswered - 1, 0)" if answered else "unanswered"
    with state.transaction() as conn:
        conn.execute(
            "UPDATE alert_outbox SET status = 'sent', sent_at = ?, ts = COALESCE(?, ts), "
            f"channel_id = COALESCE(?, channel_id), last_error = NULL, unanswered = {unanswered} WHERE id = ?",
            (at.isoformat(), ts, channel_id, outbox_id),
        )


def mark(state: SQLiteState, outbox_ids: list[int], status: Status, error: str | None = None) -> None:
    if not outbox_ids:
        return
    with state.transaction() as conn:
        conn.executemany(
            "UPDATE alert_outbox SET status = ?, last_error = COALESCE(?, last_error) WHERE id = ?",
            [(status, error, i) for i in outbox_ids],
        )


def replace(conn: Any, row: OutboxRow, error: str, payload: dict[str, Any], *, at: dt.datetime) -> int:
    """Reject ``row`` and queue ``payload`` in its place (inside the caller's transaction).

    The replacement is the same kind of message to the same channel and parent; ``row``'s pending
    replies and edits move to it. Returns its id.
    """
    conn.execute("UPDATE alert_outbox SET status = 'rejected', last_error = ? WHERE id = ?", (error[:500], row.id))
    new_id = enqueue(
        conn, kind=row.kind, channel=row.channel, mode=row.mode, payload=payload,  # type: ignore[arg-type]
        created_at=at, incident_id=row.incident_id, parent_id=row.parent_id,
    )  # fmt: skip
    conn.execute("UPDATE alert_outbox SET parent_id = ? WHERE parent_id = ? AND status = 'pending'", (new_id, row.id))
    return new_id


def rejected_parents_of_open_incidents(state: SQLiteState) -> list[OutboxRow]:
    """Parent messages Slack rejected although their incident is still open: an incident nobody was told of."""
    found = state.read().execute(
        "SELECT o.* FROM alert_outbox o JOIN alert_incidents i ON i.parent_outbox_id = o.id "
        "WHERE o.status = 'rejected' AND i.status = 'open' ORDER BY o.id"
    )
    return [_from_row(r) for r in found.fetchall()]


def requeue(state: SQLiteState, outbox_id: int, note: str) -> None:
    """A rejected row back to pending (it was refused, never rejected for what it says)."""
    with state.transaction() as conn:
        conn.execute(
            "UPDATE alert_outbox SET status = 'pending', unanswered = 0, last_error = ? WHERE id = ?",
            (note[:500], outbox_id),
        )


def note_error(state: SQLiteState, outbox_id: int, error: str) -> None:
    with state.transaction() as conn:
        conn.execute("UPDATE alert_outbox SET last_error = ? WHERE id = ?", (error[:500], outbox_id))


def channel_id(state: SQLiteState, name: str) -> str | None:
    row = state.read().execute("SELECT channel_id FROM alert_channels WHERE name = ?", (name,)).fetchone()
    return str(row["channel_id"]) if row else None


def remember_channel(state: SQLiteState, name: str, ident: str) -> None:
    with state.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO alert_channels VALUES (?, ?)", (name, ident))


def prune(state: SQLiteState, older_than: dt.datetime) -> int:
    """Forget delivered, superseded and skipped rows older than ``older_than`` (parents of open incidents stay)."""
    with state.transaction() as conn:
        return int(
            conn.execute(
                "DELETE FROM alert_outbox WHERE status IN ('sent', 'sent_unconfirmed', 'superseded', 'skipped') "
                "AND created_at < ? "
                "AND id NOT IN (SELECT parent_id FROM alert_outbox WHERE parent_id IS NOT NULL) "
                "AND id NOT IN (SELECT parent_outbox_id FROM alert_incidents WHERE parent_outbox_id IS NOT NULL)",
                (older_than.isoformat(),),
            ).rowcount
        )
