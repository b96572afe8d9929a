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
