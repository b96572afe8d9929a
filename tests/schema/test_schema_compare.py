"""The one comparison: each rule, table-driven and pure."""

from __future__ import annotations

import pytest

from pipeline_canary.schema.acceptance import acceptance, ddl_type
from pipeline_canary.schema.compare import SchemaComparison, compare, compare_worker
from pipeline_canary.schema.model import Field, TypeConflict, WorkerSchema

TABLE = "nba-props-platform.nba_predictions.player_prop_predictions"


def F(name: str, type_: str = "STRING", mode: str = "NULLABLE", *fields: Field) -> Field:
    return Field(name, type_, mode, tuple(fields))


def kinds(result: SchemaComparison) -> list[tuple[str, str, bool]]:
    return [(d.path, d.kind, d.breaks_writes) for d in result.differences]


def test_february_2026_missing_columns_break_writes_with_alter_fixes() -> None:
    worker = [F("prediction_id", "STRING", "REQUIRED"), F("vegas_line_source"), F("required_default_count", "INT64")]
    table = [F("prediction_id", "STRING", "REQUIRED")]
    result = compare(worker, table, table_name=TABLE)
    assert not result.ok
    assert [(d.path, d.kind) for d in result.breaking] == [
        ("vegas_line_source", "missing_in_table"),
        ("required_default_count", "missing_in_table"),
    ]
    assert result.alter_statements() == [
        f"ALTER TABLE `{TABLE}` ADD COLUMN IF NOT EXISTS vegas_line_source STRING",
        f"ALTER TABLE `{TABLE}` ADD COLUMN IF NOT EXISTS required_default_count INT64",
    ]
    for diff in result.breaking:
        assert diff.path in diff.message and diff.worker is not None and diff.table is None


def test_identical_schemas_pass() -> None:
    fields = [F("a", "INT64", "REQUIRED"), F("b", "RECORD", "REPEATED", F("c", "DATE"))]
    result = compare(fields, fields, table_name=TABLE)
    assert result.ok and result.differences == ()
    assert result.worker_field_count == 3 and result.table_field_count == 3


@pytest.mark.parametrize(
    ("worker_type", "table_type", "verdict"),
    [
        ("INT64", "INT64", "ok"),
        ("INTEGER", "INT64", "ok"),
        ("INT64", "FLOAT64", "ok"),
        ("INT64", "NUMERIC(5,1)", "ok"),
        ("INT64", "BIGNUMERIC", "ok"),
        ("FLOAT64", "NUMERIC", "ok"),
        ("FLOAT", "BIGNUMERIC", "ok"),
        ("FLOAT64", "INT64", "reject"),
        ("STRING", "INT64", "reject"),
        ("STRING", "JSON", "ok"),
        ("JSON", "STRING", "warn"),
        ("STRING", "DATE", "reject"),
        ("STRING", "TIMESTAMP", "reject"),
        ("DATE", "STRING", "ok"),
        ("DATE", "TIMESTAMP", "warn"),
        ("DATETIME", "TIMESTAMP", "ok"),
        ("TIMESTAMP", "DATETIME", "warn"),
        ("TIMESTAMP", "DATE", "reject"),
        ("NUMERIC", "FLOAT64", "warn"),
        ("NUMERIC", "INT64", "reject"),
        ("BOOL", "BOOLEAN", "ok"),
        ("BOOL", "INT64", "reject"),
        ("INT64", "BOOL", "reject"),
        ("INT64", "STRING", "reject"),
        ("RECORD", "JSON", "ok"),
        ("RECORD", "STRING", "reject"),
        ("GEOGRAPHY", "GEOGRAPHY", "ok"),
    ],
)
def test_acceptance_table(worker_type: str, table_type: str, verdict: str) -> None:
    assert acceptance(worker_type, table_type)[0] == verdict
    result = compare([F("x", worker_type)], [F("x", table_type)], table_name=TABLE)
    expected = {"ok": [], "warn": [("x", "type_mismatch", False)], "reject": [("x", "type_mismatch", True)]}
    if worker_type == "RECORD" or table_type == "RECORD":
        return  # a RECORD needs fields; covered by the nested tests
    assert kinds(result) == expected[verdict]


def test_type_mismatch_fix_widens_when_bigquery_can() -> None:
    result = compare([F("n", "FLOAT64")], [F("n", "INT64")], table_name=TABLE)
    (diff,) = result.breaking
    assert diff.fix == f"ALTER TABLE `{TABLE}` ALTER COLUMN n SET DATA TYPE FLOAT64"
    assert "FLOAT64" in diff.message and "INT64" in diff.message
    other = compare([F("n", "STRING")], [F("n", "INT64")], table_name=TABLE).breaking[0]
    assert other.fix is not None and not other.fix.startswith("ALTER TABLE")


@pytest.mark.parametrize(
    ("worker", "table", "expected"),
    [
        # JSON text into an ARRAY column fails (the data_quality_issues caveat)
        (F("dq", "STRING"), F("dq", "STRING", "REPEATED"), [("dq", "mode_mismatch", True)]),
        (F("dq", "JSON"), F("dq", "STRING", "REPEATED"), [("dq", "mode_mismatch", True)]),
        (F("i", "INT64", "REPEATED"), F("i", "INT64"), [("i", "mode_mismatch", True)]),
        (F("i", "INT64", "REPEATED"), F("i", "JSON"), []),  # a JSON column stores the array
        (F("i", "INT64", "REPEATED"), F("i", "FLOAT64", "REPEATED"), []),
        (F("i", "STRING", "REPEATED"), F("i", "INT64", "REPEATED"), [("i", "type_mismatch", True)]),
        (F("r", "INT64", "REQUIRED"), F("r", "INT64"), []),
        (F("r", "INT64"), F("r", "INT64", "REQUIRED"), [("r", "mode_mismatch", False)]),
    ],
)
def test_modes(worker: Field, table: Field, expected: list[tuple[str, str, bool]]) -> None:
    assert kinds(compare([worker], [table], table_name=TABLE)) == expected


