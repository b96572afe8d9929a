"""Run history: every run's results, queryable, with retention."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pipeline_canary.results import Outcome, RunResult
from pipeline_canary.state.sqlite import SQLiteState, register_schema

register_schema(
    "history",
    """
    CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        as_of TEXT NOT NULL,
        now TEXT NOT NULL,
        outcome TEXT NOT NULL,
        duration_s REAL NOT NULL,
        docs_index TEXT
    );
    CREATE INDEX IF NOT EXISTS runs_by_time ON runs (now);
    CREATE TABLE IF NOT EXISTS checkpoint_results (
        run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        checkpoint TEXT NOT NULL,
        now TEXT NOT NULL,
        as_of TEXT NOT NULL,
        outcome TEXT NOT NULL,
        message TEXT NOT NULL,
        metrics TEXT NOT NULL,
        checks TEXT NOT NULL,
        bytes_processed INTEGER,
        duration_s REAL NOT NULL,
        docs_path TEXT,
        PRIMARY KEY (run_id, checkpoint)
    );
    CREATE INDEX IF NOT EXISTS results_by_checkpoint ON checkpoint_results (checkpoint, now);
    """,
    # A replay (a run about another game day than the current one) is history, never the live status.
    columns=(
        ("runs", "replay", "INTEGER NOT NULL DEFAULT 0"),
        ("checkpoint_results", "replay", "INTEGER NOT NULL DEFAULT 0"),
    ),
)
_RUN_COLUMNS = ("run_id", "as_of", "now", "outcome", "duration_s", "docs_index", "replay")
_RESULT_COLUMNS = (
    "run_id", "checkpoint", "now", "as_of", "outcome", "message", "metrics", "checks", "bytes_processed",
    "duration_s", "docs_path", "replay",
)  # fmt: skip


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


@dataclass(frozen=True)
class HistoryRow:
    run_id: str
    checkpoint: str
    now: dt.datetime
    as_of: dt.date
    outcome: Outcome
    message: str
    metrics: dict[str, float | None]
    checks: list[dict[str, Any]]
    bytes_processed: int | None
    duration_s: float
    docs_path: str | None
    replay: bool = False


def record_run(state: SQLiteState, result: RunResult) -> None:
    """Store one run and its checkpoints atomically."""
    now = result.now.isoformat()
    with state.transaction() as conn:
        conn.execute(
            _insert("runs", _RUN_COLUMNS),
            (
                result.run_id,
                result.as_of.isoformat(),
                now,
                result.outcome.value,
                result.duration_s,
                result.docs_index,
                int(result.replay),
            ),
        )
        conn.executemany(
            _insert("checkpoint_results", _RESULT_COLUMNS),
            [
                (
                    result.run_id,
                    cp.name,
                    now,
                    result.as_of.isoformat(),
                    cp.outcome.value,
                    cp.message,
                    json.dumps(cp.metrics),
                    json.dumps([c.to_dict() for c in cp.checks]),
                    cp.bytes_processed,
                    cp.duration_s,
                    cp.docs_path,
                    int(result.replay),
                )
                for cp in result.checkpoints
            ],
        )


def history(
    state: SQLiteState, checkpoint: str | None = None, *, since: dt.datetime | None = None, limit: int = 1000
) -> list[HistoryRow]:
    """Checkpoint results, newest first, optionally for one checkpoint and since a time."""
    sql = "SELECT * FROM checkpoint_results WHERE 1 = 1"
    params: list[Any] = []
    if checkpoint:
        sql += " AND checkpoint = ?"
        params.append(checkpoint)
    if since:
        sql += " AND now >= ?"
        params.append(since.isoformat())
    sql += " ORDER BY now DESC LIMIT ?"
    params.append(limit)
    return [
        HistoryRow(
            run_id=r["run_id"],
            checkpoint=r["checkpoint"],
            now=dt.datetime.fromisoformat(r["now"]),
            as_of=dt.date.fromisoformat(r["as_of"]),
            outcome=Outcome(r["outcome"]),
            message=r["message"],
            metrics=json.loads(r["metrics"]),
            checks=json.loads(r["checks"]),
            bytes_processed=r["bytes_processed"],
            duration_s=r["duration_s"],
            docs_path=r["docs_path"],
            replay=bool(r["replay"]),
        )
        for r in state.read().execute(sql, params).fetchall()
    ]


def prune(state: SQLiteState, older_than: dt.datetime) -> int:
    """Delete runs older than ``older_than``; returns how many runs went."""
    with state.transaction() as conn:
        cutoff = older_than.isoformat()
        conn.execute("DELETE FROM checkpoint_results WHERE now < ?", (cutoff,))
        return conn.execute("DELETE FROM runs WHERE now < ?", (cutoff,)).rowcount


def latest_run_time(state: SQLiteState) -> dt.datetime | None:
    """The newest run's time (``runs_by_time`` makes this one index probe); None with no runs."""
    row = state.read().execute("SELECT MAX(now) AS now FROM runs").fetchone()
    return dt.datetime.fromisoformat(row["now"]) if row and row["now"] else None


def apply_retention(state: SQLiteState, retention_days: int, *, anchor: dt.datetime | None = None) -> int:
    """Prune runs older than ``retention_days`` before ``anchor``; returns how many runs went.

    ``anchor`` defaults to the newest run's time, so a replayed or paused history is not emptied by
    the wall clock; but never later than the wall clock, so one run with a future ``--now`` does not
    empty the real history either. Every finished run applies this, whether or not it built the docs.
    """
    anchor = anchor or latest_run_time(state)
    if anchor is None:
        return 0
    anchor = min(anchor, dt.datetime.now(dt.UTC))
    cutoff = anchor - dt.timedelta(days=retention_days)
    # One index probe first: prune itself scans every checkpoint result, and usually nothing is due.
    due = state.read().execute("SELECT 1 FROM runs WHERE now < ? LIMIT 1", (cutoff.isoformat(),)).fetchone()
    return prune(state, cutoff) if due is not None else 0
