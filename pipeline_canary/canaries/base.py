"""What a canary is: what it protects, its SQL, its checks and thresholds, severity and runbook.

A canary is added by adding one module to ``pipeline_canary/canaries/`` that defines a subclass of
:class:`Canary` decorated with :func:`register`, or, for a check SQL can say, one canary file
(``pipeline_canary/canaries/NAME.toml``, the format of ``pipeline_canary.canary_files``); nothing
else needs to change. Both are built-ins: always enabled, listed as ``built-in``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError, field_validator

from pipeline_canary.baselines.spec import Baseline, metric_names
from pipeline_canary.config_messages import SettingsError, problems
from pipeline_canary.config_types import Section
from pipeline_canary.errors import UnknownCheckpointError
from pipeline_canary.results import EvidenceTable, Threshold

if TYPE_CHECKING:
    from pipeline_canary.config import PipelineConfig
    from pipeline_canary.findings import Finding
    from pipeline_canary.game_calendar import GameCalendar, RunCalendar
    from pipeline_canary.warehouse.base import QueryResult, Warehouse

DEFAULT_TIER = "routine"


class Settings(Section):
    """Per-checkpoint settings; subclasses add fields. Unknown keys are errors, booleans strict.

    Numbers are ``Annotated[..., Bounded(lo, hi)]`` (pipeline_canary.config_types): finite, in range.
    ``tier`` overrides the canary's own tier (``[schedule.tiers]``, ``canary run --tier``).
    """

    tier: str | None = None
    # [checkpoints.NAME.baseline.METRIC]: learned bands (pipeline_canary.baselines)
    baseline: dict[str, Baseline] = {}

    @field_validator("baseline")
    @classmethod
    def _metrics(cls, value: dict[str, Baseline]) -> dict[str, Baseline]:
        metric_names(value)
        return value

    @property
    def baselines(self) -> tuple[tuple[str, Baseline], ...]:
        return tuple(sorted(self.baseline.items()))


@dataclass(frozen=True)
class CheckSpec:
    """One check of a canary: a metric, the bounds it must stay within, and the evidence that explains it.

    ``evidence`` names the canary's evidence tables that say what broke when the check does not pass
    (the games without predictions, the missing columns): the terminal, Slack, the dashboard and GX
    show their rows under the check.
    """

    name: str
    metric: str
    threshold: Threshold
    description: str
    evidence: tuple[str, ...] = ()
    # A learned baseline (pipeline_canary.baselines): the run learns the bounds; ``threshold`` has none.
    baseline: Baseline | None = None


@dataclass(frozen=True)
class Query:
    """One statement a canary sends: BigQuery SQL with ``{table}`` placeholders and its parameters."""

    template: str
    params: dict[str, Any]


@dataclass
class CheckContext:
    """Everything a canary may use to collect: the warehouse, the tables and the run's clock."""

    warehouse: Warehouse
    pipeline: PipelineConfig
    as_of: dt.date
    now: dt.datetime
    bytes_processed: int = 0
    queries: list[str] = field(default_factory=list)
    # The run's game calendar, shared by its canaries (built by the first that asks); None: this
    # context builds its own.
    calendar_source: RunCalendar | None = None

    def calendar(self) -> GameCalendar:
        """The game calendar as of this run's date (pipeline_canary.game_calendar)."""
        if self.calendar_source is None:
            from pipeline_canary.game_calendar import RunCalendar

            self.calendar_source = RunCalendar()
        return self.calendar_source.get(self)

    def tables(self) -> dict[str, str]:
        """Placeholder -> quoted BigQuery identifier for the configured pipeline tables."""
        p = self.pipeline
        return {
            "schedule": self.warehouse.table_sql(p.table("schedule_table")),
            "predictions": self.warehouse.table_sql(p.table("predictions_table")),
            "feature_store": self.warehouse.table_sql(p.table("feature_store_table")),
        }

    def sql(self, template: str) -> str:
        """``template`` with the configured tables filled in (validated, quoted identifiers)."""
        from pipeline_canary.warehouse.sql import render

        return render(template, self.tables())

    def query(self, template: str, **params: Any) -> QueryResult:
        """Render table placeholders, run with ``params`` as query parameters, count the bytes."""
        result = self.warehouse.query(self.sql(template), params)
        self.queries.append(result.sql)
        if result.bytes_processed:
            self.bytes_processed += result.bytes_processed
        return result


