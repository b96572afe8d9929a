"""The NBA pack on the local BigQuery server: every canary's SQL runs unchanged there and gives the
same results as on DuckDB (through sqlglot), on the day the scrapers were down: six canaries fail
with their evidence, the other nineteen pass or skip, each the same way on both backends; and a game
day without feature rows fails feature_store_volume the same way on both."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import load_config
from pipeline_canary.demo.bigquery_load import load_demo
from pipeline_canary.packs import pack_files
from pipeline_canary.results import Outcome, RunResult
from pipeline_canary.warehouse.bigquery import BigQueryWarehouse
from tests.conftest import AS_OF, NOW

from .conftest import BigQueryServer

pytestmark = pytest.mark.bigquery

PACK = sorted(pack_files("nba"))
SCENARIOS = ("scrapers-down",)
# The pack reads at most 14 days back, but for signal health's 30-day staleness window.
SINCE = {"*": AS_OF - dt.timedelta(days=15), "nba_predictions.signal_health_daily": AS_OF - dt.timedelta(days=31)}


@pytest.fixture(scope="module")
def runs(
    seeded: Callable[[str], Path], bq_server: BigQueryServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[RunResult, RunResult]]]:
    """Per scenario: (DuckDB run, BigQuery run) of every canary of the pack, same clock."""
    out: dict[str, tuple[RunResult, RunResult]] = {}
    for scenario in SCENARIOS:
        root = tmp_path_factory.mktemp(f"pack-{scenario}")
        project = f"pack-{uuid.uuid4().hex[:8]}"
        warehouse = seeded(scenario)
        with BigQueryWarehouse.from_config(bq_server.config(project=project)) as bq:
            load_demo(warehouse, bq, project, since=SINCE)
        common = (
            f'[gx]\nproject_dir = "{root / "gx"}"\nbuild_docs = false\n[state]\npath = "state.sqlite"\n'
            '[canaries]\npacks = ["nba"]\n'
        )
        duck = root / "duck.toml"
        duck.write_text(f'[warehouse]\npath = "{warehouse}"\n{common}')
        big = root / "bq.toml"
        big.write_text(
            f'[warehouse]\nbackend = "bigquery"\nproject = "{project}"\napi_endpoint = "{bq_server.endpoint}"\n{common}'
        )
        out[scenario] = tuple(  # type: ignore[assignment]
            run_checkpoints(load_config(path, env={}), PACK, as_of=AS_OF, now=NOW, build_docs=False)
            for path in (duck, big)
        )
    yield out


def _rows(table: Any) -> list[dict[str, Any]]:
    return [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()} for row in table]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("name", PACK)
def test_the_pack_gives_the_same_results_on_bigquery(
    runs: dict[str, tuple[RunResult, RunResult]], scenario: str, name: str
) -> None:
    duck, bq = (run.get(name) for run in runs[scenario])
    assert duck.outcome is not Outcome.ERRORED, duck.message
    assert bq.outcome is duck.outcome, (duck.message, bq.message)
    assert bq.metrics == {k: pytest.approx(v) for k, v in duck.metrics.items()}
    checks = [(c.name, c.outcome, c.observed) for c in duck.checks]
    assert [(c.name, c.outcome, c.observed) for c in bq.checks] == checks
    assert bq.message == duck.message
    assert {k: _rows(v) for k, v in bq.evidence.items()} == {k: _rows(v) for k, v in duck.evidence.items()}


def test_the_scrapers_down_day_fails_on_bigquery_too(runs: dict[str, tuple[RunResult, RunResult]]) -> None:
    from pipeline_canary.demo.caught import CAUGHT_BY

    _, bq = runs["scrapers-down"]
    assert {c.name for c in bq.checkpoints if c.outcome is Outcome.FAILED} == set(CAUGHT_BY["scrapers-down"])
    assert {c.outcome for c in bq.checkpoints} <= {Outcome.FAILED, Outcome.PASSED, Outcome.SKIPPED}


def test_a_game_day_without_feature_rows_fails_the_same_way_on_bigquery(
    seeded: Callable[[str], Path], bq_server: BigQueryServer, tmp_path: Path
) -> None:
    """feature_store_volume's failure, with its evidence (phase 4 completions, last written dates), on both backends."""
    import shutil

    from pipeline_canary.warehouse.duckdb_connect import connect_duckdb

    warehouse = tmp_path / "outage.duckdb"
    shutil.copy(seeded("healthy"), warehouse)
    with connect_duckdb(warehouse) as conn:  # Phase 4 never wrote the game day
        conn.execute("DELETE FROM nba_predictions.ml_feature_store_v2 WHERE game_date = ?", [AS_OF])
        conn.execute(
            "DELETE FROM nba_orchestration.phase_completions WHERE game_date = ? AND phase = 'phase4'", [AS_OF]
        )
    project = f"fsv-{uuid.uuid4().hex[:8]}"
    with BigQueryWarehouse.from_config(bq_server.config(project=project)) as bq:
        load_demo(
            warehouse, bq, project, since=SINCE, datasets=("nba_reference", "nba_predictions", "nba_orchestration")
        )
    common = f'[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n[state]\npath = "state.sqlite"\n'
    common += '[canaries]\npacks = ["nba.feature_store_volume"]\n'
    (tmp_path / "duck.toml").write_text(f'[warehouse]\npath = "{warehouse}"\n{common}')
    (tmp_path / "bq.toml").write_text(
        f'[warehouse]\nbackend = "bigquery"\nproject = "{project}"\napi_endpoint = "{bq_server.endpoint}"\n{common}'
    )
    duck, big = (
        run_checkpoints(
            load_config(tmp_path / f"{name}.toml", env={}), ["feature_store_volume"], as_of=AS_OF, now=NOW
        ).get("feature_store_volume")
        for name in ("duck", "bq")
    )
    assert duck.outcome is big.outcome is Outcome.FAILED, (duck.message, big.message)
    assert duck.metrics["feature_rows"] == 0 and big.metrics == {k: pytest.approx(v) for k, v in duck.metrics.items()}
    assert big.message == duck.message
    assert duck.evidence["last_written_dates"] and not duck.evidence["phase4_completions"]
    assert {k: _rows(v) for k, v in big.evidence.items()} == {k: _rows(v) for k, v in duck.evidence.items()}
