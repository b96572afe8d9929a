"""feature_contamination: feature-store rows built from default values for required features.

24.6% of recent ``ml_feature_store_v2`` rows once had at least one required feature defaulted,
silently degrading predictions and training data. Required features are every feature outside
``OPTIONAL_FEATURES`` = {25, 26, 27, 37..59} (quality_scorer.py): indices 0–24 and 28–36.

Only rows written by the run's ``now`` (``created_at <= @now``) count, so a replay or a backtest sees
the feature store as it was then, not the rows a later backfill wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import model_validator

from pipeline_canary.canaries.base import (
    Canary,
    CheckContext,
    CheckSpec,
    Headline,
    Observation,
    Query,
    Settings,
    register,
)
from pipeline_canary.config_types import Bounded
from pipeline_canary.results import Threshold

OPTIONAL_FEATURES = frozenset({25, 26, 27, *range(37, 60)})
REQUIRED_FEATURES = tuple(i for i in range(60) if i not in OPTIONAL_FEATURES)

FEATURE_NAMES = (
    "points_avg_last_5", "points_avg_last_10", "points_avg_season", "points_std_last_10",
    "games_in_last_7_days", "fatigue_score", "shot_zone_mismatch_score", "pace_score",
    "usage_spike_score", "rest_advantage", "injury_risk", "recent_trend", "minutes_change",
    "opponent_def_rating", "opponent_pace", "home_away", "back_to_back", "playoff_game",
    "pct_paint", "pct_mid_range", "pct_three", "pct_free_throw", "team_pace", "team_off_rating",
    "team_win_pct", "vegas_points_line", "vegas_opening_line", "vegas_line_move", "has_vegas_line",
    "avg_points_vs_opponent", "games_vs_opponent", "minutes_avg_last_10", "ppm_avg_last_10",
    "dnp_rate", "pts_slope_10g", "pts_vs_season_zscore", "breakout_flag", "star_teammates_out",
    "game_total_line",
)  # fmt: skip


def feature_name(index: int) -> str:
    if index < len(FEATURE_NAMES):
        return FEATURE_NAMES[index]
    if index <= 53:
        return f"v12_feature_{index}"
    return {
        54: "prop_line_delta", 55: "over_rate_last_10", 56: "margin_vs_line_avg_last_5",
        57: "blowout_minutes_risk", 58: "minutes_volatility_last_10", 59: "opponent_pace_mismatch",
    }.get(index, f"feature_{index}")  # fmt: skip


DAILY_SQL = """
SELECT
  game_date,
  COUNT(*) AS rows_checked,
  COUNTIF(required_default_count > 0) AS contaminated_rows
FROM {feature_store}
WHERE game_date >= @window_start AND game_date < @as_of
  AND feature_count >= @min_feature_count
  AND created_at <= @now
