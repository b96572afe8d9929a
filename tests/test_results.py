from __future__ import annotations

import datetime as dt

import pytest

from pipeline_canary.cli.exit_codes import ExitCode
from pipeline_canary.results import CheckpointResult, Outcome, RunResult, Threshold, rollup


@pytest.mark.parametrize(
    "outcomes,expected",
    [
        ([Outcome.PASSED, Outcome.WARNED], Outcome.WARNED),
        ([Outcome.ERRORED, Outcome.WARNED], Outcome.ERRORED),
        ([Outcome.ERRORED, Outcome.FAILED], Outcome.FAILED),
        ([Outcome.SKIPPED, Outcome.PASSED], Outcome.PASSED),
        ([Outcome.SKIPPED], Outcome.SKIPPED),
        ([], Outcome.SKIPPED),
    ],
)
def test_rollup(outcomes: list[Outcome], expected: Outcome) -> None:
    assert rollup(outcomes) is expected


def run_of(*outcomes: Outcome) -> RunResult:
    return RunResult(
        run_id="r",
        as_of=dt.date(2026, 2, 8),
        now=dt.datetime(2026, 2, 8, 18, tzinfo=dt.UTC),
        checkpoints=tuple(CheckpointResult(name=f"c{i}", outcome=o) for i, o in enumerate(outcomes)),
    )


@pytest.mark.parametrize(
    "outcomes,code",
    [
        ((Outcome.PASSED, Outcome.WARNED, Outcome.SKIPPED), ExitCode.OK),
        ((Outcome.PASSED, Outcome.FAILED, Outcome.ERRORED), ExitCode.FAILED),
        ((Outcome.PASSED, Outcome.ERRORED), ExitCode.ERRORED),
    ],
)
def test_exit_codes(outcomes: tuple[Outcome, ...], code: ExitCode) -> None:
    assert ExitCode.for_run(run_of(*outcomes)) is code


def test_json_shape() -> None:
    data = run_of(Outcome.PASSED, Outcome.FAILED).to_dict()
    assert data["outcome"] == "failed"
    assert [c["outcome"] for c in data["checkpoints"]] == ["passed", "failed"]
    assert set(data["checkpoints"][0]) >= {"name", "outcome", "checks"}


def test_threshold_describe() -> None:
    assert Threshold(max=0).describe() == "<= 0"
    assert Threshold(min=1, max=1).describe() == "= 1"
    assert Threshold(min=2.5).describe() == ">= 2.5"
    assert Outcome.ERRORED.status_code == 3


def test_evidence_tables_keep_the_first_rows_and_the_total_as_plain_json() -> None:
    from pipeline_canary.results import EvidenceTable, bound_evidence, evidence_from_dict

    rows = [{"game_date": dt.date(2026, 2, d), "n": d} for d in range(1, 29)]
    [(name, table)] = bound_evidence({"trend": rows}, 20).items()
    assert (name, len(table), table.total, table.truncated) == ("trend", 20, 28, True)
    assert table[0] == {"game_date": "2026-02-01", "n": 1}  # dates as ISO text: --json, history, GX
    assert [r["n"] for r in table][-1] == 20
    assert table.to_dict()["total"] == 28 and len(table.to_dict()["rows"]) == 20
    assert evidence_from_dict({"trend": table.to_dict()}) == {"trend": table}
    kept = EvidenceTable.of([{"sql": "x" * 5000}], total=3)
    assert (kept.total, kept.truncated, len(kept[0]["sql"])) == (3, True, 1000)  # a long cell is cut


def test_checkpoint_json_carries_the_evidence_tables() -> None:
    cp = CheckpointResult(
        name="prediction_gap",
        outcome=Outcome.WARNED,
        evidence={"games_without_predictions": [{"game_key": "20260208_NOP_MIN", "active_predictions": 0}]},
    )
    data = RunResult(run_id="r", as_of=dt.date(2026, 2, 8), now=dt.datetime(2026, 2, 8, tzinfo=dt.UTC),
                     checkpoints=(cp,)).to_dict()  # fmt: skip
    assert data["checkpoints"][0]["evidence"] == {
        "games_without_predictions": {
            "rows": [{"game_key": "20260208_NOP_MIN", "active_predictions": 0}],
            "total": 1,
            "truncated": False,
        }
    }


def test_a_threshold_says_on_which_side_of_its_inclusive_bounds_a_value_lies() -> None:
    from pipeline_canary.results import Threshold

    band = Threshold(min=2, max=5)
    assert [band.side(v) for v in (1.9, 2, 5, 5.1, None, float("nan"))] == [
        "below", "within", "within", "above", "null", "null",
    ]  # fmt: skip
    assert Threshold(max=0).side(-3) == "within" and Threshold().side(1e9) == "within"
