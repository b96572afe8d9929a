"""orphaned_staging_tables: ``_staging_*`` tables left behind by failed prediction batches.

Workers write ``_staging_{batch_id}_{worker_id}`` tables that the coordinator merges and deletes;
failed consolidations keep them, and hundreds piled up. A table is orphaned when its creation time
is more than ``max_age_hours`` before the run's "now" (the pipeline's own cleanup rule).

A table whose creation time the warehouse cannot tell is never counted as young: when no staging
table has one the checkpoint is ``errored`` (naming the tables and the missing source), and when
some lack one it warns, naming them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pipeline_canary.canaries.base import Canary, CheckContext, CheckSpec, Headline, Observation, Settings, register
from pipeline_canary.config_types import Bounded
from pipeline_canary.errors import NoCreationTimesError
from pipeline_canary.results import EvidenceTable, Threshold
from pipeline_canary.warehouse.base import TableInfo, Warehouse

NAMES_IN_MESSAGE = 10  # tables named in a message; the evidence lists up to evidence_limit

_BATCH = re.compile(  # matched from the end of the prefix: Pattern.match(name, len(prefix))
    r"(?P<batch>"
    r"batch_\d{4}_\d{2}_\d{2}_\d+"
    r"|regen_\d{4}_\d{2}_\d{2}_[a-z0-9_]+?_\d{9,}"
    r"|linecheck_\d{4}_\d{2}_\d{2}_\d+"
    r"|fallback_\d+"
    r"|\d{8}_\d{6}_\d+"
    r")_(?P<worker>.+)$"
)


def parse_batch_id(table_name: str, prefix: str = "_staging_") -> tuple[str | None, str | None]:
    """``(batch_id, worker_id)`` from a staging table name, or ``(None, None)`` if unrecognised."""
    if not table_name.startswith(prefix):
        return None, None
    match = _BATCH.match(table_name, len(prefix))
    if not match:
        return None, None
    return match.group("batch"), match.group("worker")


@dataclass(frozen=True, slots=True)
class StagingTable:
    info: TableInfo
    age_hours: float | None
    batch_id: str | None
    worker_id: str | None

    def to_row(self) -> dict[str, Any]:
        return {
            "table": self.info.name,
            "dataset": self.info.dataset,
            "created": self.info.created.isoformat() if self.info.created else None,
            "age_hours": None if self.age_hours is None else round(self.age_hours, 1),
            "batch_id": self.batch_id,
            "worker_id": self.worker_id,
            "rows": self.info.rows,
            "bytes": self.info.bytes,
        }


def staging_tables(tables: list[TableInfo], prefix: str, now: dt.datetime) -> list[StagingTable]:
    """The tables whose names start with ``prefix``, with ages relative to ``now``."""
    found = []
    start = len(prefix)
    for info in tables:  # hundreds of tables on a bad day: this loop stays lean
        name, created = info.name, info.created
        if not name.startswith(prefix):
            continue
        age = None if created is None else (now - created).total_seconds() / 3600.0
        match = _BATCH.match(name, start)
        batch, worker = (match.group("batch"), match.group("worker")) if match else (None, None)
        found.append(StagingTable(info, age, batch, worker))
    return found


MAX_AGE_HOURS = 20 * 365 * 24


class OrphanedStagingSettings(Settings):
    max_age_hours: Annotated[float, Bounded(0, MAX_AGE_HOURS, lo_open=True, unit="hours (20 years)")] = 24.0
    max_orphans: Annotated[int, Bounded(0, 1_000_000, unit="tables")] = 0
    evidence_limit: Annotated[int, Bounded(1, 10_000, unit="rows")] = 200
    # After a run that finds orphans, drop them as `canary staging cleanup --execute --older-than
    # {max_age_hours}h` would, with the same guards (pipeline_canary.staging). Off by default.
    auto_cleanup: bool = False


@register
class OrphanedStagingTables(Canary):
    name = "orphaned_staging_tables"
    order = 40
    about_game_day = False  # the dataset's tables now, whatever the as-of date
    headline = Headline(("orphaned_tables",), "Orphaned staging tables", "tables")
    title = "Orphaned staging tables"
    description = (
        "Staging tables from prediction batches that were never consolidated: each is a failed or "
        "abandoned batch, and they cost storage and slow dataset listings."
    )
    severity = "warning"
    runbook = (
        "Check the coordinator's consolidation logs for the batch ids listed; once no batch needs "
        "them, remove them safely with `canary staging cleanup --older-than 24h` (dry run first)."
    )
    settings_model = OrphanedStagingSettings

    def checks(self, settings: Any) -> list[CheckSpec]:
        return [
            CheckSpec(
                name="no_orphaned_tables",
                metric="orphaned_tables",
                threshold=Threshold(max=settings.max_orphans, level="fail"),
                description=f"staging tables older than {settings.max_age_hours:g} h",
                evidence=("orphaned_tables",),
            ),
            CheckSpec(
                name="no_unknown_age_tables",
                metric="unknown_age_tables",
                threshold=Threshold(max=0, level="warn"),
                description="staging tables whose creation time the warehouse cannot tell (never counted as young)",
                evidence=("unknown_age_tables",),
            ),
        ]

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        prefix = ctx.pipeline.staging_prefix
        listed = ctx.warehouse.tables(ctx.pipeline.staging_dataset)
        # A table created after now did not exist then: a replay or a backtest sees the dataset as it
        # was at now (as far as today's listing tells: tables dropped since are not listed).
        staging = [s for s in staging_tables(listed, prefix, ctx.now) if s.age_hours is None or s.age_hours >= 0]
        orphans = [s for s in staging if s.age_hours is not None and s.age_hours > settings.max_age_hours]
        orphans.sort(key=lambda s: -(s.age_hours or 0.0))
        unknown = [s for s in staging if s.age_hours is None]
        oldest = max((s.age_hours for s in orphans if s.age_hours is not None), default=0.0)
        batches = sorted({s.batch_id for s in orphans if s.batch_id})
        dataset = ctx.pipeline.staging_dataset
        summary = (
            f"{len(orphans)} of {len(staging)} staging tables in {dataset} are older than {settings.max_age_hours:g} h"
        )
        error = None
        if unknown:
            names = name_list([s.info.name for s in unknown])
            if len(unknown) == len(staging):
                error = (
                    f"no creation time for any of the {len(staging)} staging tables in {dataset}, so none can be "
                    f"judged orphaned or not ({names}); {creation_time_problem(ctx.warehouse)}"
                )
            else:
                summary += f"; {len(unknown)} have no creation time and could not be judged: {names}"
        return Observation(
            metrics={
                "staging_tables": len(staging),
                "orphaned_tables": len(orphans),
                "oldest_age_hours": round(oldest, 1),
                "orphaned_batches": len(batches),
                "unknown_age_tables": len(unknown),
            },
            evidence={  # the oldest first, bounded; the totals count them all
                "orphaned_tables": _rows(orphans, settings.evidence_limit),
                "unknown_age_tables": _rows(unknown, settings.evidence_limit),
            },
            summary=summary,
            error=error,
        )

    def evidence_line(self, table: str, row: Mapping[str, Any]) -> str:
        name = f"{row['dataset']}.{row['table']}" if row.get("dataset") else str(row["table"])
        if row.get("created") is None:
            return f"unknown age: {name} (the warehouse has no creation time for it)"
        created = dt.datetime.fromisoformat(str(row["created"])).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        age = row.get("age_hours")
        return f"orphaned: {name} (created {created}, {_hours(age)} old)"


def _rows(tables: list[StagingTable], limit: int) -> EvidenceTable:
    return EvidenceTable.of([t.to_row() for t in tables[:limit]], total=len(tables))


def _hours(age: Any) -> str:
    if age is None:
        return "unknown age"
    hours = float(age)
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.1f} days"


def name_list(names: list[str], limit: int = NAMES_IN_MESSAGE) -> str:
    """``a, b, c`` or ``a, b, ... and 7 more``: a bounded list for messages."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def creation_time_problem(warehouse: Warehouse) -> str:
    """Why ``warehouse`` knows no creation times, with the fix where it has one."""
    try:
        source = warehouse.creation_time_source()
    except NoCreationTimesError as exc:
        return str(exc)
    return f"the creation-time source ({source}) has no row for them; make it record every staging table"
