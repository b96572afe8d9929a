"""``canary canaries new NAME``: a first canary file that is valid as written, every key explained."""

from __future__ import annotations

TEMPLATE = '''\
# A canary: one check of the pipeline, declared in this file (README, "Canary files").
# `canary canaries check` validates it; `canary run {name}` runs it; `canary list` shows it.
# Optional keys are commented out with their defaults.

# name = "{name}"           # optional: the file's name (without .toml); lowercase, digits and _
title = "Active predictions on game days"
description = """\\
A game day ends with too few active predictions: the exports and best bets for the day are thin \\
or empty."""
severity = "critical"       # "critical": alert on the first failure; "warning": after a few
tier = "routine"            # [schedule.tiers.NAME]: "critical" (every 15 min) or "routine" (every 60)
runbook = """\\
Check the prediction coordinator's batch for the date and the workers' logs for write errors; \\
re-run the coordinator for the date once the cause is fixed."""
# order = 100               # position in listings and runs (the built-in canaries use 10-40)
# about_game_day = true     # incidents belong to the as-of game date (false: to the current state)
# The one-line result: {{metric}}, {{param}} and {{as_of}} are filled in.
summary = "{{active_predictions}} active predictions from {{models}} models on {{as_of}}"

[calendar]                  # when it runs, by the game calendar built from the schedule
run_on = ["game_days"]      # "game_days", "days_after_game_days" or "always"
skip_on = []                # "breaks" and/or "playoffs": skipped with the reason, never passed

# [window]                  # @window_start / @window_end: @as_of plus these days (or "@param")
# start_days = -14
# end_days = 0

[params]                    # configured values: @min_predictions in SQL, "@min_predictions" in thresholds;
min_predictions = 1         # override with [checkpoints.{name}] min_predictions = 500 in canary.toml
min_models = 1
# [params.max_pct]          # the long form adds bounds and a description
# default = 15.0
# min = 0
# max = 100
# description = "..."

[tables.predictions]        # {{predictions}} in the SQL; "predictions_table" is the configured [pipeline]
table = "predictions_table" # table, or give "dataset.table" (override: [checkpoints.{name}.tables])
columns = ["game_date", "is_active", "created_at", "system_id"]  # what the SQL reads: `canary doctor` checks them
# partitioned = false       # true: every statement must filter this table on game_date

# Each statement is one BigQuery SELECT returning exactly one row; each named column is a metric.
# Parameters the run gives: @as_of (DATE), @now (TIMESTAMP), @timezone (STRING), the [window]
# bounds and the [params]. Values are always bound as query parameters, never written into the SQL.
[[statements]]
sql = """
SELECT COUNT(*) AS active_predictions, COUNT(DISTINCT system_id) AS models
FROM {{predictions}}
WHERE game_date = @as_of AND is_active AND created_at <= @now
"""

[[checks]]                  # a metric and its bounds: min and/or max, numbers or "@param"
name = "enough_predictions"
metric = "active_predictions"
min = "@min_predictions"
level = "fail"              # "fail" or "warn"
description = "active predictions written for the game day"

[[checks]]
name = "enough_models"
metric = "models"
min = "@min_models"
level = "warn"

# [skip]                    # nothing to judge: skipped with the reason when the metric is 0 or NULL
# when_zero = "active_predictions"
# reason = "nothing predicted on {{as_of}} yet"

# [[evidence]]              # rows shown with a failure or warning (when = "always": on every run)
# name = "models"
# sql = """
# SELECT system_id, COUNT(*) AS predictions FROM {{predictions}}
# WHERE game_date = @as_of AND is_active GROUP BY system_id ORDER BY predictions LIMIT 20
# """

# [headline]                # the trend on the dashboard: metrics summed per day
# metrics = ["active_predictions"]
# title = "Active predictions per game day"
# unit = "predictions"
'''


def render(name: str) -> str:
    return TEMPLATE.format(name=name)
