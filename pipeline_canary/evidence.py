"""Evidence for people: which tables say what broke, and one line per row that names the thing.

A checkpoint's evidence tables are part of its result (:class:`~pipeline_canary.results.EvidenceTable`:
the first ``[evidence] rows`` rows and the total). Each check names the tables that explain it
(``CheckSpec.evidence``); when checks do not pass, those tables are *what broke*, and every output
that speaks to a person (the terminal, Slack, the dashboard, GX's pages) shows their rows as lines
the canary words itself, e.g. ``20260208_LAL_GSW (0022500861): 0 active predictions``.

Example::

    [evidence]
    rows = 20   # rows kept per evidence table in --json, history, GX results and Slack
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pipeline_canary.config_types import Bounded, Section
from pipeline_canary.results import DEFAULT_EVIDENCE_ROWS, CheckpointResult, EvidenceTable, Outcome


class EvidenceConfig(Section):
    """``[evidence]``: how much of each evidence table a result keeps."""

    rows: Annotated[int, Bounded(1, 1000, unit="rows")] = DEFAULT_EVIDENCE_ROWS


@dataclass(frozen=True)
class TableLines:
    """The first lines of one evidence table, and how many rows it had in all."""

    table: str
    lines: tuple[str, ...]
    total: int

    @property
    def more(self) -> int:
        """Rows found but not shown."""
        return max(self.total - len(self.lines), 0)

    @property
    def title(self) -> str:
        return self.table.replace("_", " ")


def explaining(result: CheckpointResult) -> list[str]:
    """The evidence tables that say what broke, in check order, each once (only tables with rows).

    Those of the checks that warned or failed; for an errored checkpoint (no check was evaluated)
    every table it filled before it stopped.
    """
    if result.outcome is Outcome.ERRORED:
        return [name for name, table in result.evidence.items() if table.total]
    names: list[str] = []
    for check in result.checks:
        if check.outcome in (Outcome.WARNED, Outcome.FAILED):
            names += [n for n in check.evidence_tables if n not in names]
    return [n for n in names if n in result.evidence and result.evidence[n].total]


def what_broke(result: CheckpointResult, limit: int, *, check: str | None = None) -> list[TableLines]:
    """Lines of the tables that explain the non-passing checks (or only ``check``), ``limit`` per table."""
    if check is None:
        names = explaining(result)
    else:
        names = [n for c in result.checks if c.name == check for n in c.evidence_tables]
        names = [n for n in names if n in result.evidence and result.evidence[n].total]
    return [table_lines(result.name, n, result.evidence[n], limit) for n in names]


def table_lines(checkpoint: str, table: str, rows: EvidenceTable, limit: int) -> TableLines:
    return TableLines(table, tuple(line(checkpoint, table, r) for r in rows[:limit]), rows.total)


def line(checkpoint: str, table: str, row: Mapping[str, Any]) -> str:
    """``row`` of ``checkpoint``'s ``table`` as its canary words it (``key=value, ...`` if it is unknown)."""
    from pipeline_canary.canaries import registry
    from pipeline_canary.canaries.base import cut, plain_line
    from pipeline_canary.errors import UnknownCheckpointError

    try:
        canary = registry.get(checkpoint)
    except UnknownCheckpointError:
        return plain_line(row)
    try:
        return cut(canary.evidence_line(table, row))
    except (KeyError, TypeError, ValueError):  # a row of an older shape (history): show it as it is
        return plain_line(row)
