"""The partition-filter guard is pure SQL analysis: no server needed."""

from __future__ import annotations

import pytest

from pipeline_canary.warehouse._bq_guard import PartitionGuard

GUARD = PartitionGuard.of(["nba_predictions.player_prop_predictions", "proj-x1.nba_raw.nbac_schedule"])


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 FROM nba_predictions.player_prop_predictions WHERE game_date = @as_of",
        "SELECT 1 FROM `p-123456.nba_predictions.player_prop_predictions` p WHERE p.game_date BETWEEN @a AND @b",
        "SELECT 1 FROM nba_raw.nbac_schedule s JOIN nba_predictions.player_prop_predictions p "
        "ON p.game_date = s.game_date AND p.game_id = s.game_id WHERE s.game_date = @d",
        "WITH x AS (SELECT * FROM nba_predictions.player_prop_predictions WHERE game_date >= @d) SELECT * FROM x",
        "SELECT * FROM (SELECT * FROM `proj-x1.nba_raw.nbac_schedule` WHERE game_date IN UNNEST(@days))",
        "SELECT * FROM other.player_prop_predictions",  # not a guarded dataset
        "SELECT * FROM `other-proj.nba_raw.nbac_schedule`",  # another project
        "SELECT table_name FROM `p-123456.nba_predictions.INFORMATION_SCHEMA.TABLES`",
    ],
)
def test_filtered_or_unguarded_reads_pass(sql: str) -> None:
    assert GUARD.violations(sql) == []


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT COUNT(*) FROM nba_predictions.player_prop_predictions",
        "SELECT COUNT(*) FROM nba_predictions.player_prop_predictions WHERE is_active",
        # the filter is on the other table of the join, not on this one
        "SELECT 1 FROM nba_raw.nbac_schedule s JOIN nba_predictions.player_prop_predictions p "
        "ON p.game_id = s.game_id WHERE s.game_date = @d",
        # a game_date inside a subquery of the WHERE does not filter the outer table
        "SELECT 1 FROM nba_predictions.player_prop_predictions p WHERE p.game_id IN "
        "(SELECT game_id FROM nba_raw.nbac_schedule WHERE game_date = @d)",
        "WITH x AS (SELECT * FROM nba_predictions.player_prop_predictions) SELECT * FROM x WHERE game_date = @d",
    ],
)
def test_unfiltered_reads_are_reported(sql: str) -> None:
    problems = GUARD.violations(sql)
    assert problems and all("without a game_date predicate" in p for p in problems)


def test_unparsable_sql_is_reported() -> None:
    assert "does not parse" in GUARD.violations("SELECT FROM WHERE (")[0]
