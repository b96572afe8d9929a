"""Cloud Monitoring time series for each run: one batched ``CreateTimeSeries`` call.

Metric types (all GAUGE, labels ``checkpoint``, ``check``, ``environment`` on every series; the
label set of a descriptor cannot change later, so it is fixed here once):

    custom.googleapis.com/pipeline_canary/check_status            INT64   0 passed, 1 warned, 2 failed, 3 errored
    custom.googleapis.com/pipeline_canary/observed_value          DOUBLE  each numeric observed value
    custom.googleapis.com/pipeline_canary/run_duration_seconds    DOUBLE  per checkpoint, and the run
    custom.googleapis.com/pipeline_canary/last_success_timestamp  DOUBLE  epoch seconds
    custom.googleapis.com/pipeline_canary/slack_refusing          INT64   1 while Slack refuses us, else 0

Rollups use ``check="_all"``; a full run (every checkpoint) also writes ``checkpoint="_run"``.
``last_success_timestamp`` is written only when nothing errored, so an alert policy on
"metric absent for 90 minutes" (or "now - value > 5400") is a dead-man's switch for the canary.
``slack_refusing`` (live runs with Slack configured, never replays) is written per checkpoint of
the run (``check="_all"``) for the same reason the run-level series are not: a service's runs are
seconds apart. Alert on its maximum over checkpoints: 1 means alerts are queued and not reaching
Slack (a rotated token, a missing scope, an unknown channel; ``canary alerts status`` says which).
Cloud Monitoring allows 200 series per call; a larger run is sent in chunks of 200.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pipeline_canary.errors import DeliveryError
from pipeline_canary.results import Outcome

if TYPE_CHECKING:
    from pipeline_canary.alerting.settings import MetricsConfig
    from pipeline_canary.results import RunResult

log = logging.getLogger(__name__)
PREFIX = "custom.googleapis.com/pipeline_canary/"
MAX_SERIES_PER_CALL = 200
ALL = "_all"
RUN = "_run"


INT_METRICS = frozenset({"check_status", "slack_refusing"})


def series_values(result: RunResult, *, slack_refusing: bool | None = None) -> list[tuple[str, str, str, float | int]]:
    """(metric, checkpoint, check, value) for every series of a run; pure, for tests and reuse.

    ``slack_refusing``: None when Slack is not configured (no series); never written for a replay.
    """
    values: list[tuple[str, str, str, float | int]] = []
    for cp in result.checkpoints:
        if slack_refusing is not None and result.live:
            values.append(("slack_refusing", cp.name, ALL, int(slack_refusing)))
        values.append(("check_status", cp.name, ALL, cp.outcome.status_code))
        values.append(("run_duration_seconds", cp.name, ALL, float(cp.duration_s)))
        for check in cp.checks:
            values.append(("check_status", cp.name, check.name, check.outcome.status_code))
            if isinstance(check.observed, int | float) and check.observed == check.observed:  # not NaN
                values.append(("observed_value", cp.name, check.name, float(check.observed)))
        if cp.outcome is not Outcome.ERRORED:
            values.append(("last_success_timestamp", cp.name, ALL, result.now.timestamp()))
    if _covers_every_checkpoint(result):
        # Only full runs write the run-level series: the service runs checkpoints on their own
        # schedules, seconds apart, and Cloud Monitoring refuses points on one series closer than 5 s.
        # There, each checkpoint's own last_success_timestamp is the dead-man's switch.
        values.append(("run_duration_seconds", RUN, ALL, float(result.duration_s)))
        if not result.has_errors:
            values.append(("last_success_timestamp", RUN, ALL, result.now.timestamp()))
    return values


def _covers_every_checkpoint(result: RunResult) -> bool:
    from pipeline_canary.canaries import registry

    return {cp.name for cp in result.checkpoints} >= set(registry.names())


def build_time_series(config: MetricsConfig, result: RunResult, *, slack_refusing: bool | None = None) -> list[Any]:
    from google.cloud import monitoring_v3
    from google.protobuf import timestamp_pb2

    end = timestamp_pb2.Timestamp()
    end.FromDatetime(result.now)
    interval = monitoring_v3.TimeInterval(end_time=end)
    out = []
    for metric, checkpoint, check, value in series_values(result, slack_refusing=slack_refusing):
        typed = (
            monitoring_v3.TypedValue(int64_value=int(value))
            if metric in INT_METRICS
            else monitoring_v3.TypedValue(double_value=float(value))
        )
        series = monitoring_v3.TimeSeries()
        series.metric.type = PREFIX + metric
        series.metric.labels.update({"checkpoint": checkpoint, "check": check, "environment": config.environment})
        series.resource.type = "global"
        series.resource.labels["project_id"] = config.project or ""
        series.points = [monitoring_v3.Point(interval=interval, value=typed)]
        out.append(series)
    return out


def client(config: MetricsConfig) -> Any:
    """The real MetricServiceClient; ``api_endpoint`` + ``insecure`` point it at a local server."""
    from google.cloud import monitoring_v3

    if config.api_endpoint and config.insecure:
        import grpc
        from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

        channel = grpc.insecure_channel(config.api_endpoint)
        return monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))
    options = {"api_endpoint": config.api_endpoint} if config.api_endpoint else None
    return monitoring_v3.MetricServiceClient(client_options=options)


def write_run_metrics(
    config: MetricsConfig, result: RunResult, *, metric_client: Any = None, slack_refusing: bool | None = None
) -> int:
    """Write the run's series; returns how many. Errors become DeliveryError (the sink logs it)."""
    from google.api_core import exceptions as gexc
    from google.api_core import retry as gretry

    series = build_time_series(config, result, slack_refusing=slack_refusing)
    svc = metric_client or client(config)
    retry = gretry.Retry(
        initial=0.5,
        maximum=4.0,
        timeout=config.timeout_s,
        predicate=gretry.if_exception_type(gexc.ServiceUnavailable, gexc.DeadlineExceeded),
    )
    try:
        for start in range(0, len(series), MAX_SERIES_PER_CALL):
            svc.create_time_series(
                name=f"projects/{config.project}",
                time_series=series[start : start + MAX_SERIES_PER_CALL],
                retry=retry,
                timeout=config.timeout_s,
            )
    except gexc.GoogleAPICallError as exc:
        raise DeliveryError(
            f"Cloud Monitoring rejected or did not answer CreateTimeSeries for project {config.project}: "
            f"{exc.message or type(exc).__name__}; check the project id and roles/monitoring.metricWriter"
        ) from exc
    except gexc.RetryError as exc:
        raise DeliveryError(f"Cloud Monitoring did not answer within {config.timeout_s:g}s") from exc
    finally:
        if metric_client is None:
            svc.transport.close()
    log.info("wrote %d time series for run %s", len(series), result.run_id)
    return len(series)
