"""The demo writes predictions when the pipeline does: the coordinator's runs at 8 AM, 1 PM and 4 PM ET."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from pipeline_canary.demo import demo_clock, seed
from tests.conftest import AS_OF, GameDay


def _runs(game_day: GameDay, path: Path, day: dt.date) -> dict[tuple[str, bool], tuple[dt.time, dt.time, int]]:
    """(run mode, active) -> local times of the first and last row written, and how many."""
    rows = game_day.rows(
        path,
        "SELECT prediction_run_mode, is_active, min(created_at), max(created_at), count(*) "
        "FROM nba_predictions.player_prop_predictions WHERE game_date = ? GROUP BY ALL",
        day,
    )
    local = game_day.zone
    return {(r[0], r[1]): (r[2].astimezone(local).time(), r[3].astimezone(local).time(), r[4]) for r in rows}


def test_predictions_are_written_at_the_coordinators_run_times(
    game_day: GameDay, seeded: Callable[[str], Path]
) -> None:
    for day in (AS_OF, AS_OF - dt.timedelta(days=1)):
        runs = _runs(game_day, seeded("healthy"), day)
        assert set(runs) == {("FIRST", True), ("FIRST", False), ("FINAL_RETRY", True), ("LAST_CALL", True)}
        assert runs[("FIRST", True)][:2] == (dt.time(8, 0), dt.time(8, 21))  # 8 models, 3 minutes apart
        assert runs[("FIRST", False)][:2] == (dt.time(8, 0), dt.time(8, 21))  # replaced by a later run
        assert runs[("FINAL_RETRY", True)][:2] == (dt.time(13, 0), dt.time(13, 21))
        assert runs[("LAST_CALL", True)][:2] == (dt.time(16, 0), dt.time(16, 21))
        rewritten = runs[("FINAL_RETRY", True)][2] + runs[("LAST_CALL", True)][2]
        assert rewritten == runs[("FIRST", False)][2]


def test_nothing_is_written_after_the_seeds_now(game_day: GameDay, tmp_path: Path) -> None:
    now = game_day.at(14)  # after 1 PM, before 4 PM
    path = tmp_path / "w.duckdb"
    seed(path, scenario="healthy", now=now)
    runs = _runs(game_day, path, AS_OF)
    assert ("LAST_CALL", True) not in runs
    # a key the 4 PM run will rewrite still has its 8 AM row active
    assert runs[("FIRST", False)][2] == runs[("FINAL_RETRY", True)][2]
    ((first_tip, with_tip, games),) = game_day.rows(
        path,
        "SELECT min(game_date_est), count(game_date_est), count(*) FROM nba_reference.nba_schedule WHERE game_date = ?",
        AS_OF,
    )
    assert first_tip == game_day.at(19) and with_tip == games == 10


def test_the_demo_is_set_in_the_evening_of_its_game_day() -> None:
    evening = dt.datetime(2026, 2, 8, 23, 30, tzinfo=dt.UTC)  # 18:30 ET
    assert demo_clock("America/New_York", evening) == evening
    morning = dt.datetime(2026, 2, 9, 7, 42, tzinfo=dt.UTC)  # 02:42 ET on the 9th
    assert demo_clock("America/New_York", morning) == dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)
