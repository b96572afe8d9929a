"""Python values to BigQuery query parameters (values are always bound, never formatted into SQL)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from pipeline_canary.errors import WarehouseError


def scalar_type(name: str, value: Any) -> str:
    """The BigQuery type a Python value binds as; bool is tested before int (it is a subclass)."""
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, decimal.Decimal):
        return "NUMERIC"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, bytes):
        return "BYTES"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP" if value.tzinfo is not None else "DATETIME"
    if isinstance(value, dt.date):
        return "DATE"
    if isinstance(value, dt.time):
        return "TIME"
    raise WarehouseError(
        f"query parameter @{name}: cannot bind {type(value).__name__} {value!r} "
        "(use date, datetime, bool, int, float, Decimal, str, bytes or a list of one of these)"
    )


def to_query_parameters(params: Mapping[str, Any] | None) -> list[Any]:
    """ScalarQueryParameter / ArrayQueryParameter for each ``@name``; prebuilt parameters pass through."""
    from google.cloud import bigquery

    built: list[Any] = []
    for name, value in (params or {}).items():
        if isinstance(value, bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter):
            built.append(value)
        elif isinstance(value, list | tuple | set | frozenset):
            items = sorted(value) if isinstance(value, set | frozenset) else list(value)
            present = [v for v in items if v is not None]
            if not present:
                raise WarehouseError(
                    f"query parameter @{name}: an empty list has no element type; pass a "
                    "google.cloud.bigquery.ArrayQueryParameter with the type instead"
                )
            types = {scalar_type(name, v) for v in present}
            if len(types) != 1:
                raise WarehouseError(f"query parameter @{name}: list mixes types {sorted(types)}")
            built.append(bigquery.ArrayQueryParameter(name, types.pop(), items))
        elif value is None:
            raise WarehouseError(
                f"query parameter @{name} is None: its type cannot be inferred; pass a "
                "google.cloud.bigquery.ScalarQueryParameter(name, TYPE, None) for a typed NULL"
            )
        else:
            built.append(bigquery.ScalarQueryParameter(name, scalar_type(name, value), value))
    return built
