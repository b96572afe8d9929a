"""The one schema comparison: what the worker writes versus what the table accepts.

Used by the ``schema_parity`` checkpoint and by ``canary schema-gate``. Pure code, no I/O.

Rules (names match case-insensitively, as in BigQuery; nested fields are compared by path
``a.b.c``):

* a field the worker writes that the table lacks -> ``missing_in_table``, breaking; the fix is
  ``ALTER TABLE ... ADD COLUMN IF NOT EXISTS`` (top level) or ``bq update`` with an edited schema
  file (nested fields: DDL cannot add a field inside a STRUCT);
* a type the column cannot accept -> ``type_mismatch``, breaking (see
  :mod:`pipeline_canary.schema.acceptance` for the acceptance table; "warn" entries are reported
  as informational ``type_mismatch``);
* REPEATED into a non-REPEATED column (other than JSON), or a non-REPEATED value (including JSON
  text of an array) into a REPEATED column -> ``mode_mismatch``, breaking;
* a NULLABLE worker field into a REQUIRED column -> ``mode_mismatch``, informational, or breaking
  with ``nulls_break=True`` (sampled records, where NULLABLE means a null or absent value was seen);
* a REQUIRED column the worker never writes -> ``required_not_written``, breaking (only inside a
  RECORD the worker writes, for nested columns);
* a column the worker does not write -> ``extra_in_table``, informational;
* sample records that disagree on a key's type -> ``record_conflict``, breaking.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline_canary.schema.acceptance import acceptance, ddl_type, describe, widenable
from pipeline_canary.schema.model import Field, TypeConflict, WorkerSchema, normalize_type

KINDS = (
    "missing_in_table",
    "type_mismatch",
    "mode_mismatch",
    "required_not_written",
    "extra_in_table",
    "record_conflict",
)


@dataclass(frozen=True)
class Difference:
    path: str
    kind: str
    worker: Field | None
    table: Field | None
    breaks_writes: bool
    message: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "breaks_writes": self.breaks_writes,
            "message": self.message,
            "fix": self.fix,
            "worker": self.worker.to_dict() if self.worker else None,
            "table": self.table.to_dict() if self.table else None,
        }


@dataclass(frozen=True)
class SchemaComparison:
    table_name: str
    differences: tuple[Difference, ...]
    worker_field_count: int
    table_field_count: int

    @property
    def breaking(self) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if d.breaks_writes)

    @property
    def informational(self) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if not d.breaks_writes)

    @property
    def ok(self) -> bool:
        return not self.breaking

    def alter_statements(self) -> list[str]:
        """The DDL fixes of the breaking differences, in order (nested fixes are not DDL)."""
        return [d.fix for d in self.breaking if d.fix and d.fix.startswith("ALTER TABLE")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table_name,
            "ok": self.ok,
            "worker_field_count": self.worker_field_count,
            "table_field_count": self.table_field_count,
            "breaking_count": len(self.breaking),
            "informational_count": len(self.informational),
            "differences": [d.to_dict() for d in self.differences],
            "alter_statements": self.alter_statements(),
        }


def compare(
    worker: Sequence[Field],
    table: Sequence[Field],
    *,
    table_name: str,
    untyped: Collection[str] = (),
    conflicts: Sequence[TypeConflict] = (),
    nulls_break: bool = False,
) -> SchemaComparison:
    """Compare the worker's fields with the table's columns.

    ``untyped``: paths (any case) whose worker type is unknown because only nulls or empty arrays
    were seen; their type is not checked. ``conflicts``: type disagreements between sample records,
    reported as breaking ``record_conflict`` differences. ``nulls_break``: see the module docstring.
    """
    state = _State(table_name, frozenset(p.lower() for p in untyped), nulls_break)
    for conflict in conflicts:
        state.add(
            conflict.path,
            "record_conflict",
            _find(worker, conflict.path),
            _find(table, conflict.path),
            True,
            f"{conflict.path}: sample records disagree on its type ({' vs '.join(conflict.types)})"
            + (f" in {conflict.where}" if conflict.where else ""),
            f"make the worker always write one type for {conflict.path}",
        )
    state.level(worker, table, "")
    return SchemaComparison(table_name, tuple(state.out), _count(worker), _count(table))


def _count(fields: Sequence[Field]) -> int:
    return sum(1 + _count(f.fields) for f in fields)


def _find(fields: Sequence[Field], path: str) -> Field | None:
    head, _, rest = path.partition(".")
    for field in fields:
        if field.name.lower() == head.lower():
            return _find(field.fields, rest) if rest else field
    return None


def _bq_name(table_name: str) -> str:
    parts = table_name.split(".")
    return f"{parts[0]}:{'.'.join(parts[1:])}" if len(parts) == 3 else table_name


class _State:
    def __init__(self, table_name: str, untyped: frozenset[str], nulls_break: bool) -> None:
        self.table_name = table_name
        self.untyped = untyped
        self.nulls_break = nulls_break
        self.out: list[Difference] = []

    def add(
        self, path: str, kind: str, w: Field | None, t: Field | None, breaks: bool, msg: str, fix: str | None
    ) -> None:
        self.out.append(Difference(path, kind, w, t, breaks, msg, fix))

    def level(self, worker: Sequence[Field], table: Sequence[Field], prefix: str) -> None:
        columns = {t.name.lower(): t for t in table}
        written: set[str] = set()
        for w in worker:
            written.add(w.name.lower())
            column = columns.get(w.name.lower())
            if column is None:
                self.missing(w, prefix)
            else:
                self.field(w, column, prefix + column.name)
        for t in table:
            if t.name.lower() in written:
                continue
            path = prefix + t.name
            if t.mode.upper() == "REQUIRED":
                relax = (
                    f"ALTER TABLE `{self.table_name}` ALTER COLUMN {t.name} DROP NOT NULL"
                    if not prefix
                    else f"relax {path} to NULLABLE with `bq update` and an edited schema file"
                )
                self.add(
                    path, "required_not_written", None, t, True,
                    f"{path}: the table column is {describe(t)} but the worker never writes it; "
                    "BigQuery rejects rows without it",
                    f"make the worker write {path}, or {relax}",
                )  # fmt: skip
            else:
                self.add(
                    path, "extra_in_table", None, t, False,
                    f"{path}: the table has a {describe(t)} column the worker does not write (left NULL)",
                    None,
                )  # fmt: skip

    def missing(self, w: Field, prefix: str) -> None:
        path = prefix + w.name
        where = f"`{self.table_name}`"
        if not prefix:
            fix = f"ALTER TABLE `{self.table_name}` ADD COLUMN IF NOT EXISTS {w.name} {ddl_type(w)}"
        else:
            parent = prefix.rstrip(".")
            bq = _bq_name(self.table_name)
            fix = (
                f"DDL (ADD COLUMN, ALTER COLUMN SET DATA TYPE) cannot add a field inside a STRUCT: run "
                f"`bq show --schema --format=prettyjson {bq} > schema.json`, append "
                f"{json.dumps(_nullable(w).to_dict())} to the fields of {parent}, then "
                f"`bq update {bq} schema.json`"
            )
            where = f"RECORD {parent} in {where}"
        self.add(
            path, "missing_in_table", w, None, True,
            f"{path}: the worker writes {describe(w)} but {where} has no such column; "
            "every load job would fail",
            fix,
        )  # fmt: skip

    def field(self, w: Field, t: Field, path: str) -> None:
        w_rep, t_rep = w.mode.upper() == "REPEATED", t.mode.upper() == "REPEATED"
        w_type, t_type = normalize_type(w.type), normalize_type(t.type)
        if w_rep and not t_rep and t_type == "JSON":
            return  # a JSON column stores the array as it is
        msg = f"{path}: the worker writes {describe(w)} but the column is {describe(t)}"
        if t_rep and not w_rep and path.lower() in self.untyped:
            note = f"{path}: only nulls were seen, so it is unknown whether the worker writes a list"
            self.add(path, "mode_mismatch", w, t, False, f"{note} for the {describe(t)} column", None)
            return
        if w_rep != t_rep:
            if t_rep:
                fix = f"make the worker write a list (JSON array) for {path}, not JSON text or a scalar"
            else:
                fix = f"make the worker write a single value for {path}, or store the list in a JSON column"
            self.add(path, "mode_mismatch", w, t, True, msg + "; BigQuery rejects the load", fix)
            return
        if path.lower() not in self.untyped:
            if w_type == "RECORD" and t_type == "RECORD":
                self.level(w.fields, t.fields, path + ".")
            else:
                self.types(w, t, path)
        if w.mode.upper() == "NULLABLE" and t.mode.upper() == "REQUIRED":
            relax = (
                f"ALTER TABLE `{self.table_name}` ALTER COLUMN {t.name} DROP NOT NULL"
                if "." not in path
                else f"relax {path} to NULLABLE with `bq update` and an edited schema file"
            )
            self.add(
                path, "mode_mismatch", w, t, self.nulls_break,
                f"{path}: the column is {describe(t)} but the worker may write NULL ({describe(w)}); "
                "a row with a null here is rejected",
                f"make sure the worker never writes null for {path}, or {relax}",
            )  # fmt: skip

    def types(self, w: Field, t: Field, path: str) -> None:
        w_scalar = Field(w.name, w.type, "NULLABLE", w.fields)
        t_scalar = Field(t.name, t.type, "NULLABLE", t.fields)
        verdict, note = acceptance(w.type, t.type)
        if verdict == "ok":
            return
        msg = f"{path}: the worker writes {describe(w_scalar)} but the column is {describe(t_scalar)}"
        if verdict == "warn":
            self.add(path, "type_mismatch", w, t, False, f"{msg}; accepted, but {note}", None)
            return
        if "." not in path and t.mode.upper() != "REPEATED" and widenable(t.type, w.type):
            fix = f"ALTER TABLE `{self.table_name}` ALTER COLUMN {t.name} SET DATA TYPE {ddl_type(w_scalar)}"
        else:
            fix = f"make the worker write {describe(t_scalar)} for {path} (or migrate the column)"
        self.add(path, "type_mismatch", w, t, True, f"{msg}; BigQuery rejects the load", fix)


def _nullable(field: Field) -> Field:
    """New columns cannot be REQUIRED (BigQuery allows only NULLABLE or REPEATED additions)."""
    mode = "REPEATED" if field.mode.upper() == "REPEATED" else "NULLABLE"
    return Field(field.name, field.type, mode, field.fields)


def compare_worker(worker: WorkerSchema, table: Sequence[Field], *, table_name: str) -> SchemaComparison:
    """:func:`compare` with the untyped paths, conflicts and null semantics a WorkerSchema carries."""
    return compare(
        worker.fields,
        table,
        table_name=table_name,
        untyped=worker.untyped,
        conflicts=worker.conflicts,
        nulls_break=worker.sampled,
    )
