"""When a canary file's verdict can change within a game day: the write times of the rows it reads.

A file whose SQL compares the run's ``now`` only as ``written_at <= @now`` (``[tables.X]
written_at``) sees new rows exactly when one of those tables is written: the distinct write times
are its change points (backtests evaluate it after each, and carry its result forward between
them). Any other use of ``@now`` (``TIMESTAMP_DIFF(@now, ...)``: the verdict moves with the clock)
leaves the points unknown. The rows looked at are bounded by the file's ``[window]``: those of game dates from
``@window_start`` to ``@window_end`` (a file that declares both a window and ``written_at`` reads
that table within its window); a partitioned table (``partitioned = true``, or a configured
pipeline table) in a file without a ``[window]`` has no known bound, so its points are unknown.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline_canary.canaries.base import CheckContext
    from pipeline_canary.canary_files.canary import FileCanary, FileSettings


@cache  # a canary's SQL never changes: parsed once per canary
def writes_read(canary: FileCanary) -> dict[str, str] | None:
    """Placeholder -> written_at column of the tables whose writes change the verdict (``{}``: none).

    None when some statement or evidence query uses ``@now`` other than as ``written_at <= @now``
    of a table it reads (the verdict may change at any moment).
    """
    import sqlglot
    from sqlglot import exp

    from pipeline_canary.canary_files.sql import placeholders

    declared = {p: t.written_at for p, t in canary.table_specs.items() if t.written_at is not None}
    used: dict[str, str] = {}
    for text in [s.sql for s in canary.spec.statements] + [e.sql for e in canary.spec.evidence]:
        if "@now" not in text:
            continue
        read = {p: c for p, c in declared.items() if p in placeholders(text)}
        tree = sqlglot.parse_one(text.format_map({p: f"`_t`.`{p}`" for p in placeholders(text)}), read="bigquery")
        for param in tree.find_all(exp.Parameter):
            if param.name != "now":
                continue
            if not _filters_writes(param, set(read.values())):
                return None
        used.update(read)
    return used


def _filters_writes(param: Any, columns: set[str]) -> bool:
    """``column <= @now`` (or ``@now >= column``) with ``column`` a written_at of a table read."""
    from sqlglot import exp

    node = param.parent
    if isinstance(node, exp.LTE) and node.right is param:
        column = node.left
    elif isinstance(node, exp.GTE) and node.left is param:
        column = node.right
    else:
        return False
    return isinstance(column, exp.Column) and column.name in columns


def write_times_sql(canary: FileCanary, placeholder: str) -> str | None:
    """The statement listing ``placeholder``'s write times in ``(@since, @until]``; None: no bound known.

    Identifiers come from the validated file (quoted); every value is a query parameter.
    """
    table = canary.table_specs[placeholder]
    column = table.written_at
    assert column is not None
    guarded = table.partitioned or "." not in table.table  # the configured pipeline tables always are
    where = [f"`{column}` > @since", f"`{column}` <= @until"]
    if canary.spec.window is not None and (guarded or "game_date" in table.columns):
        where.append("game_date BETWEEN @window_start AND @window_end")
    elif guarded:
        return None  # a partition filter is needed, and none is known
    return f"SELECT DISTINCT `{column}` AS written FROM {{{placeholder}}} WHERE {' AND '.join(where)}"


def write_times(
    canary: FileCanary, ctx: CheckContext, settings: FileSettings, since: dt.datetime, until: dt.datetime
) -> list[dt.datetime] | None:
    """The distinct write times in ``(since, until]`` of the tables whose writes change the verdict."""
    tables = writes_read(canary)
    if tables is None:
        return None
    points: list[dt.datetime] = []
    params = canary.run_params(ctx, settings)
    bind: dict[str, Any] = {"since": since, "until": until}
    bind |= {k: params[k] for k in ("window_start", "window_end") if k in params}
    for placeholder in tables:
        sql = write_times_sql(canary, placeholder)
        if sql is None:
            return None
        rendered = canary.query_template(ctx, settings, sql)
        used = {k: v for k, v in bind.items() if f"@{k}" in sql}
        for row in ctx.query(rendered, **used).records():
            if row["written"] is not None:
                points.append(_aware(row["written"]))
    return points


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
