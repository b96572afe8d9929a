"""Compile a file canary: every statement checked with sqlglot, every metric a statement returns.

Problems are gathered for the whole file and raised as one ConfigError, each line naming the file,
the line and the key (``canaries/x.toml:14: statements[0].sql: uses @as_off, which ...``).
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

from pipeline_canary.canary_files import spec as specs
from pipeline_canary.errors import ConfigError

if TYPE_CHECKING:
    from pipeline_canary.canary_files.canary import CompiledCanary, FileCanary
    from pipeline_canary.canary_files.sql import Compiled


def compile_canary(canary: FileCanary) -> CompiledCanary:
    from pipeline_canary.canary_files.canary import CompiledCanary
    from pipeline_canary.canary_files.sql import SQLProblem, compile_statement

    spec = canary.spec
    problems: list[str] = []
    provided = canary.provided_params()
    tables = set(canary.table_specs)
    statements: list[tuple[str, Compiled]] = []
    used_tables: set[str] = set()
    owner: dict[str, int] = {}
    for text in [s.sql for s in spec.statements] + [e.sql for e in spec.evidence]:
        used_tables |= _placeholders(text)
    for i, statement in enumerate(spec.statements):
        name = statement.name or (f"statement_{i + 1}" if len(spec.statements) > 1 else "metrics")
        try:
            compiled = compile_statement(statement.sql, tables, provided, metrics=True)
        except SQLProblem as exc:
            problems.append(canary.problem(("statements", i, "sql"), str(exc)))
            continue
        for column in compiled.columns:
            if column in owner:
                problems.append(
                    canary.problem(
                        ("statements", i, "sql"),
                        f"returns {column!r}, which statements[{owner[column]}] returns too; metric names are unique",
                    )
                )
            owner[column] = i
        statements.append((name, compiled))
    evidence = []
    for i, item in enumerate(spec.evidence):
        try:
            compiled = compile_statement(item.sql, tables, provided, metrics=item.line is not None)
            _needs_limit(item.sql)
        except SQLProblem as exc:
            hint = " (a line names its columns: give each one a name)" if item.line is not None else ""
            problems.append(canary.problem(("evidence", i, "sql"), f"{exc}{hint}"))
            continue
        if item.line is not None:
            problem = specs.text_problem(item.line, set(compiled.columns), "a column of the evidence query")
            if problem:
                problems.append(canary.problem(("evidence", i, "line"), problem))
        evidence.append((item, compiled))
    for name in sorted(tables - used_tables):
        problems.append(canary.problem(("tables", name), f"{{{name}}} is declared but no statement reads it"))
    metrics = tuple(owner)
    if len(statements) == len(spec.statements):  # metric names are known only when every statement compiled
        problems += _metric_problems(canary, set(metrics), provided)
    if problems:
        raise ConfigError("\n".join(problems))
    return CompiledCanary(statements=tuple(statements), evidence=tuple(evidence), metrics=metrics)


def _metric_problems(canary: FileCanary, metrics: set[str], provided: set[str]) -> list[str]:
    spec = canary.spec
    returned = ", ".join(sorted(metrics))
    problems = []
    for i, check in enumerate(spec.checks):
        if check.metric not in metrics:
            problems.append(
                canary.problem(
                    ("checks", i, "metric"), f"no statement returns {check.metric!r} (they return: {returned})"
                )
            )
    if spec.skip is not None:
        if spec.skip.when_zero not in metrics:
            problems.append(
                canary.problem(("skip", "when_zero"), f"no statement returns {spec.skip.when_zero!r} ({returned})")
            )
        problems += _text_problems(canary, ("skip", "reason"), spec.skip.reason, metrics | provided)
    if spec.summary is not None:
        problems += _text_problems(canary, ("summary",), spec.summary, metrics | provided)
    if spec.headline is not None:
        for j, metric in enumerate(spec.headline.metrics):
            if metric not in metrics:
                problems.append(
                    canary.problem(("headline", "metrics", j), f"no statement returns {metric!r} ({returned})")
                )
    for metric, table in spec.baseline.items():
        per = table.get("per") if isinstance(table, dict) else None
        for key, name in (((), metric), (("per",), per)):
            if name is not None and name not in metrics:
                where = ("baseline", metric, *key)
                problems.append(canary.problem(where, f"no statement returns {name!r} (they return: {returned})"))
    return problems


def _text_problems(canary: FileCanary, key: tuple[str, ...], text: str, names: set[str]) -> list[str]:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        return [canary.problem(key, f"malformed {{placeholder}} ({exc}); write a literal brace as {{{{ or }}}}")]
    unknown = sorted({f for f in fields if f not in names})
    if unknown:
        known = ", ".join(sorted(names))
        return [
            canary.problem(
                key, f"{', '.join('{' + u + '}' for u in unknown)} is neither a metric nor a parameter ({known})"
            )
        ]
    return []


def _placeholders(template: str) -> set[str]:
    from pipeline_canary.canary_files.sql import SQLProblem, placeholders

    try:
        return placeholders(template)
    except SQLProblem:  # reported with the statement
        return set()


def _needs_limit(sql: str) -> None:
    """Evidence is for people: its SQL says how many rows (``LIMIT n``, at most MAX_EVIDENCE_ROWS kept)."""
    import sqlglot

    from pipeline_canary.canary_files.sql import SQLProblem

    rendered = sql.format_map({t: f"`t`.`{t}`" for t in _placeholders(sql)})
    tree = sqlglot.parse_one(rendered, read="bigquery")
    if tree.args.get("limit") is None:
        raise SQLProblem(f"has no LIMIT: evidence rows are shown to people, say how many (LIMIT 20; at most "
                         f"{specs.MAX_EVIDENCE_ROWS} are kept)")  # fmt: skip