GROUP BY game_date
ORDER BY game_date
"""

# The window is selected before the UNNEST: filtered after it, DuckDB unnests every row the table
# has ever had (820,352 at 20 seasons, 5.5 ms) before the date filter applies (3,146 rows, 0.7 ms).
INDICES_SQL = """
SELECT idx AS feature_index, COUNT(*) AS rows_defaulted
FROM (
  SELECT default_feature_indices
  FROM {feature_store}
  WHERE game_date >= @window_start AND game_date < @as_of
    AND feature_count >= @min_feature_count
    AND created_at <= @now
) AS window_rows, UNNEST(window_rows.default_feature_indices) AS idx
GROUP BY idx
"""


class ContaminationSettings(Settings):
    warn_pct: Annotated[float, Bounded(0, 100, unit="%")] = 5.0
    fail_pct: Annotated[float, Bounded(0, 100, unit="%")] = 15.0
    window_days: Annotated[int, Bounded(1, 366, unit="days")] = 14
    min_feature_count: Annotated[int, Bounded(0, 10_000, unit="features")] = 37
    top_features: Annotated[int, Bounded(1, 60, unit="features")] = 10

    @model_validator(mode="after")
    def _ordered(self) -> ContaminationSettings:
        if self.warn_pct > self.fail_pct:
            raise ValueError(f"warn_pct ({self.warn_pct}) must not exceed fail_pct ({self.fail_pct})")
        return self


@register
class FeatureContamination(Canary):
    name = "feature_contamination"
    order = 20
    reads = {
        "feature_store_table": (
            "game_date",
            "feature_count",
            "required_default_count",
            "default_feature_indices",
            "created_at",
        )
    }
    headline = Headline(("required_default_pct",), "Required-feature contamination", "%")
    title = "Required-feature contamination"
    description = (
        "Share of recent feature-store rows with at least one required feature filled from a default "
        "value; such rows are blocked by the quality gate and poison training data."
    )
    severity = "warning"
    # A rolling window ending at the as-of date, not one game day: a contamination that lasts a week
    # is one incident (announced once, followed up), not a new parent message every day.
    about_game_day = False
    runbook = (
        "Look at the most-defaulted features below and the upstream processors that feed them "
        "(phase 4 precompute: composite factors, opponent defense, team context); re-run Phase 4 "
        "for the affected dates, then the feature store. Exclude contaminated rows from training."
    )
    settings_model = ContaminationSettings

    def checks(self, settings: Any) -> list[CheckSpec]:
        return [
            CheckSpec(
                name="contamination_below_fail",
                metric="required_default_pct",
                threshold=Threshold(max=settings.fail_pct, level="fail"),
                description=f"% of rows with required defaults must stay <= {settings.fail_pct}",
                evidence=("most_defaulted_required_features", "trend_by_day"),
            ),
            CheckSpec(
                name="contamination_below_warn",
                metric="required_default_pct",
                threshold=Threshold(max=settings.warn_pct, level="warn"),
                description=f"% of rows with required defaults should stay <= {settings.warn_pct}",
                evidence=("most_defaulted_required_features", "trend_by_day"),
            ),
        ]

    def evidence_line(self, table: str, row: Mapping[str, Any]) -> str:
        if table == "trend_by_day":
            return (
                f"{row['game_date']}: {row['contaminated_rows']} of {row['rows']} rows ({row['pct']}%) "
                "have required defaults"
            )
        return (
            f"feature {row['feature_index']} {row['feature_name']}: defaulted in {row['rows_defaulted']} rows "
            f"({row['pct_of_rows']}%)"
        )

    def queries(self, ctx: CheckContext, settings: Any) -> list[Query]:
        params = {
            "as_of": ctx.as_of,
            "window_start": ctx.as_of - dt.timedelta(days=settings.window_days),
            "min_feature_count": settings.min_feature_count,
            "now": ctx.now,
        }
        return [Query(DAILY_SQL, params), Query(INDICES_SQL, params)]

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        daily_q, indices_q = self.queries(ctx, settings)
        daily = ctx.query(daily_q.template, **daily_q.params).records()
        total = sum(int(d["rows_checked"]) for d in daily)
        if total == 0:
            return Observation(
                metrics={},
                skip_reason=(f"no feature-store rows in the {settings.window_days} days before {ctx.as_of}"),
            )
        contaminated = sum(int(d["contaminated_rows"]) for d in daily)
        trend = [
            {
                "game_date": d["game_date"],
                "rows": int(d["rows_checked"]),
                "contaminated_rows": int(d["contaminated_rows"]),
                "pct": round(100.0 * int(d["contaminated_rows"]) / int(d["rows_checked"]), 2),
            }
            for d in daily
        ]
        counts = ctx.query(indices_q.template, **indices_q.params).records()
        required = [c for c in counts if int(c["feature_index"]) in REQUIRED_FEATURES]
        required.sort(key=lambda c: (-int(c["rows_defaulted"]), int(c["feature_index"])))
        top = [
            {
                "feature_index": int(c["feature_index"]),
                "feature_name": feature_name(int(c["feature_index"])),
                "rows_defaulted": int(c["rows_defaulted"]),
                "pct_of_rows": round(100.0 * int(c["rows_defaulted"]) / total, 2),
            }
            for c in required[: settings.top_features]
        ]
        pct = round(100.0 * contaminated / total, 2)
        return Observation(
            metrics={
                "rows_checked": total,
                "contaminated_rows": contaminated,
                "required_default_pct": pct,
                "days": len(daily),
            },
            evidence={"trend_by_day": trend, "most_defaulted_required_features": top},
            summary=f"{pct}% of {total} feature rows in the last {settings.window_days} days have required defaults",
        )
