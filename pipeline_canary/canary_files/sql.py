"""A canary file's SQL, checked with sqlglot (BigQuery dialect) before it is ever sent.

Each statement must be one SELECT (``WITH`` and set operations included: nothing that writes), use
only ``{placeholders}`` declared under ``[tables]`` and ``@parameters`` the run provides, and, for a
metrics statement, name every column it returns (``AS name``): its columns are the canary's
metrics. sqlglot is imported here only, when a run, ``canary canaries check`` or a dry run first
needs a canary's SQL; ``canary list`` never does.
"""

from __future__ import annotations

import string
from collections.abc import Collection
from dataclasses import dataclass

_PLACEHOLDER_TABLE = "_canary_placeholder"


class SQLProblem(ValueError):
    """What is wrong with one statement, in words for the file's author."""


@dataclass(frozen=True)
class Compiled:
    """A checked statement: the parameters it uses and, for a metrics statement, its columns."""

    template: str
    params: tuple[str, ...]
    columns: tuple[str, ...]


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of ``template``; SQLProblem for a malformed one (``{{`` is a brace)."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(template)]
    except ValueError as exc:
        raise SQLProblem(f"malformed {{placeholder}} ({exc}); write a literal brace as {{{{ or }}}}") from None
    found = set()
    for name, spec, conv in fields:
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise SQLProblem(f"{{{name}}} is not a table placeholder; write a literal brace as {{{{ or }}}}")
        found.add(name)
    return found


def compile_statement(template: str, tables: Collection[str], provided: Collection[str], *, metrics: bool) -> Compiled:
    """Check one statement; SQLProblem says what is wrong (first problem only: fix, then re-check)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    used_tables = placeholders(template)
    unknown = sorted(used_tables - set(tables))
    if unknown:
        declared = ", ".join(sorted(tables)) or "none"
        raise SQLProblem(
            f"uses {', '.join('{' + t + '}' for t in unknown)}, not declared under [tables] (declared: {declared})"
        )
    sql = template.format_map({t: f"`{_PLACEHOLDER_TABLE}`.`{t}`" for t in used_tables})
    try:
        statements = [s for s in sqlglot.parse(sql, read="bigquery") if s is not None]
    except ParseError as exc:
        raise SQLProblem(f"does not parse as BigQuery SQL: {_first(exc)}") from None
    if len(statements) != 1:
        raise SQLProblem(f"holds {len(statements)} statements; give one SELECT per entry")
    tree = statements[0]
    if not isinstance(tree, exp.Query) or _writes(tree):
        raise SQLProblem(f"is a {type(tree).__name__.upper()} statement; only SELECT (WITH ...) statements are allowed")
    used = sorted({p.name for p in tree.find_all(exp.Parameter)})
    unknown = [p for p in used if p not in provided]
    if unknown:
        given = ", ".join(f"@{p}" for p in sorted(provided))
        raise SQLProblem(
            f"uses {', '.join('@' + p for p in unknown)}, which the run does not provide "
            f"(provided: {given}; declare configured values under [params], window bounds under [window])"
        )
    columns: tuple[str, ...] = ()
    if metrics:
        columns = _metric_columns(tree)
    return Compiled(template=template, params=tuple(used), columns=columns)


def _metric_columns(tree: object) -> tuple[str, ...]:
    from sqlglot import exp

    assert isinstance(tree, exp.Query)
    selects = tree.selects
    names: list[str] = []
    for i, expression in enumerate(selects, start=1):
        if isinstance(expression, exp.Star) or (isinstance(expression, exp.Column) and expression.is_star):
            raise SQLProblem("returns * : name each metric column (SELECT COUNT(*) AS games ...)")
        name = expression.alias_or_name
        if not name or not (isinstance(expression, exp.Alias | exp.Column)):
            raise SQLProblem(f"column {i} ({expression.sql('bigquery')}) has no name: add AS metric_name")
        if name in names:
            raise SQLProblem(f"returns two columns named {name!r}")
        names.append(name)
    return tuple(names)


def _writes(tree: object) -> bool:
    from sqlglot import exp

    assert isinstance(tree, exp.Expression)
    kinds: list[type[exp.Expression]] = [exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop]
    kinds += [exp.Command, exp.Alter]
    return any(tree.find(kind) is not None for kind in kinds)


def _first(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
