"""Which checkpoints each demo scenario must fail: the demo's promise, checked by the tests.

A scenario breaks one thing in the pipeline; it is caught by exactly the checkpoints below (failed),
every other checkpoint of the demo's configuration (the built-ins and the NBA pack) passes, or is
skipped with its reason; nothing errors. ``missing-game`` is the one scenario caught by a warning:
one game of ten without predictions is a per-game coverage warning (``prediction_gap``), not a
day without predictions.
"""

from __future__ import annotations

_GAP = ("prediction_gap", "phase5_predictions", "bb_candidates_today")  # no predictions: no candidates either

CAUGHT_BY: dict[str, tuple[str, ...]] = {
    "healthy": (),
    "prediction-gap": _GAP,
    "missing-game": (),
    "contamination": ("feature_contamination",),
    "schema-drift": ("schema_parity",),
    "orphaned-staging": ("orphaned_staging_tables",),
    "incident": (*_GAP, "feature_contamination", "schema_parity", "orphaned_staging_tables"),
    "scrapers-down": (
        "phase1_scrapers",
        "phase2_raw_processing",
        "phase3_analytics",
        "phase3_gap_detection",
        "phase3_partial_coverage",
        "closing_line_capture",
    ),
    "analytics-partial": ("phase3_partial_coverage", "phase3_duplicates"),
    "precompute-degraded": ("phase4_precompute",),
    "candidates-stalled": ("bb_candidates_today",),
    "grading-stale": ("grading_freshness",),
    "edge-collapse": ("edge_collapse_alert",),
    "model-blocked": ("registry_blocked_enabled", "model_recovery_gap"),
    "new-model-silent": ("new_model_no_predictions",),
    "publishing-down": ("phase6_publishing",),
    "quality-leak": ("quality_filtering", "quality_distribution"),
    "filter-jam": ("bb_filter_audit", "bb_pick_drought"),
    "signals-stale": ("monitoring_meta",),
}

# Scenarios caught by a warning rather than a failure (see the module docstring).
WARNED_BY: dict[str, tuple[str, ...]] = {"missing-game": ("prediction_gap",)}
