"""Training points from the run history: one per past day at the same time of day, never an abnormal day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline_canary.baselines import Band, Baseline, Learning
from pipeline_canary.baselines.training import Trainer
from pipeline_canary.results import CheckpointResult, CheckResult, Outcome, RunResult, Threshold
from pipeline_canary.state.history import record_run
from pipeline_canary.state.sqlite import SQLiteState
from tests.conftest import NEW_YORK

TODAY = dt.date(2026, 2, 20)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), NEW_YORK).astimezone(dt.UTC)


def record(state: SQLiteState, day: dt.date, moment: dt.datetime, value: float, *, flagged: bool = False) -> None:
    checks: tuple[CheckResult, ...] = ()
    if flagged:
        checks = (CheckResult("active_predictions_baseline", Outcome.FAILED, "flagged", value, Threshold(min=1)),)
    cp = CheckpointResult("prediction_gap", Outcome.PASSED, checks, metrics={"active_predictions": value, "games": 8})
    record_run(state, RunResult(f"r-{moment.isoformat()}", day, moment, (cp,)))


def history(tmp_path: Path, days: int = 10) -> SQLiteState:
    state = SQLiteState(tmp_path / "state.sqlite")
    for back in range(1, days + 1):
        day = TODAY - dt.timedelta(days=back)
        record(state, day, at(day, 9), 100.0 + back)  # after the 8 AM run: about a sixth of the day
        record(state, day, at(day, 18), 600.0 + back)  # after the 4 PM run: the whole day
    return state


def band(trainer: Trainer, baseline: Baseline, now: dt.datetime) -> Band | Learning:
    bands = trainer.bands("prediction_gap", (("active_predictions", baseline),), TODAY, now)
    return bands["active_predictions_baseline"]


def test_a_past_day_counts_with_its_value_at_the_same_time_of_day(tmp_path: Path) -> None:
    trainer = Trainer(history(tmp_path), "America/New_York")
    evening, morning = band(trainer, Baseline(), at(TODAY, 18, 20)), band(trainer, Baseline(), at(TODAY, 9, 10))
    assert isinstance(evening, Band) and isinstance(morning, Band)
    assert evening.center == 605.5 and morning.center == 105.5 and evening.points == morning.points == 10
    # at noon no past run is within 45 minutes of the time of day: nothing to learn from
    noon = band(trainer, Baseline(), at(TODAY, 12))
    assert isinstance(noon, Learning) and noon.reason == "0 of 7 days learned"
    assert isinstance(band(trainer, Baseline(match_minutes=200), at(TODAY, 12)), Band)


def test_training_stops_before_the_detection_window_and_spans_training_days(tmp_path: Path) -> None:
    trainer = Trainer(history(tmp_path, days=20), "America/New_York")
    learned = band(trainer, Baseline(training_days=8, detection_days=3, min_points=2), at(TODAY, 18))
    # days TODAY-3 .. TODAY-10: values 603 .. 610
    assert isinstance(learned, Band) and learned.points == 8 and learned.center == 606.5


def test_days_the_baseline_flagged_and_incident_days_are_not_learned(tmp_path: Path) -> None:
    state = history(tmp_path)
    flagged = TODAY - dt.timedelta(days=2)
    record(state, flagged, at(flagged, 18, 5), 50.0, flagged=True)  # that day's 18:05 run flagged a drop
    with state.transaction() as conn:
        conn.execute(
            "INSERT INTO alert_incidents (checkpoint, check_name, status, severity, channel, first_failed_at,"
            " last_seen_at, runs, message, threshold, game_date) VALUES ('prediction_gap', 'no_prediction_gap',"
            " 'resolved', 'critical', '#c', ?, ?, 3, 'gap', '{}', ?)",
            (at(TODAY, 0).isoformat(), at(TODAY, 0).isoformat(), (TODAY - dt.timedelta(days=5)).isoformat()),
        )
    trainer = Trainer(state, "America/New_York", exclude_days={TODAY - dt.timedelta(days=7)})
    learned = band(trainer, Baseline(), at(TODAY, 18))
    assert isinstance(learned, Band) and learned.points == 7  # 10 days less the flagged, incident and known days


def test_weekday_seasonality_learns_from_the_same_weekday_only(tmp_path: Path) -> None:
    trainer = Trainer(history(tmp_path, days=28), "America/New_York")
    learned = band(trainer, Baseline(seasonality="weekday", min_points=3), at(TODAY, 18))
    assert isinstance(learned, Band) and learned.points == 4 and learned.center == 617.5  # 7, 14, 21, 28 days back
