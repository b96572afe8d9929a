"""The one entry point that runs checkpoints: collect (SQL pushed down), validate (GX), report.

The CLI and the scheduler both call :func:`run_checkpoints`; neither contains check logic. A
checkpoint that cannot run is ``errored`` with its cause and the others still run.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pipeline_canary.canaries import CheckContext, Observation
from pipeline_canary.checkpoints.pool import Pool
from pipeline_canary.errors import CanaryError, WarehouseError
from pipeline_canary.game_calendar import RunCalendar
from pipeline_canary.results import CheckpointResult, RunResult

if TYPE_CHECKING:
    from pipeline_canary.baselines import Band, Learning
    from pipeline_canary.canaries import Canary
    from pipeline_canary.checkpoints.gx_project import GXProject
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.warehouse import Warehouse

log = logging.getLogger(__name__)

_PROJECTS: dict[str, GXProject] = {}


@dataclass
class Collected:
    canary: Canary
    settings: Any
    observation: Observation | None
    error: str | None
    duration_s: float
    bytes_processed: int | None
    bands: dict[str, Band | Learning] = field(default_factory=dict)  # learned per baseline check


NowSource = Literal["given", "wall_clock", "end_of_game_day"]


@dataclass(frozen=True)
class Clock:
    """A run's time: the game date it is about, its "now", where that came from, and whether it is live.

    A run is *live* when ``as_of`` is the current game day: the game day of ``--now`` when one is
    given, else of the wall clock. Any other run is a replay (history only, no live incidents).
    """

    as_of: dt.date
    now: dt.datetime
    now_source: NowSource
    replay: bool


def resolve_clock(
    timezone: str,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
    *,
    wall_clock: Callable[[], dt.datetime] | None = None,
) -> Clock:
    """``now`` (aware, UTC) and ``as_of`` (a date in the pipeline's timezone) for a run.

    With ``as_of`` and no ``now``, "now" is the end of that game day or the wall clock, whichever is
    earlier: checking a past day compares ages with that day, not with today.
    """
    zone = ZoneInfo(timezone)
    wall = _utc(wall_clock() if wall_clock else dt.datetime.now(dt.UTC))
    source: NowSource = "given"
    if now is None:
        now, source = wall, "wall_clock"
        if as_of is not None:
            end_of_day = _utc(dt.datetime.combine(as_of, dt.time(23, 59, 59), zone))
            if end_of_day < wall:
                now, source = end_of_day, "end_of_game_day"
    # UTC always: run ids say "Z", and history compares stored times as text.
    now = _utc(now)
    current_day = (now if source == "given" else wall).astimezone(zone).date()
    if as_of is None:
        as_of = now.astimezone(zone).date()
    return Clock(as_of=as_of, now=now, now_source=source, replay=as_of != current_day)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def gx_project(config: CanaryConfig) -> GXProject:
    """The GX project for ``config``, cached per process (the service reuses one context)."""
    from pipeline_canary.checkpoints.gx_project import GXProject

    key = str(config.gx.project_dir)
    if key not in _PROJECTS:
        _PROJECTS[key] = GXProject(config.gx.project_dir)
    return _PROJECTS[key]


def collect(canary: Canary, settings: Any, ctx: CheckContext) -> Collected:
    """Run one canary's SQL; warehouse problems become an error message, never an exception."""
    started = time.perf_counter()
    observation, error = None, None
    try:
        observation = canary.observe(ctx, settings)
    except WarehouseError as exc:
        error = str(exc)
    except CanaryError as exc:
        error = str(exc)
    except Exception as exc:  # a bug in a canary must not stop the others
        log.exception("checkpoint %s crashed", canary.name)
        error = f"internal error in {canary.name}: {type(exc).__name__}: {exc}"
    return Collected(
        canary=canary,
        settings=settings,
        observation=observation,
        error=error,
        duration_s=time.perf_counter() - started,
        bytes_processed=ctx.bytes_processed or None,
    )


def _unreachable(warehouse: Warehouse) -> str | None:
    """Why the warehouse cannot be reached at all, or None when it answers."""
    try:
        warehouse.ping()
    except WarehouseError as exc:
        return str(exc)
    return None


def _connected(config: CanaryConfig, warehouse: Warehouse | None) -> tuple[Warehouse, bool]:
    """``warehouse``, or the configured one (which the run then owns and closes)."""
    if warehouse is not None:
        return warehouse, False
    from pipeline_canary.warehouse import connect_pipeline

    return connect_pipeline(config), True


def run_checkpoints(
    config: CanaryConfig,
    names: Sequence[str] | None = None,
    *,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
    warehouse: Warehouse | None = None,
    build_docs: bool | None = None,
    on_result: Callable[[CheckpointResult], None] | None = None,
    validator: Callable[..., CheckpointResult] | None = None,
    calendar: RunCalendar | None = None,
    not_normal: Collection[dt.date] = (),
    observed: Mapping[str, Observation] | None = None,
) -> RunResult:
    """Run ``names`` (default: every checkpoint) and return one RunResult, its checkpoints in canary order.

    The canaries collect in a pool of ``[warehouse] max_concurrent_queries`` threads while this one
    prepares GX (an import of seconds when cold) and validates each observation as it arrives;
    ``on_result`` sees the results in canary order. ``validator`` replaces
    :func:`~pipeline_canary.checkpoints.validate.validate` (same signature; the backtest's memo), and
    ``calendar`` is the game calendar of ``as_of`` to share (the backtest's runs of one game day).
    Baselines learn from the run history of ``config``'s state store, never from ``not_normal`` days.
    ``observed`` gives the observations of some checkpoints at this clock, collected beforehand (the
    backtest's :meth:`~pipeline_canary.canaries.Canary.observe_series`): they send no SQL and are
    validated like the others.
    """
    from pipeline_canary.checkpoints.validate import validate

    check: Callable[..., CheckpointResult] = validator or validate

    started = time.perf_counter()
    canaries = config.catalogue.select(names)
    clock = resolve_clock(config.pipeline.timezone, as_of, now)
    as_of, now = clock.as_of, clock.now
    run_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"
    project = gx_project(config)
    planned = [(canary, config.settings_for(canary.name)) for canary in canaries]
    warehouse, own = _connected(config, warehouse)
    ping = threading.Lock()
    calendar = calendar or RunCalendar()  # built by the first canary that needs it, shared by all

    @functools.cache
    def unreachable() -> str | None:
        return _unreachable(warehouse)

    def job(canary: Canary, settings: Any) -> Collected:
        if observed is not None and canary.name in observed:
            return Collected(canary, settings, observed[canary.name], None, 0.0, None)
        with ping:  # the first job asks; one answer for all, not a timeout per checkpoint
            reason = unreachable()
        if reason:
            return Collected(canary, settings, None, reason, 0.0, None)
        ctx = CheckContext(
            warehouse=warehouse, pipeline=config.pipeline, as_of=as_of, now=now, calendar_source=calendar
        )
        return collect(canary, settings, ctx)

    learner = _Learner(config, not_normal)
    jobs = [functools.partial(job, canary, settings) for canary, settings in planned]
    results: list[CheckpointResult] = []
    validated: dict[int, CheckpointResult] = {}
    with Pool(jobs, config.warehouse.max_concurrent_queries, warehouse, own=own) as pool:
        project.prepare(planned)
        for index, collected in pool.arrivals():
            collected.bands = learner.bands(collected, as_of, now)
            result = validated[index] = check(project, collected, run_id, now, evidence_rows=config.evidence.rows)
            log.info(
                "checkpoint finished",
                extra={
                    "checkpoint": result.name,
                    "outcome": result.outcome.value,
                    "duration_s": round(result.duration_s, 4),
                    "bytes_processed": result.bytes_processed,
                },
            )
            while len(results) in validated:
                results.append(validated.pop(len(results)))
                if on_result is not None:
                    on_result(results[-1])
    docs_index = None
    if config.gx.build_docs if build_docs is None else build_docs:
        try:
            docs_index = project.build_docs()
        except Exception:  # docs are a report; a failure to build them is logged, not fatal
            log.exception("building GX Data Docs failed")
    return RunResult(
        run_id=run_id,
        as_of=as_of,
        now=now,
        checkpoints=tuple(results),
        duration_s=time.perf_counter() - started,
        docs_index=docs_index,
        replay=clock.replay,
        now_source=clock.now_source,
    )


class _Learner:
    """The bands of a run's baselines, learned from the state's history (opened only if a canary has one)."""

    def __init__(self, config: CanaryConfig, not_normal: Collection[dt.date]) -> None:
        self.config, self.not_normal = config, not_normal
        self._trainer: Any = None

    def bands(self, collected: Collected, as_of: dt.date, now: dt.datetime) -> dict[str, Band | Learning]:
        baselines = getattr(collected.settings, "baselines", ())
        obs = collected.observation
        if not baselines or obs is None or obs.error or obs.skip_reason:
            return {}
        if self._trainer is None:
            from pipeline_canary.baselines.training import Trainer
            from pipeline_canary.state.sqlite import open_state

            self._trainer = Trainer(open_state(self.config), self.config.pipeline.timezone, self.not_normal)
        try:
            bands: dict[str, Band | Learning] = self._trainer.bands(collected.canary.name, baselines, as_of, now)
        except Exception as exc:  # an unreadable history: the baselines cannot learn, the checks still run
            log.warning("baselines of %s could not read the history: %s", collected.canary.name, exc)
            from pipeline_canary.baselines import Learning
            from pipeline_canary.baselines.spec import check_name

            why = Learning(0, 0, f"the run history could not be read ({type(exc).__name__})")
            return {check_name(metric, baseline): why for metric, baseline in baselines}
        return bands


@dataclass(frozen=True)
class Estimate:
    checkpoint: str
    statements: int
    bytes: int | None  # None: the backend cannot estimate (DuckDB) or a statement failed
    error: str | None = None


def _estimate(canary: Canary, settings: Any, ctx: CheckContext) -> Estimate:
    queries = canary.queries(ctx, settings)
    total: int | None = 0
    for query in queries:
        try:
            scanned = ctx.warehouse.dry_run(ctx.sql(query.template), query.params)
        except CanaryError as exc:
            return Estimate(canary.name, len(queries), None, str(exc))
        total = None if scanned is None or total is None else total + scanned
    return Estimate(canary.name, len(queries), total)


def estimate(
    config: CanaryConfig,
    names: Sequence[str] | None = None,
    *,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
    warehouse: Warehouse | None = None,
) -> list[Estimate]:
    """Bytes each checkpoint's SQL would scan (BigQuery dry runs, in the run's pool); nothing is run or billed.

    The game calendar's statement, which every canary that needs the calendar shares, is estimated
    once, as ``game_calendar``.
    """
    canaries = config.catalogue.select(names)
    clock = resolve_clock(config.pipeline.timezone, as_of, now)
    planned = [(canary, config.settings_for(canary.name)) for canary in canaries]
    warehouse, own = _connected(config, warehouse)
    jobs: list[Callable[[], Estimate]] = []
    if any(c.uses_calendar for c in canaries):
        jobs.append(functools.partial(_estimate_calendar, config, warehouse, clock.as_of, clock.now))
    jobs += [
        functools.partial(
            _estimate,
            canary,
            settings,
            CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=clock.as_of, now=clock.now),
        )
        for canary, settings in planned
    ]
    with Pool(jobs, config.warehouse.max_concurrent_queries, warehouse, own=own) as pool:
        return [value for _, value in sorted(pool.arrivals(), key=lambda arrived: arrived[0])]


def _estimate_calendar(config: CanaryConfig, warehouse: Warehouse, as_of: dt.date, now: dt.datetime) -> Estimate:
    from pipeline_canary.canaries._tips import tip_source
    from pipeline_canary.game_calendar import LOOKBACK_DAYS, calendar_sql

    ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=as_of, now=now)
    params = {"calendar_start": as_of - dt.timedelta(days=LOOKBACK_DAYS), "as_of": as_of}
    try:
        sql = calendar_sql(tip_source(warehouse, config.pipeline))
        scanned = warehouse.dry_run(ctx.sql(sql), params)
    except CanaryError as exc:
        return Estimate("game_calendar", 1, None, str(exc))
    return Estimate("game_calendar", 1, scanned)
