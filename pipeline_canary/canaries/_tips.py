"""Where the game calendar reads each game's tip time (prediction_gap's per-game lead), and what it says without one.

The base schedule table ``nba_raw.nbac_schedule`` has ``game_date_est``, the full tip time (pipeline
facts 1a); the reference view ``nba_reference.nba_schedule`` the checks read by default is documented
without it (facts 1b), and the live view may differ. So the source is configurable in ``[pipeline]``: a
column of the schedule table (``tip_column``, default ``game_date_est``), or another table with
``game_id``, ``game_date`` and that column (``tip_table``, e.g. the base table; the latest tip listed
for a game and date counts). When neither gives tip times the calendar's games have no tips, only
prediction_gap's ``due_by`` deadline applies and every result says the per-game lead was not
applied, and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline_canary.errors import CanaryError, TableNotFoundError
from pipeline_canary.warehouse.base import TableRef

if TYPE_CHECKING:
    from pipeline_canary.config import PipelineConfig
    from pipeline_canary.warehouse.base import Warehouse

NO_TIP = "CAST(NULL AS TIMESTAMP)"
BASE_TABLE = "nba_raw.nbac_schedule"  # pipeline facts 1a: has game_date_est


@dataclass(frozen=True)
class TipSource:
    """SQL fragments for the calendar's query, and why there are no tip times (None: there are)."""

    schedule_tip: str = NO_TIP  # expression in the schedule's SELECT
    games_tip: str = "r.tip_at"  # expression in the per-game SELECT over ``ranked AS r``
    tips_cte: str = ""  # ",\ntips AS (...)": after the ``ranked`` CTE
    tips_join: str = ""
    missing: str | None = None
    configured: bool = False  # a tip_table was set: its absence is a set-up error, not the default's gap
    where: str = ""

    @property
    def note(self) -> str:
        """For results: the per-game lead was not applied, and why."""
        return f"per-game lead not applied: {self.missing}" if self.missing else ""


def _fix(column: str) -> str:
    return (
        f'set [pipeline] tip_table = "{BASE_TABLE}" (the base table has {column}), '
        "or tip_column to the schedule's tip-time column"
    )


def tip_source(warehouse: Warehouse, pipeline: PipelineConfig) -> TipSource:
    """Look the configured source up (one metadata call) and say how to read it, or why it cannot be."""
    column = pipeline.tip_column
    quoted = f"`{column}`"  # validated identifier ([pipeline] tip_column)
    if pipeline.tip_table is None:
        ref = pipeline.table("schedule_table")
        names = _columns(warehouse, ref)
        if names is not None and column.lower() not in names:
            why = f"{ref} has no {column} column (the tip time), so only the due_by deadline applies"
            return TipSource(missing=why, where=f"{ref}")
        return TipSource(schedule_tip=quoted, where=f"{column} in {ref}")
    ref = TableRef.parse(pipeline.tip_table)
    names = _columns(warehouse, ref)
    need = ("game_id", "game_date", column)
    if names is None:
        why = f"tip_table {ref} does not exist, so only the due_by deadline applies"
        return TipSource(missing=why, configured=True, where=str(ref))
    lacking = [c for c in need if c.lower() not in names]
    if lacking:
        why = f"tip_table {ref} lacks {', '.join(lacking)}, so only the due_by deadline applies"
        return TipSource(missing=why, configured=True, where=str(ref))
    cte = (
        f",\ntips AS (\n  SELECT game_id, game_date, MAX({quoted}) AS tip_at\n  FROM {warehouse.table_sql(ref)}\n"
        "  WHERE game_date >= @calendar_start AND game_date <= @as_of\n  GROUP BY game_id, game_date\n)"
    )
    join = " LEFT JOIN tips AS t ON t.game_id = r.game_id AND t.game_date = r.game_date"
    return TipSource(games_tip="t.tip_at", tips_cte=cte, tips_join=join, configured=True, where=f"{column} in {ref}")


def _columns(warehouse: Warehouse, ref: TableRef) -> set[str] | None:
    """Lower-case column names of ``ref``; None if it does not exist (other errors propagate)."""
    try:
        return {f.name.lower() for f in warehouse.columns(ref)}
    except TableNotFoundError:
        return None


def setup_note(warehouse: Warehouse, pipeline: PipelineConfig, settings: Any) -> tuple[str, str, str]:
    """For ``canary doctor`` (``settings``: prediction_gap's): ("ok" | "warn" | "fail", detail, fix)."""
    try:
        source = tip_source(warehouse, pipeline)
    except CanaryError as exc:
        return "fail", f"cannot look up the tip times: {exc}", "see the message above"
    if source.missing is None:
        return "ok", f"{source.where}: each game is due {settings.lead_hours:g} h before its tip", ""
    if source.configured:
        need = f"game_id, game_date and {pipeline.tip_column}"
        return "fail", source.note, f"point [pipeline] tip_table at a table with {need}"
    return "warn", source.note, _fix(pipeline.tip_column)
