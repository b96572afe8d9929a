"""`canary run --dry-run` asks BigQuery for estimates and runs nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.cli import main
from pipeline_canary.config import DEMO_CONTRACT as PACKAGED_CONTRACT
from pipeline_canary.config import CanaryConfig
from pipeline_canary.demo.bigquery_load import load_demo
from pipeline_canary.warehouse.bigquery import BigQueryWarehouse
from tests.conftest import AS_OF

from .conftest import BigQueryServer

pytestmark = pytest.mark.bigquery


def test_dry_run_estimates_every_sql_checkpoint_without_running(
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    bq_server: BigQueryServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = "canary-dry-run"
    loader = BigQueryWarehouse.from_config(bq_server.config(project=project))
    load_demo(seeded("healthy"), loader, project, since={"*": AS_OF})
    loader.close()
    endpoint = bq_server.config(project=project).api_endpoint
    config = tmp_path / "bq.toml"
    config.write_text(
        f'[warehouse]\nbackend = "bigquery"\nproject = "{project}"\napi_endpoint = "{endpoint}"\ntimeout_s = 20\n'
        f'[pipeline]\nworker_contract = "{PACKAGED_CONTRACT}"\n'
        f'[gx]\nproject_dir = "{tmp_path / "gx"}"\n[state]\npath = "{tmp_path / "state.sqlite"}"\n'
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--config", str(config), "--dry-run", "--as-of", AS_OF.isoformat(), "--json"])
    assert exit_info.value.code == 0
    import json

    estimates = {e["checkpoint"]: e for e in json.loads(capsys.readouterr().out)}
    assert estimates["prediction_gap"]["statements"] == 2
    # a canary file: its metrics statement and, when a check fails or warns, its two evidence queries
    assert estimates["feature_contamination"]["statements"] == 3
    for e in estimates.values():
        assert e["error"] is None and isinstance(e["bytes"], int)
    # nothing ran: no GX project, no history
    assert not (tmp_path / "gx").exists()
    assert not (tmp_path / "state.sqlite").exists()
