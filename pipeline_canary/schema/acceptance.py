"""Which worker value types a BigQuery column accepts, and how a field is spelled in DDL.

The worker hands BigQuery plain JSON rows (a load job with the table's schema and
``autodetect=False``), so every value travels as a JSON number, boolean, string, array or object.
That decides what a column of another type will take. The acceptance table, worker type (rows)
into table column type (columns), compared on normalized families:

================  ===========================================================================
worker writes     the table column accepts it when it is ...
================  ===========================================================================
INT64             INT64, FLOAT64, NUMERIC, BIGNUMERIC (BigQuery coerces the number)
FLOAT64           FLOAT64, NUMERIC, BIGNUMERIC (load coerces, NUMERIC rounds to 9 decimals);
                  *not* INT64 (1.5 is rejected)
NUMERIC           NUMERIC, BIGNUMERIC; FLOAT64 with a warning (precision is lost)
BIGNUMERIC        BIGNUMERIC; FLOAT64 or NUMERIC with a warning (values must fit)
BOOL              BOOL only
STRING            STRING, JSON (JSON text is parsed); GEOGRAPHY (WKT/GeoJSON text) and BYTES
                  (base64 text) with a warning; *not* INT64, FLOAT64, DATE, TIMESTAMP, ...
DATE              DATE, STRING; DATETIME or TIMESTAMP with a warning
DATETIME          DATETIME, TIMESTAMP (read as UTC), STRING
TIMESTAMP         TIMESTAMP, STRING; DATETIME with a warning (text with a UTC offset is
                  rejected by a DATETIME column)
TIME              TIME, STRING
JSON              JSON; STRING with a warning (JSON *text* loads, an object or array does not)
RECORD            RECORD (compared field by field, by path), JSON (an object loads into JSON)
BYTES             BYTES, STRING (base64 text)
GEOGRAPHY         GEOGRAPHY, STRING
anything else     the same family only
================  ===========================================================================

Modes are checked separately (see :func:`pipeline_canary.schema.compare.compare`): a REPEATED
value into a non-REPEATED column is rejected except by a JSON column (which stores the array),
and a non-REPEATED value -- including JSON *text* of an array -- into a REPEATED column is
rejected.
"""

from __future__ import annotations

from typing import Literal

from pipeline_canary.schema.model import Field, normalize_type

Verdict = Literal["ok", "warn", "reject"]

_ACCEPTS: dict[str, dict[str, tuple[Verdict, str]]] = {
    "INT64": {
        "FLOAT64": ("ok", ""),
        "NUMERIC": ("ok", ""),
        "BIGNUMERIC": ("ok", ""),
    },
    "FLOAT64": {
        "NUMERIC": ("ok", "values are rounded to NUMERIC's 9 decimal places"),
        "BIGNUMERIC": ("ok", ""),
    },
    "NUMERIC": {
        "BIGNUMERIC": ("ok", ""),
        "FLOAT64": ("warn", "NUMERIC values lose precision in a FLOAT64 column"),
    },
    "BIGNUMERIC": {
        "FLOAT64": ("warn", "BIGNUMERIC values lose precision in a FLOAT64 column"),
        "NUMERIC": ("warn", "values outside NUMERIC's range or scale are rejected"),
    },
    "STRING": {
        "JSON": ("ok", "the text must be valid JSON"),
        "GEOGRAPHY": ("warn", "the text must be WKT or GeoJSON"),
        "BYTES": ("warn", "the text must be base64"),
    },
    "DATE": {
        "STRING": ("ok", ""),
        "DATETIME": ("warn", "a date-only value into DATETIME depends on the load parser"),
        "TIMESTAMP": ("warn", "a date-only value into TIMESTAMP depends on the load parser"),
    },
    "DATETIME": {"TIMESTAMP": ("ok", "read as UTC"), "STRING": ("ok", "")},
    "TIMESTAMP": {
        "STRING": ("ok", ""),
        "DATETIME": ("warn", "timestamps written with a UTC offset are rejected by DATETIME"),
    },
    "TIME": {"STRING": ("ok", "")},
    "JSON": {"STRING": ("warn", "JSON text loads into STRING, a JSON object or array does not")},
    "RECORD": {"JSON": ("ok", "the object is stored as JSON")},
    "BYTES": {"STRING": ("ok", "base64 text")},
    "GEOGRAPHY": {"STRING": ("ok", "")},
}

# Column type changes BigQuery's ALTER COLUMN ... SET DATA TYPE allows (coercible widenings).
_WIDENABLE: dict[str, frozenset[str]] = {
    "INT64": frozenset({"NUMERIC", "BIGNUMERIC", "FLOAT64"}),
    "NUMERIC": frozenset({"BIGNUMERIC", "FLOAT64"}),
}


def acceptance(worker_type: str, table_type: str) -> tuple[Verdict, str]:
    """``(verdict, note)`` for a worker value of ``worker_type`` loaded into a ``table_type`` column."""
    worker, table = normalize_type(worker_type), normalize_type(table_type)
    if worker == table:
        return "ok", ""
    return _ACCEPTS.get(worker, {}).get(table, ("reject", ""))


def widenable(table_type: str, worker_type: str) -> bool:
    """True when ``ALTER COLUMN SET DATA TYPE`` can turn the table's type into the worker's."""
    return normalize_type(worker_type) in _WIDENABLE.get(normalize_type(table_type), frozenset())


def scalar_ddl(field: Field) -> str:
    """The field's type without its mode: ``NUMERIC(5,1)``, ``INT64``, ``STRUCT<a INT64>``."""
    base = normalize_type(field.type)
    if base == "RECORD":
        inner = ", ".join(f"{f.name} {ddl_type(f)}" for f in field.fields)
        return f"STRUCT<{inner}>"
    raw = field.type.strip().upper()
    params = raw[raw.index("(") :].replace(" ", "") if "(" in raw else ""
    return base + params


def ddl_type(field: Field) -> str:
    """The field's type as DDL spells it: REPEATED becomes ``ARRAY<T>``, RECORD ``STRUCT<...>``."""
    scalar = scalar_ddl(field)
    return f"ARRAY<{scalar}>" if field.mode.upper() == "REPEATED" else scalar


def describe(field: Field) -> str:
    """A short human label: ``ARRAY<INT64>``, ``STRING REQUIRED``, ``STRUCT<...>``."""
    text = ddl_type(field)
    if normalize_type(field.type) == "RECORD":
        text = "ARRAY<STRUCT>" if field.mode.upper() == "REPEATED" else "STRUCT"
    return f"{text} REQUIRED" if field.mode.upper() == "REQUIRED" else text
