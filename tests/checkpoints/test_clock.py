"""The run's clock: which game day a run is about, what "now" is, and whether the run is live."""

from __future__ import annotations

import datetime as dt

from pipeline_canary.checkpoints.runner import resolve_clock

TZ = "America/New_York"
WALL = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York on 2 December


def wall() -> dt.datetime:
    return WALL


def test_no_as_of_no_now_is_today_live_on_the_wall_clock() -> None:
    clock = resolve_clock(TZ, wall_clock=wall)
    assert (clock.as_of, clock.now, clock.now_source, clock.replay) == (dt.date(2026, 12, 2), WALL, "wall_clock", False)


def test_a_past_as_of_without_now_ends_at_the_end_of_that_game_day() -> None:
    clock = resolve_clock(TZ, dt.date(2026, 2, 8), wall_clock=wall)
    # 23:59:59 in New York (EST, UTC-5) on the game day, not the wall clock
    assert clock.now == dt.datetime(2026, 2, 9, 4, 59, 59, tzinfo=dt.UTC) and clock.now.tzinfo is dt.UTC
    assert (clock.now_source, clock.replay) == ("end_of_game_day", True)


def test_todays_as_of_without_now_uses_the_wall_clock_which_is_earlier() -> None:
    clock = resolve_clock(TZ, dt.date(2026, 12, 2), wall_clock=wall)
    assert (clock.now, clock.now_source, clock.replay) == (WALL, "wall_clock", False)


def test_a_future_as_of_is_a_replay_on_the_wall_clock() -> None:
    clock = resolve_clock(TZ, dt.date(2026, 12, 3), wall_clock=wall)
    assert (clock.now, clock.now_source, clock.replay) == (WALL, "wall_clock", True)


def test_a_given_now_decides_the_current_game_day() -> None:
    now = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)  # 18:00 in New York on 8 February
    live = resolve_clock(TZ, dt.date(2026, 2, 8), now, wall_clock=wall)
    assert (live.now, live.now_source, live.replay) == (now, "given", False)
    replay = resolve_clock(TZ, dt.date(2026, 2, 7), now, wall_clock=wall)
    assert (replay.now, replay.replay) == (now, True)


def test_the_game_day_is_the_pipelines_not_utcs() -> None:
    late = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)  # 21:00 on 2 December in New York
    clock = resolve_clock(TZ, dt.date(2026, 12, 2), wall_clock=lambda: late)
    assert (clock.now, clock.replay) == (late, False)
