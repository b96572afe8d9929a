"""The canary file format: what one TOML file declares, validated (README, "Canary files").

Structure only: pydantic checks the keys and their types, :func:`check_spec` what ties them together
(thresholds and windows naming declared parameters, table references, names). What needs the SQL
parsed (metric columns, parameters used) is checked when the statements are compiled
(``pipeline_canary.canary_files.sql``), never by ``canary list``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline_canary.game_calendar import RunOn, SkipOn

NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Parameters every statement may use, from the run; a declared [window] adds WINDOW_PARAMS.
RUN_PARAMS = ("as_of", "now", "timezone")
WINDOW_PARAMS = ("window_start", "window_end")
# Keys of [checkpoints.NAME] that are not parameters.
SETTING_KEYS = ("tier", "tables", "baseline")
RESERVED = frozenset((*RUN_PARAMS, *WINDOW_PARAMS, *SETTING_KEYS))
PIPELINE_TABLES = ("schedule_table", "predictions_table", "feature_store_table")
MAX_EVIDENCE_ROWS = 1000
ParamValue = bool | int | float | str | dt.date | list[str] | list[int]
Problem = tuple[tuple[str | int, ...], str]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _one_or_many(value: Any) -> Any:
    """``[evidence]`` (one table) reads like ``[[evidence]]`` with one entry."""
    return [value] if isinstance(value, dict) else value


class ParamSpec(_Spec):
    """``[params.NAME]``: a configured value with its default, optional bounds and a description."""

    default: ParamValue
    min: float | None = None
    max: float | None = None
    # "@other": this number must stay at most / at least another numeric parameter (a warn line
    # below its fail line), checked for the defaults and for every configured value.
    at_most: str | None = None
    at_least: str | None = None
    description: str = ""

    def order_rules(self) -> list[tuple[str, str]]:
        """``(other parameter, "at_most" | "at_least")`` for each ordering rule of this parameter."""
        rules = [(self.at_most, "at_most"), (self.at_least, "at_least")]
        return [(value[1:], rule) for value, rule in rules if value is not None]


def order_problem(name: str, value: Any, rule: str, other: str, other_value: Any) -> str | None:
    """Why ``name = value`` breaks its ordering rule against ``other = other_value``, or None."""
    if rule == "at_most" and value > other_value:
        return f"{name} ({value!r}) must not exceed {other} ({other_value!r})"
    if rule == "at_least" and value < other_value:
        return f"{name} ({value!r}) must not be below {other} ({other_value!r})"
    return None


class TableSpec(_Spec):
    """``[tables.NAME]``: the table behind ``{NAME}``, the columns the SQL reads, and the partition guard."""

    table: str
    columns: list[str] = Field(default_factory=list)
    partitioned: bool = False  # queries must filter on game_date (the configured pipeline tables always must)
    # The column that records when a row was written (created_at, processed_at): the statements that
    # read the table filter on it with @now, so a replay or a backtest sees the table as it was then.
    # It is one of the columns read (`canary canaries check` checks that it exists).
    written_at: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _reads_written_at(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("written_at"), str):
            columns = data.get("columns", [])
            if isinstance(columns, list) and data["written_at"] not in columns:
                data = {**data, "columns": [*columns, data["written_at"]]}
        return data


class StatementSpec(_Spec):
    """``[[statements]]``: one SELECT returning one row; each column is a metric."""

    name: str | None = None
    sql: str


class CheckFileSpec(_Spec):
    """``[[checks]]``: a metric and its bounds (a number or ``"@param"``) and what crossing them means."""

    name: str
    metric: str
    min: float | str | None = None
    max: float | str | None = None
    level: Literal["fail", "warn"] = "fail"
    description: str = ""  # {param} placeholders are filled in with the configured values
    evidence: list[str] = Field(default_factory=list)  # the [[evidence]] tables that explain it


class EvidenceSpec(_Spec):
    """``[[evidence]]``: rows shown to people when a check fails or warns (``when = "always"``: every run)."""

    name: str = "evidence"
    sql: str
    when: Literal["failing", "always"] = "failing"
    # One row in words for people (terminal, Slack, dashboard): {column} placeholders of its columns.
    line: str | None = None


class SkipSpec(_Spec):
    """``[skip]``: nothing to judge when the metric ``when_zero`` is 0 or NULL (skipped with ``reason``)."""

    when_zero: str
    reason: str


class WindowSpec(_Spec):
    """``[window]``: ``@window_start`` / ``@window_end`` = ``@as_of`` plus these days.

    Each is an integer, ``"@param"`` or ``"-@param"`` (that many days before the as-of date).
    """

    start_days: int | str
    end_days: int | str = 0


class CalendarSpec(_Spec):
    """``[calendar]``: when the canary runs by the game calendar, and when it does not."""

    run_on: list[RunOn] = Field(default_factory=lambda: list[RunOn](["always"]))
    skip_on: list[SkipOn] = Field(default_factory=list)
    # "HH:MM" (pipeline timezone) or "@param": before then on the as-of day the canary is pending.
    due_by: str | None = None


class HeadlineSpec(_Spec):
    """``[headline]``: the trend the dashboard charts for the canary (metrics summed per day)."""

    metrics: list[str]
    title: str
    unit: str = ""


class CanaryFileSpec(_Spec):
    name: str | None = None
    title: str
    description: str
    severity: Literal["critical", "warning"] = "critical"
    runbook: str
    tier: str = "routine"
    order: Annotated[int, Field(ge=0, le=10_000)] = 100
    about_game_day: bool = True
    summary: str | None = None
    calendar: CalendarSpec = CalendarSpec()
    window: WindowSpec | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    tables: dict[str, Any] = Field(default_factory=dict)
    statements: Annotated[list[StatementSpec], Field(min_length=1)]
    checks: Annotated[list[CheckFileSpec], Field(min_length=1)]
    evidence: list[EvidenceSpec] = Field(default_factory=list)
    skip: SkipSpec | None = None
    headline: HeadlineSpec | None = None
    # [baseline.METRIC]: learned bands (pipeline_canary.baselines; checked when settings are parsed)
    baseline: dict[str, Any] = Field(default_factory=dict)

    _one_statement = field_validator("statements", "checks", "evidence", mode="before")(_one_or_many)


def parse_param(value: Any) -> ParamSpec:
    """A ``[params]`` entry: a plain value (its default) or a table with ``default`` and bounds."""
    if isinstance(value, dict):
        return ParamSpec.model_validate(value)
    return ParamSpec.model_validate({"default": value})


def parse_table(value: Any) -> TableSpec:
    """A ``[tables]`` entry: a table name (or a configured table's key), or a table of options."""
    if isinstance(value, dict):
        return TableSpec.model_validate(value)
    return TableSpec.model_validate({"table": value})


def param_problem(name: str, spec: ParamSpec) -> str | None:
    """What is wrong with a declared parameter, or None."""
    default = spec.default
    if isinstance(default, list):
        if not default:
            return "an empty list has no element type; give at least one value"
        kinds = {type(v) for v in default}
        if len(kinds) != 1 or kinds.pop() not in (str, int):
            return "a list parameter holds strings or integers, all of one type"
    bounded = spec.min is not None or spec.max is not None
    if isinstance(default, bool) or not isinstance(default, int | float):
        return "min and max apply to numbers only" if bounded else None
    if spec.min is not None and default < spec.min:
        return f"default {default} is below min {spec.min:g}"
    if spec.max is not None and default > spec.max:
        return f"default {default} is above max {spec.max:g}"
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        return f"min {spec.min:g} is above max {spec.max:g}"
    return None


def check_value(name: str, spec: ParamSpec, value: Any) -> str | None:
    """Why ``value`` cannot replace ``spec``'s default (a configured override), or None."""
    default = spec.default
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        wanted = "true or false (a TOML boolean)"
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        wanted = "an integer"
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        wanted = "a number"
    elif isinstance(default, str):
        ok, wanted = isinstance(value, str), "a string"
    elif isinstance(default, dt.date):
        ok, wanted = isinstance(value, dt.date) and not isinstance(value, dt.datetime), "a date (2026-02-08)"
    else:
        kind = type(default[0])
        ok = isinstance(value, list) and bool(value) and all(type(v) is kind for v in value)
        wanted = f"a non-empty list of {'strings' if kind is str else 'integers'}"
    if not ok:
        return f"must be {wanted} (got {value!r})"
    if isinstance(value, int | float) and not isinstance(value, bool):
        import math

        if not math.isfinite(value):
            return f"must be a finite number (got {value!r})"
        if spec.min is not None and value < spec.min:
            return f"must be at least {spec.min:g} (got {value!r})"
        if spec.max is not None and value > spec.max:
            return f"must be at most {spec.max:g} (got {value!r})"
    return None


def reference(value: Any) -> str | None:
    """The parameter a ``"@name"`` reference names, or None for a plain value."""
    return value[1:] if isinstance(value, str) and value.startswith("@") else None


def check_spec(spec: CanaryFileSpec, stem: str) -> list[Problem]:
    """What ties the file's parts together; each problem with the key it is about."""
    problems: list[Problem] = []
    if spec.name is not None and spec.name != stem:
        problems.append(
            (("name",), f"{spec.name!r} differs from the file name {stem!r}: name the file {spec.name}.toml")
        )
    if not NAME.fullmatch(spec.name or stem):
        problems.append(
            (
                ("name",),
                f"{(spec.name or stem)!r} is not a canary name: lowercase letters, digits and _, a letter first",
            )
        )
    if not NAME.fullmatch(spec.tier):
        problems.append((("tier",), f"{spec.tier!r} is not a tier name: lowercase letters, digits and _"))
    params: dict[str, ParamSpec] = {}
    for name, raw in spec.params.items():
        where = ("params", name)
        if not IDENT.fullmatch(name):
            problems.append((where, f"{name!r} is not a parameter name: letters, digits and _, not a digit first"))
            continue
        if name in RESERVED:
            problems.append((where, f"{name!r} is reserved ({', '.join(sorted(RESERVED))} are given by the run)"))
            continue
        try:
            param = parse_param(raw)
        except ValueError as exc:
            problems += [((*where, *_loc(e)), _msg(e)) for e in getattr(exc, "errors", lambda: [])()]
            continue
        problem = param_problem(name, param)
        if problem:
            problems.append((where, problem))
        else:
            params[name] = param
    for name, param in params.items():
        for rule in ("at_most", "at_least"):
            value = getattr(param, rule)
            if value is not None:
                problem = _order_rule_problem(name, param, rule, value, params, spec.params)
                if problem:
                    problems.append((("params", name, rule), problem))
    for name, raw in spec.tables.items():
        where = ("tables", name)
        if not IDENT.fullmatch(name):
            problems.append((where, f"{name!r} is not a placeholder name: letters, digits and _"))
            continue
        try:
            table = parse_table(raw)
        except ValueError as exc:
            problems += [((*where, *_loc(e)), _msg(e)) for e in getattr(exc, "errors", lambda: [])()]
            continue
        problem = table_problem(table.table)
        if problem:
            problems.append(((*where, "table") if isinstance(raw, dict) else where, problem))
        for i, column in enumerate(table.columns):
            if not IDENT.fullmatch(column):
                key = (*where, "written_at") if column == table.written_at else (*where, "columns", i)
                problems.append((key, f"{column!r} is not a column name"))
        if table.written_at is not None:
            unfiltered = [s for s in spec.statements if "{" + name + "}" in s.sql and "@now" not in s.sql]
            if unfiltered:
                problems.append(
                    (
                        (*where, "written_at"),
                        f"{len(unfiltered)} statement(s) read {{{name}}} without @now: filter them with "
                        f"{table.written_at} <= @now (rows written later did not exist at the run's now)",
                    )
                )
    calendar = spec.calendar
    if not calendar.run_on:
        problems.append((("calendar", "run_on"), 'give at least one of "game_days", "days_after_game_days", "always"'))
    elif "always" in calendar.run_on and len(calendar.run_on) > 1:
        problems.append((("calendar", "run_on"), '"always" includes every day: give it alone'))
    if calendar.due_by is not None:
        problem = due_problem(calendar.due_by, spec.params)
        if problem:
            problems.append((("calendar", "due_by"), problem))
    seen: set[str] = set()
    for i, check in enumerate(spec.checks):
        if not IDENT.fullmatch(check.name):
            problems.append((("checks", i, "name"), f"{check.name!r} is not a check name: letters, digits and _"))
        if check.name in seen:
            problems.append((("checks", i, "name"), f"two checks are named {check.name!r}"))
        seen.add(check.name)
        if check.min is None and check.max is None:
            problems.append((("checks", i), "give min, max or both"))
        for bound in ("min", "max"):
            problem = _number_or_param(getattr(check, bound), params, spec.params, numeric=True)
            if problem:
                problems.append((("checks", i, bound), problem))
        problem = text_problem(check.description, set(spec.params), "a parameter")
        if problem:
            problems.append((("checks", i, "description"), problem))
        for j, explains in enumerate(check.evidence):
            if explains not in {e.name for e in spec.evidence}:
                known = ", ".join(e.name for e in spec.evidence) or "none declared"
                problems.append((("checks", i, "evidence", j), f"{explains!r} is not an [[evidence]] name ({known})"))
    names = [s.name for s in spec.statements if s.name is not None]
    for i, statement in enumerate(spec.statements):
        if statement.name is not None and not IDENT.fullmatch(statement.name):
            problems.append((("statements", i, "name"), f"{statement.name!r} is not a statement name"))
        if statement.name is not None and names.count(statement.name) > 1:
            problems.append((("statements", i, "name"), f"two statements are named {statement.name!r}"))
    evidence = [e.name for e in spec.evidence]
    for i, item in enumerate(spec.evidence):
        if not IDENT.fullmatch(item.name):
            problems.append((("evidence", i, "name"), f"{item.name!r} is not an evidence name"))
        elif evidence.count(item.name) > 1:
            problems.append((("evidence", i, "name"), f"two evidence queries are named {item.name!r}: name them"))
    if spec.window is not None:
        for bound in ("start_days", "end_days"):
            value = getattr(spec.window, bound)
            if isinstance(value, str) and value.startswith("-@"):
                value = value[1:]  # "-@param": that many days before
            problem = _number_or_param(value, params, spec.params, numeric=False)
            if problem:
                problems.append((("window", bound), problem))
            elif isinstance(value, int) and abs(value) > 3660:
                problems.append((("window", bound), f"{value} days is more than ten years"))
    return problems


def text_problem(text: str, names: set[str], kind: str) -> str | None:
    """What is wrong with the ``{name}`` placeholders of ``text`` (each must be one of ``names``), or None."""
    import string

    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        return f"malformed {{placeholder}} ({exc}); write a literal brace as {{{{ or }}}}"
    unknown = sorted({f for f in fields if f not in names})
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        return f"{', '.join('{' + u + '}' for u in unknown)} is not {kind} ({known})"
    return None


def _order_rule_problem(
    name: str, param: ParamSpec, rule: str, value: str, params: dict[str, ParamSpec], declared: dict[str, Any]
) -> str | None:
    other = reference(value)
    if other is None:
        return f'{value!r} is not "@param" naming a numeric parameter'
    if not _is_number(param.default):
        return "ordering rules apply to numbers only"
    if other == name:
        return "a parameter is not ordered against itself"
    problem = _number_or_param(value, params, declared, numeric=True)
    if problem is None and other in params:
        broken = order_problem(name, param.default, rule, other, params[other].default)
        problem = broken and f"the defaults break the rule: {broken}"
    return problem


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def due_problem(value: Any, params: dict[str, Any]) -> str | None:
    """``[calendar] due_by`` is a local time ``"HH:MM"`` or names a ``[params]`` string holding one."""
    from pipeline_canary.canaries._deadlines import parse_local_time

    name = reference(value)
    if name is not None:
        if name not in params:
            return f'@{name} is not declared in [params] (declare {name} = "10:00")'
        raw = params[name]
        value = raw.get("default") if isinstance(raw, dict) else raw
    try:
        parse_local_time(value)
    except ValueError as exc:
        return str(exc)
    return None


def table_problem(value: str) -> str | None:
    """A ``[tables]`` value names a configured pipeline table or is ``dataset.table``."""
    from pipeline_canary.errors import ConfigError
    from pipeline_canary.warehouse.base import TableRef

    if "." not in value:
        if value in PIPELINE_TABLES:
            return None
        return (
            f"{value!r} is neither a configured table ({', '.join(PIPELINE_TABLES)}) nor a table name "
            "(dataset.table or project.dataset.table)"
        )
    try:
        TableRef.parse(value)
    except ConfigError as exc:
        return str(exc)
    return None


def _number_or_param(
    value: Any, params: dict[str, ParamSpec], declared: dict[str, Any], *, numeric: bool
) -> str | None:
    name = reference(value)
    if name is None:
        if isinstance(value, str):
            return f'{value!r} is neither a number nor "@param" naming one of [params]'
        return None
    if name not in declared:
        known = ", ".join(f"@{n}" for n in declared) or "none declared"
        return f"@{name} is not declared in [params] ({known})"
    param = params.get(name)
    if param is None:
        return None  # reported at the parameter itself
    default = param.default
    if isinstance(default, bool) or not isinstance(default, int | float):
        return f"@{name} is not a number"
    if not numeric and not isinstance(default, int):
        return f"@{name} is not an integer (days)"
    return None


def _loc(error: Any) -> tuple[str | int, ...]:
    return tuple(error.get("loc", ()))


def _msg(error: Any) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown key"
    if error.get("type") == "missing":
        return "required key is missing"
    return f"{str(error.get('msg')).removeprefix('Value error, ')} (got {error.get('input')!r})"
