"""The ``baseline`` block: how a metric's normal band is learned, and the check it becomes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import field_validator

from pipeline_canary.config_types import Bounded, Section
from pipeline_canary.results import Threshold

if TYPE_CHECKING:
    from pipeline_canary.canaries.base import CheckSpec
    from pipeline_canary.config_messages import Problem

Method = Literal["mad", "zscore"]
Seasonality = Literal["none", "weekday"]
Direction = Literal["both", "down", "up"]
METRIC = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
MAD_SCALE = 1.4826  # a MAD times this estimates the standard deviation of normally distributed values


class Baseline(Section):
    """``[checkpoints.NAME.baseline.METRIC]``: learn METRIC's band from the checkpoint's history.

    ``method``: ``mad`` (median ± sensitivity × 1.4826 × median absolute deviation; robust to the
    odd outlier) or ``zscore`` (mean ± sensitivity × standard deviation). ``training_days``: the
    game days learned from, before the ``detection_days`` being judged (1: the as-of day only).
    ``min_points``: fewer learned days and the check is skipped ("learning"). ``seasonality``:
    ``weekday`` learns only from the same weekday. ``per``: judge METRIC divided by another metric
    of the checkpoint (``per = "games"``: per scheduled game, so a five-game night is not an
    anomaly after a ten-game one). ``direction``: ``down`` flags only drops, ``up`` only rises.
    ``min_change`` / ``min_change_pct``: the band is at least this wide on each side (absolute, and
    % of the center), so a metric that never moved does not flag a change of one.
    ``match_minutes``: a past day's point is its run nearest the same time of day, within this.
    """

    method: Method = "mad"
    training_days: Annotated[int, Bounded(1, 366, unit="days")] = 28
    detection_days: Annotated[int, Bounded(1, 60, unit="days")] = 1
    min_points: Annotated[int, Bounded(2, 366, unit="days")] = 7
    seasonality: Seasonality = "none"
    per: str | None = None
    direction: Direction = "both"
    sensitivity: Annotated[float, Bounded(0, 100, lo_open=True)] = 3.0
    min_change: Annotated[float, Bounded(0, 1e12)] = 0.0
    min_change_pct: Annotated[float, Bounded(0, 1000, unit="%")] = 10.0
    match_minutes: Annotated[int, Bounded(1, 720, unit="minutes")] = 45
    level: Literal["fail", "warn"] = "fail"

    @field_validator("per")
    @classmethod
    def _metric_name(cls, value: str | None) -> str | None:
        if value is not None and not METRIC.fullmatch(value):
            raise ValueError(f"must be a metric name (letters, digits, _), got {value!r}")
        return value

    def judged_metric(self, metric: str) -> str:
        """The metric the band is about: METRIC, or METRIC_per_PER."""
        return f"{metric}_per_{self.per}" if self.per else metric

    def describe(self) -> str:
        """``learned over 28 days, 3 MADs, drops only``."""
        spread = "MADs" if self.method == "mad" else "standard deviations"
        side = {"both": "", "down": ", drops only", "up": ", rises only"}[self.direction]
        season = ", same weekday" if self.seasonality == "weekday" else ""
        return f"learned over {self.training_days} days, {self.sensitivity:g} {spread}{season}{side}"


def retention_problems(checkpoint: str, baselines: Iterable[tuple[str, Baseline]], kept_days: int) -> list[Problem]:
    """The baselines of ``checkpoint`` that would learn from more days than the state store keeps."""
    from pipeline_canary.config_messages import Problem

    found = []
    for metric, baseline in baselines:
        span = baseline.training_days + baseline.detection_days
        if span > kept_days:
            text = (
                f"training_days + detection_days ({span}) exceeds state.retention_days ({kept_days}), so the "
                f"history it learns from is deleted first: lower training_days to at most "
                f"{kept_days - baseline.detection_days} or raise state.retention_days"
            )
            found.append(Problem(f"checkpoints.{checkpoint}.baseline.{metric}.training_days", text))
    return found


def metric_names(baselines: Mapping[str, object]) -> None:
    """Raise ValueError for a ``baseline.KEY`` that cannot be a metric name."""
    for metric in baselines:
        if not METRIC.fullmatch(metric):
            raise ValueError(f"baseline.{metric}: not a metric name (letters, digits, _)")


def check_name(metric: str, baseline: Baseline) -> str:
    return f"{baseline.judged_metric(metric)}_baseline"


def baseline_checks(baselines: Iterable[tuple[str, Baseline]]) -> list[CheckSpec]:
    """One check per baseline; its threshold has no bounds until a run learns them."""
    from pipeline_canary.canaries.base import CheckSpec

    return [
        CheckSpec(
            name=check_name(metric, baseline),
            metric=baseline.judged_metric(metric),
            threshold=Threshold(level=baseline.level),
            description=baseline.describe(),
            baseline=baseline,
        )
        for metric, baseline in baselines
    ]


def derived_metrics(
    metrics: Mapping[str, float | None], baselines: Iterable[tuple[str, Baseline]]
) -> dict[str, float | None]:
    """``metrics`` plus each ``METRIC_per_PER`` a baseline judges (None when either is missing or PER is 0)."""
    out = dict(metrics)
    for metric, baseline in baselines:
        if baseline.per is None:
            continue
        value, per = metrics.get(metric), metrics.get(baseline.per)
        ratio = None
        if value is not None and per is not None and float(per) != 0:
            ratio = round(float(value) / float(per), 4)
        out[baseline.judged_metric(metric)] = ratio
    return out
