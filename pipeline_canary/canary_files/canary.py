"""A canary declared in a file: a :class:`Canary` like the built-in ones, built from its spec.

Each file becomes its own ``FileCanary`` subclass (the class attributes a Python canary writes by
hand: name, title, severity, reads, ...) and one instance of it, so the runner, GX, history,
alerts, reports, ``list`` and ``doctor`` treat it exactly like a Python canary.
"""

from __future__ import annotations

import datetime as dt
import decimal
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from pipeline_canary.baselines.spec import Baseline, metric_names
from pipeline_canary.canaries.base import Canary, CheckContext, CheckSpec, Headline, Observation, Query
from pipeline_canary.canary_files import spec as specs
from pipeline_canary.canary_files._lines import dotted, line_of
from pipeline_canary.config_messages import problems as config_problems
from pipeline_canary.errors import ConfigError, WarehouseError
from pipeline_canary.results import EvidenceTable, Threshold

if TYPE_CHECKING:
    from pipeline_canary.canary_files.sql import Compiled
    from pipeline_canary.config import PipelineConfig
    from pipeline_canary.warehouse.base import TableRef


@dataclass(frozen=True)
class FileSettings:
    """A file canary's settings: its parameters (defaults, then ``[checkpoints.NAME]``), tier, tables."""

    params: tuple[tuple[str, Any], ...]
    tier: str | None = None
    tables: tuple[tuple[str, str], ...] = ()
    baselines: tuple[tuple[str, Baseline], ...] = ()  # the file's [baseline.METRIC], then [checkpoints.NAME.baseline]

    def param(self, name: str) -> Any:
        return dict(self.params)[name]


@dataclass(frozen=True)
class CompiledCanary:
    statements: tuple[tuple[str, Compiled], ...]
    evidence: tuple[tuple[specs.EvidenceSpec, Compiled], ...]
    metrics: tuple[str, ...]


class _Text(string.Formatter):
    """``summary`` and ``[skip] reason``: ``{metric}``, ``{param}``, ``{as_of}``; NULL shows as NULL."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        if value is None:
            return "NULL"
        if isinstance(value, float) and not format_spec:
            return f"{value:g}"
        return super().format_field(value, format_spec)


class _Line(string.Formatter):
    """``[[evidence]] line`` and check descriptions: each value as it is (as ``key=value`` lines show it)."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        return "NULL" if value is None else super().format_field(value, format_spec)