@dataclass
class Observation:
    """What a canary saw: one row of metrics and, for people, evidence rows.

    ``error`` says why the canary cannot judge what it saw (the checkpoint is ``errored``, its
    metrics and evidence kept); ``skip_reason`` why there was nothing to judge. With ``due_at`` the
    skip is *pending*: the data is not due before then (``skip_reason`` says by when and why).
    """

    metrics: dict[str, float | None]
    # Rows per table; an EvidenceTable when the canary kept only some of them (its total says how many).
    evidence: dict[str, EvidenceTable | list[dict[str, Any]]] = field(default_factory=dict)
    skip_reason: str | None = None
    error: str | None = None
    summary: str = ""
    due_at: dt.datetime | None = None


@dataclass(frozen=True)
class Headline:
    """The trend people ask about for a canary: the metrics summed per day, a title and a unit."""

    metrics: tuple[str, ...]
    title: str
    unit: str


class Canary(ABC):
    """Base class of every canary. Subclasses fill the class attributes and two methods."""

    order: ClassVar[int] = 100  # position in listings, reports and runs (lower first)
    # Columns read from the configured pipeline tables, keyed like PipelineConfig ("schedule_table", ...):
    # `canary doctor` checks they exist.
    reads: ClassVar[dict[str, tuple[str, ...]]] = {}
    headline: ClassVar[Headline | None] = None
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[str] = "critical"  # "critical" alerts on first failure, "warning" after K
    # Whether a result is about its as-of game date (its SQL reads that day): its incidents belong to
    # that date. False for canaries of the current state (schemas, table listings): only the newest
    # live run may advance their incidents.
    about_game_day: ClassVar[bool] = True
    runbook: ClassVar[str]
    settings_model: ClassVar[type[Settings]] = Settings
    # The scheduling tier ([schedule.tiers.NAME], `canary run --tier`); [checkpoints.NAME] tier overrides.
    tier: ClassVar[str] = DEFAULT_TIER
    # When the canary runs by the game calendar (pipeline_canary.game_calendar): out of these rules
    # it is skipped with the reason, before any of its SQL is sent.
    run_on: ClassVar[tuple[str, ...]] = ("always",)
    skip_on: ClassVar[tuple[str, ...]] = ()
    source: ClassVar[str] = "built-in"  # where the canary is defined, for `canary list`

    @property
    def uses_calendar(self) -> bool:
        """Whether a run of this canary reads the game calendar (its rules, or its own logic)."""
        return tuple(self.run_on) != ("always",) or bool(self.skip_on)

    def tier_for(self, settings: Any) -> str:
        """The tier this canary runs in with ``settings`` (its own unless overridden)."""
        return getattr(settings, "tier", None) or self.tier

    def calendar_rule(self) -> str:
        """The calendar rules in words, for listings: ``game_days; skip on breaks``."""
        rule = ", ".join(self.run_on)
        return f"{rule}; skip on {', '.join(self.skip_on)}" if self.skip_on else rule

    def observe(self, ctx: CheckContext, settings: Any) -> Observation:
        """The calendar's rules first (out of them: skipped with the reason), then :meth:`collect`."""
        skipped = self.calendar_skip(ctx)
        return skipped if skipped is not None else self.collect(ctx, settings)

    def calendar_skip(self, ctx: CheckContext) -> Observation | None:
        """The skip the calendar's rules give on ``ctx.as_of`` (they depend on the date only); None: it runs."""
        if tuple(self.run_on) != ("always",) or self.skip_on:
            reason = ctx.calendar().skip_reason(self.run_on, self.skip_on)
            if reason is not None:
                return Observation(metrics={}, skip_reason=reason)
        return None

    def observe_series(
        self, ctx: CheckContext, settings: Any, clocks: Sequence[dt.datetime]
    ) -> dict[dt.datetime, Observation] | None:
        """What :meth:`observe` would return at each of ``clocks`` (UTC; ``ctx.as_of``'s game day), set-wise.

        An optional capability for replays (``canary backtest``): one statement over the series of
        clocks (``UNNEST(@clocks)``) instead of the canary's statements at each one, the
        observations built by the same code as :meth:`collect`'s, so each equals what a run at that
        clock would observe (``ctx.now`` is not used). None: not supported, run the canary at each
        clock. Errors are raised, never turned into observations.
        """
        return None

    def parse_settings(self, values: Mapping[str, Any]) -> Any:
        try:
            return self.settings_model.model_validate(dict(values))
        except ValidationError as exc:
            raise SettingsError(problems(exc, self.settings_model, ("checkpoints", self.name))) from None

    @abstractmethod
    def checks(self, settings: Any) -> list[CheckSpec]:
        """The checks (one GX expectation each) with thresholds from ``settings``."""

    def all_checks(self, settings: Any) -> list[CheckSpec]:
        """:meth:`checks`, then one per learned baseline of ``settings`` (``baseline.METRIC``)."""
        from pipeline_canary.baselines import baseline_checks

        return [*self.checks(settings), *baseline_checks(getattr(settings, "baselines", ()))]

    def evidence_line(self, table: str, row: Mapping[str, Any]) -> str:
        """One evidence row for people, naming the thing (a game, a column, a table); override per canary."""
        return plain_line(row)

    def queries(self, ctx: CheckContext, settings: Any) -> list[Query]:
        """The SQL this canary sends (for ``--dry-run`` estimates); metadata-only canaries send none."""
        return []

    def setup_notes(self, warehouse: Warehouse, pipeline: PipelineConfig, settings: Any) -> list[Finding]:
        """Set-up findings for ``canary doctor`` (e.g. a degraded mode); none by default."""
        return []

    @abstractmethod
    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        """Run the canary's SQL (pushed down: only small results come back) and return metrics."""


