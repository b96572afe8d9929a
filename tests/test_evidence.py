"""Evidence for people: which tables explain what broke, and lines that name the game, column or table."""

from __future__ import annotations

import pytest

from pipeline_canary.evidence import explaining, line, what_broke
from pipeline_canary.results import CheckpointResult, CheckResult, EvidenceTable, Outcome

GAME = {"game_key": "20260208_LAL_GSW", "schedule_game_id": "0022500861", "active_predictions": 0}


def result(outcome: Outcome, check_outcome: Outcome, **evidence: EvidenceTable) -> CheckpointResult:
    checks = (
        CheckResult("no_prediction_gap", Outcome.PASSED, "", evidence_tables=("games_without_predictions",)),
        CheckResult("every_game_covered", check_outcome, "", evidence_tables=("games_without_predictions",)),
    )
    return CheckpointResult("prediction_gap", outcome, checks, evidence=evidence)


def test_the_tables_of_the_checks_that_did_not_pass_explain_what_broke() -> None:
    games = EvidenceTable.of([GAME, {**GAME, "game_key": "20260208_BOS_NYK"}], 1)
    warned = result(Outcome.WARNED, Outcome.WARNED, games_without_predictions=games, games=games)
    assert explaining(warned) == ["games_without_predictions"]
    [table] = what_broke(warned, 5)
    assert table.lines == ("20260208_LAL_GSW (0022500861): 0 active predictions",)
    assert (table.total, table.more, table.title) == (2, 1, "games without predictions")
    assert what_broke(result(Outcome.PASSED, Outcome.PASSED, games_without_predictions=games), 5) == []
    empty = result(Outcome.WARNED, Outcome.WARNED, games_without_predictions=EvidenceTable())
    assert what_broke(empty, 5) == []  # a table without rows names nothing
    errored = CheckpointResult.errored("prediction_gap", "boom", evidence={"games": [GAME]})
    assert explaining(errored) == ["games"]  # no check ran: everything it saw


@pytest.mark.parametrize(
    ("checkpoint", "table", "row", "expected"),
    [
        ("prediction_gap", "games_without_predictions", GAME, "20260208_LAL_GSW (0022500861): 0 active predictions"),
        (
            "prediction_gap",
            "games",
            {**GAME, "active_predictions": 1},
            "20260208_LAL_GSW (0022500861): 1 active prediction",
        ),
        (
            "prediction_gap",
            "duplicate_schedule_rows",
            {**GAME, "schedule_rows": 2, "duplicate_rows": 1},
            "20260208_LAL_GSW (0022500861): listed 2 times in the schedule (1 not counted)",
        ),
        (
            "prediction_gap",
            "games_pending",
            {**GAME, "due_at": "2026-02-08T22:30:00+00:00"},
            "20260208_LAL_GSW (0022500861): predictions not due yet (due by 2026-02-08 22:30 UTC)",
        ),
        (
            "schema_parity",
            "differences",
            {"field": "confidence_tier", "problem": "missing_in_table", "worker_type": "STRING", "table_type": None},
            "missing column: confidence_tier (STRING)",
        ),
        (
            "schema_parity",
            "differences",
            {"field": "line_value", "problem": "type_mismatch", "worker_type": "STRING", "table_type": "NUMERIC"},
            "incompatible type: line_value (worker writes STRING, table has NUMERIC)",
        ),
        (
            "orphaned_staging_tables",
            "orphaned_tables",
            {
                "table": "_staging_batch_x_w1",
                "dataset": "nba_predictions",
                "created": "2026-02-07T09:12:00+00:00",
                "age_hours": 26.0,
            },
            "orphaned: nba_predictions._staging_batch_x_w1 (created 2026-02-07 09:12 UTC, 26 h old)",
        ),
        (
            "orphaned_staging_tables",
            "unknown_age_tables",
            {"table": "_staging_y", "dataset": "nba_predictions", "created": None, "age_hours": None},
            "unknown age: nba_predictions._staging_y (the warehouse has no creation time for it)",
        ),
        (
            "feature_contamination",
            "most_defaulted_required_features",
            {"feature_index": 13, "feature_name": "opponent_def_rating", "rows_defaulted": 256, "pct_of_rows": 8.14},
            "feature 13 opponent_def_rating: defaulted in 256 rows (8.14%)",
        ),
        (
            "feature_contamination",
            "trend_by_day",
            {"game_date": "2026-02-07", "rows": 200, "contaminated_rows": 50, "pct": 25.0},
            "2026-02-07: 50 of 200 rows (25.0%) have required defaults",
        ),
    ],
)
def test_each_canary_names_the_thing(checkpoint: str, table: str, row: dict[str, object], expected: str) -> None:
    assert line(checkpoint, table, row) == expected


def test_rows_of_another_shape_and_unknown_checkpoints_read_as_key_value() -> None:
    assert line("prediction_gap", "games", {"game": "x"}) == "game=x"  # an older row in history
    assert line("gone_checkpoint", "t", {"a": 1, "b": "two"}) == "a=1, b=two"
    assert len(line("gone_checkpoint", "t", {"a": "x" * 500})) == 200
