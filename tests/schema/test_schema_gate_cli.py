"""``canary schema-gate`` through click's CliRunner: formats, exit codes, inputs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner, Result

from pipeline_canary.cli.schema_gate import schema_gate

TABLE = "nba-props-platform.nba_predictions.player_prop_predictions"
TABLE_SCHEMA = [
    {"name": "prediction_id", "type": "STRING", "mode": "REQUIRED"},
    {"name": "game_date", "type": "DATE", "mode": "REQUIRED"},
    {"name": "predicted_points", "type": "NUMERIC", "mode": "REQUIRED"},
    {"name": "data_quality_issues", "type": "STRING", "mode": "REPEATED"},
    {"name": "key_factors", "type": "JSON"},
]
WORKER = [
    {"name": "prediction_id", "type": "STRING", "mode": "REQUIRED"},
    {"name": "game_date", "type": "DATE", "mode": "REQUIRED"},
    {"name": "predicted_points", "type": "FLOAT64", "mode": "REQUIRED"},
    {"name": "vegas_line_source", "type": "STRING"},
    {"name": "required_default_count", "type": "INT64"},
]


def run(*args: str) -> Result:
    return CliRunner().invoke(schema_gate, list(args))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "table": tmp_path / "player_prop_predictions.json",
        "bad": tmp_path / "worker.json",
        "good": tmp_path / "good.json",
    }
    paths["table"].write_text(json.dumps(TABLE_SCHEMA, indent=2))
    paths["bad"].write_text(json.dumps(WORKER, indent=2))
    paths["good"].write_text(json.dumps(WORKER[:3], indent=2))
    return paths


def gate(files: dict[str, Path], worker: str, *extra: str) -> Result:
    return run("--contract", str(files[worker]), "--schema-file", str(files["table"]), "--table-name", TABLE, *extra)


def test_pass_exits_0(files: dict[str, Path]) -> None:
    result = gate(files, "good")
    assert result.exit_code == 0, result.output
    assert "schema-gate PASS" in result.output.splitlines()[-1]
    assert "data_quality_issues" in result.output and "key_factors" in result.output  # informational extras


def test_february_case_human_exits_1_with_fixes(files: dict[str, Path]) -> None:
    result = gate(files, "bad")
    assert result.exit_code == 1
    out = result.output
    assert "missing_in_table" in out and "vegas_line_source" in out and "required_default_count" in out
    assert f"ALTER TABLE `{TABLE}` ADD COLUMN IF NOT EXISTS vegas_line_source STRING;" in out
    assert out.splitlines()[-1].startswith("schema-gate FAIL: 2 differences would break writes")


def test_json_format(files: dict[str, Path]) -> None:
    result = gate(files, "bad", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["breaking_count"] == 2 and len(data["alter_statements"]) == 2
    assert data["worker"]["source"].endswith("worker.json")


def test_github_format(files: dict[str, Path]) -> None:
    result = gate(files, "bad", "--format", "github")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("::error ")]
    assert len(errors) == 2
    assert errors[0].startswith("::error title=schema-gate missing_in_table%3A vegas_line_source::")
    assert "ADD COLUMN IF NOT EXISTS vegas_line_source STRING" in errors[0]
    assert any(line.startswith("::notice title=") for line in result.output.splitlines())


def test_junit_format(files: dict[str, Path], tmp_path: Path) -> None:
    report = tmp_path / "out" / "junit.xml"
    report.parent.mkdir()
    result = gate(files, "bad", "--format", "junit", "--output", str(report))
    assert result.exit_code == 1
    assert result.output.startswith("schema-gate FAIL")  # only the summary on stdout
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "5" and suite.get("failures") == "2"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["vegas_line_source", "required_default_count"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--schema-file", "{table}"], "give exactly one of --contract | --records | --builder (got none)"),
        (["--contract", "{good}"], "give exactly one of --table | --schema-file (got none)"),
        (["--contract", "{good}", "--records", "{good}", "--schema-file", "{table}"], "got --contract, --records"),
        (["--contract", "{good}", "--schema-file", "{table}", "--format", "xml"], "unknown --format 'xml'"),
        (["--contract", "{missing}", "--schema-file", "{table}"], "missing.json: no such file"),
        (["--contract", "{broken}", "--schema-file", "{table}"], "broken.json line 3 column"),
        (["--records", "{jsonl}", "--schema-file", "{table}"], "broken.jsonl line 2 column"),
        (["--contract", "{good}", "--table", "not a table"], "invalid table name"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    files: dict[str, Path], tmp_path: Path, args: list[str], expected: str
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[\n {"name": "a", "type": "STRING"},\n {"name": "b", "type": }\n]')
    jsonl = tmp_path / "broken.jsonl"
    jsonl.write_text('{"a": 1}\n{"a": }\n')
    names = {k: str(v) for k, v in files.items()}
    names |= {"missing": str(tmp_path / "missing.json"), "broken": str(broken), "jsonl": str(jsonl)}
    config = tmp_path / "canary.toml"
    config.write_text(f'[warehouse]\nbackend = "duckdb"\npath = "{tmp_path / "wh.duckdb"}"\n')
    result = run(*[a.format(**names) for a in args], "--config", str(config))
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_records_inference_and_conflicts(files: dict[str, Path], tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    rows = [
        {"prediction_id": "a", "game_date": "2026-02-07", "predicted_points": 21.5, "data_quality_issues": '["x"]'},
        {"prediction_id": "b", "game_date": "2026-02-08", "predicted_points": "n/a", "data_quality_issues": None},
    ]
    records.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = run("--records", str(records), "--schema-file", str(files["table"]), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    breaking = [(d["path"], d["kind"]) for d in data["differences"] if d["breaks_writes"]]
    assert ("predicted_points", "record_conflict") in breaking
    assert ("data_quality_issues", "mode_mismatch") in breaking  # JSON text/null into an ARRAY column
    conflict = next(d for d in data["differences"] if d["kind"] == "record_conflict")
    assert "line 1 (FLOAT64)" in conflict["message"] and "line 2 (STRING)" in conflict["message"]
    assert data["worker"]["sampled"] is True and data["table"] == "player_prop_predictions"


@pytest.fixture
def builder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "gate_builder_mod.py").write_text(
        "def records():\n"
        "    return [{'prediction_id': 'a', 'game_date': '2026-02-07', 'predicted_points': 20,\n"
        "             'vegas_line_source': 'odds_api'}]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "gate_builder_mod:records"
    sys.modules.pop("gate_builder_mod", None)


def test_builder(files: dict[str, Path], builder: str) -> None:
    result = run("--builder", builder, "--schema-file", str(files["table"]), "--format", "github")
    assert result.exit_code == 1
    assert "::error title=schema-gate missing_in_table%3A vegas_line_source::" in result.output


def test_table_through_duckdb_backend(files: dict[str, Path], tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA nba_predictions")
    con.execute(
        "CREATE TABLE nba_predictions.player_prop_predictions (prediction_id VARCHAR NOT NULL, "
        "game_date DATE NOT NULL, predicted_points DECIMAL(5,1) NOT NULL, key_factors JSON)"
    )
    con.close()
    config = tmp_path / "canary.toml"
    config.write_text(f'[warehouse]\nbackend = "duckdb"\npath = "{db}"\n')
    table = "nba_predictions.player_prop_predictions"
    result = run("--contract", str(files["good"]), "--table", table, "--config", str(config))
    assert result.exit_code == 0, result.output
    result = run("--contract", str(files["bad"]), "--table", table, "--config", str(config))
    assert result.exit_code == 1
    assert f"ALTER TABLE `{table}` ADD COLUMN IF NOT EXISTS required_default_count INT64" in result.output
    missing = run("--contract", str(files["good"]), "--table", "nba_predictions.nope", "--config", str(config))
    assert missing.exit_code == 2 and "nope" in missing.output


def test_module_is_runnable(files: dict[str, Path]) -> None:
    import subprocess

    args = [sys.executable, "-m", "pipeline_canary.cli.schema_gate", "--contract", str(files["good"])]
    proc = subprocess.run([*args, "--schema-file", str(files["table"])], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    heavy = ("pandas", "great_expectations", "duckdb", "google.cloud", "pydantic")
    code = "import sys, pipeline_canary.cli.schema_gate as m; print(','.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not [m for m in loaded.strip().split(",") if m.split(".")[0] in heavy or m.startswith(heavy)]


def test_unwritable_output_exits_2(files: dict[str, Path], tmp_path: Path) -> None:
    result = gate(files, "good", "--output", str(tmp_path / "no" / "such" / "dir" / "r.txt"))
    assert result.exit_code == 2 and "cannot write the report" in result.output


def test_yaml_contract_line_numbers(files: dict[str, Path], tmp_path: Path) -> None:
    contract = tmp_path / "contract.yaml"
    contract.write_text("- name: prediction_id\n  type: STRING\n- name: odd\n  type: TEXT\n")
    result = run("--contract", str(contract), "--schema-file", str(files["table"]))
    assert result.exit_code == 2
    assert "contract.yaml line 3: field odd has unknown type 'TEXT'" in result.output
