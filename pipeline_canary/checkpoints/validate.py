"""Turn a canary's observation into a CheckpointResult by running its GX checkpoint."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pipeline_canary.checkpoints.evidence_docs import attach
from pipeline_canary.results import (
    DEFAULT_EVIDENCE_ROWS,
    CheckpointResult,
    CheckResult,
    Outcome,
    bound_evidence,
    rollup,
)

if TYPE_CHECKING:
    from pipeline_canary.checkpoints.gx_project import GXProject
    from pipeline_canary.checkpoints.runner import Collected

log = logging.getLogger(__name__)


def validate(
    project: GXProject,
    collected: Collected,
    run_id: str,
    run_time: dt.datetime,
    *,
    evidence_rows: int = DEFAULT_EVIDENCE_ROWS,
) -> CheckpointResult:
    """The checkpoint's result; its evidence is the first ``evidence_rows`` rows of each table (and the totals)."""
    canary, obs = collected.canary, collected.observation
    spent, scanned = collected.duration_s, collected.bytes_processed
    if obs is None:
        return CheckpointResult.errored(canary.name, f"could not run: {collected.error}", spent, scanned)
    evidence = bound_evidence(obs.evidence, evidence_rows)
    if obs.error:
        return CheckpointResult.errored(
            canary.name, f"could not run: {obs.error}", spent, scanned, metrics=obs.metrics, evidence=evidence
        )
    if obs.skip_reason:
        if obs.due_at is not None:  # not due yet: neither a pass nor a failure, no incident moves
            return CheckpointResult.skipped(
                canary.name, f"pending: {obs.skip_reason}", spent, scanned, due_at=obs.due_at, evidence=evidence
            )
        return CheckpointResult.skipped(canary.name, f"skipped: {obs.skip_reason}", spent, scanned)
    started = time.perf_counter()
    specs = canary.checks(collected.settings)
    try:
        import pandas as pd

        frame = pd.DataFrame([{k: _num(v) for k, v in obs.metrics.items()}])
        checkpoint = project.checkpoint(canary, collected.settings)
        gx_result = project.run(checkpoint, frame, run_id, run_time)
        identifier, validation = next(iter(gx_result.run_results.items()))
    except Exception as exc:
        log.exception("GX validation of %s failed", canary.name)
        message = f"could not validate with Great Expectations: {type(exc).__name__}: {exc}"
        spent += time.perf_counter() - started
        return CheckpointResult.errored(canary.name, message, spent, scanned, metrics=obs.metrics, evidence=evidence)
    by_check = {
        (r.expectation_config.meta or {}).get("check") if r.expectation_config else None: r for r in validation.results
    }
    checks = []
    for spec in specs:
        observed = obs.metrics.get(spec.metric)
        checks.append(_check_result(spec, observed, by_check.get(spec.name)))
    outcome = rollup([c.outcome for c in checks])
    result = CheckpointResult(
        name=canary.name,
        outcome=outcome,
        checks=tuple(checks),
        message=obs.summary,
        metrics=obs.metrics,
        evidence=evidence,
        bytes_processed=collected.bytes_processed,
        docs_path=project.docs_page(identifier),
    )
    attach(project, identifier, result)  # GX's stored result (and Data Docs) carry it too
    return replace(result, duration_s=collected.duration_s + time.perf_counter() - started)


def _check_result(spec: Any, observed: float | None, gx_result: Any) -> CheckResult:
    threshold = spec.threshold
    base = {
        "name": spec.name,
        "observed": observed,
        "threshold": threshold,
        "metric": spec.metric,
        "evidence_tables": spec.evidence,
    }
    if gx_result is None:
        return CheckResult(outcome=Outcome.ERRORED, message="GX returned no result for this check", **base)
    info = gx_result.exception_info or {}
    if info.get("raised_exception"):
        return CheckResult(
            outcome=Outcome.ERRORED, message=f"GX could not evaluate: {info.get('exception_message')}", **base
        )
    if observed is None or (isinstance(observed, float) and math.isnan(observed)):
        return CheckResult(outcome=Outcome.FAILED, message=f"{spec.metric} came back NULL", **base)
    if gx_result.success:
        return CheckResult(
            outcome=Outcome.PASSED, message=f"{spec.metric} = {observed:g} ({threshold.describe()})", **base
        )
    outcome = Outcome.WARNED if threshold.level == "warn" else Outcome.FAILED
    return CheckResult(
        outcome=outcome,
        message=f"{spec.metric} = {observed:g}, expected {threshold.describe()}",
        **base,
    )


def _num(value: Any) -> float | None:
    return None if value is None else float(value)
