"""GX validation once per distinct verdict input: the backtest's validator for ``run_checkpoints``.

A check's GX verdict is a function of its suite (the canary and its settings) and of where the
checked value lies against the check's bounds (below, within or above them, or NULL; a baseline's
bounds are the band it learned), nothing else: the expectations compare the value with inclusive
bounds. So the first observation with a given pattern of sides is validated by GX, and a later one
with the same pattern gets those verdicts, its checks restated with its own values (the messages
name only the metric, its value and the bounds), summary, metrics and evidence. Observations that
are errored, skipped or pending never reach GX anyway and are passed through.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pipeline_canary.baselines import derived_metrics
from pipeline_canary.checkpoints.validate import Verdict, judged_checks, judged_threshold, validate
from pipeline_canary.results import DEFAULT_EVIDENCE_ROWS, CheckpointResult, Outcome, bound_evidence, rollup

if TYPE_CHECKING:
    from pipeline_canary.checkpoints.gx_project import GXProject
    from pipeline_canary.checkpoints.runner import Collected


class ValidationMemo:
    """``validate`` with a memo of GX's verdicts by (checkpoint, settings, where each checked value lies)."""

    def __init__(self) -> None:
        self.verdicts: dict[tuple[Any, ...], dict[str | None, Verdict]] = {}
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
            tuple((spec.name, _side(spec, metrics.get(spec.metric), collected.bands)) for spec in specs),
        )
        known = self.verdicts.get(key)
        if known is None:
            result = validate(project, collected, run_id, run_time, evidence_rows=evidence_rows)
            self.validated += 1
            if result.outcome is not Outcome.ERRORED:  # a GX failure is worth retrying
                self.verdicts[key] = {c.name: (c.outcome is Outcome.PASSED, None) for c in result.checks}
            return result
        self.reused += 1
        checks = judged_checks(specs, metrics, known, collected.bands)
        return CheckpointResult(
            name=collected.canary.name,
            outcome=rollup([c.outcome for c in checks]),
            checks=tuple(checks),
            message=obs.summary,
            metrics=metrics,
            evidence=bound_evidence(obs.evidence, evidence_rows),
            bytes_processed=collected.bytes_processed,
            duration_s=collected.duration_s,
        )


def _side(spec: Any, value: Any, bands: dict[str, Any]) -> str:
    """Where ``value`` lies against the check's bounds (inclusive, as the expectation's are): GX's verdict
    on it is the same for every value on the same side."""
    threshold = judged_threshold(spec, bands.get(spec.name))
    if threshold is None:
        return "learning"
    try:
        return threshold.side(None if value is None else float(value))
    except (TypeError, ValueError):
        return repr(value)
