"""Translate canary SQL, written once in BigQuery's dialect, to a backend's dialect."""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping

from pipeline_canary.errors import WarehouseError

_PARAM = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")


@functools.lru_cache(maxsize=512)
def translate(sql: str, dialect: str) -> str:
    """BigQuery SQL to ``dialect`` (cached: canaries send the same statements every run)."""
    if dialect == "bigquery":
        return sql
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        statements = sqlglot.transpile(sql, read="bigquery", write=dialect)
    except ParseError as exc:
        raise WarehouseError(f"canary SQL does not parse as BigQuery SQL: {exc}") from exc
    if len(statements) != 1:
        raise WarehouseError(f"expected one SQL statement, got {len(statements)}")
    return statements[0]


def parameter_names(sql: str) -> set[str]:
    """The ``@name`` query parameters a BigQuery statement uses."""
    return set(_PARAM.findall(sql))


def render(template: str, tables: Mapping[str, str]) -> str:
    """Fill ``{placeholder}`` table names; values must already be validated, quoted identifiers."""
    names = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    missing = names - set(tables)
    if missing:
        raise WarehouseError(f"SQL template needs tables {sorted(missing)} that were not given")
    return template.format_map(dict(tables))
