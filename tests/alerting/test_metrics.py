"""Cloud Monitoring: the real MetricServiceClient against a local gRPC CreateTimeSeries recorder."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from pipeline_canary.alerting import metrics_sink
from pipeline_canary.alerting.metrics import PREFIX, series_values, write_run_metrics
from pipeline_canary.alerting.settings import MetricsConfig
from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import DeliveryError
from pipeline_canary.results import CheckpointResult, CheckResult, Outcome, RunResult, Threshold
from tests.conftest import NOW
from tests.servers.monitoring import MonitoringRecorder


def result(*, errored: bool = False) -> RunResult:
    gap = CheckpointResult(
        name="prediction_gap",
        outcome=Outcome.FAILED,
        checks=(
            CheckResult("no_prediction_gap", Outcome.FAILED, "gap", 1.0, Threshold(max=0)),
            CheckResult("every_game_covered", Outcome.PASSED, "ok", 0.0, Threshold(max=0, level="warn")),
        ),
        duration_s=0.25,
    )
    other = (
        CheckpointResult.errored("schema_parity", "boom")
        if errored
        else CheckpointResult("schema_parity", Outcome.WARNED, (CheckResult("x", Outcome.WARNED, "w", None),))
    )
    rest = tuple(CheckpointResult(n, Outcome.PASSED) for n in ("feature_contamination", "orphaned_staging_tables"))
    return RunResult("r1", NOW.date(), NOW, (gap, other, *rest), duration_s=1.5)


def config_for(server: MonitoringRecorder) -> MetricsConfig:
    return MetricsConfig(project="demo-proj", environment="test", api_endpoint=server.endpoint, insecure=True)


def test_one_batched_call_with_status_values_duration_and_dead_mans_switch(monitoring: MonitoringRecorder) -> None:
    assert write_run_metrics(config_for(monitoring), result()) == len(series_values(result()))
    [request] = monitoring.requests
    assert request.name == "projects/demo-proj"
    series = {
        (t.removeprefix(PREFIX), labels["checkpoint"], labels["check"]): v for t, labels, v in monitoring.series()
    }
    assert series[("check_status", "prediction_gap", "_all")] == 2
    assert series[("check_status", "prediction_gap", "no_prediction_gap")] == 2
    assert series[("check_status", "schema_parity", "_all")] == 1
    assert series[("observed_value", "prediction_gap", "no_prediction_gap")] == 1.0
    assert ("observed_value", "schema_parity", "x") not in series  # NULL observed: no point
    assert series[("run_duration_seconds", "_run", "_all")] == 1.5
    assert series[("last_success_timestamp", "_run", "_all")] == NOW.timestamp()
    assert {frozenset(labels) for _, labels, _ in monitoring.series()} == {
        frozenset({"checkpoint", "check", "environment"})
    }
    assert all(t.startswith("custom.googleapis.com/pipeline_canary/") for t, _, _ in monitoring.series())


def test_errored_run_writes_status_3_and_no_success_timestamp(monitoring: MonitoringRecorder) -> None:
    write_run_metrics(config_for(monitoring), result(errored=True))
    series = {(t.removeprefix(PREFIX), lab["checkpoint"], lab["check"]): v for t, lab, v in monitoring.series()}
    assert series[("check_status", "schema_parity", "_all")] == 3
    assert ("last_success_timestamp", "_run", "_all") not in series
    assert ("last_success_timestamp", "prediction_gap", "_all") in series


def test_server_error_is_a_delivery_error(monitoring: MonitoringRecorder) -> None:
    monitoring.fail_with = grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(DeliveryError, match="metricWriter"):
        write_run_metrics(config_for(monitoring), result())


def test_sink_is_off_without_a_project_and_on_with_one(
    monitoring: MonitoringRecorder, alert_config: Callable[..., CanaryConfig]
) -> None:
    metrics_sink(alert_config(), result())
    assert monitoring.requests == []
    cfg = alert_config(extra=f'[metrics]\nproject = "p1"\napi_endpoint = "{monitoring.endpoint}"\ninsecure = true')
    metrics_sink(cfg, result())
    assert len(monitoring.requests) == 1


def test_a_single_checkpoint_run_writes_no_run_level_series(monitoring: MonitoringRecorder) -> None:
    """The service runs checkpoints on their own schedules: run-level points seconds apart would be refused."""
    full = result()
    single = RunResult("r2", NOW.date(), NOW, full.checkpoints[:1], duration_s=0.3)
    assert all(checkpoint != "_run" for _, checkpoint, _, _ in series_values(single))
    assert ("run_duration_seconds", "_run", "_all", 1.5) in series_values(full)
