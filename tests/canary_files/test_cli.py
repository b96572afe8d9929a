"""Canary files on the command line: `canaries new` and `check`, `run` refusing a bad file before
anything runs, `run --tier`, `doctor` on the tables a file reads, and a light `--help` / `list`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.canary_files.sql import SQLProblem, compile_statement
from pipeline_canary.config import CanaryConfig
from tests.canary_files.example import cli, worked_example, write_example
from tests.cli.test_cli import canary
from tests.conftest import NOW

EXAMPLE = worked_example()[1]


def project(tmp_path: Path, warehouse: Path, extra: str = "") -> Path:
    config = tmp_path / "canary.toml"
    config.write_text(
        f'[warehouse]\npath = "{warehouse}"\n[gx]\nproject_dir = "gx"\nbuild_docs = false\n'
        f'[state]\npath = "state.sqlite"\n[canaries]\npaths = ["canaries"]\n{extra}',
        encoding="utf-8",
    )
    (tmp_path / "canaries").mkdir(exist_ok=True)
    return config


def test_canaries_new_writes_a_file_that_checks_and_runs(
    seeded: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project(tmp_path, seeded("healthy"))
    code, out = cli(capsys, "canaries", "new", "active_predictions", "--config", str(config))
    assert code == 0 and f"wrote {tmp_path / 'canaries' / 'active_predictions.toml'}" in out
    assert "add it to" not in out  # the folder is configured already
    code, out = cli(capsys, "canaries", "new", "active_predictions", "--config", str(config))
    assert code == 2 and "a canary named 'active_predictions' exists already" in out
    code, out = cli(capsys, "canaries", "new", "Bad-Name", "--config", str(config))
    assert code == 2 and "lowercase letters, digits and _" in out
    code, out = cli(capsys, "canaries", "check", "--config", str(config))
    assert code == 0 and "ok   active_predictions" in out
    code, out = cli(capsys, "run", "active_predictions", "--config", str(config), "--now", NOW.isoformat(), "--json")
    result = json.loads(out[out.index("{") :])["checkpoints"][0]
    assert code == 0 and result["outcome"] == "passed", out
    elsewhere = tmp_path / "other"
    code, out = cli(capsys, "canaries", "new", "games_final", "--config", str(config), "--dir", str(elsewhere))
    assert code == 0 and "add it to" in out and '[canaries]\npaths = ["other"]' in out


def test_a_bad_file_is_exit_2_before_anything_runs(seeded: Callable[[str], Path], tmp_path: Path) -> None:
    config = project(tmp_path, seeded("healthy"))
    bad = tmp_path / "canaries" / "games_final.toml"
    bad.write_text(EXAMPLE.replace('metric = "games_not_final"', 'metric = "games_nf"'))
    line = EXAMPLE.splitlines().index('metric = "games_not_final"') + 1
    commands = (
        ["run"],
        ["run", "games_final"],
        ["run", "--dry-run"],
        ["canaries", "check", "--no-warehouse"],
        ["serve"],
    )
    for args in commands:
        proc = canary(*args, "--config", str(config), cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        out = proc.stdout + proc.stderr
        assert f"{bad}:{line}: checks[0].metric: " in out
        assert "no statement returns 'games_nf'" in out and "Traceback" not in out
    assert not (tmp_path / "state.sqlite").exists()  # nothing ran, nothing was recorded
    bad.write_text(EXAMPLE.replace("[calendar]", "[calendar]\nrun_on = []\nskip = 1"))
    proc = canary("list", "--config", str(config), cwd=tmp_path)
    assert proc.returncode == 2 and f"{bad}:" in proc.stderr and "Traceback" not in proc.stderr


def test_run_one_tier(seeded: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = project(tmp_path, seeded("healthy"), '[checkpoints.games_final]\ntier = "critical"\n')
    write_example(tmp_path)
    args = ("--config", str(config), "--now", NOW.isoformat())
    code, out = cli(capsys, "run", "--tier", "critical", *args, "--dry-run", "--json")
    assert code == 0
    assert [e["checkpoint"] for e in json.loads(out)] == [
        "game_calendar",
        "prediction_gap",
        "schema_parity",
        "games_final",
    ]
    code, out = cli(capsys, "run", "--tier", "routine", *args, "--dry-run", "--json")
    assert [e["checkpoint"] for e in json.loads(out)] == ["feature_contamination", "orphaned_staging_tables"]
    code, out = cli(capsys, "run", "--tier", "nightly", *args)
    assert code == 2 and "unknown tier 'nightly'; known tiers: critical, routine" in out
    code, out = cli(capsys, "run", "--tier", "critical", "prediction_gap", *args)
    assert code == 2 and "not both" in out
    code, out = cli(capsys, "run", "--tier", "critical", *args, "--json", "--no-alert")
    names = [c["name"] for c in json.loads(out[out.index("{") :])["checkpoints"]]
    assert code == 0 and names == ["prediction_gap", "schema_parity", "games_final"]


def test_doctor_checks_the_tables_and_columns_a_file_reads(
    seeded: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project(tmp_path, seeded("healthy"))
    path = tmp_path / "canaries" / "games_final.toml"
    path.write_text(
        EXAMPLE.replace('table = "schedule_table"', 'table = "nba_predictions.model_registry"').replace(
            '"game_status"]', '"game_status", "nonexistent"]'
        )
    )
    code, out = cli(capsys, "doctor", "--config", str(config))
    assert code == 2
    assert "FAIL table nba_predictions.model_registry: nba_predictions.model_registry lacks column(s)" in out
    assert f"fix: point {path} [tables.schedule] at the right table" in out
    assert "ok   table nba_reference.nba_schedule" in out  # the configured pipeline tables still


def test_only_select_statements() -> None:
    for sql in ("DELETE FROM {t} WHERE TRUE", "INSERT INTO {t} (a) VALUES (1)", "CREATE TABLE x AS SELECT 1 AS a"):
        with pytest.raises(SQLProblem, match="only SELECT"):
            compile_statement(sql, {"t"}, set(), metrics=True)
    compiled = compile_statement("SELECT COUNTIF(a IN UNNEST(@ids)) AS n FROM {t}", {"t"}, {"ids"}, metrics=True)
    assert (compiled.params, compiled.columns) == (("ids",), ("n",))


def test_help_and_list_stay_light_with_forty_canary_files(
    tmp_path: Path, make_config: Callable[..., CanaryConfig]
) -> None:
    folder = tmp_path / "canaries"
    folder.mkdir()
    for i in range(40):
        (folder / f"check_{i:02d}.toml").write_text(EXAMPLE)
    (tmp_path / "canary.toml").write_text('[canaries]\npaths = ["canaries"]\n')
    code = (
        "import sys\nfrom pipeline_canary.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = ('sqlglot', 'great_expectations', 'pandas', 'duckdb', 'google.cloud.bigquery')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    for args in (["--help"], ["list"], ["run", "--help"], ["canaries", "--help"]):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path, timeout=120
        )
        assert "HEAVY []" in proc.stderr, (args, proc.stderr)
    listed = canary("list", "--json", cwd=tmp_path)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 44
