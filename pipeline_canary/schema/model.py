"""A column as BigQuery describes it: name, type, mode and nested fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Legacy SQL names and aliases mapped to the Standard SQL type names BigQuery reports.
TYPE_ALIASES = {
    "INTEGER": "INT64",
    "INT": "INT64",
    "SMALLINT": "INT64",
    "BIGINT": "INT64",
    "TINYINT": "INT64",
    "BYTEINT": "INT64",
    "FLOAT": "FLOAT64",
    "BOOLEAN": "BOOL",
    "DECIMAL": "NUMERIC",
    "BIGDECIMAL": "BIGNUMERIC",
    "STRUCT": "RECORD",
}
MODES = ("NULLABLE", "REQUIRED", "REPEATED")


def normalize_type(type_: str) -> str:
    """``INTEGER`` -> ``INT64``, ``NUMERIC(5,1)`` -> ``NUMERIC``: the family BigQuery compares on."""
    base = type_.strip().upper().split("(", 1)[0].strip()
    return TYPE_ALIASES.get(base, base)


@dataclass(frozen=True)
class Field:
    """One column (or nested field) in BigQuery's vocabulary."""

    name: str
    type: str
    mode: str = "NULLABLE"
    fields: tuple[Field, ...] = ()

    @property
    def base_type(self) -> str:
        return normalize_type(self.type)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type, "mode": self.mode}
        if self.fields:
            data["fields"] = [f.to_dict() for f in self.fields]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Field:
        return cls(
            name=str(data["name"]),
            type=str(data.get("type", "STRING")).upper(),
            mode=str(data.get("mode") or "NULLABLE").upper(),
            fields=tuple(cls.from_dict(f) for f in data.get("fields") or ()),
        )


@dataclass(frozen=True)
class TypeConflict:
    """Sample records that disagree on one key's type (``INT64`` in one, ``STRING`` in another)."""

    path: str
    types: tuple[str, ...]
    where: str = ""  # e.g. "records.jsonl lines 3 and 7"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "types": list(self.types), "where": self.where}


@dataclass(frozen=True)
class WorkerSchema:
    """What the worker writes, from a contract or inferred from sample records.

    ``untyped`` holds the paths whose type is unknown (only nulls or empty arrays were seen);
    ``sampled`` is True when the fields were inferred from records, where NULLABLE means a null or
    absent value was actually seen (so it breaks a REQUIRED column).
    """

    fields: tuple[Field, ...]
    source: str = ""
    conflicts: tuple[TypeConflict, ...] = ()
    untyped: frozenset[str] = frozenset()
    sampled: bool = False
    record_count: int = 0
