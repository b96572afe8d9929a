"""Change points: the moments of a game day after which a built-in canary's verdict can differ.

Within one as-of date a built-in canary's observation depends on the run's ``now`` only through
the comparisons its SQL and code make with it, so its verdict can change only at these moments:

* ``prediction_gap``: the day's deadline (``due_by``), every game's own (``lead_hours`` before its
  tip) and the write times of the as-of date's predictions (``created_at <= @now``) from the first
  deadline on (before it the checkpoint is pending whatever was written);
* ``orphaned_staging_tables``: each staging table's creation (it appears) and the moment its age
  passes ``max_age_hours`` (strictly: the point is moved one microsecond later);
* ``schema_parity``: none (it compares today's schemas whatever the clock).

A point ``p`` changes the result of every step ``t >= p``. A canary file (the packs' and the
built-in ``feature_contamination`` included) depends on the clock only through its SQL's ``@now``
and its ``[calendar] due_by`` (its parameters and calendar rules depend on the as-of date only):
its points are its due time (pending before, judged after) and, when ``@now`` appears only as
``written_at <= @now`` of its ``[tables.X] written_at`` tables, the write times of those tables'
rows (:mod:`pipeline_canary.canary_files.writes`); a file without ``@now`` runs at the first step
of each game day and once it falls due. A file that uses ``@now`` otherwise, and the canaries not
listed here, have no known change points: :func:`change_points` returns None and they are
evaluated at every step. The points are a superset (a write that changes no count is a point
all the same), which costs evaluations, never correctness.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipeline_canary.canaries._deadlines import local_deadline
from pipeline_canary.canaries.base import CheckContext
from pipeline_canary.canaries.prediction_gap import with_deadline

if TYPE_CHECKING:
    from pipeline_canary.canaries import Canary
    from pipeline_canary.canary_files.canary import FileCanary
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.game_calendar import RunCalendar
    from pipeline_canary.warehouse import Warehouse

EPSILON = dt.timedelta(microseconds=1)
Points = list[dt.datetime]
_Finder = Callable[[CheckContext, Any, dt.datetime, dt.datetime], Points]

_WRITES_SQL = {
    "prediction_gap": (
        "SELECT DISTINCT created_at AS written FROM {predictions} "
        "WHERE game_date = @as_of AND created_at > @since AND created_at <= @until"
    ),
}


def _written(ctx: CheckContext, name: str, params: dict[str, Any]) -> Points:
    rows = ctx.query(_WRITES_SQL[name], **params).records()
    return [_aware(r["written"]) for r in rows if r["written"] is not None]


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _prediction_gap(ctx: CheckContext, settings: Any, since: dt.datetime, until: dt.datetime) -> Points:
    day_due = local_deadline(ctx.as_of, settings.due_time, ctx.pipeline.timezone)
    deadlines = [day_due]
    for game in ctx.calendar().games_on(ctx.as_of):
        deadlines.append(with_deadline({"tip_at": game.tip_at}, day_due, settings.lead)["due_at"])
    first_due = min(deadlines)
    written = _written(ctx, "prediction_gap", {"as_of": ctx.as_of, "since": since, "until": until})
    return deadlines + [p for p in written if p >= first_due]


def _orphaned_staging(ctx: CheckContext, settings: Any, since: dt.datetime, until: dt.datetime) -> Points:
    points: Points = []
    max_age = dt.timedelta(hours=settings.max_age_hours)
    for info in ctx.warehouse.tables(ctx.pipeline.staging_dataset):
        if info.created is not None and info.name.startswith(ctx.pipeline.staging_prefix):
            created = _aware(info.created)
            points += [created, created + max_age + EPSILON]
    return points


def _none(ctx: CheckContext, settings: Any, since: dt.datetime, until: dt.datetime) -> Points:
    return []


FINDERS: dict[str, _Finder] = {
    "prediction_gap": _prediction_gap,
    "orphaned_staging_tables": _orphaned_staging,
    "schema_parity": _none,
}


def change_points(
    config: CanaryConfig,
    warehouse: Warehouse,
    canary: Canary,
    as_of: dt.date,
    since: dt.datetime,
    until: dt.datetime,
    calendar: RunCalendar | None = None,
) -> Points | None:
    """The sorted points in ``(since, until]`` where ``canary``'s verdict about ``as_of`` may change.

    None: unknown (not a built-in canary, or finding them failed): evaluate it at every step.
    """
    from pipeline_canary.canary_files.canary import FileCanary

    if isinstance(canary, FileCanary):
        return _file_points(config, warehouse, canary, as_of, since, until, calendar)
    finder = FINDERS.get(canary.name)
    if finder is None or not type(canary).__module__.startswith("pipeline_canary.canaries."):
        return None
    ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=as_of, now=until, calendar_source=calendar)
    try:
        points = finder(ctx, config.settings_for(canary.name), since, until)
    except Exception:  # the canary's own run reports what is wrong; here it only costs speed
        return None
    return sorted(p for p in points if since < p <= until)


def _file_points(
    config: CanaryConfig,
    warehouse: Warehouse,
    canary: FileCanary,
    as_of: dt.date,
    since: dt.datetime,
    until: dt.datetime,
    calendar: RunCalendar | None,
) -> Points | None:
    """A canary file's: its ``due_by``, and the write times of the ``written_at`` tables it reads."""
    from pipeline_canary.canary_files.writes import write_times

    settings = config.settings_for(canary.name)
    due = canary.due_at(as_of, config.pipeline.timezone, settings)
    points = [due] if due is not None else []
    ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=as_of, now=until, calendar_source=calendar)
    try:
        written = write_times(canary, ctx, settings, since, until)
    except Exception:  # the canary's own run reports what is wrong; here it only costs speed
        return None
    if written is None:
        return None
    return sorted(p for p in points + written if since < p <= until)
