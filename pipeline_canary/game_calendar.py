"""The game calendar: the schedule's games around a run's as-of date, built once per run.

Every canary gets the same calendar through its ``CheckContext`` (``ctx.calendar()``), built from the
configured schedule table by one statement the first time a canary asks, in the pipeline's timezone:

* A **game** is one ``(game_id, game_date)`` with ``game_status`` 1, 2 or 3; the schedule keeps
  duplicate rows for one game (pipeline facts 1a, 1b), and the row with the highest status wins
  (like the pipeline's ``v_nbac_schedule_latest``). Its type comes from the id prefix: ``001``
  preseason, ``002`` regular season, ``003`` all-star, ``004`` playoffs (anything else: ``other``).
* A **game day** has at least one regular-season or playoff game (the pipeline's
  ``has_regular_season_games``: ``002`` or ``004``); the **day after a game day** follows one.
* The **break window** (the pipeline's ``_is_break_window``): none of the three days before the
  day had a regular-season or playoff game. The day itself is not looked at.
* The **playoff window** (``_is_playoff_window``): over the 14 days before the day, a playoff game
  and no regular-season game, or a playoff game and the last regular-season game 3 or more days
  before the day. Unlike the pipeline, where a break hides the playoff window (it is evaluated only
  when there is no break), both windows are judged on their own.
* **Tips**: each game's tip time as an aware UTC datetime, or None: from ``[pipeline] tip_column``
  (default ``game_date_est``) of the schedule or of ``[pipeline] tip_table`` (``canaries._tips``).
  Without that column the calendar still builds, with no tips, and ``tips_missing`` says why.

The pipeline's own checks read ``CURRENT_DATE()`` in UTC; the calendar's days are game dates in the
pipeline's timezone (``[pipeline] timezone``), the run's ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pipeline_canary.errors import CanaryError, WarehouseError

if TYPE_CHECKING:
    from pipeline_canary.canaries._tips import TipSource
    from pipeline_canary.canaries.base import CheckContext

log = logging.getLogger(__name__)

GameType = Literal["preseason", "regular", "all_star", "playoffs", "other"]
GAME_TYPES: dict[str, GameType] = {"001": "preseason", "002": "regular", "003": "all_star", "004": "playoffs"}
COUNTED: tuple[GameType, ...] = ("regular", "playoffs")  # what makes a game day (the pipeline's guard)
LOOKBACK_DAYS = 14  # the playoff window's look-back; the break window's is BREAK_DAYS
BREAK_DAYS = 3
PLAYOFF_AFTER_DAYS = 3  # playoffs once the last regular-season game is this many days back

RunOn = Literal["game_days", "days_after_game_days", "always"]
SkipOn = Literal["playoffs", "breaks"]
RUN_ON: tuple[RunOn, ...] = ("game_days", "days_after_game_days", "always")
SKIP_ON: tuple[SkipOn, ...] = ("playoffs", "breaks")

# The columns the calendar needs from the schedule table (``canary doctor`` checks them). The tip
# column is optional (without it there are no tips): doctor reports it through prediction_gap's setup notes.
READS = ("game_id", "game_date", "game_status", "away_team_tricode", "home_team_tricode")

_CALENDAR_TEMPLATE = """
WITH ranked AS (
  SELECT
    game_id, game_date, game_status, away_team_tricode, home_team_tricode, <schedule_tip> AS tip_at,
    COUNT(*) OVER (PARTITION BY game_id, game_date) AS schedule_rows,
    MIN(game_status) OVER (PARTITION BY game_id, game_date) AS lowest_status,
    ROW_NUMBER() OVER (
      PARTITION BY game_id, game_date
      ORDER BY game_status DESC, away_team_tricode, home_team_tricode
    ) AS pick
  FROM {schedule}
  WHERE game_date >= @calendar_start AND game_date <= @as_of
    AND game_status IN (1, 2, 3)
)<tips_cte>
SELECT r.game_id, r.game_date, r.game_status, r.away_team_tricode, r.home_team_tricode, <games_tip> AS tip_at,
       r.schedule_rows, r.lowest_status
FROM ranked AS r<tips_join>
WHERE r.pick = 1
"""


def calendar_sql(tips: TipSource) -> str:
    """The calendar's statement reading tip times from ``tips`` (its identifiers are validated and quoted)."""
    parts = {
        "<schedule_tip>": tips.schedule_tip,
        "<tips_cte>": tips.tips_cte,
        "<games_tip>": tips.games_tip,
        "<tips_join>": tips.tips_join,
    }
    sql = _CALENDAR_TEMPLATE
    for marker, fragment in parts.items():
        sql = sql.replace(marker, fragment)
    return sql


