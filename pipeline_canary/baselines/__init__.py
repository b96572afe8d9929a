"""Learned baselines: a metric's normal band, learned from its own history, instead of a hand-tuned threshold.

``[checkpoints.NAME.baseline.METRIC]`` (or ``[baseline.METRIC]`` in a canary file) adds a check
``METRIC_baseline`` (``METRIC_per_PER_baseline`` with ``per``) beside the canary's fixed ones. At
each run its band is learned (:mod:`.learn`) from the checkpoint's run history (:mod:`.training`):
one point per past game day, the value recorded nearest the same time of day, never the days being
judged, the days of an incident of the checkpoint or the days any of its checks failed or warned. The band
becomes the bounds of the check's GX expectation (suite parameters), so the verdict is GX's; the
result says "expected 520–610, observed 212". Until enough days are learned the check is skipped
("learning"), never passed.
"""

from __future__ import annotations

from pipeline_canary.baselines.learn import Band, Learning, learn
from pipeline_canary.baselines.spec import Baseline, baseline_checks, derived_metrics

__all__ = ["Band", "Baseline", "Learning", "baseline_checks", "derived_metrics", "learn"]
