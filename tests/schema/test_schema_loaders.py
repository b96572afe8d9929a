"""Loaders and record inference: bad input names the file and the line."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline_canary.errors import InputError
from pipeline_canary.schema.infer import infer_records, value_type
from pipeline_canary.schema.loaders import load_builder, load_contract, load_records, load_schema_file
from pipeline_canary.schema.model import Field

CONTRACT = [
    {"name": "prediction_id", "type": "STRING", "mode": "REQUIRED"},
    {"name": "required_default_count", "type": "INTEGER"},
    {"name": "meta", "type": "RECORD", "fields": [{"name": "model", "type": "STRING"}]},
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_contract_json_and_yaml_give_the_same_fields(tmp_path: Path) -> None:
    import yaml

    from_json = load_contract(write(tmp_path, "c.json", json.dumps(CONTRACT, indent=2)))
    from_yaml = load_contract(write(tmp_path, "c.yaml", yaml.safe_dump(CONTRACT)))
    assert from_json == from_yaml
    assert from_json[2] == Field("meta", "RECORD", "NULLABLE", (Field("model", "STRING"),))


def test_schema_file_accepts_bq_show_shapes(tmp_path: Path) -> None:
    listed = load_schema_file(write(tmp_path, "s.json", json.dumps(CONTRACT)))
    table = load_schema_file(write(tmp_path, "t.json", json.dumps({"schema": {"fields": CONTRACT}})))
    assert listed == table and len(listed) == 3


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.json", '[\n  {"name": "a", "type": "STRING"},\n  {"name": "b" "type": "INT64"}\n]', "bad.json line 3"),
        ("bad.yaml", "- name: a\n  type: STRING\n- name: b\n  type: [INT64\n", "bad.yaml line"),
        ("type.json", '[\n {"name": "a", "type": "STRING"},\n {"name": "b", "type": "INTEGR"}\n]', "type.json line 3"),
        ("mode.json", '[{"name": "a", "type": "STRING", "mode": "OPTIONAL"}]', "unknown mode"),
        ("dup.json", '[{"name": "a", "type": "STRING"}, {"name": "A", "type": "STRING"}]', "listed twice"),
        ("rec.json", '[{"name": "r", "type": "RECORD"}]', "RECORD without fields"),
        ("obj.json", '{"name": "a"}', "expected a list of fields"),
        ("noname.json", '[{"type": "STRING"}]', "has no name"),
    ],
)
def test_bad_contract_names_file_and_line(tmp_path: Path, name: str, text: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected) as info:
        load_contract(write(tmp_path, name, text))
    assert name in str(info.value) and "\n" not in str(info.value)


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_schema_file(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "BOOL"),
        (3, "INT64"),
        (1.5, "FLOAT64"),
        ("OVER", "STRING"),
        ("2026-02-07", "DATE"),
        ("2026-02-30", "STRING"),
        ("2026-02-07T12:00:00", "TIMESTAMP"),
        ("2026-02-07T12:00:00.123456+00:00", "TIMESTAMP"),
        ("2026-02-07 12:00:00Z", "TIMESTAMP"),
        ([1], "ARRAY"),
        ({"a": 1}, "RECORD"),
        (None, "NULL"),
        (dt.datetime(2026, 2, 7, 12), "TIMESTAMP"),
        (dt.date(2026, 2, 7), "DATE"),
        (decimal.Decimal("1.5"), "NUMERIC"),
    ],
)
def test_value_types(value: object, expected: str) -> None:
    assert value_type(value) == expected


def test_records_inference_unions_types_and_reports_conflicts(tmp_path: Path) -> None:
    lines = [
        {"prediction_id": "a", "game_date": "2026-02-07", "n": 1, "x": 1, "updated_at": None,
         "idx": [], "tags": [{"a": 1}], "meta": {"m": "v"}},
        {"prediction_id": "b", "game_date": "2026-02-08", "n": 2.5, "x": "one", "updated_at": None,
         "idx": [3], "tags": [{"a": 2, "b": "z"}]},
        {},
    ]  # fmt: skip
    path = write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in lines[:2]) + "\n\n")
    schema = load_records(path)
    fields = {f.name: f for f in schema.fields}
    assert schema.sampled and schema.record_count == 2
    assert fields["prediction_id"] == Field("prediction_id", "STRING", "REQUIRED")
    assert fields["game_date"].type == "DATE"
    assert fields["n"].type == "FLOAT64"  # INT64 and FLOAT64 unify
    assert fields["updated_at"] == Field("updated_at", "STRING", "NULLABLE")
    assert fields["idx"] == Field("idx", "INT64", "REPEATED")
    assert fields["tags"].mode == "REPEATED" and [f.name for f in fields["tags"].fields] == ["a", "b"]
    assert fields["meta"].mode == "NULLABLE"  # absent from line 2
    assert schema.untyped == frozenset({"updated_at"})
    (conflict,) = schema.conflicts
    assert conflict.path == "x" and conflict.types == ("INT64", "STRING")
    assert "r.jsonl" in conflict.where and "line 1" in conflict.where and "line 2" in conflict.where


def test_nested_conflicts_and_empty_arrays() -> None:
    schema = infer_records([("line 1", {"m": {"a": 1}, "e": []}), ("line 2", {"m": {"a": True}, "e": []})])
    assert [c.path for c in schema.conflicts] == ["m.a"]
    assert "e" in schema.untyped


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}\n{"a": 2,}\n', "r.jsonl line 2 column"),
        ('{"a": 1}\n[1, 2]\n', "r.jsonl line 2: expected a JSON object"),
        ("\n\n", "no records"),
    ],
)
def test_bad_records_name_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        load_records(write(tmp_path, "r.jsonl", text))


def test_records_may_be_a_json_array(tmp_path: Path) -> None:
    schema = load_records(write(tmp_path, "r.json", json.dumps([{"a": 1}, {"a": 2}])))
    assert schema.fields == (Field("a", "INT64", "REQUIRED"),)


@pytest.fixture
def builder_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    code = """
from pipeline_canary.schema.model import Field

def contract():
    return [Field("prediction_id", "STRING", "REQUIRED"), {"name": "vegas_line_source", "type": "STRING"}]

def records():
    return [{"prediction_id": "a", "name": "x", "type": "y"}, {"prediction_id": "b"}]

def boom():
    raise RuntimeError("no model")

def nothing():
    return []
"""
    write(tmp_path, "my_worker_builder.py", code)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_worker_builder"
    sys.modules.pop("my_worker_builder", None)


def test_builder_contract_or_records(builder_module: str) -> None:
    contract = load_builder(f"{builder_module}:contract")
    assert not contract.sampled and [f.name for f in contract.fields] == ["prediction_id", "vegas_line_source"]
    records = load_builder(f"{builder_module}:records")
    assert records.sampled and records.record_count == 2
    assert {f.name: f.mode for f in records.fields}["name"] == "NULLABLE"


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        (":boom", "raised RuntimeError: no model"),
        (":nothing", "non-empty list"),
        (":missing", "no callable missing"),
        ("", "expected module:function"),
    ],
)
def test_builder_errors(builder_module: str, suffix: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        load_builder(builder_module + suffix)


def test_builder_unknown_module() -> None:
    with pytest.raises(InputError, match="cannot import no_such_module_xyz"):
        load_builder("no_such_module_xyz:f")
