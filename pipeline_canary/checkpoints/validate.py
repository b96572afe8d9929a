"""Turn a canary's observation into a CheckpointResult by running its GX checkpoint."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pipeline_canary.baselines import Band, Learning, derived_metrics
from pipeline_canary.checkpoints.evidence_docs import attach
from pipeline_canary.results import (
    DEFAULT_EVIDENCE_ROWS,
    CheckpointResult,
    CheckResult,
    Outcome,
    Threshold,
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
    specs = canary.all_checks(collected.settings)
    metrics = derived_metrics(obs.metrics, getattr(collected.settings, "baselines", ()))
    try:
        import pandas as pd

        frame = pd.DataFrame([{k: _num(v) for k, v in metrics.items()}])
        checkpoint = project.checkpoint(canary, collected.settings)
        gx_result = project.run(checkpoint, frame, run_id, run_time, band_values(specs, collected.bands))
        identifier, validation = next(iter(gx_result.run_results.items()))
    except Exception as exc:
        log.exception("GX validation of %s failed", canary.name)
        message = f"could not validate with Great Expectations: {type(exc).__name__}: {exc}"
        spent += time.perf_counter() - started
        return CheckpointResult.errored(canary.name, message, spent, scanned, metrics=metrics, evidence=evidence)
    verdicts = {
        (r.expectation_config.meta or {}).get("check") if r.expectation_config else None: _verdict(r)
        for r in validation.results
    }
    checks = judged_checks(specs, metrics, verdicts, collected.bands)
    outcome = rollup([c.outcome for c in checks])
    result = CheckpointResult(
        name=canary.name,
        outcome=outcome,
        checks=tuple(checks),
        message=obs.summary,
        metrics=metrics,
        evidence=evidence,
        bytes_processed=collected.bytes_processed,
        docs_path=project.docs_page(identifier),
    )
    attach(project, identifier, result)  # GX's stored result (and Data Docs) carry it too
    return replace(result, duration_s=collected.duration_s + time.perf_counter() - started)


Verdict = tuple[bool, str | None]  # GX's success for one expectation, or the exception it raised


def _verdict(gx_result: Any) -> Verdict:
    info = gx_result.exception_info or {}
    if info.get("raised_exception"):
        return False, str(info.get("exception_message"))
    return bool(gx_result.success), None


def judged_checks(
    specs: list[Any], metrics: dict[str, Any], verdicts: Mapping[str | None, Verdict], bands: Mapping[str, Any]
) -> list[CheckResult]:
    """Each check's result from GX's verdict on it (``verdicts`` by check name) and the observed metrics."""
    out = []
    for spec in specs:
        verdict = verdicts.get(spec.name)
        if spec.baseline is not None:
            out.append(_baseline_result(spec, metrics, verdict, bands.get(spec.name)))
        else:
            out.append(_check_result(spec, metrics.get(spec.metric), verdict))
    return out


def _check_result(spec: Any, observed: float | None, verdict: Verdict | None) -> CheckResult:
    threshold = spec.threshold
    base = {
        "name": spec.name,
        "observed": observed,
        "threshold": threshold,
        "metric": spec.metric,
        "evidence_tables": spec.evidence,
    }
    if verdict is None:
        return CheckResult(outcome=Outcome.ERRORED, message="GX returned no result for this check", **base)
    success, error = verdict
    if error is not None:
        return CheckResult(outcome=Outcome.ERRORED, message=f"GX could not evaluate: {error}", **base)
    if observed is None or (isinstance(observed, float) and math.isnan(observed)):
        return CheckResult(outcome=Outcome.FAILED, message=f"{spec.metric} came back NULL", **base)
    if success:
        return CheckResult(
            outcome=Outcome.PASSED, message=f"{spec.metric} = {observed:g} ({threshold.describe()})", **base
        )
    outcome = Outcome.WARNED if threshold.level == "warn" else Outcome.FAILED
    return CheckResult(
        outcome=outcome,
        message=f"{spec.metric} = {observed:g}, expected {threshold.describe()}",
        **base,
    )


def judged_threshold(spec: Any, band: Band | Learning | None) -> Threshold | None:
    """The bounds a check is judged against: its own, or the band its baseline learned (None while learning)."""
    if spec.baseline is None:
        threshold: Threshold = spec.threshold
        return threshold
    if not isinstance(band, Band):
        return None
    return Threshold(min=band.low, max=band.high, level=spec.threshold.level)


def band_values(specs: list[Any], bands: dict[str, Band | Learning]) -> dict[str, float | None]:
    """The suite parameters of the baseline checks: each learned side, or None (no bound) while learning."""
    from pipeline_canary.expectations.suite import band_parameter, band_parameters

    values: dict[str, float | None] = {}
    for spec in specs:
        if spec.baseline is None:
            continue
        learned = judged_threshold(spec, bands.get(spec.name))
        for side in band_parameters(spec):
            bound = (learned.min if side == "min" else learned.max) if learned is not None else None
            values[band_parameter(spec.name, side)] = bound
    return values


def _baseline_result(
    spec: Any, metrics: dict[str, Any], verdict: Verdict | None, band: Band | Learning | None
) -> CheckResult:
    """A baseline check: skipped while learning or with nothing to compare, else GX's verdict on the band."""
    observed = metrics.get(spec.metric)
    learned = judged_threshold(spec, band)
    if learned is not None:
        spec = replace(spec, threshold=learned)
    base = {
        "name": spec.name,
        "observed": observed,
        "threshold": spec.threshold,
        "metric": spec.metric,
        "evidence_tables": spec.evidence,
        "baseline": band.to_dict() if isinstance(band, Band) else None,
    }
    if spec.metric not in metrics:
        return CheckResult(
            outcome=Outcome.ERRORED,
            message=f"the checkpoint has no metric {spec.metric} to learn a baseline of "
            f"(its metrics: {', '.join(sorted(metrics)) or 'none'})",
            **base,
        )
    if observed is None:
        per = f" (or its {spec.baseline.per} is 0)" if spec.baseline.per else ""
        return CheckResult(
            outcome=Outcome.SKIPPED, message=f"{spec.metric} came back NULL{per}: nothing to compare", **base
        )
    if not isinstance(band, Band):
        why = band.reason if band is not None else "no history"
        return CheckResult(
            outcome=Outcome.SKIPPED,
            message=f"learning: {why} for {spec.metric} at this time of day; observed {observed:g}",
            **base,
        )
    result = _check_result(spec, observed, verdict)
    if result.outcome is Outcome.ERRORED:
        return replace(result, baseline=base["baseline"])
    how = f"learned from {band.points} days, {band.method} around {band.center:.4g}"
    if result.outcome is Outcome.PASSED:
        message = f"{spec.metric} = {observed:g} (expected {band.describe()}, {how})"
    else:
        message = f"{spec.metric}: expected {band.describe()}, observed {observed:g} ({how})"
    return replace(result, message=message, baseline=base["baseline"])


def _num(value: Any) -> float | None:
    return None if value is None else float(value)
