"""Run history: every run's results, queryable, with retention.

Each result keeps its evidence (the tables that name what broke, bounded like the result: the first
``[evidence] rows`` rows and the totals, and at most ``EVIDENCE_BYTES`` of JSON). Only the newest
``EVIDENCE_RUNS`` results of each checkpoint keep it (the dashboard shows that many); older ones
keep their outcome, metrics and checks. So the store stays small however often the canary runs.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from pipeline_canary.results import CheckpointResult, Evidence, EvidenceTable, Outcome, RunResult, evidence_from_dict
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
        ("checkpoint_results", "evidence", "TEXT"),  # JSON {table: {rows, total, truncated}}; NULL: none kept
    ),
)
EVIDENCE_RUNS = 50  # results per checkpoint that keep their evidence (the dashboard's history shows 50)
EVIDENCE_BYTES = 64 * 1024  # JSON per result at most: rows are dropped from the largest tables beyond it
_RUN_COLUMNS = ("run_id", "as_of", "now", "outcome", "duration_s", "docs_index", "replay")
_RESULT_COLUMNS = (
    "run_id", "checkpoint", "now", "as_of", "outcome", "message", "metrics", "checks", "bytes_processed",
    "duration_s", "docs_path", "replay", "evidence",
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
    evidence: Evidence = field(default_factory=dict)


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
                    evidence_json(cp),
                )
                for cp in result.checkpoints
            ],
        )
        for cp in result.checkpoints:
            _forget_old_evidence(conn, cp.name)


def evidence_json(cp: CheckpointResult, limit: int = EVIDENCE_BYTES) -> str | None:
    """The result's evidence as JSON of at most ``limit`` bytes (totals kept); None when it has none."""
    tables = {name: table for name, table in cp.evidence.items() if table.total}
    if not tables:
        return None
    text = _dump(tables)
    while len(text.encode()) > limit:
        name = max(tables, key=lambda n: len(tables[n].rows))
        table = tables[name]
        if not table.rows:  # nothing left to drop: keep only the totals
            return _dump({n: EvidenceTable((), t.total) for n, t in tables.items()})
        tables[name] = EvidenceTable(table.rows[: len(table.rows) // 2], table.total)
        text = _dump(tables)
    return text


def _dump(tables: Evidence) -> str:
    return json.dumps({name: table.to_dict() for name, table in tables.items()}, default=str)


def _forget_old_evidence(conn: Any, checkpoint: str) -> None:
    """Clear the evidence of ``checkpoint``'s results older than its newest ``EVIDENCE_RUNS``."""
    conn.execute(
        """
        UPDATE checkpoint_results SET evidence = NULL
        WHERE checkpoint = :checkpoint AND evidence IS NOT NULL AND now < (
            SELECT now FROM checkpoint_results WHERE checkpoint = :checkpoint
            ORDER BY now DESC LIMIT 1 OFFSET :keep
        )
        """,
        {"checkpoint": checkpoint, "keep": EVIDENCE_RUNS - 1},
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
            evidence=evidence_from_dict(json.loads(r["evidence"])) if r["evidence"] else {},
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
