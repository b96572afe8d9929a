"""schema_parity: the prediction worker's output contract against the live predictions table.

In February 2026 the worker wrote ``vegas_line_source`` and ``required_default_count`` that the
table lacked, and every write failed for two days. The comparison is the one the CI schema gate
uses (``pipeline_canary.schema.compare``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline_canary.canaries.base import Canary, CheckContext, CheckSpec, Headline, Observation, Settings, register
from pipeline_canary.errors import ConfigError
from pipeline_canary.results import Threshold


class SchemaParitySettings(Settings):
    pass


@register
class SchemaParity(Canary):
    name = "schema_parity"
    order = 30
    about_game_day = False  # the table's schema now, whatever the as-of date
    headline = Headline(("missing_in_table", "incompatible_fields"), "Schema mismatches", "fields")
    title = "Worker output vs. table schema"
    description = (
        "Every field the prediction worker writes must exist in the predictions table with a type it "
        "accepts; otherwise every prediction write fails."
    )
    severity = "critical"
    tier = "critical"  # a failed write loses predictions: checked as often as prediction_gap
    runbook = (
        "Run the ALTER TABLE statements in the evidence (or roll back the worker deploy), then confirm "
        "with `canary schema-gate`. Add the gate to the worker's deploy pipeline (examples/ci/)."
    )
    settings_model = SchemaParitySettings

    def checks(self, settings: Any) -> list[CheckSpec]:
        return [
            CheckSpec(
                name="worker_fields_exist",
                metric="missing_in_table",
                threshold=Threshold(max=0, level="fail"),
                description="fields the worker writes that the table lacks",
                evidence=("differences", "alter_statements"),
            ),
            CheckSpec(
                name="types_compatible",
                metric="incompatible_fields",
                threshold=Threshold(max=0, level="fail"),
                description="fields whose type or mode the table cannot accept",
                evidence=("differences", "alter_statements"),
            ),
        ]

    def evidence_line(self, table: str, row: Mapping[str, Any]) -> str:
        if table == "alter_statements":
            return f"fix: {row['sql']}"
        if table == "contract":
            return f"worker contract: {row['path']}"
        field, worker, column = row["field"], row.get("worker_type"), row.get("table_type")
        problem = row["problem"]
        if problem == "missing_in_table":
            return f"missing column: {field} ({worker})"
        if problem == "extra_in_table":
            return f"extra column, not written by the worker: {field} ({column})"
        if problem == "required_not_written":
            return f"required column the worker never writes: {field} ({column})"
        kind = "type" if problem == "type_mismatch" else "mode" if problem == "mode_mismatch" else problem
        return f"incompatible {kind}: {field} (worker writes {worker}, table has {column})"

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        from pipeline_canary.schema.compare import compare

        contract_path = ctx.pipeline.worker_contract  # the demo's by default on DuckDB (config.py)
        if contract_path is None:
            raise ConfigError(
                "pipeline.worker_contract is not set: point it at the JSON schema of what the prediction "
                "worker writes (`canary schema-gate --help` shows the format)"
            )
        worker = _contract(contract_path)
        table_ref = ctx.pipeline.table("predictions_table")
        table = ctx.warehouse.columns(table_ref)
        result = compare(worker, table, table_name=str(table_ref))
        missing = [d for d in result.breaking if d.kind == "missing_in_table"]
        other = [d for d in result.breaking if d.kind != "missing_in_table"]
        rows = [
            {
                "field": d.path,
                "problem": d.kind,
                "worker_type": _type(d.worker),
                "table_type": _type(d.table),
                "breaks_writes": d.breaks_writes,
                "fix": d.fix,
            }
            for d in result.differences
        ]
        summary = (
            f"{len(missing)} worker fields missing from {table_ref}, {len(other)} incompatible"
            if result.breaking
            else f"all {len(worker)} worker fields fit {table_ref}"
        )
        return Observation(
            metrics={
                "missing_in_table": len(missing),
                "incompatible_fields": len(other),
                "extra_in_table": sum(1 for d in result.informational if d.kind == "extra_in_table"),
                "worker_fields": len(worker),
                "table_columns": len(table),
            },
            evidence={
                "differences": [r for r in rows if r["breaks_writes"]],
                "informational": [r for r in rows if not r["breaks_writes"]],
                "alter_statements": [{"sql": s} for s in result.alter_statements()],
                "contract": [{"path": str(contract_path)}],
            },
            summary=summary,
        )


def _type(field: Any) -> str | None:
    """``STRING``, ``ARRAY<INT64>``, ``STRING REQUIRED``: the type with the mode when it matters."""
    from pipeline_canary.schema.acceptance import describe

    return None if field is None else describe(field)


def _contract(path: Path) -> list[Any]:
    """The worker contract, parsed once per version of the file (the service reads it every run)."""
    stat = path.stat()
    return list(_parsed(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int) -> tuple[Any, ...]:
    from pipeline_canary.schema.loaders import load_contract

    return tuple(load_contract(path))
