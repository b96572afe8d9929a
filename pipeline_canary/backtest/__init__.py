"""``canary backtest``: replay the run schedule over history and report what would have alerted.

Each step of the schedule (every ``every`` from local midnight of the first day to the end of the
last, never past ``until``, default the wall clock) is a run with an injected clock: ``now`` is the
step's time and ``as_of`` the game date of ``now`` in the pipeline's timezone. The checkpoints run
through the real runner (their SQL, with ``@now``, and GX validation, in a sandbox GX project), and
the results advance incidents exactly as the live alert sink would, in a sandbox state
(:mod:`.sandbox`): a temporary SQLite file, no Slack, no metrics. The messages that would have been
posted are rendered and kept.

Speed, correct by construction: a canary's verdict about one as-of date can change only at its
change points (:mod:`.changes`: the write times of the rows it reads, its deadlines, the moments a
table's age crosses its threshold). So each canary runs at the first step of every game day and
then only at a step that follows one of its change points (``previous step < point <= step``); at
the other steps its previous result is carried forward unchanged, and the incidents still advance
at every step (runs are counted, reminders fall due) as the live scheduler's runs would. Between
two change points nothing the canary compares with ``now`` changes side, so the carried result is
the one a run would have produced; only informative metrics that are not checked (the age of the
oldest staging table) may show the value of the step that computed them. Canaries without known
change points (canary files, packs) run at every step. And GX validates each distinct verdict input
once (:mod:`.memo`: the verdict is a function of the suite and the checked metric values).
A canary that can observe a series of clocks at once
(:meth:`~pipeline_canary.canaries.Canary.observe_series`: prediction_gap) is asked at the first
step of each game day for its observations at the day's steps where it will run; those steps
validate them (``run_checkpoints(observed=...)``) instead of running its SQL. ``carry=False`` runs
and validates everything at every step.

Learned baselines (:mod:`pipeline_canary.baselines`) learn from the sandbox's history: the live
history of the days before ``start`` (copied, read only), then every step the backtest runs. A
canary with a baseline runs at every step, since its band depends on the time of day, and the
``known_days`` are never learned from.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pipeline_canary.backtest.changes import change_points
from pipeline_canary.backtest.memo import ValidationMemo
from pipeline_canary.backtest.sandbox import Message, Opened, Sandbox, sandbox_config
from pipeline_canary.errors import InputError

if TYPE_CHECKING:
    from pipeline_canary.canaries import Observation
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.results import CheckpointResult

__all__ = ["Backtest", "Message", "Opened", "run_backtest", "schedule"]

log = logging.getLogger(__name__)
MAX_STEPS = 100_000
Progress = Callable[[int, int, dt.datetime], None]
_RANK = {"skipped": 0, "passed": 1, "warned": 2, "errored": 3, "failed": 4}


def schedule(
    start: dt.date, end: dt.date, every: dt.timedelta, timezone: str, until: dt.datetime | None = None
) -> list[dt.datetime]:
    """The step times (UTC): every ``every`` from local midnight of ``start`` to before that of ``end + 1``."""
    if every <= dt.timedelta(0):
        raise InputError(f"the step must be positive, got {every}")
    if end < start:
        raise InputError(f"--to {end} is before --from {start}")
    zone = ZoneInfo(timezone)
    first = dt.datetime.combine(start, dt.time(0), zone).astimezone(dt.UTC)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    if until is not None:
        stop = min(stop, until.astimezone(dt.UTC) + dt.timedelta(microseconds=1))
    count = max(0, -(-(stop - first) // every))
    if count > MAX_STEPS:
        raise InputError(f"{count:,} steps is too many (at most {MAX_STEPS:,}): shorten the range or lengthen --every")
    return [first + i * every for i in range(count)]


@dataclass
class Backtest:
    """What a backtest found: the incidents that would have alerted, and what it cost."""

    start: dt.date
    end: dt.date
    every: dt.timedelta
    checkpoints: list[str]
    steps: int = 0
    evaluations: int = 0  # canary runs actually made (steps x checkpoints without carrying forward)
    series_observations: int = 0  # of them: observed set-wise, a game day's steps at once (no SQL of their own)
    gx_validations: int | None = None  # GX runs made (None: every evaluation validated, carry=False)
    duration_s: float = 0.0
    incidents: list[Opened] = field(default_factory=list)
    known_days: tuple[dt.date, ...] = ()
    # When each known incident began (UTC); a known day without a time began at its local midnight.
    known_started: dict[dt.date, dt.datetime] = field(default_factory=dict)
    timezone: str = "UTC"
    overrides: dict[str, str] = field(default_factory=dict)
    failing_steps: dict[str, int] = field(default_factory=dict)  # per checkpoint: steps with a failed check
    # per checkpoint and check: the steps it failed or warned (fixed thresholds and baselines side by side)
    failing_checks: dict[str, dict[str, int]] = field(default_factory=dict)
    days: dict[str, dict[dt.date, str]] = field(default_factory=dict)  # per checkpoint: worst outcome per day

    def time_to_detect(self, incident: Opened) -> dt.timedelta | None:
        """From the known incident's start to the alert (None: not on a known incident's day)."""
        if incident.as_of not in self.known_days:
            return None
        began = self.known_started.get(incident.as_of)
        if began is None:
            began = dt.datetime.combine(incident.as_of, dt.time(0), ZoneInfo(self.timezone)).astimezone(dt.UTC)
        return incident.opened_at - began

    @property
    def unexplained(self) -> list[Opened]:
        """Incidents that opened on a day with no known incident (every one, when none are known)."""
        return [i for i in self.incidents if i.as_of not in self.known_days]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "every_minutes": self.every.total_seconds() / 60,
            "checkpoints": self.checkpoints,
            "steps": self.steps,
            "evaluations": self.evaluations,
            "gx_validations": self.gx_validations,
            "series_observations": self.series_observations,
            "duration_s": round(self.duration_s, 3),
            "overrides": self.overrides,
            "known_incident_days": [d.isoformat() for d in self.known_days],
            "failing_steps": self.failing_steps,
            "failing_checks": self.failing_checks,
            "incidents": [_incident_dict(i, self.known_days, self.time_to_detect(i)) for i in self.incidents],
            "alerts_without_known_incident": len(self.unexplained),
        }


def _minutes(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 60, 1)


def _incident_dict(incident: Opened, known: Collection[dt.date], detect: dt.timedelta | None) -> dict[str, Any]:
    return {
        "checkpoint": incident.checkpoint,
        "check": incident.check,
        "severity": incident.severity,
        "as_of": incident.as_of.isoformat(),
        "game_date": incident.game_date.isoformat() if incident.game_date else None,
        "first_failed_at": incident.first_failed_at.isoformat(),
        "opened_at": incident.opened_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "status": incident.status,
        "last_value": incident.last_value,
        "known_incident_day": incident.as_of in known,
        "time_to_detect_minutes": _minutes(detect),  # from the known incident's start to opened_at
        "alert_delay_minutes": _minutes(incident.opened_at - incident.first_failed_at),
        "messages": [m.to_dict() for m in incident.messages],
    }


def run_backtest(
    config: CanaryConfig,
    start: dt.date,
    end: dt.date,
    *,
    every: dt.timedelta = dt.timedelta(minutes=30),
    names: Sequence[str] | None = None,
    until: dt.datetime | None = None,
    known_days: Collection[dt.date] = (),
    known_started: Mapping[dt.date, dt.datetime] | None = None,
    carry: bool = True,
    on_step: Progress | None = None,
) -> Backtest:
    """Replay the schedule from ``start`` to ``end`` (game dates) and return what would have alerted.

    ``known_days`` are game dates with a known incident (``known_started``: when some of them began).
    """
    from pipeline_canary.warehouse import connect_pipeline

    started = time.perf_counter()
    canaries = config.catalogue.select(names)
    timezone = config.pipeline.timezone
    steps = schedule(start, end, every, timezone, until or dt.datetime.now(dt.UTC))
    started_at = dict(known_started or {})
    out = Backtest(
        start,
        end,
        every,
        [c.name for c in canaries],
        known_days=tuple(sorted({*known_days, *started_at})),
        known_started=started_at,
        timezone=timezone,
    )
    with tempfile.TemporaryDirectory(prefix="canary-backtest-") as tmp:
        state_path = Path(tmp) / "state.sqlite"
        sandboxed = sandbox_config(config, state_path)
        sandbox = Sandbox(sandboxed, state_path)
        baselined = frozenset(c.name for c in canaries if getattr(config.settings_for(c.name), "baselines", ()))
        if baselined:
            copied = sandbox.learn_from(config.state.path, baselined, before=start)
            log.info("baselines: %d past results copied from the live history", copied)
        warehouse = connect_pipeline(config)
        try:
            out.evaluations = _replay(sandboxed, sandbox, warehouse, canaries, steps, carry, on_step, out, baselined)
        finally:
            warehouse.close()
            sandbox.state.close()
    out.steps = len(steps)
    out.incidents = sorted(sandbox.opened.values(), key=lambda i: (i.opened_at, i.checkpoint, i.check))
    out.duration_s = time.perf_counter() - started
    return out


def _replay(
    config: CanaryConfig,
    sandbox: Sandbox,
    warehouse: Any,
    canaries: Sequence[Any],
    steps: Sequence[dt.datetime],
    carry: bool,
    on_step: Progress | None,
    out: Backtest,
    baselined: frozenset[str] = frozenset(),
) -> int:
    from pipeline_canary.checkpoints.runner import resolve_clock, run_checkpoints
    from pipeline_canary.game_calendar import RunCalendar
    from pipeline_canary.results import Outcome

    memo = ValidationMemo() if carry else None
    last: dict[str, CheckpointResult] = {}
    points: dict[str, list[dt.datetime] | None] = {}
    series: dict[str, dict[dt.datetime, Observation]] = {}
    day: dt.date | None = None
    previous: dt.datetime | None = None
    calendar = RunCalendar()
    evaluations = 0
    as_ofs = [resolve_clock(config.pipeline.timezone, None, now).as_of for now in steps]
    for index, now in enumerate(steps):
        as_of = as_ofs[index]
        if as_of != day or previous is None:
            day, due = as_of, [c.name for c in canaries]
            calendar = RunCalendar()  # the game day's calendar (it depends on as_of only), shared by its runs
            horizon = now + dt.timedelta(days=1, hours=2)  # past the end of any game day (DST included)
            points = {
                c.name: change_points(config, warehouse, c, as_of, now, horizon, calendar) if carry else None
                for c in canaries
            }
            series = {}
            if carry:
                end = index
                while end < len(steps) and as_ofs[end] == as_of:
                    end += 1
                day_steps = steps[index:end]
                for canary in canaries:
                    runs = [
                        now,
                        *(t for s, t in itertools.pairwise(day_steps) if _runs(canary.name, points, baselined, s, t)),
                    ]
                    found = _series(config, warehouse, canary, as_of, runs, calendar)
                    if found is not None:
                        series[canary.name] = found
        else:
            since = previous
            due = [c.name for c in canaries if _runs(c.name, points, baselined, since, now)]
        if due:
            observed = {name: series[name][now] for name in due if now in series.get(name, {})}
            out.series_observations += len(observed)
            result = run_checkpoints(
                config, due, now=now, warehouse=warehouse, build_docs=False, validator=memo,
                calendar=calendar if carry else None, not_normal=out.known_days, observed=observed,
            )  # fmt: skip
            evaluations += len(due)
            last.update({cp.name: cp for cp in result.checkpoints})
            if baselined:
                sandbox.remember(result, baselined)
        for canary in canaries:
            cp = last[canary.name]
            if any(c.outcome is Outcome.FAILED for c in cp.checks):
                out.failing_steps[canary.name] = out.failing_steps.get(canary.name, 0) + 1
            counts = out.failing_checks.setdefault(canary.name, {})
            for check in cp.checks:
                if check.outcome in (Outcome.FAILED, Outcome.WARNED):
                    counts[check.name] = counts.get(check.name, 0) + 1
            per_day = out.days.setdefault(canary.name, {})
            worst = per_day.get(as_of)
            if worst is None or _RANK[cp.outcome.value] > _RANK.get(worst, 0):
                per_day[as_of] = cp.outcome.value
            sandbox.advance(cp, as_of, now)
        previous = now
        if on_step is not None:
            on_step(index + 1, len(steps), now)
    out.gx_validations = memo.validated if memo is not None else None
    return evaluations


def _runs(
    name: str,
    points: Mapping[str, Sequence[dt.datetime] | None],
    baselined: Collection[str],
    since: dt.datetime,
    now: dt.datetime,
) -> bool:
    """Whether a canary runs at the step ``now`` after the step ``since`` of the same game day (else: carried)."""
    found = points[name]
    return name in baselined or found is None or any(since < p <= now for p in found)


def _series(
    config: CanaryConfig, warehouse: Any, canary: Any, as_of: dt.date, clocks: Sequence[dt.datetime], calendar: Any
) -> dict[dt.datetime, Observation] | None:
    """The canary's observations at ``clocks`` (the steps of the game day at which it runs), set-wise.

    None: the canary cannot observe a series (:meth:`~pipeline_canary.canaries.Canary.observe_series`),
    or it failed, which is logged as a warning: the canary then runs at each of those steps, whose
    runs report the failure as a run would.
    """
    from pipeline_canary.canaries import CheckContext

    ctx = CheckContext(
        warehouse=warehouse, pipeline=config.pipeline, as_of=as_of, now=clocks[0], calendar_source=calendar
    )
    try:
        return canary.observe_series(ctx, config.settings_for(canary.name), clocks)
    except Exception as exc:
        log.warning("%s on %s: observing the day's %d steps set-wise failed (%s); it runs at each of them",
                    canary.name, as_of, len(clocks), exc)  # fmt: skip
        return None
