"""The one entry point that runs checkpoints: collect (SQL pushed down), validate (GX), report.

The CLI and the scheduler both call :func:`run_checkpoints`; neither contains check logic. A
checkpoint that cannot run is ``errored`` with its cause and the others still run.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pipeline_canary.canaries import CheckContext, Observation
from pipeline_canary.errors import CanaryError, WarehouseError
from pipeline_canary.game_calendar import RunCalendar
from pipeline_canary.results import CheckpointResult, RunResult

if TYPE_CHECKING:
    from pipeline_canary.canaries import Canary
    from pipeline_canary.checkpoints.gx_project import GXProject
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.warehouse import Warehouse

log = logging.getLogger(__name__)

_PROJECTS: dict[str, GXProject] = {}
HANDOVER_S = 0.001  # GIL switch interval while SQL and GX overlap
STOP_GRACE_S = 5.0  # how long a failed run waits for the SQL thread to stop


class _QuickHandover:
    """A short GIL switch interval while any run's SQL thread and GX overlap, then the old one back.

    Both threads want the GIL; CPython hands it over every 5 ms by default, so a query that finished
    could wait that long to be read (1 ms measured 2–4% faster runs in bench/). The interval is
    process-wide, so overlapping runs share one setting: the first sets it, the last restores it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._saved = 0.0

    def __enter__(self) -> None:
        with self._lock:
            if self._active == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, HANDOVER_S))
            self._active += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                sys.setswitchinterval(self._saved)


_quick_handover = _QuickHandover()


@dataclass
class Collected:
    canary: Canary
    settings: Any
    observation: Observation | None
    error: str | None
    duration_s: float
    bytes_processed: int | None


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


def _collect_all(
    planned: list[tuple[Canary, Any]],
    warehouse: Warehouse,
    own_warehouse: bool,
    config: CanaryConfig,
    as_of: dt.date,
    now: dt.datetime,
    arrived: queue.SimpleQueue[Collected | BaseException | None],
    stop: threading.Event,
) -> None:
    """Run every planned canary's SQL in order, handing each observation over as it is ready.

    Whatever happens, the queue ends with ``None``; an exception that escapes (a bug, not a warehouse
    error: those are per-canary results) goes on the queue first, for the run to raise.
    """
    try:
        unreachable = _unreachable(warehouse)
        calendar = RunCalendar()  # built by the first canary that needs it, shared by all
        for canary, settings in planned:
            if stop.is_set():
                break
            if unreachable:  # one answer for all: do not wait out a timeout per checkpoint
                arrived.put(Collected(canary, settings, None, unreachable, 0.0, None))
                continue
            ctx = CheckContext(
                warehouse=warehouse, pipeline=config.pipeline, as_of=as_of, now=now, calendar_source=calendar
            )
            arrived.put(collect(canary, settings, ctx))
    except BaseException as exc:
        arrived.put(exc)
    finally:
        try:
            if own_warehouse:
                warehouse.close()
        except Exception:
            log.warning("closing the warehouse after the run failed", exc_info=True)
        finally:
            arrived.put(None)


def run_checkpoints(
    config: CanaryConfig,
    names: Sequence[str] | None = None,
    *,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
    warehouse: Warehouse | None = None,
    build_docs: bool | None = None,
    on_result: Callable[[CheckpointResult], None] | None = None,
) -> RunResult:
    """Run ``names`` (default: every checkpoint) and return one RunResult."""
    from pipeline_canary.checkpoints.validate import validate

    started = time.perf_counter()
    canaries = config.catalogue.select(names)
    clock = resolve_clock(config.pipeline.timezone, as_of, now)
    as_of, now = clock.as_of, clock.now
    run_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"
    own_warehouse = warehouse is None
    if warehouse is None:
        from pipeline_canary.warehouse import connect_pipeline

        warehouse = connect_pipeline(config)
    project = gx_project(config)
    planned = [(canary, config.settings_for(canary.name)) for canary in canaries]
    # The warehouse answers the canaries' SQL in a thread of its own while this one prepares GX (an
    # import of seconds when cold) and validates each observation as it arrives: GX's Python work
    # overlaps the next canary's query instead of waiting for all of them.
    arrived: queue.SimpleQueue[Collected | BaseException | None] = queue.SimpleQueue()
    stop = threading.Event()
    collector = threading.Thread(
        target=_collect_all,
        args=(planned, warehouse, own_warehouse, config, as_of, now, arrived, stop),
        name="canary-collect",
        daemon=True,
    )
    results: list[CheckpointResult] = []
    with _quick_handover:
        collector.start()
        try:
            project.prepare(planned)
            while (collected := arrived.get()) is not None:
                if isinstance(collected, BaseException):
                    raise collected
                result = validate(project, collected, run_id, now)
                log.info(
                    "checkpoint finished",
                    extra={
                        "checkpoint": result.name,
                        "outcome": result.outcome.value,
                        "duration_s": round(result.duration_s, 4),
                        "bytes_processed": result.bytes_processed,
                    },
                )
                results.append(result)
                if on_result is not None:
                    on_result(result)
        except BaseException:  # e.g. KeyboardInterrupt: no more queries, and stop the one in flight
            stop.set()
            try:
                warehouse.interrupt()
            except Exception:  # the connection may be closing at the same moment
                log.debug("interrupt failed", exc_info=True)
            collector.join(STOP_GRACE_S)  # a daemon: a query that ignores the interrupt ends with us
            raise
        collector.join()
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


@dataclass(frozen=True)
class Estimate:
    checkpoint: str
    statements: int
    bytes: int | None  # None: the backend cannot estimate (DuckDB) or a statement failed
    error: str | None = None


def estimate(
    config: CanaryConfig,
    names: Sequence[str] | None = None,
    *,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
    warehouse: Warehouse | None = None,
) -> list[Estimate]:
    """Bytes each checkpoint's SQL would scan (BigQuery dry runs); nothing is run or billed.

    The game calendar's statement, which every canary that needs the calendar shares, is estimated
    once, as ``game_calendar``.
    """
    canaries = config.catalogue.select(names)
    clock = resolve_clock(config.pipeline.timezone, as_of, now)
    as_of, now = clock.as_of, clock.now
    own = warehouse is None
    if warehouse is None:
        from pipeline_canary.warehouse import connect_pipeline

        warehouse = connect_pipeline(config)
    estimates = []
    try:
        if any(c.uses_calendar for c in canaries):
            estimates.append(_estimate_calendar(config, warehouse, as_of, now))
        for canary in canaries:
            ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=as_of, now=now)
            queries = canary.queries(ctx, config.settings_for(canary.name))
            total: int | None = 0
            error = None
            for query in queries:
                try:
                    scanned = warehouse.dry_run(ctx.sql(query.template), query.params)
                except CanaryError as exc:
                    total, error = None, str(exc)
                    break
                total = None if scanned is None or total is None else total + scanned
            estimates.append(Estimate(canary.name, len(queries), total, error))
    finally:
        if own:
            warehouse.close()
    return estimates


def _estimate_calendar(config: CanaryConfig, warehouse: Warehouse, as_of: dt.date, now: dt.datetime) -> Estimate:
    from pipeline_canary.game_calendar import CALENDAR_SQL, LOOKBACK_DAYS

    ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=as_of, now=now)
    params = {"calendar_start": as_of - dt.timedelta(days=LOOKBACK_DAYS), "as_of": as_of}
    try:
        scanned = warehouse.dry_run(ctx.sql(CALENDAR_SQL), params)
    except CanaryError as exc:
        return Estimate("game_calendar", 1, None, str(exc))
    return Estimate("game_calendar", 1, scanned)
