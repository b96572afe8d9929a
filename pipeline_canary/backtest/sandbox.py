"""The backtest's sandbox: its own state store and GX project, no Slack, no metrics.

A backtest advances incidents exactly as a live run's alert sink does (through the same
:func:`pipeline_canary.alerting.advance` as ``alerting.enqueue_run``), but against a temporary
SQLite file, and instead of queueing messages in an outbox it renders the ones that would have been
posted (parent messages, thread replies, resolutions) and keeps them. Every step of a backtest is the
newest live run of its own clock, so date-less incidents (contamination, staging tables,
``canary_blind``) move too.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline_canary.alerting import advance, blocks
from pipeline_canary.alerting.incidents import Incident, Policy
from pipeline_canary.results import Outcome
from pipeline_canary.state.history import record_run
from pipeline_canary.state.sqlite import SQLiteState, has_table

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.results import CheckpointResult, RunResult

# One sandbox GX project per process: suites are rebuilt from the canaries'
# definitions (and updated when --set changes a threshold), so it never needs the configured one.
_GX_DIRS: dict[str, tempfile.TemporaryDirectory[str]] = {}
# (One per process, whatever the configuration: a process backtests one configuration, and tests
# share the warm GX context instead of opening one per test.)


def sandbox_config(config: CanaryConfig, state_path: Path) -> CanaryConfig:
    """``config`` with a temporary state file and GX project, alerting and metrics off, no docs."""
    key = "sandbox"
    if key not in _GX_DIRS:
        _GX_DIRS[key] = tempfile.TemporaryDirectory(prefix="canary-backtest-gx-")
    gx_dir = Path(_GX_DIRS[key].name) / "gx"
    return config.model_copy(
        update={
            "state": config.state.model_copy(update={"backend": "sqlite", "path": state_path, "uri": None}),
            "gx": config.gx.model_copy(update={"project_dir": gx_dir, "build_docs": False}),
            "alerting": config.alerting.model_copy(update={"enabled": False}),
            "metrics": config.metrics.model_copy(update={"project": None}),
        }
    )


@dataclass(frozen=True)
class Message:
    """A message the incident would have posted: ``open`` (the parent), ``reply`` or ``resolve``."""

    at: dt.datetime
    kind: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "kind": self.kind, "text": self.text}


@dataclass
class Opened:
    """An incident that alerted during the backtest (pending streaks that never alerted are not here)."""

    checkpoint: str
    check: str
    severity: str
    as_of: dt.date
    game_date: dt.date | None
    opened_at: dt.datetime
    first_failed_at: dt.datetime
    resolved_at: dt.datetime | None = None
    status: str = "open"
    last_value: float | None = None
    messages: list[Message] = field(default_factory=list)


class Sandbox:
    """Incidents of one backtest, in a temporary SQLite state (``path``; removed with its folder)."""

    def __init__(self, config: CanaryConfig, path: Path) -> None:
        self.config = config
        self.state = SQLiteState(path)
        self.policy = Policy.from_config(config.alerting)
        self.opened: dict[int, Opened] = {}  # by incident id
        self._active: set[str] = set()  # checkpoints with pending or open incidents

    def learn_from(self, live: Path, checkpoints: Collection[str], *, before: dt.date) -> int:
        """Copy the live history of ``checkpoints`` about days before ``before`` (what baselines learn
        from); the live file is opened read only. Returns how many results were copied."""
        if not live.is_file():
            return 0
        marks = ", ".join("?" * len(checkpoints))
        source = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
        try:
            source.row_factory = sqlite3.Row
            if not has_table(source, "checkpoint_results"):
                return 0
            rows = source.execute(
                f"SELECT * FROM checkpoint_results WHERE checkpoint IN ({marks}) AND as_of < ?",
                (*checkpoints, before.isoformat()),
            ).fetchall()
            runs = source.execute(
                f"SELECT * FROM runs WHERE run_id IN (SELECT run_id FROM checkpoint_results"
                f" WHERE checkpoint IN ({marks}) AND as_of < ?)",
                (*checkpoints, before.isoformat()),
            ).fetchall()
        finally:
            source.close()
        with self.state.transaction() as conn:
            for table, copied in (("runs", runs), ("checkpoint_results", rows)):
                if copied:
                    columns = list(copied[0].keys())
                    conn.executemany(
                        f"INSERT OR REPLACE INTO {table} ({', '.join(columns)})"
                        f" VALUES ({', '.join('?' * len(columns))})",
                        [tuple(r) for r in copied],
                    )
        return len(rows)

    def remember(self, result: RunResult, checkpoints: Collection[str]) -> None:
        """Record one step's results of ``checkpoints`` in the sandbox history (the baselines' next lesson)."""
        kept = tuple(cp for cp in result.checkpoints if cp.name in checkpoints)
        if kept:
            record_run(self.state, replace(result, checkpoints=kept, replay=False))

    def idle(self, cp: CheckpointResult) -> bool:
        """Whether ``cp`` cannot move anything: no current incidents, nothing failing, warning or errored.

        Such a result opens nothing, and there is nothing for it to resolve, drop or close.
        """
        if cp.name in self._active or cp.outcome is Outcome.ERRORED:
            return False
        return not any(c.outcome in (Outcome.FAILED, Outcome.WARNED) for c in cp.checks)

    def advance(self, cp: CheckpointResult, as_of: dt.date, now: dt.datetime) -> None:
        """One checkpoint's result at one step, as ``alerting.enqueue_run`` handles a live, newest run."""
        if self.idle(cp):
            return
        info = blocks.CanaryInfo.lookup(cp.name, self.config.catalogue)
        with self.state.transaction() as conn:
            transition, saved = advance(conn, self.config, self.policy, cp, as_of, now, newest=True)
            active = conn.execute(
                "SELECT 1 FROM alert_incidents WHERE checkpoint = ? AND status IN ('pending', 'open') LIMIT 1",
                (cp.name,),
            ).fetchone()
        self._active.discard(cp.name)
        if active is not None:
            self._active.add(cp.name)
        for intent in transition.intents:
            incident = saved.get(intent.incident.key, intent.incident)
            self._record(intent.kind, intent.reason, incident, info, cp, as_of, now)

    def _record(
        self,
        kind: str,
        reason: str,
        incident: Incident,
        info: blocks.CanaryInfo,
        cp: CheckpointResult,
        as_of: dt.date,
        now: dt.datetime,
    ) -> None:
        if incident.id is None:
            return
        entry = self.opened.get(incident.id)
        if kind == "open":
            entry = self.opened[incident.id] = Opened(
                checkpoint=incident.checkpoint,
                check=incident.check,
                severity=incident.severity,
                as_of=as_of,
                game_date=incident.game_date,
                opened_at=now,
                first_failed_at=incident.first_failed_at,
            )
            rows = self.config.alerting.evidence_rows
            entry.messages.append(
                Message(now, "open", blocks.parent(incident, info, result=cp, evidence_rows=rows)["text"])
            )
        if entry is None:
            return  # an update of an incident opened before the backtest: none exist in a sandbox
        entry.last_value = incident.last_value
        if kind in ("reply", "resolve"):
            text = blocks.reply(incident, info, reason)["text"]
            entry.messages.append(Message(now, kind, text))
        if kind == "resolve":
            entry.resolved_at, entry.status = incident.resolved_at, incident.status