class FileCanary(Canary):
    """Base of the classes built from canary files (``FileCanary.build``)."""

    spec: ClassVar[specs.CanaryFileSpec]
    path: ClassVar[Path]
    lines: ClassVar[dict[tuple[str | int, ...], int]]
    param_specs: ClassVar[dict[str, specs.ParamSpec]]
    table_specs: ClassVar[dict[str, specs.TableSpec]]

    def __init__(self) -> None:
        self._compiled: CompiledCanary | None = None
        self._compile_lock = threading.Lock()

    @classmethod
    def build(
        cls,
        path: Path,
        spec: specs.CanaryFileSpec,
        lines: dict[tuple[str | int, ...], int],
        source: str | None = None,
    ) -> FileCanary:
        """The canary of one validated file (spec.check_spec found no problem); ``source`` for listings."""
        name = spec.name or path.stem
        tables = {k: specs.parse_table(v) for k, v in spec.tables.items()}
        headline = None
        if spec.headline is not None:
            headline = Headline(tuple(spec.headline.metrics), spec.headline.title, spec.headline.unit)
        attrs: dict[str, Any] = {
            "name": name,
            "title": spec.title,
            "description": spec.description,
            "severity": spec.severity,
            "runbook": spec.runbook,
            "order": spec.order,
            "about_game_day": spec.about_game_day,
            "tier": spec.tier,
            "run_on": tuple(spec.calendar.run_on),
            "skip_on": tuple(spec.calendar.skip_on),
            "headline": headline,
            "source": source or str(path),
            "reads": {},  # keyed by [pipeline] table keys; a file's tables: table_refs and table_specs
            "spec": spec,
            "path": path,
            "lines": lines,
            "param_specs": {k: specs.parse_param(v) for k, v in spec.params.items()},
            "table_specs": tables,
        }
        subclass = type(f"FileCanary_{name}", (cls,), attrs)
        return subclass()

    # -- errors that point into the file ---------------------------------------------------
    def problem(self, key: tuple[str | int, ...], message: str) -> str:
        return f"{self.path}:{line_of(self.lines, key)}: {dotted(key)}: {message}"

    # -- settings --------------------------------------------------------------------------
    def parse_settings(self, values: Mapping[str, Any]) -> FileSettings:
        """The defaults with ``[checkpoints.NAME]`` applied; SettingsError names each key (and its source)."""
        from pipeline_canary.config_messages import Problem, SettingsError

        problems: list[Problem] = []
        params = {name: p.default for name, p in self.param_specs.items()}
        tier, tables = None, {}
        baselines = self._baselines(self.spec.baseline, None, problems)
        for key, value in values.items():
            where = f"checkpoints.{self.name}.{key}"
            if key == "baseline":
                baselines.update(self._baselines(value, where, problems))  # over the file's own
            elif key == "tier":
                if not isinstance(value, str) or not specs.NAME.fullmatch(value):
                    problems.append(Problem(where, f'must be a tier name such as "critical" (got {value!r})'))
                else:
                    tier = value
            elif key == "tables":
                if not isinstance(value, dict):
                    problems.append(Problem(where, f'must be a table of placeholder = "dataset.table" (got {value!r})'))
                    continue
                for placeholder, table in value.items():
                    if placeholder not in self.table_specs:
                        known = ", ".join(self.table_specs) or "none"
                        problems.append(
                            Problem(f"{where}.{placeholder}", f"unknown table (this canary reads: {known})")
                        )
                    elif not isinstance(table, str) or specs.table_problem(table):
                        problems.append(Problem(f"{where}.{placeholder}", str(specs.table_problem(str(table)))))
                    else:
                        tables[placeholder] = table
            elif key in self.param_specs:
                problem = specs.check_value(key, self.param_specs[key], value)
                if problem:
                    problems.append(Problem(where, problem))
                elif isinstance(self.param_specs[key].default, float):
                    params[key] = float(value)  # a float parameter stays one when configured as 20
                else:
                    params[key] = value
            else:
                problems.append(self._unknown(key))
        due = specs.reference(self.spec.calendar.due_by)
        if due is not None and due in values:
            problem = specs.due_problem(values[due], {})
            if problem:
                problems.append(Problem(f"checkpoints.{self.name}.{due}", f"{problem} (this canary's due time)"))
        if not problems:
            for name, param in self.param_specs.items():
                for other, rule in param.order_rules():
                    problem = specs.order_problem(name, params[name], rule, other, params[other])
                    if problem:
                        problems.append(Problem(f"checkpoints.{self.name}", problem, "section"))
        if problems:
            raise SettingsError(problems)
        return FileSettings(
            params=tuple(params.items()),
            tier=tier,
            tables=tuple(sorted(tables.items())),
            baselines=tuple(sorted(baselines.items())),
        )

    def _baselines(self, values: Any, where: str | None, problems: list[Any]) -> dict[str, Baseline]:
        """``[baseline.METRIC]`` tables as Baselines; each problem names its key.

        ``where`` is the configuration's key (``checkpoints.NAME.baseline``: problems are added to
        ``problems``); None: the file's own ``[baseline]``, whose problems name the file and the line
        and are raised at once (they are the file's, not the configuration's).
        """
        from pipeline_canary.config_messages import Problem

        in_file: list[str] = []

        def problem(key: tuple[str, ...], text: str) -> None:
            if where is None:
                in_file.append(self.problem(("baseline", *key), text))
            else:
                problems.append(Problem(".".join((where, *key)), text))

        if not isinstance(values, Mapping):
            problem((), f"must be a table of METRIC = {{ method = ... }} (got {values!r})")
            values = {}
        out: dict[str, Baseline] = {}
        for metric, table in values.items():
            try:
                metric_names({metric: None})
                out[metric] = Baseline.model_validate(table)
            except ValidationError as exc:
                for found in config_problems(exc, Baseline):
                    text = f"unknown key ({found.action()})" if found.kind == "unknown" else found.text
                    problem((metric, *filter(None, found.key.split("."))), text)
            except ValueError as exc:
                problem((metric,), str(exc))
        if in_file:
            raise ConfigError("; ".join(in_file))
        return out

    def _unknown(self, key: str) -> Any:
        """An unknown ``[checkpoints.NAME]`` key: the nearest setting, else every setting and the file."""
        from difflib import get_close_matches

        from pipeline_canary.config_messages import Problem

        known = [*self.param_specs, *specs.SETTING_KEYS]
        prefix = f"checkpoints.{self.name}"
        near = get_close_matches(key, known, n=1)
        if near:
            return Problem(
                f"{prefix}.{key}", f" (did you mean '{prefix}.{near[0]}'?)", "unknown", f"{prefix}.{near[0]}"
            )
        return Problem(
            f"{prefix}.{key}", f" (this canary's settings: {', '.join(known)}; defined in {self.path})", "unknown"
        )

    # -- checks ----------------------------------------------------------------------------
    def checks(self, settings: Any) -> list[CheckSpec]:
        out = []
        for check in self.spec.checks:
            threshold = Threshold(
                min=self._bound(check.min, settings), max=self._bound(check.max, settings), level=check.level
            )
            if check.description:
                description = _Line().vformat(check.description, (), dict(settings.params))
            else:
                description = f"{check.metric} {threshold.describe()}"
            out.append(
                CheckSpec(
                    name=check.name,
                    metric=check.metric,
                    threshold=threshold,
                    description=description,
                    evidence=tuple(check.evidence),
                )
            )
        return out

    def evidence_line(self, table: str, row: Mapping[str, Any]) -> str:
        """``[[evidence]] line`` filled in with the row's columns; ``key=value, ...`` without one."""
        template = next((e.line for e in self.spec.evidence if e.name == table), None)
        if template is None:
            return super().evidence_line(table, row)
        return _Line().vformat(template, (), dict(row))

    def _bound(self, value: float | str | None, settings: FileSettings) -> float | None:
        name = specs.reference(value)
        if name is not None:
            return float(settings.param(name))
        return None if value is None else float(value)

    # -- tables ----------------------------------------------------------------------------
    def table_refs(self, pipeline: PipelineConfig, settings: FileSettings) -> dict[str, TableRef]:
        """Placeholder -> the table it names: ``[checkpoints.NAME.tables]``, else the file's value."""
        from pipeline_canary.warehouse.base import TableRef

        overrides = dict(settings.tables)
        refs = {}
        for placeholder, table in self.table_specs.items():
            value = overrides.get(placeholder, table.table)
            refs[placeholder] = pipeline.table(value) if "." not in value else TableRef.parse(value)
        return refs

    def guarded_tables(self, pipeline: PipelineConfig, settings: FileSettings) -> list[TableRef]:
        """The tables declared ``partitioned``: every statement must filter them on game_date."""
        refs = self.table_refs(pipeline, settings)
        return [refs[p] for p, t in self.table_specs.items() if t.partitioned]

    # -- SQL -------------------------------------------------------------------------------
    def provided_params(self) -> set[str]:
        names = {*specs.RUN_PARAMS, *self.param_specs}
        if self.spec.window is not None:
            names |= set(specs.WINDOW_PARAMS)
        return names

    def compiled(self) -> CompiledCanary:
        """The file's statements checked with sqlglot (once); ConfigError naming file, line and key."""
        with self._compile_lock:
            if self._compiled is None:
                from pipeline_canary.canary_files.compile import compile_canary

                self._compiled = compile_canary(self)
            return self._compiled

    def run_params(self, ctx: CheckContext, settings: FileSettings) -> dict[str, Any]:
        params: dict[str, Any] = {"as_of": ctx.as_of, "now": ctx.now, "timezone": ctx.pipeline.timezone}
        window = self.spec.window
        if window is not None:
            params["window_start"] = ctx.as_of + dt.timedelta(days=self._days(window.start_days, settings))
            params["window_end"] = ctx.as_of + dt.timedelta(days=self._days(window.end_days, settings))
        return {**params, **dict(settings.params)}

    def _days(self, value: int | str, settings: FileSettings) -> int:
        if isinstance(value, str) and value.startswith("-@"):
            return -int(settings.param(value[2:]))
        name = specs.reference(value)
        return int(settings.param(name)) if name is not None else int(value)

    def _render(self, ctx: CheckContext, settings: FileSettings, template: str) -> str:
        """``template`` with its tables filled in, braces escaped again for ``ctx.query``."""
        from pipeline_canary.warehouse.sql import render

        tables = {p: ctx.warehouse.table_sql(ref) for p, ref in self.table_refs(ctx.pipeline, settings).items()}
        return render(template, tables).replace("{", "{{").replace("}", "}}")

    def query_template(self, ctx: CheckContext, settings: FileSettings, template: str) -> str:
        """``template`` (SQL of this file's tables) ready for ``ctx.query``: its tables filled in."""
        return self._render(ctx, settings, template)

    def statement_sql(self, ctx: CheckContext, settings: FileSettings, template: str) -> str:
        """The SQL one of the file's statements sends (BigQuery dialect, tables filled in)."""
        return ctx.sql(self._render(ctx, settings, template))

    def queries(self, ctx: CheckContext, settings: Any) -> list[Query]:
        """Every statement a run may send (``--dry-run``): the metrics statements, then the evidence queries."""
        compiled = self.compiled()
        params = self.run_params(ctx, settings)
        return [
            Query(self._render(ctx, settings, c.template), {p: params[p] for p in c.params})
            for c in [c for _, c in compiled.statements] + [c for _, c in compiled.evidence]
        ]

    # -- a run -----------------------------------------------------------------------------
    def due_at(self, as_of: dt.date, timezone: str, settings: FileSettings) -> dt.datetime | None:
        """When ``[calendar] due_by`` falls on ``as_of`` (UTC), or None when the file has no due time."""
        from pipeline_canary.canaries._deadlines import local_deadline, parse_local_time

        value = self.spec.calendar.due_by
        if value is None:
            return None
        name = specs.reference(value)
        return local_deadline(as_of, parse_local_time(settings.param(name) if name else value), timezone)

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        due = self.due_at(ctx.as_of, ctx.pipeline.timezone, settings)
        if due is not None and ctx.now < due:  # the data is written during the day: not due yet
            local = due.astimezone(ZoneInfo(ctx.pipeline.timezone))
            return Observation(
                metrics={},
                skip_reason=(
                    f"due by {local:%H:%M} {ctx.pipeline.timezone} ({due:%H:%M} UTC) on {ctx.as_of}; checked again then"
                ),
                due_at=due,
            )
        compiled = self.compiled()
        params = self.run_params(ctx, settings)
        metrics: dict[str, Any] = {}
        metrics_queries = self.queries(ctx, settings)[: len(compiled.statements)]
        for (name, _), query in zip(compiled.statements, metrics_queries, strict=True):
            result = ctx.query(query.template, **query.params)
            if len(result.rows) != 1:
                raise WarehouseError(
                    f"statement {name!r} returned {len(result.rows)} rows; a metrics statement returns exactly one "
                    "(aggregate without GROUP BY)"
                )
            for column, value in zip(result.columns, result.rows[0], strict=True):
                number = _number(value)
                if number is False:
                    return Observation(
                        metrics=metrics,
                        error=(
                            f"statement {name!r}: column {column!r} returned {value!r} "
                            f"({type(value).__name__}), not a number; cast it or show it in [[evidence]]"
                        ),
                    )
                metrics[column] = number
        text = {**params, **metrics}
        skip = self.spec.skip
        if skip is not None and not metrics.get(skip.when_zero):
            return Observation(metrics={}, skip_reason=_Text().vformat(skip.reason, (), text))
        failing = any(not _within(c.threshold, metrics.get(c.metric)) for c in self.checks(settings))
        evidence: dict[str, EvidenceTable | list[dict[str, Any]]] = {}
        for item, statement in compiled.evidence:
            if item.when == "always" or failing:
                rendered = self._render(ctx, settings, statement.template)
                rows = ctx.query(rendered, **{p: params[p] for p in statement.params}).records()
                evidence[item.name] = EvidenceTable.of([_plain(row) for row in rows], specs.MAX_EVIDENCE_ROWS)
        if self.spec.summary is not None:
            summary = _Text().vformat(self.spec.summary, (), text)
        else:
            shown = dict.fromkeys(c.metric for c in self.spec.checks)
            summary = ", ".join(f"{m} = {_Text().format_field(metrics.get(m), '')}" for m in shown)
        return Observation(metrics=metrics, evidence=evidence, summary=summary)


def _number(value: Any) -> float | int | bool | None:
    """A metric value: numbers stay numbers, booleans count as 0/1, NULL is None; anything else False."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    return False


def _within(threshold: Threshold, value: Any) -> bool:
    return threshold.side(None if value is None else float(value)) == "within"


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """An evidence row as plain values: dates and times as ISO text, decimals as floats."""
    out = {}
    for key, value in row.items():
        if isinstance(value, dt.date | dt.time):
            value = value.isoformat()
        elif isinstance(value, decimal.Decimal):
            value = float(value)
        elif isinstance(value, bytes):
            value = value.hex()
        out[key] = value
    return out
