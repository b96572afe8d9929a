"""Type mapping between BigQuery's vocabulary and DuckDB's, both ways."""

from __future__ import annotations

from pipeline_canary.schema.model import Field, normalize_type

_BQ_TO_DUCK = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "DATETIME": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMPTZ",
    "TIME": "TIME",
    "JSON": "JSON",
    "BYTES": "BLOB",
    "BIGNUMERIC": "DECIMAL(38,9)",
    "GEOGRAPHY": "VARCHAR",
}

_DUCK_TO_BQ = {
    "VARCHAR": "STRING",
    "BIGINT": "INT64",
    "INTEGER": "INT64",
    "SMALLINT": "INT64",
    "TINYINT": "INT64",
    "HUGEINT": "INT64",
    "UBIGINT": "INT64",
    "UINTEGER": "INT64",
    "DOUBLE": "FLOAT64",
    "FLOAT": "FLOAT64",
    "REAL": "FLOAT64",
    "BOOLEAN": "BOOL",
    "DATE": "DATE",
    "TIMESTAMP": "DATETIME",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "TIMESTAMPTZ": "TIMESTAMP",
    "TIME": "TIME",
    "JSON": "JSON",
    "BLOB": "BYTES",
}


def bq_to_duckdb(field: Field) -> str:
    """The DuckDB column type for a BigQuery field (REPEATED becomes a list, RECORD a STRUCT)."""
    base = normalize_type(field.type)
    if base == "RECORD":
        inner = ", ".join(f'"{f.name}" {bq_to_duckdb(f)}' for f in field.fields)
        duck = f"STRUCT({inner})"
    elif base == "NUMERIC":
        raw = field.type.strip().upper()
        duck = "DECIMAL" + raw[raw.index("(") :] if "(" in raw else "DECIMAL(38,9)"
    else:
        mapped = _BQ_TO_DUCK.get(base)
        if mapped is None:
            raise ValueError(f"no DuckDB type for BigQuery type {field.type!r} (field {field.name!r})")
        duck = mapped
    return f"{duck}[]" if field.mode == "REPEATED" else duck


def duckdb_to_field(name: str, duck_type: str, nullable: bool = True) -> Field:
    """Turn a DuckDB column description back into a BigQuery-style Field."""
    text = duck_type.strip()
    mode = "NULLABLE" if nullable else "REQUIRED"
    if text.endswith("[]"):
        inner = duckdb_to_field(name, text[:-2])
        return Field(name=name, type=inner.type, mode="REPEATED", fields=inner.fields)
    upper = text.upper()
    if upper.startswith("STRUCT(") and text.endswith(")"):
        members = [_split_member(m) for m in _split_top_level(text[len("STRUCT(") : -1])]
        return Field(
            name=name,
            type="RECORD",
            mode=mode,
            fields=tuple(duckdb_to_field(n, t) for n, t in members),
        )
    if upper.startswith("DECIMAL") or upper.startswith("NUMERIC"):
        suffix = text[text.index("(") :] if "(" in text else ""
        return Field(name=name, type=f"NUMERIC{suffix}", mode=mode)
    return Field(name=name, type=_DUCK_TO_BQ.get(upper, upper), mode=mode)


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _split_member(text: str) -> tuple[str, str]:
    if text.startswith('"'):
        end = text.index('"', 1)
        return text[1:end], text[end + 1 :].strip()
    name, _, type_ = text.partition(" ")
    return name, type_.strip()
