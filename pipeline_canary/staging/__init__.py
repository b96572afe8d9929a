"""Safe remediation of orphaned staging tables: plan (pure guards), sweep (drop or expire), audit.

The pipeline's old cleanup dropped every ``_staging_`` table older than a cutoff. Here a table is
touched only if the plan allows it, the sweep re-checks it right before acting, and every action is
recorded in the state store.
"""

from __future__ import annotations

from pipeline_canary.staging.plan import (
    DEFAULT_MAX_TABLES,
    MIN_OLDER_THAN,
    Candidate,
    Plan,
    Skipped,
    build_plan,
    parse_duration,
)

__all__ = [
    "DEFAULT_MAX_TABLES",
    "MIN_OLDER_THAN",
    "Candidate",
    "Plan",
    "Skipped",
    "build_plan",
    "parse_duration",
]
