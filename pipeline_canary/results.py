"""One result model for every consumer: CLI, history, alerts, metrics and reports.

``RunResult`` ─► ``CheckpointResult`` ─► ``CheckResult``. "The check failed" (``FAILED``) and "the
check could not run" (``ERRORED``) are never the same outcome.

Evidence (the rows that say *what* broke: the game, the column, the table) is part of the result:
each table is an :class:`EvidenceTable`, its first rows (``[evidence] rows``, 20 by default) and
the total, so every consumer (``--json``, the terminal, history, GX, Slack) stays bounded.

A checkpoint whose data is not due yet is *pending*: ``SKIPPED`` with ``due_at`` set and a message
starting ``pending:`` (when it becomes due and why). Like any skip it is neither a pass nor a
failure: it counts toward no incident and resolves none.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, overload

DEFAULT_EVIDENCE_ROWS = 20  # rows kept per evidence table ([evidence] rows)
CELL_CHARS = 1000  # a longer text value in an evidence row is cut (an ALTER statement fits)


class Outcome(StrEnum):
    PASSED = "passed"
    WARNED = "warned"
    FAILED = "failed"
    ERRORED = "errored"
    SKIPPED = "skipped"

    @property
    def status_code(self) -> int:
        """Numeric status for metrics: 0 passed, 1 warned, 2 failed, 3 errored (skipped counts as 0)."""
        return {"passed": 0, "skipped": 0, "warned": 1, "failed": 2, "errored": 3}[self.value]


# Worst first: the outcome of a group is the first of these that any member has.
_SEVERITY_ORDER = (Outcome.FAILED, Outcome.ERRORED, Outcome.WARNED, Outcome.PASSED, Outcome.SKIPPED)


def rollup(outcomes: list[Outcome]) -> Outcome:
    """The outcome of a group: failed beats errored beats warned beats passed; all skipped is skipped."""
    for candidate in _SEVERITY_ORDER:
        if candidate in outcomes:
            return candidate
    return Outcome.SKIPPED


@dataclass(frozen=True)
class Threshold:
    """Bounds an observed value must stay within; ``level`` says what crossing them means."""

    min: float | None = None
    max: float | None = None
    level: str = "fail"  # "fail" or "warn"

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            if self.min == self.max:
                return f"= {_fmt(self.min)}"
            return f"between {_fmt(self.min)} and {_fmt(self.max)}"
        if self.min is not None:
            return f">= {_fmt(self.min)}"
        if self.max is not None:
            return f"<= {_fmt(self.max)}"
        return "any"

    def side(self, value: float | None) -> str:
        """Where ``value`` lies against the bounds, both inclusive: "below", "within", "above" or "null"."""
        if value is None or math.isnan(value):
            return "null"
        if self.min is not None and value < self.min:
            return "below"
        if self.max is not None and value > self.max:
            return "above"
        return "within"

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max, "level": self.level}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class EvidenceTable(Sequence[dict[str, Any]]):
    """One evidence table of a checkpoint: its first rows (plain JSON values) and how many there were.

    It is a sequence of the rows it keeps; ``total`` counts every row the canary found.
    """

    rows: tuple[dict[str, Any], ...] = ()
    total: int = 0

    @classmethod
    def of(
        cls, rows: Sequence[Mapping[str, Any]], limit: int | None = None, *, total: int | None = None
    ) -> EvidenceTable:
        """The first ``limit`` of ``rows`` (all when None), values made plain; ``total`` defaults to len(rows)."""
        kept = rows if limit is None else rows[:limit]
        return cls(tuple(plain_row(r) for r in kept), len(rows) if total is None else max(total, len(kept)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvidenceTable:
        rows = tuple(dict(r) for r in data.get("rows") or ())
        return cls(rows, int(data.get("total", len(rows))))

    def bounded(self, limit: int) -> EvidenceTable:
        return self if len(self.rows) <= limit else EvidenceTable(self.rows[:limit], self.total)

    @property
    def truncated(self) -> bool:
        """More rows were found than are kept."""
        return self.total > len(self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": list(self.rows), "total": self.total, "truncated": self.truncated}

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        return self.rows[index]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)


Evidence = dict[str, EvidenceTable]
EvidenceInput = Mapping[str, "EvidenceTable | Sequence[Mapping[str, Any]]"]


def bound_evidence(evidence: EvidenceInput | None, limit: int | None = None) -> Evidence:
    """``evidence`` as EvidenceTables of at most ``limit`` rows each (None: keep every row)."""
    out: Evidence = {}
    for name, table in (evidence or {}).items():
        if isinstance(table, EvidenceTable):
            out[name] = table if limit is None else table.bounded(limit)
        else:
            out[name] = EvidenceTable.of(list(table), limit)
    return out


def evidence_from_dict(data: Mapping[str, Any] | None) -> Evidence:
    """The inverse of :meth:`CheckpointResult.evidence_dict` (history, GX metadata)."""
    return {name: EvidenceTable.from_dict(table) for name, table in (data or {}).items()}


def plain_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _plain(v) for k, v in row.items()}


def _plain(value: Any) -> Any:
    """A JSON value: times as ISO text, decimals as floats, long text cut, anything else as text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= CELL_CHARS else value[: CELL_CHARS - 1] + "…"
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return plain_row(value)
    return _plain(str(value))


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: Outcome
    message: str
    observed: float | None = None
    threshold: Threshold | None = None
    metric: str | None = None
    evidence_tables: tuple[str, ...] = ()  # the checkpoint's evidence tables that explain this check
    # A learned baseline's band (low, high, center, spread, points, method); ``threshold`` has its bounds.
    baseline: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "outcome": self.outcome.value,
            "observed": self.observed,
            "threshold": self.threshold.to_dict() if self.threshold else None,
            "message": self.message,
            "evidence_tables": list(self.evidence_tables),
        }
        if self.baseline is not None:
            out["baseline"] = self.baseline
        return out


