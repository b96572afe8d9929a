"""GX validation once per distinct verdict input: the backtest's validator for ``run_checkpoints``.

A checkpoint's GX verdict is a function of its suite (the canary and its settings), of the values
of the metrics its checks read and of the bands its baselines learned, nothing else: the
expectations compare those values with the thresholds. So the first observation with given check
values is validated by GX, and a later one with the same values gets that verdict (the per-check
outcomes and messages, which name only the metric, its value and the threshold) with its own
summary, metrics and evidence. Observations that are errored, skipped or pending never reach GX
anyway and are passed through.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pipeline_canary.baselines import derived_metrics
from pipeline_canary.checkpoints.validate import validate
from pipeline_canary.results import DEFAULT_EVIDENCE_ROWS, CheckpointResult, Outcome, bound_evidence

if TYPE_CHECKING:
    from pipeline_canary.checkpoints.gx_project import GXProject
    from pipeline_canary.checkpoints.runner import Collected


class ValidationMemo:
    """``validate`` with a memo of verdicts by (checkpoint, settings, check metric values)."""

    def __init__(self) -> None:
        self.verdicts: dict[tuple[Any, ...], CheckpointResult] = {}
        self.validated = 0  # GX runs made
        self.reused = 0

    def __call__(
        self,
        project: GXProject,
        collected: Collected,
        run_id: str,
        run_time: dt.datetime,
        *,
        evidence_rows: int = DEFAULT_EVIDENCE_ROWS,
    ) -> CheckpointResult:
        obs = collected.observation
        if obs is None or obs.error or obs.skip_reason:
            return validate(project, collected, run_id, run_time, evidence_rows=evidence_rows)
        specs = collected.canary.all_checks(collected.settings)
        metrics = derived_metrics(obs.metrics, getattr(collected.settings, "baselines", ()))
        key = (
            collected.canary.name,
            repr(collected.settings),
            tuple((spec.name, spec.metric, _value(metrics.get(spec.metric))) for spec in specs),
            tuple(sorted((name, repr(band)) for name, band in collected.bands.items())),
        )
        known = self.verdicts.get(key)
        if known is None:
            result = validate(project, collected, run_id, run_time, evidence_rows=evidence_rows)
            self.validated += 1
            if result.outcome is not Outcome.ERRORED:  # a GX failure is worth retrying
                self.verdicts[key] = result
            return result
        self.reused += 1
        return replace(
            known,
            message=obs.summary,
            metrics=metrics,
            evidence=bound_evidence(obs.evidence, evidence_rows),
            bytes_processed=collected.bytes_processed,
            duration_s=collected.duration_s,
            docs_path=None,
        )


def _value(value: Any) -> Any:
    """A metric value as GX sees it (validate passes floats): 3 and 3.0 are one verdict."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return repr(value)
