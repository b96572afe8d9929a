"""Column lists (BigQuery vocabulary) of the models and grading tables: facts-checks §1.3, §1.5, §1.12.

Only the columns the pack reads, the keys and the ones that make a row readable are kept; the types
and modes are the pipeline's (REQ = REQUIRED, else NULLABLE). DuckDB types come from
``create_table_sql`` as for the core demo tables.
"""

from __future__ import annotations

from pipeline_canary.schema.model import Field


def _fields(spec: str) -> list[Field]:
    """``name TYPE [REQ]`` lines -> Fields."""
    out = []
    for line in spec.strip().splitlines():
        name, type_, *mode = line.split()
        out.append(Field(name=name, type=type_, mode="REQUIRED" if mode == ["REQ"] else "NULLABLE"))
    return out


# schemas/model_registry.json plus bin/migrations/001_enrich_model_registry.sql (facts-checks §1.3).
_REGISTRY = """
model_id STRING REQ
model_version STRING REQ
model_type STRING REQ
gcs_path STRING REQ
feature_count INT64 REQ
training_start_date DATE REQ
training_end_date DATE REQ
training_samples INT64
evaluation_mae FLOAT64
evaluation_hit_rate FLOAT64
evaluation_hit_rate_edge_3plus FLOAT64
evaluation_n_edge_3plus INT64
parent_model_id STRING
status STRING REQ
is_production BOOL REQ
production_start_date DATE
production_end_date DATE
notes STRING
created_at TIMESTAMP REQ
created_by STRING
model_family STRING
feature_set STRING
loss_function STRING
quantile_alpha FLOAT64
enabled BOOL
"""

# schemas/bigquery/nba_predictions/prediction_accuracy.sql v6 (facts-checks §1.5).
_ACCURACY = """
player_lookup STRING REQ
game_id STRING REQ
game_date DATE REQ
system_id STRING REQ
predicted_points NUMERIC(5,1)
confidence_score NUMERIC(4,3)
confidence_decile INT64
recommendation STRING
line_value NUMERIC(5,1)
actual_points INT64
absolute_error NUMERIC(5,1)
signed_error NUMERIC(5,1)
prediction_correct BOOL
within_3_points BOOL
within_5_points BOOL
has_prop_line BOOL
line_source STRING
is_actionable BOOL
filter_reason STRING
is_voided BOOL
void_reason STRING
model_version STRING
graded_at TIMESTAMP
"""

# schemas/bigquery/nba_predictions/model_performance_daily.sql (facts-checks §1.12).
_PERFORMANCE = """
game_date DATE REQ
model_id STRING REQ
rolling_hr_7d FLOAT64
rolling_hr_14d FLOAT64
rolling_hr_30d FLOAT64
rolling_n_7d INT64
rolling_n_14d INT64
rolling_n_30d INT64
daily_picks INT64
daily_wins INT64
daily_losses INT64
daily_hr FLOAT64
state STRING
action STRING
action_reason STRING
days_since_training INT64
computed_at TIMESTAMP
"""


def registry_schema() -> list[Field]:
    return _fields(_REGISTRY)


def accuracy_schema() -> list[Field]:
    return _fields(_ACCURACY)


def performance_schema() -> list[Field]:
    return _fields(_PERFORMANCE)
