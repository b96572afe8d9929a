"""Column lists (BigQuery vocabulary) of the raw-phase pack tables (pipeline facts-checks §1, facts 1a).

Each list holds the keys, what the NBA pack's phase 1-4 canaries read, and the columns the
pipeline's writers fill around them; the DuckDB types follow ``demo/schemas.py``.
"""

from __future__ import annotations

from pipeline_canary.demo.schemas import _fields
from pipeline_canary.schema.model import Field

# nba_raw.nbac_schedule (facts 1a): the base table under nba_reference.nba_schedule.
_RAW_SCHEDULE = """
game_id STRING REQ
game_code STRING REQ
season STRING REQ
season_nba_format STRING REQ
season_year INT64 REQ
game_date DATE REQ
game_date_est TIMESTAMP
game_status INT64
game_status_text STRING
home_team_id INT64 REQ
home_team_tricode STRING REQ
home_team_name STRING REQ
away_team_id INT64 REQ
away_team_tricode STRING REQ
away_team_name STRING REQ
is_regular_season BOOL
is_playoffs BOOL
is_all_star BOOL
playoff_round STRING
home_team_score INT64
away_team_score INT64
winning_team_tricode STRING
data_source STRING
source_updated_at TIMESTAMP
source_file_path STRING REQ
scrape_timestamp TIMESTAMP
created_at TIMESTAMP REQ
data_hash STRING
processed_at TIMESTAMP REQ
"""

# nba_raw.nbac_gamebook_player_stats (facts-checks 1.1).
_GAMEBOOK = """
game_id STRING REQ
game_code STRING
game_date DATE REQ
season_year INT64 REQ
home_team_abbr STRING
away_team_abbr STRING
player_name STRING
player_name_original STRING REQ
player_lookup STRING
team_abbr STRING
player_status STRING REQ
dnp_reason STRING
name_resolution_status STRING
name_resolution_confidence FLOAT64
minutes STRING
minutes_decimal FLOAT64
points INT64
field_goals_made INT64
field_goals_attempted INT64
three_pointers_made INT64
three_pointers_attempted INT64
free_throws_made INT64
free_throws_attempted INT64
total_rebounds INT64
assists INT64
steals INT64
blocks INT64
turnovers INT64
personal_fouls INT64
plus_minus INT64
processed_by_run_id STRING
source_file_path STRING
data_hash STRING
processed_at TIMESTAMP
requires_manual_review BOOL
"""

# nba_analytics.player_game_summary (facts-checks 1.2).
_PGS = """
player_lookup STRING REQ
universal_player_id STRING
player_full_name STRING
game_id STRING REQ
game_date DATE REQ
team_abbr STRING REQ
opponent_team_abbr STRING REQ
season_year INT64 REQ
points INT64
minutes_played NUMERIC(5,1)
assists INT64
steals INT64
blocks INT64
turnovers INT64
fg_attempts INT64
fg_makes INT64
three_pt_attempts INT64
three_pt_makes INT64
ft_attempts INT64
ft_makes INT64
plus_minus INT64
personal_fouls INT64
starter_flag BOOL REQ
win_flag BOOL REQ
points_line NUMERIC(4,1)
over_under_result STRING
margin NUMERIC(6,2)
points_line_source STRING
is_active BOOL REQ
player_status STRING
is_dnp BOOL
dnp_reason STRING
source_nbac_last_updated TIMESTAMP
source_nbac_rows_found INT64
source_nbac_completeness_pct NUMERIC(5,2)
data_quality_tier STRING
primary_source_used STRING
is_partial_game_data BOOL
game_completeness_pct NUMERIC(5,2)
game_status_at_processing STRING
dedup_key STRING
record_version INT64
first_processed_at TIMESTAMP
data_hash STRING
created_at TIMESTAMP
processed_at TIMESTAMP
"""

# nba_raw.odds_api_player_points_props (facts-checks 1.14).
_ODDS = """
game_id STRING REQ
odds_api_event_id STRING REQ
game_date DATE REQ
game_start_time TIMESTAMP
home_team_abbr STRING REQ
away_team_abbr STRING REQ
snapshot_timestamp TIMESTAMP REQ
snapshot_tag STRING
capture_timestamp TIMESTAMP
minutes_before_tipoff INT64
bookmaker STRING REQ
player_name STRING REQ
player_lookup STRING
points_line FLOAT64 REQ
over_price FLOAT64
under_price FLOAT64
over_price_american INT64
under_price_american INT64
data_source STRING
data_hash STRING
processed_at TIMESTAMP
"""

# nba_orchestration.phase_completions (facts-checks 1.13).
_PHASES = """
phase STRING REQ
processor_name STRING REQ
game_date DATE REQ
status STRING REQ
record_count INT64
correlation_id STRING
execution_id STRING
completed_at TIMESTAMP REQ
is_incremental BOOL
entities_changed STRING REP
inserted_at TIMESTAMP REQ
"""

# nba_predictions.model_bb_candidates (facts-checks 1.8): the five REQ columns and what the writer fills.
_CANDIDATES = """
game_date DATE REQ
player_lookup STRING REQ
game_id STRING REQ
system_id STRING REQ
source_pipeline STRING REQ
source_model_family STRING
player_name STRING
team_abbr STRING
opponent_team_abbr STRING
predicted_points FLOAT64
line_value FLOAT64
recommendation STRING
edge FLOAT64
confidence_score FLOAT64
composite_score FLOAT64
signal_count INT64
real_signal_count INT64
signal_tags STRING REP
feature_quality_score FLOAT64
rank_in_pipeline INT64
was_selected BOOL
selection_reason STRING
merge_rank INT64
pipeline_agreement_count INT64
home_away STRING
algorithm_version STRING
created_at TIMESTAMP
export_run_at TIMESTAMP
"""

TABLES: dict[tuple[str, str], list[Field]] = {
    ("nba_raw", "nbac_schedule"): _fields(_RAW_SCHEDULE),
    ("nba_raw", "nbac_gamebook_player_stats"): _fields(_GAMEBOOK),
    ("nba_analytics", "player_game_summary"): _fields(_PGS),
    ("nba_raw", "odds_api_player_points_props"): _fields(_ODDS),
    ("nba_orchestration", "phase_completions"): _fields(_PHASES),
    ("nba_predictions", "model_bb_candidates"): _fields(_CANDIDATES),
}
