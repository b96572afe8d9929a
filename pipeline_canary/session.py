"""One run as the CLI and the service both do it: lock, run checkpoints, hand the result on.

Data flows one way: the runner produces a RunResult; sinks (history, alerts, metrics) only read
it. A sink that fails is logged and does not lose the others' work.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING

from pipeline_canary.state.lock import run_lock

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.results import RunResult
    from pipeline_canary.warehouse import Warehouse

log = logging.getLogger(__name__)

Sink = Callable[["CanaryConfig", "RunResult"], None]


def _history_sink(config: CanaryConfig, result: RunResult) -> None:
    from pipeline_canary.state import open_state
    from pipeline_canary.state.history import record_run

    record_run(open_state(config), result)


def _reports_sink(config: CanaryConfig, result: RunResult) -> None:
    """Re-render the dashboard (and apply history retention) whenever the run rebuilt the Data Docs."""
    if result.docs_index is None:
        return
    from pipeline_canary.reports import build_site

    build_site(config, build_gx=False)  # the run has just built GX's Data Docs


def _retention_sink(config: CanaryConfig, result: RunResult) -> None:
    """Bound run history and GX's stored results when the run did not build the Data Docs.

    A run that built them has already pruned GX's results, and ``_reports_sink`` applies history
    retention through ``build_site``; without this sink, ``[gx] build_docs = false`` grew both forever.
    """
    if result.docs_index is not None:
        return
    from pipeline_canary.state import open_state
    from pipeline_canary.state.history import apply_retention

    try:
        pruned = apply_retention(open_state(config), config.state.retention_days)
    except Exception:  # GX's results are still worth pruning
        log.exception("applying history retention (%d days) failed", config.state.retention_days)
    else:
        if pruned:
            log.info("history retention pruned %d runs", pruned, extra={"pruned_runs": pruned})
    # Only a run that validated with GX stored results: one whose every checkpoint errored before GX
    # (an unreachable warehouse) or was skipped has nothing to prune and need not import GX.
    if not any(cp.checks or cp.docs_path for cp in result.checkpoints):
        return
    from pipeline_canary.checkpoints.runner import gx_project

    try:
        removed = gx_project(config).prune_results()
    except Exception:
        log.exception("pruning GX validation results in %s failed", config.gx.project_dir)
    else:
        if removed:
            log.info("pruned %d old GX validation results", removed, extra={"pruned_results": removed})


def _staging_cleanup_sink(config: CanaryConfig, result: RunResult) -> None:
    from pipeline_canary.staging.cleanup import auto_cleanup_sink

    auto_cleanup_sink(config, result)  # no-op unless [checkpoints.orphaned_staging_tables] auto_cleanup


def default_sinks(*, alert: bool = True) -> list[Sink]:
    """What happens to every result, in order. Add a consumer by adding it here."""
    sinks: list[Sink] = [_history_sink]
    if alert:
        from pipeline_canary.alerting import alert_sink, metrics_sink

        sinks += [alert_sink, metrics_sink]
    sinks += [_reports_sink, _retention_sink, _staging_cleanup_sink]
    return sinks


def execute(
    config: CanaryConfig,
    names: Sequence[str] | None = None,
    *,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
    alert: bool | None = None,
    build_docs: bool | None = None,
    warehouse: Warehouse | None = None,
    lock_timeout_s: float = 600.0,
) -> RunResult:
    """Run checkpoints under the shared lock, then pass the result to every sink.

    ``alert`` None: a live run alerts and writes metrics, a replay (another game day) does neither;
    True or False decides explicitly. Incidents only ever follow results about their own game day.
    With ``[state] backend = "gcs"`` the state is downloaded before the run and uploaded after every
    sink (the outbox flush included); StateBusyError means another execution held it and nothing ran.
    """
    from pipeline_canary.checkpoints.runner import run_checkpoints
    from pipeline_canary.state.sync import state_session

    # "sqlite": the file lock serialises runs on this machine. "gcs": the state session's lock, shared by
    # every execution, thread and machine, does (StateBusyError when another holds it past lock_wait_s).
    local_lock = (
        nullcontext()
        if config.state.backend == "gcs"
        else run_lock(config.state.path.with_suffix(".lock"), timeout_s=lock_timeout_s)
    )
    with local_lock, state_session(config) as config:
        result = run_checkpoints(config, names, as_of=as_of, now=now, warehouse=warehouse, build_docs=build_docs)
        if result.replay and alert is None:
            log.info("replay of %s: recorded in history; no alerts or metrics (ask with --alert)", result.as_of)
        for sink in default_sinks(alert=result.live if alert is None else alert):
            try:
                sink(config, result)
            except Exception:
                log.exception("result sink %s failed", getattr(sink, "__name__", sink))
    return result
