"""The prediction worker's output contract: the keys ``format_prediction_for_bigquery`` writes.

Facts section 2 lists the keys. ``required_default_count`` is included although the worker leaves
it NULL: the Feb 2026 incident was the worker writing ``vegas_line_source`` and
``required_default_count`` into a table that lacked them. Types and modes come from the healthy
``player_prop_predictions`` table. Shipped as ``worker_contract.json`` (BigQuery schema JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline_canary.demo.schemas import predictions_schema
from pipeline_canary.schema.model import Field

CONTRACT_JSON = Path(__file__).with_name("worker_contract.json")

WORKER_KEYS: tuple[str, ...] = (
    # identity
    "prediction_id",
    "system_id",
    "player_lookup",
    "universal_player_id",
    "game_date",
    "game_id",
    "prediction_version",
    # core
    "predicted_points",
    "confidence_score",
    "recommendation",
    "has_prop_line",
    # line
    "current_points_line",
    "line_margin",
    "line_source",
    "estimated_line_value",
    "estimation_method",
    "line_source_api",
    "sportsbook",
    "was_line_fallback",
    "line_minutes_before_game",
    # status
    "is_active",
    "created_at",
    "updated_at",
    "superseded_by",
    "is_actionable",
    "filter_reason",
    # injury and teammates
    "injury_status_at_prediction",
    "injury_flag_at_prediction",
    "injury_reason_at_prediction",
    "injury_checked_at",
    "teammate_usage_boost",
    "teammate_opportunity_score",
    "teammate_out_starters",
    # build
    "build_commit_sha",
    "deployment_revision",
    "predicted_at",
    "prediction_run_mode",
    # kalshi
    "kalshi_available",
    "kalshi_line",
    "kalshi_yes_price",
    "kalshi_no_price",
    "kalshi_liquidity",
    "kalshi_market_ticker",
    "line_discrepancy",
    # snapshots
    "critical_features",
    "features_snapshot",
    # quality
    "feature_quality_score",
    "low_quality_flag",
    "matchup_data_status",
    "feature_sources_json",
    "is_quality_ready",
    "quality_alert_level",
    "matchup_quality_pct",
    "default_feature_count",
    "default_feature_indices",
    "vegas_line_source",
    "required_default_count",
    "prediction_made_before_game",
    # tiering
    "scoring_tier",
    "tier_adjustment",
    # added after the base dict
    "scenario_category",
    "scenario_flags",
    # catboost metadata
    "model_version",
    "feature_importance",
    "model_file_name",
    "model_training_start_date",
    "model_training_end_date",
    "model_expected_mae",
    "model_expected_hit_rate",
    "model_trained_at",
    # completeness block
    "expected_games_count",
    "actual_games_count",
    "completeness_percentage",
    "missing_games_count",
    "is_production_ready",
    "data_quality_issues",
    "last_reprocess_attempt_at",
    "reprocess_attempt_count",
    "circuit_breaker_active",
    "circuit_breaker_until",
    "manual_override_required",
    "season_boundary_detected",
    "backfill_bootstrap_mode",
    "processing_decision_reason",
)


def worker_contract() -> list[Field]:
    """Fields the worker writes, typed like the healthy predictions table, in the worker's order."""
    by_name = {f.name: f for f in predictions_schema()}
    return [by_name[key] for key in WORKER_KEYS]


def contract_json() -> str:
    """The contract as BigQuery schema JSON text."""
    return json.dumps([f.to_dict() for f in worker_contract()], indent=2) + "\n"


def write_contract(path: str | Path) -> Path:
    """Write the contract as BigQuery schema JSON to ``path``; returns the path."""
    target = Path(path)
    target.write_text(contract_json(), encoding="utf-8")
    return target


def load_contract(path: str | Path = CONTRACT_JSON) -> list[Field]:
    """Read a BigQuery schema JSON file (default: the shipped contract) into Fields."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [Field.from_dict(item) for item in data]
