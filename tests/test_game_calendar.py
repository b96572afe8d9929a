"""The game calendar: game days, breaks and the playoff window as the pipeline defines them, tips,
duplicates, the reasons a canary gives when it does not run, and one build per run from DuckDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.canaries.base import CheckContext
from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import WarehouseError
from pipeline_canary.game_calendar import GameCalendar, RunCalendar, game_type

D = dt.date


def game(day: dt.date, prefix: str = "002", n: int = 1, status: int = 3, tip_hour: int | None = 0) -> dict[str, Any]:
    tip = None if tip_hour is None else dt.datetime.combine(day + dt.timedelta(days=1), dt.time(tip_hour), dt.UTC)
    return {
        "game_id": f"{prefix}25{day:%m%d}{n}",
        "game_date": day,
        "game_status": status,
        "away_team_tricode": f"A{n:02d}",
        "home_team_tricode": f"H{n:02d}",
        "tip_at": tip,
    }


def calendar(as_of: dt.date, rows: list[dict[str, Any]]) -> GameCalendar:
    return GameCalendar.from_rows(as_of, "America/New_York", rows)


def test_game_types_come_from_the_id_prefix() -> None:
    assert [game_type(p + "2500852") for p in ("001", "002", "003", "004", "005")] == [
        "preseason", "regular", "all_star", "playoffs", "other",
    ]  # fmt: skip


def test_game_days_days_after_and_the_all_star_break() -> None:
    # Regular games through Thu 12 Feb, the All-Star game on Sun 15 Feb, nothing else until 19 Feb.
    rows = [game(D(2026, 2, d)) for d in range(1, 13)] + [game(D(2026, 2, 15), "003")]
    cal = calendar(D(2026, 2, 17), rows)
    assert cal.is_game_day(D(2026, 2, 12)) and not cal.is_game_day(D(2026, 2, 15))  # All-Star is not a game day
    assert cal.is_day_after_game_day(D(2026, 2, 13)) and not cal.is_day_after_game_day(D(2026, 2, 14))
    # the pipeline's break: none of the three days before had a regular-season or playoff game
    assert not cal.in_break(D(2026, 2, 15)) and cal.in_break(D(2026, 2, 16)) and cal.in_break(D(2026, 2, 17))
    assert cal.skip_reason(["game_days"], []) == (
        "not a game day (no games on 2026-02-17: All-Star break; last games on 2026-02-12)"
    )
    assert cal.skip_reason(["always"], ["breaks"]) == (
        "in a break in the schedule (no regular-season or playoff games on 2026-02-16, 2026-02-15, 2026-02-14; "
        "last games on 2026-02-12)"
    )
    assert cal.skip_reason(["always"], ["playoffs"]) is None
    on_the_day = calendar(D(2026, 2, 15), rows)
    assert on_the_day.skip_reason(["game_days", "days_after_game_days"], []) == (
        "neither a game day nor the day after a game day (no regular-season or playoff games on 2026-02-15: "
        "1 All-Star game; no games on 2026-02-14; last games on 2026-02-12)"
    )
    after = calendar(D(2026, 2, 13), rows)
    assert after.skip_reason(["days_after_game_days"], ["breaks"]) is None
    assert after.skip_reason(["game_days"], []) == "not a game day (no games on 2026-02-13; last games on 2026-02-12)"


@pytest.mark.parametrize(
    ("regular_until", "playoffs_from", "as_of", "playoffs"),
    [
        (None, None, D(2026, 4, 20), False),  # no playoff game in the 14 days before
        (D(2026, 4, 12), D(2026, 4, 18), D(2026, 4, 20), True),  # last regular game 8 days back
        (D(2026, 4, 18), D(2026, 4, 18), D(2026, 4, 20), False),  # a regular game 2 days back
        (D(2026, 4, 17), D(2026, 4, 18), D(2026, 4, 20), True),  # exactly 3 days back
        (None, D(2026, 4, 18), D(2026, 4, 20), True),  # playoffs only
        (D(2026, 4, 10), D(2026, 4, 12), D(2026, 4, 29), False),  # the last playoff game 15 days back
    ],
)
def test_the_playoff_window(
    regular_until: dt.date | None, playoffs_from: dt.date | None, as_of: dt.date, playoffs: bool
) -> None:
    rows = []
    if regular_until:
        rows += [game(regular_until - dt.timedelta(days=n)) for n in range(3)]
    if playoffs_from:
        rows += [game(playoffs_from + dt.timedelta(days=n), "004") for n in range(3)]
    cal = calendar(as_of, [r for r in rows if r["game_date"] <= as_of])
    assert cal.in_playoffs() is playoffs
    reason = cal.skip_reason(["always"], ["playoffs"])
    assert (reason is not None) is playoffs
    if reason and regular_until:
        assert (
            reason
            == f"in the playoff window (playoff games up to 2026-04-19; last regular-season game {regular_until})"
        )


def test_duplicates_tips_and_first_tip() -> None:
    day = D(2026, 2, 8)
    rows = [game(day, n=1, tip_hour=0), game(day, n=2, tip_hour=1), game(day, n=3, tip_hour=None)]
    rows[0] |= {"schedule_rows": 2, "lowest_status": 1}
    cal = calendar(day, rows)
    assert [g.key for g in cal.games_on()] == ["20260208_A01_H01", "20260208_A02_H02", "20260208_A03_H03"]
    assert cal.first_tip() == dt.datetime(2026, 2, 9, 0, tzinfo=dt.UTC)
    assert cal.tips()["20260208_A03_H03"] is None
    first = cal.games_on()[0]
    assert (first.schedule_rows, first.lowest_status, first.game_type) == (2, 1, "regular")
    with pytest.raises(ValueError, match="covers 2026-01-25 to 2026-02-08"):
        cal.games_on(D(2026, 2, 9))


def test_built_once_per_run_from_duckdb(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    from pipeline_canary.warehouse import connect_pipeline

    config = make_config(seeded("healthy"))
    shared = RunCalendar()
    with connect_pipeline(config) as warehouse:
        contexts = [
            CheckContext(
                warehouse,
                config.pipeline,
                D(2026, 2, 8),
                dt.datetime(2026, 2, 8, 23, tzinfo=dt.UTC),
                calendar_source=shared,
            )
            for _ in range(2)
        ]
        first, second = (ctx.calendar() for ctx in contexts)
    assert first is second and len(contexts[0].queries) == 1 and contexts[1].queries == []  # one statement
    assert len(first.games_on()) == 10 and first.is_game_day() and first.is_day_after_game_day()
    assert all(g.tip_at is not None and g.tip_at.tzinfo is not None for g in first.games_on())
    # the demo's earliest tip is 19:00 in New York
    assert first.first_tip() == dt.datetime(2026, 2, 9, 0, tzinfo=dt.UTC)


def test_a_calendar_that_cannot_be_read_fails_every_canary_the_same_way(
    tmp_path: Path, make_config: Callable[..., CanaryConfig], seeded: Callable[[str], Path]
) -> None:
    from pipeline_canary.warehouse import connect_pipeline

    config = make_config(seeded("healthy"), extra='[pipeline]\nschedule_table = "nba_reference.missing"\n')
    shared = RunCalendar()
    with connect_pipeline(config) as warehouse:
        ctx = CheckContext(warehouse, config.pipeline, D(2026, 2, 8), dt.datetime.now(dt.UTC), calendar_source=shared)
        with pytest.raises(WarehouseError, match=r"game calendar could not be read from nba_reference\.missing") as one:
            ctx.calendar()
        with pytest.raises(WarehouseError) as two:
            CheckContext(warehouse, config.pipeline, D(2026, 2, 8), ctx.now, calendar_source=shared).calendar()
    assert two.value is one.value  # read once; every canary sees the same cause
