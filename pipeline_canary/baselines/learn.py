"""A band from past values: median ± MADs, or mean ± standard deviations, with a floor on its width."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline_canary.baselines.spec import MAD_SCALE, Baseline


@dataclass(frozen=True)
class Band:
    """The learned normal range; ``low``/``high`` are None on the side a direction does not judge."""

    low: float | None
    high: float | None
    center: float
    spread: float  # the standard-deviation estimate (1.4826 × MAD, or the sample deviation)
    points: int
    method: str

    def describe(self) -> str:
        """``520–610`` / ``>= 520`` / ``<= 610``."""
        if self.low is not None and self.high is not None:
            return f"{_fmt(self.low)}–{_fmt(self.high)}"
        return f">= {_fmt(self.low)}" if self.low is not None else f"<= {_fmt(self.high)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "center": self.center,
            "spread": self.spread,
            "points": self.points,
            "method": self.method,
        }


@dataclass(frozen=True)
class Learning:
    """Not enough history yet: the check is skipped with this reason."""

    points: int
    needed: int
    reason: str


def learn(baseline: Baseline, values: Sequence[float]) -> Band | Learning:
    """The band of ``values`` (one per learned day), or why there is none yet."""
    if len(values) < baseline.min_points:
        return Learning(len(values), baseline.min_points, f"{len(values)} of {baseline.min_points} days learned")
    if baseline.method == "mad":
        center = statistics.median(values)
        spread = MAD_SCALE * statistics.median(abs(v - center) for v in values)
    else:
        center = statistics.fmean(values)
        spread = statistics.stdev(values)
    half = max(baseline.sensitivity * spread, baseline.min_change, abs(center) * baseline.min_change_pct / 100)
    low = None if baseline.direction == "up" else _round(center - half)
    high = None if baseline.direction == "down" else _round(center + half)
    return Band(low, high, _round(center), _round(spread), len(values), baseline.method)


def _round(value: float) -> float:
    return round(value, 4)


def _fmt(value: float | None) -> str:
    if value is None:
        return "any"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
