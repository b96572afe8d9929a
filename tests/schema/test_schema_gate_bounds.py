"""``canary schema-gate`` on hostile input: bounded size, nesting and YAML aliases, each exit 2 quickly."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

TABLE = [{"name": "prediction_id", "type": "STRING", "mode": "REQUIRED"}]

BOMB = "\n".join(
    [
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)),
    ]
)


def gate(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", "from pipeline_canary.cli import main; main()", "schema-gate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,  # an alias bomb used to hang past this
    )
    return proc, time.monotonic() - started


def nested_fields(levels: int) -> list[dict[str, object]]:
    field: dict[str, object] = {"name": "leaf", "type": "STRING"}
    for level in range(levels):
        field = {"name": f"r{level}", "type": "RECORD", "fields": [field]}
    return [field]


@pytest.mark.parametrize(
    ("option", "name", "content", "fragment"),
    [
        ("--contract", "bomb.yaml", BOMB, "YAML aliases (*a) are not allowed"),
        ("--contract", "merge.yaml", "- &f {name: a, type: STRING}\n- {<<: *f, name: b}\n", "aliases (*f)"),
        ("--contract", "deep.yaml", "- " * 400 + "x\n", "nested deeper than 60 levels"),
        ("--contract", "deep_flow.yaml", "[" * 400 + "]" * 400, "nested deeper than 60 levels"),
        ("--contract", "deep.json", json.dumps(nested_fields(400)), "nested deeper than 60 levels"),
        ("--contract", "deeper.json", "[" * 100_000 + "]" * 100_000, "nested deeper than 60 levels"),
        ("--records", "deep.jsonl", '{"a": ' * 400 + "1" + "}" * 400, "line 1: nested deeper than 60 levels"),
        ("--schema-file", "deep_table.json", json.dumps(nested_fields(400)), "nested deeper than 60 levels"),
        ("--contract", "big.json", "[" + " " * (16 * 2**20) + "]", "larger than 16 MiB"),
    ],
)
def test_hostile_input_exits_2_with_a_message_in_bounded_time(
    tmp_path: Path, option: str, name: str, content: str, fragment: str
) -> None:
    (tmp_path / name).write_text(content)
    (tmp_path / "table.json").write_text(json.dumps(TABLE))
    (tmp_path / "worker.json").write_text(json.dumps(TABLE))
    other = ["--schema-file", "table.json"] if option != "--schema-file" else ["--contract", "worker.json"]
    proc, seconds = gate(option, name, *other, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"schema-gate: error: {name}" in proc.stderr and fragment in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert seconds < 30


@pytest.mark.parametrize("option", ["--contract", "--records", "--schema-file"])
def test_dev_zero_is_refused_without_exhausting_memory(tmp_path: Path, option: str) -> None:
    (tmp_path / "table.json").write_text(json.dumps(TABLE))
    other = ["--schema-file", "table.json"] if option != "--schema-file" else ["--contract", "table.json"]
    proc, seconds = gate(option, "/dev/zero", *other, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "/dev/zero: larger than 16 MiB" in proc.stderr and "Traceback" not in proc.stderr
    assert seconds < 30


def test_fifteen_levels_of_record_and_an_anchor_free_yaml_contract_still_load(tmp_path: Path) -> None:
    """The limits leave room for what BigQuery accepts: 15 nested RECORD levels, in JSON and in YAML."""
    import yaml

    fields = nested_fields(15)
    (tmp_path / "table.json").write_text(json.dumps(fields))
    (tmp_path / "worker.yaml").write_text(yaml.safe_dump(fields))
    proc, _ = gate("--contract", "worker.yaml", "--schema-file", "table.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "schema-gate PASS" in proc.stdout
