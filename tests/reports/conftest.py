"""Report fixtures: configs with their own state store, and synthetic run results (no warehouse, no GX)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import CheckpointResult, CheckResult, Outcome, RunResult, Threshold

# Healthy metrics for each checkpoint, and what a failure of each looks like.
HEALTHY: dict[str, dict[str, float | None]] = {
    "prediction_gap": {"games": 10, "active_predictions": 5000, "gap_detected": 0, "games_without_predictions": 0},
    "feature_contamination": {"rows_checked": 2000, "required_default_pct": 1.5},
    "schema_parity": {"missing_in_table": 0, "incompatible_fields": 0},
    "orphaned_staging_tables": {"staging_tables": 3, "orphaned_tables": 0},
}
BROKEN: dict[str, dict[str, float | None]] = {
    "prediction_gap": {"games": 10, "active_predictions": 0, "gap_detected": 1, "games_without_predictions": 0},
    "feature_contamination": {"rows_checked": 2000, "required_default_pct": 24.6},
    "schema_parity": {"missing_in_table": 2, "incompatible_fields": 0},
    "orphaned_staging_tables": {"staging_tables": 671, "orphaned_tables": 668},
}
CHECK_METRIC = {
    "prediction_gap": ("no_prediction_gap", "gap_detected"),
    "feature_contamination": ("contamination_below_fail", "required_default_pct"),
    "schema_parity": ("worker_fields_exist", "missing_in_table"),
    "orphaned_staging_tables": ("no_orphaned_tables", "orphaned_tables"),
}


def checkpoint_result(
    name: str, outcome: Outcome, *, message: str = "", docs_path: str | None = None
) -> CheckpointResult:
    metrics = dict((BROKEN if outcome is Outcome.FAILED else HEALTHY)[name])
    check, metric = CHECK_METRIC[name]
    return CheckpointResult(
        name=name,
        outcome=outcome,
        checks=(
            CheckResult(check, outcome, f"{metric} = {metrics[metric]}", metrics[metric], Threshold(max=0), metric),
        ),
        message=message or f"{name} {outcome.value}",
        metrics=metrics,
        bytes_processed=1024,
        duration_s=0.25,
        docs_path=docs_path,
    )


def run_result(
    now: dt.datetime,
    failing: tuple[str, ...] = (),
    *,
    run_id: str | None = None,
    messages: dict[str, str] | None = None,
    docs: dict[str, str] | None = None,
) -> RunResult:
    return RunResult(
        run_id=run_id or now.strftime("%Y%m%dT%H%M%SZ"),
        as_of=now.date(),
        now=now,
        checkpoints=tuple(
            checkpoint_result(
                name,
                Outcome.FAILED if name in failing else Outcome.PASSED,
                message=(messages or {}).get(name, ""),
                docs_path=(docs or {}).get(name),
            )
            for name in HEALTHY
        ),
        duration_s=1.0,
    )


@pytest.fixture
def report_config(tmp_path: Path, make_config: Callable[..., CanaryConfig]) -> Callable[..., CanaryConfig]:
    """``report_config(extra="")`` -> a config whose state store and GX folder live in tmp_path (no warehouse).

    ``extra`` continues the ``[state]`` section (e.g. ``retention_days = 10``) or adds sections.
    """

    def make(extra: str = "") -> CanaryConfig:
        return make_config(tmp_path / "wh.duckdb", extra=extra)

    return make
