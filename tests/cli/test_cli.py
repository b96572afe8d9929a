"""The command line as a user meets it: real subprocesses for start-up and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.cli import main
from pipeline_canary.demo.caught import CAUGHT_BY
from tests.conftest import NOW


def canary(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from pipeline_canary.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_help_and_list_do_not_import_great_expectations(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom pipeline_canary.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('great_expectations', 'pandas', 'google.cloud.bigquery', 'duckdb') if m in sys.modules]\n"
        "print('HEAVY', bad, file=sys.stderr)\n"
    )
    for args in (["--help"], ["list"], ["run", "--help"]):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path, timeout=60
        )
        assert "HEAVY []" in proc.stderr, (args, proc.stderr)
    assert "Exit codes" in canary("--help", cwd=tmp_path).stdout


@pytest.mark.parametrize(
    "toml,fragment",
    [
        ("[warehouse]\nbakend = 1\n", "unknown key 'warehouse.bakend'"),
        ("[checkpoints.feature_contamination]\nfail_pct = -1\n", "fail_pct"),
        ('[pipeline]\npredictions_table = "a.b c"\n', "invalid"),
        ("[checkpoints.nope]\n", "unknown checkpoint 'nope'"),
    ],
)
def test_bad_configuration_exits_2_without_traceback(tmp_path: Path, toml: str, fragment: str) -> None:
    path = tmp_path / "canary.toml"
    path.write_text(toml)
    proc = canary("run", "--config", str(path))
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_checkpoint_and_bad_date_exit_2(tmp_path: Path) -> None:
    proc = canary("run", "no_such_checkpoint", cwd=tmp_path)
    assert proc.returncode == 2 and "known checkpoints: prediction_gap" in proc.stderr
    proc = canary("run", "--as-of", "yesterday", cwd=tmp_path)
    assert proc.returncode == 2 and "2026-02-08" in proc.stderr
    proc = canary("run", "--alert", "--no-alert", cwd=tmp_path)
    assert proc.returncode == 2 and "pass one of them" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_json_and_exit_code(
    seeded: Callable[[str], Path],
    make_config: Callable[..., object],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_config(seeded("prediction-gap"))
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "run",
                "--config",
                str(tmp_path / "canary.toml"),
                "--as-of",
                "2026-02-08",
                "--now",
                NOW.isoformat(),
                "--json",
            ]
        )
    assert exit_info.value.code == 1
    data = json.loads(capsys.readouterr().out)
    assert data["outcome"] == "failed"
    by_name = {c["name"]: c for c in data["checkpoints"]}
    assert by_name["prediction_gap"]["outcome"] == "failed"
    check = by_name["prediction_gap"]["checks"][0]
    assert set(check) >= {"name", "outcome", "observed", "threshold", "message"}
    assert by_name["schema_parity"]["outcome"] == "passed"


def test_errored_only_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "canary.toml"
    path.write_text(
        f'[warehouse]\npath = "{tmp_path / "missing.duckdb"}"\n'
        f'[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n'
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--config", str(path)])
    assert exit_info.value.code == 3
    assert "ERRORED" in capsys.readouterr().out


def test_demo_end_to_end(tmp_path: Path) -> None:
    proc = canary("demo", "--dir", str(tmp_path / "d"), "--scenario", "incident", "--json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    outcomes = {c["name"]: c["outcome"] for c in data["checkpoints"]}
    assert {n for n, o in outcomes.items() if o == "failed"} == set(CAUGHT_BY["incident"])
    assert {"prediction_gap", "feature_contamination", "schema_parity", "orphaned_staging_tables"} <= set(outcomes)
    assert set(outcomes.values()) <= {"failed", "passed", "skipped"}  # the NBA pack runs too, nothing errors
    assert data["docs_index"] and Path(data["docs_index"]).is_file()
    assert (tmp_path / "d" / "canary.toml").is_file()
    # a second run reuses the seeded warehouse and the config it wrote
    proc = canary("run", "--config", str(tmp_path / "d" / "canary.toml"), "schema_parity")
    assert proc.returncode == 1 and "schema_parity" in proc.stdout


def test_unwritable_state_store_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "canary.toml"
    path.write_text('[state]\npath = "/proc/nope/state.sqlite"\n')
    for args in (["run", "--config", str(path), "--no-docs"], ["alerts", "status", "--config", str(path)]):
        proc = canary(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "[state] path" in proc.stderr and "Traceback" not in proc.stderr


def test_as_of_a_past_day_without_now_uses_the_end_of_that_game_day(
    seeded: Callable[[str], Path],
    make_config: Callable[..., object],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Staging-table ages are measured against 23:59:59 New York time on the day, not against today."""
    import datetime as dt

    from pipeline_canary.warehouse.duckdb import DuckDBWarehouse

    end_of_day = dt.datetime(2026, 2, 9, 4, 59, 59, tzinfo=dt.UTC)
    config = tmp_path / "canary.toml"
    runs = {}
    for scenario in ("healthy", "orphaned-staging"):
        make_config(seeded(scenario))
        args = ["run", "orphaned_staging_tables", "--config", str(config), "--as-of", "2026-02-08", "--no-docs"]
        with pytest.raises(SystemExit):
            main([*args, "--json"])
        runs[scenario] = json.loads(capsys.readouterr().out)
        with pytest.raises(SystemExit):
            main(args)
        out = capsys.readouterr().out
        assert "now 2026-02-09T04:59:59+00:00 (end of the game day)" in out and "replay:" in out
    for data in runs.values():
        assert dt.datetime.fromisoformat(data["now"]) == end_of_day
        assert (data["now_source"], data["replay"]) == ("end_of_game_day", True)
    # the healthy batch's tables are hours old at the end of 8 February (months old today)
    assert runs["healthy"]["outcome"] == "passed"
    warehouse = DuckDBWarehouse(seeded("orphaned-staging"))
    try:
        created = [t.created for t in warehouse.tables("nba_predictions") if t.name.startswith("_staging_")]
    finally:
        warehouse.close()
    ages = [(end_of_day - c).total_seconds() / 3600 for c in created if c is not None]
    [cp] = runs["orphaned-staging"]["checkpoints"]
    assert cp["outcome"] == "failed"
    assert cp["metrics"]["oldest_age_hours"] == round(max(ages), 1)
    assert cp["metrics"]["orphaned_tables"] == len([a for a in ages if a > 24])