LINE_CHARS = 200  # an evidence line longer than this is cut


def plain_line(row: Mapping[str, Any]) -> str:
    """``key=value, ...``: the generic evidence line, for rows a canary does not describe itself."""
    return cut(", ".join(f"{k}={v}" for k, v in row.items()))


def cut(text: str, limit: int = LINE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unknown_checkpoint(name: str, known: list[str]) -> UnknownCheckpointError:
    """The error for a checkpoint name nobody declared: the nearest name, if one is close, and all of them."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return UnknownCheckpointError(f"unknown checkpoint {name!r}{hint}; known checkpoints: {', '.join(known)}")


class Registry:
    def __init__(self) -> None:
        self._canaries: dict[str, Canary] = {}

    def add(self, canary: Canary) -> None:
        if canary.name in self._canaries:
            raise ValueError(f"two canaries are named {canary.name!r}")
        self._canaries[canary.name] = canary

    def get(self, name: str) -> Canary:
        _discover()
        try:
            return self._canaries[name]
        except KeyError:
            raise unknown_checkpoint(name, self.names()) from None

    def select(self, names: Iterable[str] | None) -> list[Canary]:
        """The canaries named, each once in the order first given (a repeated name runs once); none: all."""
        chosen = [self.get(n) for n in dict.fromkeys(names or ())]
        return chosen or self.all()

    def names(self) -> list[str]:
        return [c.name for c in self.all()]

    def all(self) -> list[Canary]:
        _discover()
        return sorted(self._canaries.values(), key=lambda c: (c.order, c.name))


registry = Registry()
_discovered = False


def register(cls: type[Canary]) -> type[Canary]:
    """Class decorator: instantiate and register a canary where it is defined."""
    registry.add(cls())
    return cls


def _discover() -> None:
    """Import every module of this package once, so their ``@register`` decorators run."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    import importlib
    import pkgutil

    import pipeline_canary.canaries as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"{package.__name__}.{info.name}")
    from pipeline_canary.canary_files.load import load_builtin

    for folder in package.__path__:
        for canary in load_builtin(Path(folder)):
            registry.add(canary)
