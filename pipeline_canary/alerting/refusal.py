"""The "Slack is refusing us" condition: credentials, permissions or a channel that Slack turns down.

A refusal (:class:`pipeline_canary.alerting.slack_errors.Refused`) keeps its messages queued, so
nothing would show that alerts are not going out. This records it, per scope, in the state store
(``alert_slack_refusals``): ``slack`` (the token or the webhook: nothing goes out), ``channel:#x``,
or ``message:ID`` (an error canary does not know, for one message). A send that Slack takes clears
the ``slack`` entry, its channel's and its message's. It is shown by ``canary alerts status``,
reported by ``/readyz`` (:func:`latest`, this process's last look, so the probe does no I/O), and
written to Cloud Monitoring as ``slack_refusing`` by live runs. Never a token or a URL: the code,
the scope and the fix only.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from pipeline_canary.state.sqlite import SQLiteState, register_schema

register_schema(
    "alert_slack_refusals",
    """
    CREATE TABLE IF NOT EXISTS alert_slack_refusals (
        scope TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        fix TEXT NOT NULL,
        since TEXT NOT NULL,
        last_at TEXT NOT NULL,
        times INTEGER NOT NULL DEFAULT 1
    );
    """,
)


@dataclass(frozen=True)
class Refusal:
    scope: str  # "slack", "channel:#x" or "message:ID"
    code: str
    fix: str
    since: dt.datetime
    last_at: dt.datetime
    times: int = 1

    def describe(self) -> str:
        what = {"slack": "every message"}.get(self.scope) or self.scope.replace(":", " ", 1)
        return f"Slack refuses {what}: {self.code} since {self.since.isoformat(timespec='minutes')}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "code": self.code,
            "fix": self.fix,
            "since": self.since.isoformat(),
            "last_at": self.last_at.isoformat(),
            "times": self.times,
        }


def scope_key(scope: str, *, channel: str = "", row_id: int | None = None) -> str:
    if scope == "channel":
        return f"channel:{channel}"
    if scope == "message":
        return f"message:{row_id}"
    return "slack"


def record(state: SQLiteState, key: str, code: str, fix: str, at: dt.datetime) -> bool:
    """Note a refusal; True when it is new (not already refusing with this code)."""
    with state.transaction() as conn:
        found = conn.execute("SELECT code FROM alert_slack_refusals WHERE scope = ?", (key,)).fetchone()
        if found is not None and found["code"] == code:
            conn.execute(
                "UPDATE alert_slack_refusals SET last_at = ?, times = times + 1, fix = ? WHERE scope = ?",
                (at.isoformat(), fix, key),
            )
            return False
        conn.execute(
            "INSERT OR REPLACE INTO alert_slack_refusals (scope, code, fix, since, last_at) VALUES (?, ?, ?, ?, ?)",
            (key, code, fix, at.isoformat(), at.isoformat()),
        )
    return True


def clear(state: SQLiteState, *, channel: str, row_id: int) -> list[Refusal]:
    """Slack took a message: its token, channel and message are no longer refused. Returns what cleared."""
    keys = ("slack", f"channel:{channel}", f"message:{row_id}")
    marks = ", ".join("?" * len(keys))
    with state.transaction() as conn:
        rows = conn.execute(f"SELECT * FROM alert_slack_refusals WHERE scope IN ({marks})", keys).fetchall()
        if rows:
            conn.execute(f"DELETE FROM alert_slack_refusals WHERE scope IN ({marks})", keys)
    return [_from_row(r) for r in rows]


def forget_settled(state: SQLiteState) -> None:
    """Drop ``message:ID`` entries whose message is no longer queued (sent, rejected or pruned)."""
    with state.transaction() as conn:
        conn.execute(
            "DELETE FROM alert_slack_refusals WHERE scope LIKE 'message:%' AND CAST(substr(scope, 9) AS INTEGER) "
            "NOT IN (SELECT id FROM alert_outbox WHERE status = 'pending')"
        )


def current(state: SQLiteState) -> list[Refusal]:
    rows = state.read().execute("SELECT * FROM alert_slack_refusals ORDER BY since, scope").fetchall()
    found = [_from_row(r) for r in rows]
    remember(found)
    return found


def _from_row(r: Any) -> Refusal:
    return Refusal(
        scope=r["scope"], code=r["code"], fix=r["fix"], since=dt.datetime.fromisoformat(r["since"]),
        last_at=dt.datetime.fromisoformat(r["last_at"]), times=r["times"],
    )  # fmt: skip


# --- this process's last look, for /readyz (which must not wait on the state store) ---------------
_latest: tuple[Refusal, ...] | None = None
_latest_lock = threading.Lock()


def remember(found: list[Refusal]) -> None:
    global _latest
    with _latest_lock:
        _latest = tuple(found)


def latest() -> tuple[Refusal, ...] | None:
    """The refusals as this process last saw them; None before its first look."""
    with _latest_lock:
        return _latest
