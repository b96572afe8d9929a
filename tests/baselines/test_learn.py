"""The band a baseline learns from past values: its center, its width and its floors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline_canary.baselines import Band, Baseline, Learning, baseline_checks, derived_metrics, learn

DAYS = [600.0, 610.0, 590.0, 605.0, 595.0, 620.0, 580.0]


def test_mad_band_is_the_median_plus_minus_sensitivity_robust_spreads() -> None:
    band = learn(Baseline(min_change_pct=0), DAYS)
    assert isinstance(band, Band)
    assert band.center == 600.0 and band.points == 7
    assert band.spread == pytest.approx(1.4826 * 10)  # the MAD of the seven days is 10
    assert band.low == pytest.approx(600 - 3 * 14.826) and band.high == pytest.approx(600 + 3 * 14.826)
    assert band.describe() == "556–644"
    floored = learn(Baseline(), DAYS)  # by default each side is at least 10% of the center
    assert isinstance(floored, Band) and (floored.low, floored.high) == (540.0, 660.0)


def test_one_outlier_in_training_moves_a_mad_band_less_than_a_zscore_band() -> None:
    spiky = [*DAYS, 5000.0]
    mad, z = learn(Baseline(), spiky), learn(Baseline(method="zscore"), spiky)
    assert isinstance(mad, Band) and isinstance(z, Band)
    assert mad.high is not None and z.high is not None and mad.high < 700 < z.high


def test_a_metric_that_never_moved_gets_the_floor_not_a_zero_width_band() -> None:
    flat = [8.0] * 10
    band = learn(Baseline(min_change=0.5, min_change_pct=0), flat)
    assert isinstance(band, Band) and (band.low, band.high) == (7.5, 8.5)
    relative = learn(Baseline(min_change_pct=10), flat)
    assert isinstance(relative, Band) and (relative.low, relative.high) == (7.2, 8.8)


def test_direction_judges_one_side_only() -> None:
    down, up = learn(Baseline(direction="down"), DAYS), learn(Baseline(direction="up"), DAYS)
    assert isinstance(down, Band) and down.high is None and down.low is not None
    assert isinstance(up, Band) and up.low is None and up.high is not None
    assert down.describe().startswith(">= ")


def test_too_few_days_is_learning_with_how_many() -> None:
    result = learn(Baseline(min_points=7), DAYS[:3])
    assert isinstance(result, Learning) and result.reason == "3 of 7 days learned"


def test_per_divides_by_another_metric_and_is_none_when_it_is_zero() -> None:
    pairs = (("active_predictions", Baseline(per="games")),)
    assert derived_metrics({"active_predictions": 640, "games": 8}, pairs)["active_predictions_per_games"] == 80
    assert derived_metrics({"active_predictions": 0, "games": 0}, pairs)["active_predictions_per_games"] is None
    assert derived_metrics({"active_predictions": 5}, pairs)["active_predictions_per_games"] is None


def test_each_baseline_is_one_check_named_after_what_it_judges() -> None:
    [check] = baseline_checks((("active_predictions", Baseline(per="games", level="warn")),))
    assert check.name == "active_predictions_per_games_baseline"
    assert check.metric == "active_predictions_per_games"
    assert check.threshold.level == "warn" and check.threshold.min is None and check.threshold.max is None


@pytest.mark.parametrize(
    ("key", "value"),
    [("method", "median"), ("sensitivity", 0), ("min_points", 1), ("per", "games; DROP"), ("training_days", 10_000)],
)
def test_bad_values_are_refused(key: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Baseline.model_validate({key: value})
