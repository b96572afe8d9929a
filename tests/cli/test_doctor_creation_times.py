"""``canary doctor`` says when the warehouse cannot tell table ages, and how to give it a source."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipeline_canary.cli import main
from pipeline_canary.config import CanaryConfig


def doctor(capsys: pytest.CaptureFixture[str], config: CanaryConfig) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(["doctor", "--config", str(config.source)])
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out + out.err


def test_a_missing_creation_time_source_is_a_problem_with_its_fix(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(seeded("healthy"), copy=True)
    with duckdb.connect(str(config.warehouse.path)) as conn:  # a warehouse the demo did not build
        conn.execute("DROP SCHEMA _canary_meta CASCADE")
    code, out = doctor(capsys, config)
    assert code == 2, out
    assert "FAIL creation times: DuckDB keeps no table creation times" in out
    assert "has no _canary_meta.table_created (the default source" in out
    assert 'fix: set [warehouse] created_table = "dataset.table" (columns dataset, table_name, created_at)' in out
    assert "created_query" in out and "all checks passed" not in out and "Traceback" not in out
    assert "ok   staging dataset nba_predictions" in out  # the listing itself still works


def test_a_working_source_is_reported(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = doctor(capsys, make_config(seeded("healthy")))
    assert code == 0, out
    assert "ok   creation times: table _canary_meta.table_created (the default, written by `canary demo`)" in out


def test_a_configured_source_that_does_not_exist_is_a_problem(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(seeded("healthy"), warehouse_keys='created_table = "ops.created"\n')
    code, out = doctor(capsys, config)
    assert code == 2, out
    assert "FAIL creation times: table ops.created ([warehouse] created_table) does not exist" in out
    assert "fix: create it, or point [warehouse] created_table" in out
