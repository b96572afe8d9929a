"""Infer the worker's fields from sample output records (pure: no I/O).

Per key: ``bool`` -> BOOL, ``int`` -> INT64, ``float`` -> FLOAT64, ``str`` -> STRING except ISO
dates (``YYYY-MM-DD``) -> DATE and ISO date-times -> TIMESTAMP, ``list`` -> REPEATED of the element
type, ``dict`` -> RECORD (keys unioned), ``datetime``/``date``/``Decimal`` (from a builder) ->
TIMESTAMP/DATE/NUMERIC. Types are unioned over records: INT64 with FLOAT64 gives FLOAT64, DATE with
TIMESTAMP gives TIMESTAMP, a temporal type with STRING gives STRING; any other disagreement is a
:class:`TypeConflict`. A key seen only as null (or only as an empty list) is STRING (REPEATED) and
listed as untyped. A key present and non-null in every record is REQUIRED, otherwise NULLABLE.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline_canary.schema.model import Field, TypeConflict, WorkerSchema

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$")
_TEMPORAL = {"DATE", "TIMESTAMP"}


def value_type(value: Any) -> str:
    """The BigQuery type a JSON (or Python) value loads as; ``NULL``, ``ARRAY`` or ``RECORD`` too."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, decimal.Decimal):
        return "NUMERIC"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    if isinstance(value, str):
        return _string_type(value)
    if isinstance(value, list | tuple):
        return "ARRAY"
    if isinstance(value, Mapping):
        return "RECORD"
    return "STRING"


def _string_type(text: str) -> str:
    if _DATE.match(text):
        try:
            dt.date.fromisoformat(text)
            return "DATE"
        except ValueError:
            return "STRING"
    if _TIMESTAMP.match(text):
        try:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return "TIMESTAMP"
        except ValueError:
            return "STRING"
    return "STRING"


class _Node:
    """Everything seen for one key (or for the elements of one array key)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.types: dict[str, str] = {}  # type -> where it was first seen
        self.non_null = 0
        self.children: dict[str, _Node] = {}
        self.dicts = 0  # non-null objects observed here (the denominator for children)
        self.items: _Node | None = None

    def observe(self, value: Any, where: str) -> None:
        kind = value_type(value)
        if kind == "NULL":
            return
        self.non_null += 1
        self.types.setdefault(kind, where)
        if kind == "RECORD":
            self.observe_object(value, where)
        elif kind == "ARRAY":
            if self.items is None:
                self.items = _Node(self.name)
            for item in value:
                self.items.observe(item, where)

    def observe_object(self, obj: Mapping[str, Any], where: str) -> None:
        self.dicts += 1
        for key, val in obj.items():
            node = self.children.get(str(key).lower())
            if node is None:
                node = self.children[str(key).lower()] = _Node(str(key))
            node.observe(val, where)


def infer_records(records: Iterable[tuple[str, Mapping[str, Any]]], *, source: str = "") -> WorkerSchema:
    """Infer fields from ``(where, record)`` pairs, e.g. ``("line 3", {...})``."""
    root = _Node("")
    for where, record in records:
        root.observe_object(record, where)
    conflicts: list[TypeConflict] = []
    untyped: set[str] = set()
    fields = tuple(_resolve(node, root.dicts, node.name, conflicts, untyped, source) for node in root.children.values())
    return WorkerSchema(
        fields=fields,
        source=source,
        conflicts=tuple(conflicts),
        untyped=frozenset(untyped),
        sampled=True,
        record_count=root.dicts,
    )


def _resolve(
    node: _Node, total: int, path: str, conflicts: list[TypeConflict], untyped: set[str], source: str
) -> Field:
    types = dict(node.types)
    if "ARRAY" in types and len(types) > 1:
        _conflict(path, types, conflicts, source)
        del types["ARRAY"]
    if set(types) == {"ARRAY"}:
        items = node.items
        if items is None or not items.types:
            untyped.add(path.lower())
            return Field(node.name, "STRING", "REPEATED")
        if "ARRAY" in items.types:
            _conflict(path, {"ARRAY<ARRAY>": items.types["ARRAY"]}, conflicts, source, nested=True)
        element = _resolve(items, items.dicts, path, conflicts, untyped, source)
        return Field(node.name, element.type, "REPEATED", element.fields)
    mode = "REQUIRED" if total and node.non_null == total else "NULLABLE"
    if not types:
        untyped.add(path.lower())
        return Field(node.name, "STRING", mode)
    type_ = _unify(path, types, conflicts, source)
    if type_ == "RECORD":
        children = tuple(
            _resolve(child, node.dicts, f"{path}.{child.name}", conflicts, untyped, source)
            for child in node.children.values()
        )
        return Field(node.name, "RECORD", mode, children)
    return Field(node.name, type_, mode)


def _unify(path: str, types: dict[str, str], conflicts: list[TypeConflict], source: str) -> str:
    kinds = set(types)
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= {"INT64", "FLOAT64", "NUMERIC"}:
        return "FLOAT64" if "FLOAT64" in kinds else "NUMERIC"
    if kinds <= _TEMPORAL:
        return "TIMESTAMP"
    if kinds <= _TEMPORAL | {"STRING"}:
        return "STRING"
    _conflict(path, types, conflicts, source)
    return next(iter(types))


def _conflict(
    path: str, types: dict[str, str], conflicts: list[TypeConflict], source: str, *, nested: bool = False
) -> None:
    where = ", ".join(f"{loc} ({kind})" for kind, loc in types.items())
    if nested:
        where = f"{where}: BigQuery has no arrays of arrays"
    conflicts.append(TypeConflict(path=path, types=tuple(types), where=f"{source}: {where}" if source else where))