_TYPE_WORDS = {
    "preseason": "preseason",
    "regular": "regular-season",
    "all_star": "All-Star",
    "playoffs": "playoff",
    "other": "other",
}


def game_type(game_id: str) -> GameType:
    """The game type from an NBA game id's prefix (``0022500852`` -> ``regular``)."""
    return GAME_TYPES.get(str(game_id)[:3], "other")


@dataclass(frozen=True)
class Game:
    """One game of the schedule (its row with the highest status) and what its duplicates say."""

    game_id: str
    game_date: dt.date
    status: int
    away: str
    home: str
    tip_at: dt.datetime | None  # aware, UTC
    schedule_rows: int = 1  # rows the schedule holds for this game; more than one is a duplicate
    lowest_status: int | None = None

    @property
    def game_type(self) -> GameType:
        return game_type(self.game_id)

    @property
    def key(self) -> str:
        """The game as the analytics and prediction tables name it: ``YYYYMMDD_AWAY_HOME``."""
        return f"{self.game_date.strftime('%Y%m%d')}_{self.away}_{self.home}"


@dataclass(frozen=True)
class GameCalendar:
    """The games from ``start`` to ``as_of`` (inclusive) and what they make of each day."""

    as_of: dt.date
    timezone: str
    games: tuple[Game, ...]
    start: dt.date
    tips_missing: str | None = None  # why the games have no tip times (None: the schedule has them)

    @classmethod
    def from_rows(
        cls, as_of: dt.date, timezone: str, rows: Iterable[dict[str, Any]], tips_missing: str | None = None
    ) -> GameCalendar:
        from pipeline_canary.canaries._deadlines import as_utc

        games = [
            Game(
                game_id=str(r["game_id"]),
                game_date=_date(r["game_date"]),
                status=int(r["game_status"]),
                away=str(r["away_team_tricode"]),
                home=str(r["home_team_tricode"]),
                tip_at=as_utc(r.get("tip_at")),
                schedule_rows=int(r.get("schedule_rows") or 1),
                lowest_status=None if r.get("lowest_status") is None else int(r["lowest_status"]),
            )
            for r in rows
        ]
        games.sort(key=lambda g: (g.game_date, g.key, g.game_id))
        return cls(as_of, timezone, tuple(games), as_of - dt.timedelta(days=LOOKBACK_DAYS), tips_missing)

    # -- days ------------------------------------------------------------------------------
    def games_on(self, day: dt.date | None = None, types: Sequence[GameType] | None = None) -> list[Game]:
        """The games of ``day`` (default: as of), of ``types`` (default: every type), by game key."""
        day = self._covered(day)
        return [g for g in self.games if g.game_date == day and (types is None or g.game_type in types)]

    def is_game_day(self, day: dt.date | None = None) -> bool:
        """The day has a regular-season or playoff game."""
        return bool(self.games_on(day, COUNTED))

    def is_day_after_game_day(self, day: dt.date | None = None) -> bool:
        return self.is_game_day(self._covered(day) - dt.timedelta(days=1))

    def in_break(self, day: dt.date | None = None) -> bool:
        """None of the three days before ``day`` had a regular-season or playoff game."""
        day = self._covered(day)
        return not any(self.is_game_day(day - dt.timedelta(days=n)) for n in range(1, BREAK_DAYS + 1))

    def in_playoffs(self, day: dt.date | None = None) -> bool:
        """A playoff game in the 14 days before ``day``, and no regular-season game in its last 3."""
        last_regular, last_playoff = self._last_before(self._covered(day))
        if last_playoff is None:
            return False
        if last_regular is None:
            return True
        return (self._covered(day) - last_regular).days >= PLAYOFF_AFTER_DAYS

    # -- tips ------------------------------------------------------------------------------
    def tips(self, day: dt.date | None = None) -> dict[str, dt.datetime | None]:
        """Each game's tip (UTC; None when the schedule has none), by game key."""
        return {g.key: g.tip_at for g in self.games_on(day)}

    def first_tip(self, day: dt.date | None = None) -> dt.datetime | None:
        """The earliest known tip of the day's games (any type), or None."""
        known = [g.tip_at for g in self.games_on(day) if g.tip_at is not None]
        return min(known) if known else None

    # -- rules -----------------------------------------------------------------------------
    def skip_reason(self, run_on: Sequence[str], skip_on: Sequence[str]) -> str | None:
        """Why a canary with these rules does not run as of this day, or None when it runs."""
        day = self.as_of
        if "always" not in run_on:
            runs = ("game_days" in run_on and self.is_game_day(day)) or (
                "days_after_game_days" in run_on and self.is_day_after_game_day(day)
            )
            if not runs:
                wanted = []
                if "game_days" in run_on:
                    wanted.append(("a game day", day))
                if "days_after_game_days" in run_on:
                    wanted.append(("the day after a game day", day - dt.timedelta(days=1)))
                what = " nor ".join(w for w, _ in wanted)
                lead = f"not {what}" if len(wanted) == 1 else f"neither {what}"
                return f"{lead} ({'; '.join(self.describe_day(d) for _, d in wanted)})"
        if "breaks" in skip_on and self.in_break(day):
            days = ", ".join(str(day - dt.timedelta(days=n)) for n in range(1, BREAK_DAYS + 1))
            last = self._last_game_day(day)
            since = f"; last games on {last}" if last else ""
            return f"in a break in the schedule (no regular-season or playoff games on {days}{since})"
        if "playoffs" in skip_on and self.in_playoffs(day):
            last_regular, last_playoff = self._last_before(day)
            regular = f"last regular-season game {last_regular}" if last_regular else "no regular-season games"
            return f"in the playoff window (playoff games up to {last_playoff}; {regular})"
        return None

    def describe_day(self, day: dt.date) -> str:
        """``no games on 2026-02-14; last games on 2026-02-12``, ``no regular-season or playoff games on
        2026-02-15: 1 All-Star game``: what the schedule has on a day that is not a game day."""
        games = self.games_on(day)
        counted = [g for g in games if g.game_type in COUNTED]
        if counted:
            return f"{len(counted)} regular-season or playoff game{'s' if len(counted) != 1 else ''} on {day}"
        if games:
            kinds: dict[str, int] = {}
            for g in games:
                kinds[_TYPE_WORDS[g.game_type]] = kinds.get(_TYPE_WORDS[g.game_type], 0) + 1
            listed = ", ".join(f"{n} {kind} game{'s' if n != 1 else ''}" for kind, n in kinds.items())
            return f"no regular-season or playoff games on {day}: {listed}"
        last = self._last_game_day(day)
        all_star = any(g.game_type == "all_star" and last is not None and last < g.game_date < day for g in self.games)
        note = ": All-Star break" if all_star else ""
        since = f"; last games on {last}" if last is not None else ""
        return f"no games on {day}{note}{since}"

    # -- helpers ---------------------------------------------------------------------------
    def _covered(self, day: dt.date | None) -> dt.date:
        day = self.as_of if day is None else day
        if day > self.as_of or day < self.start:
            raise ValueError(f"the game calendar covers {self.start} to {self.as_of}, not {day}")
        return day

    def _last_before(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The latest regular-season and the latest playoff game date in the 14 days before ``day``."""
        start = day - dt.timedelta(days=LOOKBACK_DAYS)
        window = [g for g in self.games if start <= g.game_date < day]
        regular = [g.game_date for g in window if g.game_type == "regular"]
        playoff = [g.game_date for g in window if g.game_type == "playoffs"]
        return (max(regular) if regular else None, max(playoff) if playoff else None)

    def _last_game_day(self, day: dt.date) -> dt.date | None:
        days = [g.game_date for g in self.games if g.game_date < day and g.game_type in COUNTED]
        return max(days) if days else None


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def build(ctx: CheckContext) -> GameCalendar:
    """Read the calendar's games from the configured schedule table (a metadata look-up of the tip
    source, then one statement)."""
    from pipeline_canary.canaries._tips import tip_source

    start = ctx.as_of - dt.timedelta(days=LOOKBACK_DAYS)
    table = ctx.pipeline.schedule_table
    try:
        tips = tip_source(ctx.warehouse, ctx.pipeline)
        rows = ctx.query(calendar_sql(tips), calendar_start=start, as_of=ctx.as_of).records()
    except CanaryError as exc:
        raise WarehouseError(f"the game calendar could not be read from {table}: {exc}") from exc
    if tips.missing:
        log.info("game calendar %s: %s", ctx.as_of, tips.note)
    return GameCalendar.from_rows(ctx.as_of, ctx.pipeline.timezone, rows, tips.missing)


class RunCalendar:
    """The calendar of one run: built by the first canary that asks, then shared (thread-safe).

    A failure is kept too: every canary that needs the calendar errors with the same cause, and the
    schedule is read once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calendar: GameCalendar | None = None
        self._error: CanaryError | None = None

    def get(self, ctx: CheckContext) -> GameCalendar:
        with self._lock:
            if self._calendar is not None:
                return self._calendar
            if self._error is not None:
                raise self._error
            try:
                self._calendar = build(ctx)
            except CanaryError as exc:
                self._error = exc
                raise
            return self._calendar


def _no_tips() -> TipSource:
    from pipeline_canary.canaries._tips import TipSource

    return TipSource()


# Without tip times: every column it reads is in READS. Last in the module: it imports the canaries package.
CALENDAR_SQL = calendar_sql(_no_tips())
