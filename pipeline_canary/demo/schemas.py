"""Column lists (BigQuery vocabulary) of the tables the demo warehouse holds.

Sources: pipeline facts 1b (schedule view), 1c (player_prop_predictions, live column set) and
1d (ml_feature_store_v2). Where the repo disagrees with itself the live type is used:
``data_quality_issues`` STRING and ``feature_quality_score`` FLOAT64 on predictions.
"""

from __future__ import annotations

from pipeline_canary.schema.model import Field
from pipeline_canary.warehouse.duckdb_types import bq_to_duckdb

REQ = "REQUIRED"
REP = "REPEATED"

FEATURE_COUNT = 60
OPTIONAL_FEATURES: frozenset[int] = frozenset({25, 26, 27, *range(37, 60)})
REQUIRED_FEATURES: tuple[int, ...] = tuple(i for i in range(FEATURE_COUNT) if i not in OPTIONAL_FEATURES)

# Columns the Feb 2026 incident table lacked (schema-drift scenario).
DRIFT_MISSING: tuple[str, ...] = ("vegas_line_source", "required_default_count")


def _fields(spec: str) -> list[Field]:
    """Parse ``name TYPE [REQ|REP]`` lines into Fields."""
    out = []
    for line in spec.strip().splitlines():
        parts = line.split()
        mode = "NULLABLE"
        if len(parts) == 3:
            mode = {"REQ": REQ, "REP": REP}[parts[2]]
        out.append(Field(name=parts[0], type=parts[1], mode=mode))
    return out


_SCHEDULE = """
game_id STRING REQ
game_date DATE REQ
season_year INT64 REQ
home_team_tricode STRING REQ
away_team_tricode STRING REQ
home_team_name STRING REQ
away_team_name STRING REQ
game_status INT64
game_date_est TIMESTAMP
is_playoffs BOOL
is_regular_season BOOL
is_all_star BOOL
playoff_round STRING
game_type STRING
"""

_PREDICTIONS = """
prediction_id STRING REQ
system_id STRING REQ
player_lookup STRING REQ
universal_player_id STRING
game_date DATE REQ
game_id STRING REQ
prediction_version INT64 REQ
predicted_points NUMERIC(5,1) REQ
confidence_score NUMERIC(5,2) REQ
recommendation STRING REQ
similarity_baseline NUMERIC(5,1)
fatigue_adjustment NUMERIC(5,2)
shot_zone_adjustment NUMERIC(5,2)
referee_adjustment NUMERIC(5,2)
look_ahead_adjustment NUMERIC(5,2)
pace_adjustment NUMERIC(5,2)
usage_spike_adjustment NUMERIC(5,2)
home_away_adjustment NUMERIC(5,2)
other_adjustments NUMERIC(5,2)
similar_games_count INT64
avg_similarity_score NUMERIC(5,2)
min_similarity_score NUMERIC(5,2)
current_points_line NUMERIC(4,1)
line_margin NUMERIC(5,2)
ml_model_id STRING
line_source STRING
estimated_line_value NUMERIC(4,1)
estimation_method STRING
line_source_api STRING
sportsbook STRING
was_line_fallback BOOL
model_file_name STRING
model_training_start_date DATE
model_training_end_date DATE
model_expected_mae FLOAT64
model_expected_hit_rate FLOAT64
model_trained_at TIMESTAMP
prediction_variance NUMERIC(5,2)
system_agreement_score NUMERIC(5,2)
contributing_systems INT64
key_factors JSON
warnings JSON
expected_games_count INT64
actual_games_count INT64
completeness_percentage FLOAT64
missing_games_count INT64
is_production_ready BOOL
data_quality_issues STRING
last_reprocess_attempt_at TIMESTAMP
reprocess_attempt_count INT64
circuit_breaker_active BOOL
circuit_breaker_until TIMESTAMP
manual_override_required BOOL
season_boundary_detected BOOL
backfill_bootstrap_mode BOOL
processing_decision_reason STRING
superseded_by STRING
injury_status_at_prediction STRING
injury_flag_at_prediction BOOL
injury_reason_at_prediction STRING
injury_checked_at TIMESTAMP
invalidation_reason STRING
invalidated_at TIMESTAMP
prediction_made_before_game BOOL
default_feature_indices INT64 REP
is_active BOOL REQ
created_at TIMESTAMP REQ
updated_at TIMESTAMP
has_prop_line BOOL
feature_importance JSON
filter_reason STRING
is_actionable BOOL
line_minutes_before_game INT64
model_version STRING
teammate_opportunity_score FLOAT64
teammate_out_starters STRING
teammate_usage_boost FLOAT64
features_snapshot JSON
feature_version STRING
feature_quality_score FLOAT64
vegas_line_source STRING
build_commit_sha STRING
deployment_revision STRING
predicted_at TIMESTAMP
prediction_run_mode STRING
kalshi_available BOOL
kalshi_line NUMERIC(4,1)
kalshi_yes_price NUMERIC(5,2)
kalshi_no_price NUMERIC(5,2)
kalshi_market_ticker STRING
kalshi_liquidity INT64
critical_features JSON
line_discrepancy NUMERIC(5,2)
is_quality_ready BOOL
quality_alert_level STRING
matchup_quality_pct FLOAT64
default_feature_count INT64
low_quality_flag BOOL
matchup_data_status STRING
feature_sources_json STRING
scoring_tier STRING
tier_adjustment FLOAT64
feature_count INT64
feature_data_source STRING
early_season_flag BOOL
prediction_error_code STRING
prediction_warnings STRING REP
raw_confidence_score NUMERIC(4,3)
calibrated_confidence_score NUMERIC(4,3)
calibration_method STRING
required_default_count INT64
scenario_category STRING
scenario_flags STRING
"""

