"""Which checkpoints each demo scenario must fail: the demo's promise, checked by the tests.

A scenario breaks one thing in the pipeline; it is caught by exactly the checkpoints below (failed),
every other checkpoint of the demo's configuration (the built-ins and the NBA pack) passes, or is
skipped with its reason; nothing errors. ``missing-game`` is the one scenario caught by a warning:
one game of ten without predictions is a per-game coverage warning (``prediction_gap``), not a
day without predictions. The scenarios of ``CAUGHT_BY_BASELINE`` are caught by no fixed threshold at
all (``()``: everything passes or skips): each moves one metric far from its own history.
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
    # Missed by every fixed threshold; see CAUGHT_BY_BASELINE.
    "predictions-drop": (),
    "contamination-creep": (),
    "features-thin": (),
    "model-stops": (),
}

# Scenarios caught by a warning rather than a failure (see the module docstring).
WARNED_BY: dict[str, tuple[str, ...]] = {"missing-game": ("prediction_gap",)}

# The anomaly a learned baseline must catch: scenario -> the (checkpoint, metric) pairs whose as-of
# value lies far outside their own history (past runs at about the same local time of day, one point
# per past as-of day), while every fixed threshold of the demo's configuration passes.
# * predictions-drop: 240 active predictions on a 10-game day (3 players per game, every model),
#   where healthy days have 600-672 (about 75 players per model per day).
# * contamination-creep: the 14-day share of feature rows with required defaults is ~3.7% (daily
#   2% -> 9% over ten days), under the 5% warning; healthy windows stay at ~2%.
# * features-thin: the game day's feature rows are ~60% of a usual day's per game (~15.5 per game
#   against ~24-26).
# * model-stops: 7 models predict instead of 8; no fixed check looks at the as-of day's fleet
#   (phase5_shadow_coverage judges the day before, new_model_no_predictions models under 48 h old).
CAUGHT_BY_BASELINE: dict[str, tuple[tuple[str, str], ...]] = {
    "predictions-drop": (("prediction_gap", "active_predictions"),),
    "contamination-creep": (("feature_contamination", "required_default_pct"),),
    "features-thin": (("feature_store_volume", "feature_rows"),),
    "model-stops": (("prediction_gap", "models"),),
}
