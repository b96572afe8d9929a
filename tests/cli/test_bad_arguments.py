"""Command-line values that crashed a run (exit 3, OverflowError) are usage errors (exit 2), and a
checkpoint named twice runs once."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_cli import canary
from tests.conftest import NOW


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--now", "0001-01-01T00:00:00"], "'0001-01-01T00:00:00' is out of range"),
        (["run", "--now", "9999-12-31T23:00:00-05:00"], "out of range"),
        (["run", "--as-of", "0001-01-01"], "'0001-01-01' is out of range"),
        (["run", "--as-of", "9999-12-31"], "between 1970-01-01 and 2999-12-31"),
        (["staging", "list", "--older-than", "1e308h"], "invalid duration"),
        (["staging", "list", "--older-than", "99999999999999999h"], "is too long: at most 7300d"),
        (["staging", "list", "--older-than", "9" * 400 + "h"], "is too long"),
        (["staging", "cleanup", "--older-than", "24h", "--expire-in", "999999999d"], "is too long"),
        (["staging", "list", "--now", "0001-01-01T00:00:00"], "out of range"),
    ],
)
def test_out_of_range_arguments_exit_2_without_a_traceback(
    seeded: Callable[[str], Path],
    make_config: Callable[..., object],
    tmp_path: Path,
    args: list[str],
    fragment: str,
) -> None:
    make_config(seeded("orphaned-staging"))
    proc = canary(*args, "--config", str(tmp_path / "canary.toml"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr and "OverflowError" not in proc.stderr


def test_a_checkpoint_named_three_times_runs_once(
    seeded: Callable[[str], Path], make_config: Callable[..., object], tmp_path: Path
) -> None:
    make_config(seeded("prediction-gap"))
    args = ["--config", str(tmp_path / "canary.toml"), "--as-of", "2026-02-08", "--now", NOW.isoformat(), "--json"]
    proc = canary("run", "prediction_gap", "prediction_gap", "prediction_gap", *args, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert [c["name"] for c in json.loads(proc.stdout)["checkpoints"]] == ["prediction_gap"]
    with sqlite3.connect(tmp_path / "state.sqlite") as conn:
        rows = conn.execute("SELECT checkpoint FROM checkpoint_results").fetchall()
    assert rows == [("prediction_gap",)]  # one failure toward failures_before_alert, not three
    proc = canary("run", "schema_parity", "prediction_gap", "schema_parity", *args, "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # the game calendar prediction_gap reads is estimated once, as its own statement
    assert [e["checkpoint"] for e in json.loads(proc.stdout)] == ["game_calendar", "schema_parity", "prediction_gap"]
