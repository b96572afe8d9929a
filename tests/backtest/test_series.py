"""prediction_gap observed set-wise (one statement over a game day's clocks) equals its run at each clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.backtest import run_backtest, schedule
from pipeline_canary.backtest.changes import change_points
from pipeline_canary.canaries import CheckContext, Observation, registry
from pipeline_canary.canaries.prediction_gap import PredictionGap
from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig
from pipeline_canary.game_calendar import RunCalendar
from pipeline_canary.warehouse import Warehouse, connect_pipeline
from tests.conftest import AS_OF, NOW, GameDay

NAME = "prediction_gap"
DAYS = [AS_OF - dt.timedelta(days=2), AS_OF - dt.timedelta(days=1), AS_OF]
STEP = dt.timedelta(minutes=30)
EPSILON = dt.timedelta(microseconds=1)


def clocks_of(config: CanaryConfig, day: dt.date, warehouse: Warehouse, calendar: RunCalendar) -> list[dt.datetime]:
    """Every 30-minute step of the day, and each change point, a microsecond before and at it."""
    steps = schedule(day, day, STEP, config.pipeline.timezone)
    canary = registry.get(NAME)
    points = change_points(config, warehouse, canary, day, steps[0], steps[-1] + STEP, calendar)
    assert points, "the day has change points"
    return sorted({*steps, *points, *(p - EPSILON for p in points)})


def per_step(config: CanaryConfig, warehouse: Warehouse, day: dt.date, now: dt.datetime) -> Observation:
    ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=day, now=now)
    return registry.get(NAME).observe(ctx, config.settings_for(NAME))


@pytest.mark.parametrize("scenario", ["healthy", "incident", "prediction-gap"])
def test_series_observations_equal_the_observations_at_each_clock(
    scenario: str, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded(scenario))
    canary = registry.get(NAME)
    warehouse = connect_pipeline(config)
    try:
        kinds: set[str] = set()
        for day in DAYS:
            calendar = RunCalendar()
            clocks = clocks_of(config, day, warehouse, calendar)
            ctx = CheckContext(
                warehouse=warehouse, pipeline=config.pipeline, as_of=day, now=clocks[0], calendar_source=calendar
            )
            series = canary.observe_series(ctx, config.settings_for(NAME), clocks)
            assert series is not None and list(series) == clocks
            assert len(ctx.queries) == 2  # one statement for the games, one for the totals, whatever the clocks
            for clock in clocks:
                expected = per_step(config, warehouse, day, clock)
                assert series[clock] == expected, (scenario, day, clock)  # metrics, evidence, summary, skip, due
                kinds.add("pending" if expected.due_at else "gap" if expected.metrics.get("gap_detected") else "judged")
    finally:
        warehouse.close()
    assert {"pending", "judged"} <= kinds
    if scenario == "prediction-gap":
        assert "gap" in kinds


def test_a_day_without_predictions_has_one_totals_row_per_clock(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], game_day: GameDay
) -> None:
    config = make_config(seeded("healthy"), copy=True)
    assert config.warehouse.path is not None
    game_day.edit(
        config.warehouse.path, f"DELETE FROM nba_predictions.player_prop_predictions WHERE game_date = DATE '{AS_OF}'"
    )
    warehouse = connect_pipeline(config)
    try:
        clocks = schedule(AS_OF, AS_OF, STEP, config.pipeline.timezone, until=NOW)
        ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=AS_OF, now=clocks[0])
        series = registry.get(NAME).observe_series(ctx, config.settings_for(NAME), clocks)
        assert series is not None
        for clock in clocks:
            assert series[clock] == per_step(config, warehouse, AS_OF, clock), clock
        assert series[NOW].metrics["gap_detected"] == 1 and series[NOW].metrics["inactive_predictions"] == 0
    finally:
        warehouse.close()


@pytest.mark.parametrize("scenario", ["healthy", "prediction-gap"])
def test_validated_series_observations_give_the_results_of_runs(
    scenario: str, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded(scenario))
    warehouse = connect_pipeline(config)
    try:
        calendar = RunCalendar()
        steps = schedule(AS_OF, AS_OF, STEP, config.pipeline.timezone, until=NOW)
        points = change_points(config, warehouse, registry.get(NAME), AS_OF, steps[0], NOW, calendar)
        clocks = sorted({steps[0], *(points or ())})  # each distinct observation of the day (GX validates each)
        ctx = CheckContext(
            warehouse=warehouse, pipeline=config.pipeline, as_of=AS_OF, now=clocks[0], calendar_source=calendar
        )
        series = registry.get(NAME).observe_series(ctx, config.settings_for(NAME), clocks)
        assert series is not None
        outcomes = set()
        for clock in clocks:
            ran = run_checkpoints(config, [NAME], now=clock, warehouse=warehouse, build_docs=False)
            given = run_checkpoints(
                config, [NAME], now=clock, warehouse=warehouse, build_docs=False, observed={NAME: series[clock]}
            )
            [r], [g] = ran.checkpoints, given.checkpoints
            assert (g.outcome, g.message, g.metrics, g.evidence) == (r.outcome, r.message, r.metrics, r.evidence)
            assert [(c.name, c.outcome, c.observed, c.message) for c in g.checks] == [
                (c.name, c.outcome, c.observed, c.message) for c in r.checks
            ]
            assert g.bytes_processed is None  # its SQL ran set-wise, before the run
            outcomes.add(r.outcome.value)
    finally:
        warehouse.close()
    assert len(outcomes) >= 2, outcomes  # pending (skipped) and judged


@pytest.mark.parametrize("scenario", ["healthy", "incident"])
def test_a_backtest_with_series_finds_what_it_finds_running_each_step(
    scenario: str,
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = make_config(seeded(scenario))
    start = AS_OF - dt.timedelta(days=1)
    with_series = run_backtest(config, start, AS_OF, until=NOW)
    monkeypatch.setattr(PredictionGap, "observe_series", lambda self, ctx, settings, clocks: None)
    without = run_backtest(config, start, AS_OF, until=NOW)
    assert with_series.series_observations > 0 and without.series_observations == 0
    assert with_series.evaluations == without.evaluations

    def seen(result: object) -> list[tuple[object, ...]]:
        return [
            (
                i.checkpoint,
                i.check,
                i.opened_at,
                i.resolved_at,
                i.last_value,
                [(m.at, m.kind, m.text) for m in i.messages],
            )
            for i in result.incidents  # type: ignore[attr-defined]
        ]

    assert seen(with_series) == seen(without)
    assert with_series.failing_steps == without.failing_steps and with_series.days == without.days