@dataclass(frozen=True)
class CheckpointResult:
    name: str
    outcome: Outcome
    checks: tuple[CheckResult, ...] = ()
    message: str = ""
    metrics: dict[str, float | None] = field(default_factory=dict)
    evidence: Evidence = field(default_factory=dict)
    bytes_processed: int | None = None
    duration_s: float = 0.0
    docs_path: str | None = None
    due_at: dt.datetime | None = None  # set on a pending skip: when the data becomes due

    def __post_init__(self) -> None:
        # Rows given as plain lists (tests, older callers) become tables keeping every row.
        if any(not isinstance(t, EvidenceTable) for t in self.evidence.values()):
            object.__setattr__(self, "evidence", bound_evidence(self.evidence))

    def evidence_dict(self) -> dict[str, Any]:
        """``{table: {"rows": [...], "total": n, "truncated": bool}}``, the shape of --json and history."""
        return {name: table.to_dict() for name, table in self.evidence.items()}

    @property
    def pending(self) -> bool:
        """Skipped because the data is not due yet (see ``due_at``), not because there is nothing to check."""
        return self.outcome is Outcome.SKIPPED and self.due_at is not None

    @classmethod
    def errored(
        cls,
        name: str,
        message: str,
        duration_s: float = 0.0,
        bytes_processed: int | None = None,
        *,
        metrics: dict[str, float | None] | None = None,
        evidence: EvidenceInput | None = None,
    ) -> CheckpointResult:
        """The checkpoint could not run (no checks were evaluated); what it saw before that is kept."""
        return cls(
            name, Outcome.ERRORED, message=message, metrics=metrics or {}, evidence=bound_evidence(evidence),
            duration_s=duration_s, bytes_processed=bytes_processed,
        )  # fmt: skip

    @classmethod
    def skipped(
        cls,
        name: str,
        reason: str,
        duration_s: float = 0.0,
        bytes_processed: int | None = None,
        *,
        due_at: dt.datetime | None = None,
        evidence: EvidenceInput | None = None,
    ) -> CheckpointResult:
        """The checkpoint had nothing to check (no games scheduled) or its data is not due yet (``due_at``)."""
        return cls(
            name,
            Outcome.SKIPPED,
            message=reason,
            duration_s=duration_s,
            bytes_processed=bytes_processed,
            due_at=due_at,
            evidence=bound_evidence(evidence),
        )

    def to_dict(self, *, evidence: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "outcome": self.outcome.value,
            "message": self.message,
            "checks": [c.to_dict() for c in self.checks],
            "metrics": self.metrics,
            "bytes_processed": self.bytes_processed,
            "duration_s": round(self.duration_s, 4),
            "docs_path": self.docs_path,
            "pending": self.pending,
            "due_at": self.due_at.isoformat() if self.due_at else None,
        }
        if evidence:
            data["evidence"] = self.evidence_dict()
        return data


@dataclass(frozen=True)
class RunResult:
    run_id: str
    as_of: dt.date
    now: dt.datetime
    checkpoints: tuple[CheckpointResult, ...]
    duration_s: float = 0.0
    docs_index: str | None = None
    # A run about another game day than the current one: history only (see checkpoints.runner.Clock).
    replay: bool = False
    now_source: str = "given"  # "given" (--now), "wall_clock" or "end_of_game_day"

    @property
    def live(self) -> bool:
        return not self.replay

    @property
    def outcome(self) -> Outcome:
        return rollup([c.outcome for c in self.checkpoints])

    @property
    def has_failures(self) -> bool:
        return any(c.outcome is Outcome.FAILED for c in self.checkpoints)

    @property
    def has_errors(self) -> bool:
        return any(c.outcome is Outcome.ERRORED for c in self.checkpoints)

    def get(self, name: str) -> CheckpointResult:
        for checkpoint in self.checkpoints:
            if checkpoint.name == name:
                return checkpoint
        raise KeyError(name)

    def to_dict(self, *, evidence: bool = True) -> dict[str, Any]:
        outcome = self.outcome
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "now": self.now.isoformat(),
            "now_source": self.now_source,
            "replay": self.replay,
            "outcome": (Outcome.PASSED if outcome is Outcome.SKIPPED else outcome).value,
            "pending": [c.name for c in self.checkpoints if c.pending],  # not due yet: judged later
            "duration_s": round(self.duration_s, 4),
            "docs_index": self.docs_index,
            "checkpoints": [c.to_dict(evidence=evidence) for c in self.checkpoints],
        }