_FEATURE_HEAD = """
player_lookup STRING REQ
universal_player_id STRING
game_date DATE REQ
game_id STRING REQ
opponent_team_abbr STRING
is_home BOOL
days_rest INT64
features FLOAT64 REP
feature_names STRING REP
feature_count INT64 REQ
feature_version STRING REQ
data_source STRING REQ
feature_quality_score NUMERIC(5,2)
quality_tier STRING
quality_alert_level STRING
quality_alerts STRING REP
default_feature_count INT64
required_default_count INT64
default_feature_indices INT64 REP
phase4_feature_count INT64
phase3_feature_count INT64
calculated_feature_count INT64
training_quality_feature_count INT64
critical_feature_count INT64
optional_feature_count INT64
is_training_ready BOOL
is_quality_ready BOOL
critical_features_training_quality BOOL
matchup_quality_pct FLOAT64
player_history_quality_pct FLOAT64
team_context_quality_pct FLOAT64
vegas_quality_pct FLOAT64
game_context_quality_pct FLOAT64
matchup_default_count INT64
player_history_default_count INT64
team_context_default_count INT64
vegas_default_count INT64
game_context_default_count INT64
has_composite_factors BOOL
has_opponent_defense BOOL
has_vegas_line BOOL
vegas_line_source STRING
matchup_quality_tier STRING
game_context_quality_tier STRING
"""

_FEATURE_TAIL = """
feature_fallback_reasons_json STRING
feature_sample_sizes_json STRING
feature_expected_values_json STRING
feature_value_ranges_valid_json STRING
feature_upstream_tables_json STRING
feature_last_updated_json STRING
feature_schema_version STRING
available_feature_names STRING REP
breakout_model_compatible STRING REP
breakout_v3_features_available BOOL
upstream_processors_ran STRING
missing_processors STRING
feature_store_age_hours FLOAT64
upstream_data_freshness_hours FLOAT64
quality_computed_at TIMESTAMP
quality_schema_version STRING
cache_miss_fallback_used BOOL
feature_sources STRING
primary_data_source STRING
matchup_data_status STRING
expected_games_count INT64
actual_games_count INT64
completeness_percentage FLOAT64
missing_games_count INT64
is_production_ready BOOL
data_quality_issues STRING REP
last_reprocess_attempt_at TIMESTAMP
reprocess_attempt_count INT64
circuit_breaker_active BOOL
circuit_breaker_until TIMESTAMP
manual_override_required BOOL
season_boundary_detected BOOL
backfill_bootstrap_mode BOOL
processing_decision_reason STRING
early_season_flag BOOL
insufficient_data_reason STRING
data_hash STRING
feature_generation_time_ms INT64
created_at TIMESTAMP REQ
updated_at TIMESTAMP
"""

_HISTORICAL_COMPLETENESS = Field(
    name="historical_completeness",
    type="RECORD",
    fields=(
        Field("games_found", "INT64"),
        Field("games_expected", "INT64"),
        Field("is_complete", "BOOL"),
        Field("is_bootstrap", "BOOL"),
        Field("contributing_game_dates", "DATE", REP),
    ),
)


def schedule_schema() -> list[Field]:
    """Columns of ``nba_reference.nba_schedule`` (the view's columns, facts 1b)."""
    return _fields(_SCHEDULE)


def predictions_schema(*, drift: bool = False) -> list[Field]:
    """Live columns of ``nba_predictions.player_prop_predictions``.

    ``drift=True`` gives the Feb 2026 table: no ``vegas_line_source``, no ``required_default_count``.
    """
    fields = _fields(_PREDICTIONS)
    if drift:
        fields = [f for f in fields if f.name not in DRIFT_MISSING]
    return fields


def feature_store_schema() -> list[Field]:
    """Columns of ``nba_predictions.ml_feature_store_v2`` incl. feature_N_value/quality/source."""
    per_feature = []
    for n in range(FEATURE_COUNT):
        per_feature += [
            Field(f"feature_{n}_value", "FLOAT64"),
            Field(f"feature_{n}_quality", "FLOAT64"),
            Field(f"feature_{n}_source", "STRING"),
        ]
    source_cols = [
        Field(f"source_{src}_{attr}", typ)
        for src in ("daily_cache", "composite", "shot_zones", "team_defense")
        for attr, typ in (
            ("last_updated", "TIMESTAMP"),
            ("rows_found", "INT64"),
            ("completeness_pct", "FLOAT64"),
            ("hash", "STRING"),
        )
    ]
    return [
        *_fields(_FEATURE_HEAD),
        *per_feature,
        *_fields(_FEATURE_TAIL),
        _HISTORICAL_COMPLETENESS,
        *source_cols,
    ]


def create_table_sql(schema: str, table: str, fields: list[Field]) -> str:
    """``CREATE TABLE`` for DuckDB from BigQuery fields (REQUIRED -> NOT NULL)."""
    cols = ",\n  ".join(f'"{f.name}" {bq_to_duckdb(f)}' + (" NOT NULL" if f.mode == REQ else "") for f in fields)
    return f'CREATE TABLE "{schema}"."{table}" (\n  {cols}\n)'