def test_nullable_into_required_breaks_for_sampled_records() -> None:
    worker = WorkerSchema(fields=(F("game_date", "DATE"),), sampled=True)
    result = compare_worker(worker, [F("game_date", "DATE", "REQUIRED")], table_name=TABLE)
    assert kinds(result) == [("game_date", "mode_mismatch", True)]


def test_required_not_written_breaks_and_extras_are_informational() -> None:
    table = [F("prediction_id", "STRING", "REQUIRED"), F("game_date", "DATE", "REQUIRED"), F("key_factors", "JSON")]
    result = compare([F("prediction_id", "STRING", "REQUIRED")], table, table_name=TABLE)
    assert kinds(result) == [("game_date", "required_not_written", True), ("key_factors", "extra_in_table", False)]
    assert "DROP NOT NULL" in (result.breaking[0].fix or "")
    assert result.informational[0].fix is None
    assert result.alter_statements() == []  # writing the column is the fix, not DDL


def test_names_match_case_insensitively() -> None:
    result = compare([F("Vegas_Line_Source"), F("GAME_ID")], [F("vegas_line_source"), F("game_id")], table_name=TABLE)
    assert result.ok and result.differences == ()


def test_nested_record_and_repeated_compared_by_path() -> None:
    worker = [
        F(
            "meta",
            "RECORD",
            "NULLABLE",
            F("model", "STRING"),
            F("Inner", "RECORD", "NULLABLE", F("x", "INT64"), F("y", "STRING")),
        ),
        F("tags", "RECORD", "REPEATED", F("a", "INT64"), F("b", "STRING")),
    ]
    table = [
        F("meta", "RECORD", "NULLABLE", F("model", "STRING"), F("inner", "RECORD", "NULLABLE", F("x", "STRING"))),
        F("tags", "RECORD", "REPEATED", F("a", "FLOAT64"), F("c", "DATE", "REQUIRED")),
    ]
    result = compare(worker, table, table_name=TABLE)
    assert kinds(result) == [
        ("meta.inner.x", "type_mismatch", True),
        ("meta.inner.y", "missing_in_table", True),
        ("tags.b", "missing_in_table", True),
        ("tags.c", "required_not_written", True),
    ]
    nested_fix = result.breaking[1].fix or ""
    assert "bq update nba-props-platform:nba_predictions.player_prop_predictions" in nested_fix
    assert "cannot add a field inside a STRUCT" in nested_fix and "meta.inner" in nested_fix
    assert result.alter_statements() == []  # nested fixes are not DDL


def test_required_field_inside_unwritten_record_is_not_reported() -> None:
    table = [F("id"), F("extra", "RECORD", "NULLABLE", F("must", "INT64", "REQUIRED"))]
    assert kinds(compare([F("id")], table, table_name=TABLE)) == [("extra", "extra_in_table", False)]


def test_missing_record_fix_is_a_struct_and_repeated_an_array() -> None:
    worker = [
        F("m", "RECORD", "REQUIRED", F("a", "INT64"), F("b", "NUMERIC(5,2)", "REPEATED")),
        F("l", "INT64", "REPEATED"),
    ]
    result = compare(worker, [], table_name="ds.tbl")
    assert result.alter_statements() == [
        "ALTER TABLE `ds.tbl` ADD COLUMN IF NOT EXISTS m STRUCT<a INT64, b ARRAY<NUMERIC(5,2)>>",
        "ALTER TABLE `ds.tbl` ADD COLUMN IF NOT EXISTS l ARRAY<INT64>",
    ]
    assert ddl_type(F("x", "INTEGER", "REPEATED")) == "ARRAY<INT64>"


def test_untyped_paths_skip_the_type_check_but_not_the_mode_check() -> None:
    worker = WorkerSchema(
        fields=(F("updated_at"), F("default_feature_indices", "STRING", "REPEATED"), F("dq", "STRING", "REPEATED")),
        untyped=frozenset({"updated_at", "default_feature_indices", "dq"}),
        sampled=True,
    )
    table = [F("updated_at", "TIMESTAMP"), F("default_feature_indices", "INT64", "REPEATED"), F("dq")]
    assert kinds(compare_worker(worker, table, table_name=TABLE)) == [("dq", "mode_mismatch", True)]


def test_null_only_key_into_repeated_column_is_informational() -> None:
    worker = WorkerSchema(fields=(F("dq"),), untyped=frozenset({"dq"}), sampled=True)
    result = compare_worker(worker, [F("dq", "STRING", "REPEATED")], table_name=TABLE)
    assert kinds(result) == [("dq", "mode_mismatch", False)]


def test_record_conflicts_are_breaking() -> None:
    conflict = TypeConflict("line_margin", ("FLOAT64", "STRING"), "r.jsonl: line 1 (FLOAT64), line 4 (STRING)")
    result = compare(
        [F("line_margin", "FLOAT64")], [F("line_margin", "NUMERIC")], table_name=TABLE, conflicts=[conflict]
    )
    (diff,) = result.breaking
    assert diff.kind == "record_conflict" and "line 4" in diff.message and diff.worker is not None


def test_to_dict_is_json_ready() -> None:
    import json

    result = compare([F("a", "INT64")], [F("a", "STRING"), F("b")], table_name=TABLE)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["ok"] is False and data["breaking_count"] == 1 and data["informational_count"] == 1
    assert data["differences"][0]["worker"] == {"name": "a", "type": "INT64", "mode": "NULLABLE"}
