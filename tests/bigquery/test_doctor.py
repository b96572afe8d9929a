"""``canary doctor`` names every problem with its fix and exits 2 within seconds; 0 when all is well."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.cli import main
from pipeline_canary.cli.doctor import REQUIRED_COLUMNS

from .conftest import BigQueryServer, free_port

TABLE_KEYS = {"schedule": "schedule_table", "predictions": "predictions_table", "feature_store": "feature_store_table"}


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    started = time.monotonic()
    with pytest.raises(SystemExit) as exit_info:
        main(["doctor", "--config", str(config)])
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err, time.monotonic() - started


from pipeline_canary.config import DEMO_CONTRACT as PACKAGED_CONTRACT  # noqa: E402


def write_config(path: Path, warehouse: str, pipeline: str = f'worker_contract = "{PACKAGED_CONTRACT}"') -> Path:
    path.write_text(f"[warehouse]\n{warehouse}\n[pipeline]\n{pipeline}\n", encoding="utf-8")
    return path


def test_required_columns_cover_the_canaries_sql() -> None:
    """Every column the checkpoints' SQL reads from a table is in doctor's list for that table."""
    import sqlglot
    from sqlglot import exp

    from pipeline_canary import game_calendar
    from pipeline_canary.canaries import prediction_gap, registry
    from pipeline_canary.canary_files import FileCanary
    from pipeline_canary.warehouse.sql import render

    templates = [
        game_calendar.CALENDAR_SQL,  # prediction_gap's games and tips
        prediction_gap.GAMES_SQL,
        prediction_gap.TOTALS_SQL,
    ]
    short = {key: placeholder for placeholder, key in TABLE_KEYS.items()}
    for canary in registry.all():  # the built-in canary files (feature_contamination): every statement
        if isinstance(canary, FileCanary):
            tables = {p: "{" + short[t.table] + "}" for p, t in canary.table_specs.items() if t.table in short}
            for text in [s.sql for s in canary.spec.statements] + [e.sql for e in canary.spec.evidence]:
                templates.append(render(text, tables))
    assert len(templates) == 6
    read: dict[str, set[str]] = {key: set() for key in REQUIRED_COLUMNS}
    for template in templates:
        tree = sqlglot.parse_one(render(template, {p: f"`{p}`" for p in TABLE_KEYS}), read="bigquery")
        derived = {a.alias for a in tree.find_all(exp.Alias)}
        derived |= {c.name for ta in tree.find_all(exp.TableAlias) for c in ta.columns}
        for select in tree.find_all(exp.Select):
            tables = [t.name for t in select.find_all(exp.Table) if t.find_ancestor(exp.Select) is select]
            if len(tables) != 1 or tables[0] not in TABLE_KEYS:
                continue
            columns = {c.name for c in select.find_all(exp.Column) if c.find_ancestor(exp.Select) is select}
            read[TABLE_KEYS[tables[0]]] |= columns - derived
    for key, columns in read.items():
        assert columns, key
        assert columns <= set(REQUIRED_COLUMNS[key]), (key, columns - set(REQUIRED_COLUMNS[key]))


def test_duckdb_demo_is_healthy(
    seeded: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "canary.toml", f'backend = "duckdb"\npath = "{seeded("healthy")}"')
    code, out, _ = doctor(config, capsys)
    assert code == 0, out
    assert "all checks passed" in out and "query nba_predictions.player_prop_predictions: query ok" in out


def test_missing_duckdb_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "canary.toml", f'backend = "duckdb"\npath = "{tmp_path / "none.duckdb"}"')
    code, out, _ = doctor(config, capsys)
    assert code == 2
    assert "does not exist" in out and "canary demo" in out


def test_missing_project_and_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = doctor(write_config(tmp_path / "a.toml", 'backend = "bigquery"'), capsys)
    assert code == 2 and "warehouse.project" in out and "fix:" in out
    code, out, _ = doctor(write_config(tmp_path / "b.toml", 'backend = "bigquery"\nprojekt = "x"'), capsys)
    assert code == 2 and "unknown key 'warehouse.projekt'" in out


@pytest.mark.bigquery
def test_unreachable_endpoint_exits_2_in_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    config = write_config(
        tmp_path / "canary.toml",
        f'backend = "bigquery"\nproject = "canary-local"\napi_endpoint = "http://127.0.0.1:{port}"',
    )
    code, out, elapsed = doctor(config, capsys)
    assert code == 2
    assert f"cannot reach BigQuery at http://127.0.0.1:{port}" in out and "Connection refused" in out
    assert f"fix: start the BigQuery server at http://127.0.0.1:{port}, or correct warehouse.api_endpoint" in out
    assert elapsed < 20


@pytest.mark.bigquery
def test_misconfigured_bigquery_names_each_problem(
    bq_server: BigQueryServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from google.cloud import bigquery

    from pipeline_canary.warehouse.bigquery import BigQueryWarehouse

    project = f"doctor-{uuid.uuid4().hex[:8]}"
    client = BigQueryWarehouse.from_config(bq_server.config(project=project)).client

    def create(name: str, columns: tuple[str, ...]) -> None:
        types = {"game_date": "DATE", "feature_count": "INT64", "required_default_count": "INT64"}
        schema = [bigquery.SchemaField(c, types.get(c, "STRING")) for c in columns]
        client.create_table(bigquery.Table(f"{project}.ds.{name}", schema=schema))

    client.create_dataset(f"{project}.ds")
    schedule = tuple(c for c in REQUIRED_COLUMNS["schedule_table"] if c != "game_status")
    create("schedule", schedule)
    create("features", REQUIRED_COLUMNS["feature_store_table"])
    config = write_config(
        tmp_path / "canary.toml",
        f'backend = "bigquery"\nproject = "{project}"\napi_endpoint = "{bq_server.endpoint}"',
        f'worker_contract = "{PACKAGED_CONTRACT}"\n'
        'schedule_table = "ds.schedule"\npredictions_table = "ds.predictions"\n'
        'feature_store_table = "ds.features"\nstaging_dataset = "staging_nowhere"',
    )
    code, out, elapsed = doctor(config, capsys)
    assert code == 2, out
    assert "ds.schedule lacks column(s) the checkpoints read: game_status" in out
    assert "FAIL table ds.predictions" in out and "not found" in out
    assert "fix: set pipeline.predictions_table" in out
    assert "FAIL staging dataset staging_nowhere" in out and "fix: set pipeline.staging_dataset" in out
    assert "ok   table ds.features" in out and "ok   query ds.features: dry run ok" in out
    assert "4 problem(s) found" not in out and "3 problem(s) found" in out
    assert elapsed < 20

    create("predictions", REQUIRED_COLUMNS["predictions_table"])
    client.delete_table(f"{project}.ds.schedule")
    create("schedule", REQUIRED_COLUMNS["schedule_table"])
    client.create_dataset(f"{project}.staging_nowhere")
    code, out, _ = doctor(config, capsys)
    assert code == 0, out
    assert "all checks passed" in out


def test_missing_worker_contract_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "c.toml", 'backend = "bigquery"', pipeline="")
    code, out, _ = doctor(config, capsys)
    assert code == 2 and "worker_contract is not set" in out and "fix:" in out
