"""Every demo scenario gives the same outcomes and observed values on BigQuery as on DuckDB.

Each scenario's seeded DuckDB demo is copied into the local BigQuery server (its own project, only the
days the checks read) and every checkpoint runs through :class:`BigQueryWarehouse`.

Creation times: the server stamps each table with the wall-clock time it was created, so the demo's
back-dated staging tables all look minutes old. The loader creates them oldest first, leaving the
big gaps of the demo distinguishable, and the BigQuery run uses the "now" that puts the age cut-off
(``max_age_hours``) in the same place between the same two tables: every table is classified as on
DuckDB, and only ``oldest_age_hours`` (a real age) differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.canaries import registry
from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import DEMO_CONTRACT as PACKAGED_CONTRACT
from pipeline_canary.config import CanaryConfig
from pipeline_canary.demo import SCENARIOS
from pipeline_canary.demo.bigquery_load import LoadReport, load_demo
from pipeline_canary.demo.pack import SCENARIOS as PACK_SCENARIOS
from pipeline_canary.results import Outcome
from pipeline_canary.warehouse._bq_guard import PartitionGuard
from pipeline_canary.warehouse.bigquery import BigQueryWarehouse
from tests.conftest import AS_OF, NOW

from .conftest import BigQueryServer

pytestmark = pytest.mark.bigquery

PIPELINE_TABLES = ("schedule_table", "predictions_table", "feature_store_table")
# Real ages, not classifications: they differ by design (see the module docstring).
AGE_METRICS = {("orphaned_staging_tables", "oldest_age_hours")}


def equivalent_now(report: LoadReport, prefix: str, demo_now: dt.datetime, max_age: dt.timedelta) -> dt.datetime:
    """The "now" at which the server's creation times split the staging tables as the demo's do."""
    old: list[dt.datetime] = []
    young: list[dt.datetime] = []
    for table in report.tables.values():
        if not table.ref.name.startswith(prefix):
            continue
        assert table.created is not None and table.demo_created is not None
        (old if demo_now - table.demo_created > max_age else young).append(table.created)
    if not old:
        return max(young, default=NOW) + dt.timedelta(seconds=1)
    if not young:
        return max(old) + max_age + dt.timedelta(minutes=1)
    assert max(old) < min(young), "the loader must create old staging tables before young ones"
    return max(old) + (min(young) - max(old)) / 2 + max_age


def _value(value: Any) -> Any:
    return pytest.approx(float(value)) if isinstance(value, int | float) and not isinstance(value, bool) else value


CORE = [s for s in SCENARIOS if s not in PACK_SCENARIOS]


@pytest.mark.parametrize("scenario", CORE)  # the NBA pack's scenarios: tests/bigquery/test_pack.py
def test_bigquery_run_matches_duckdb_run(
    scenario: str,
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    bq_server: BigQueryServer,
) -> None:
    path = seeded(scenario)
    config = make_config(path, extra=f'[pipeline]\nworker_contract = "{PACKAGED_CONTRACT}"\n')
    duck = run_checkpoints(config, as_of=AS_OF, now=NOW, build_docs=False)

    project = f"canary-{scenario}"
    warehouse = BigQueryWarehouse.from_config(bq_server.config(project=project))
    warehouse.guard_tables(config.pipeline.table(key) for key in PIPELINE_TABLES)
    window = config.settings_for("feature_contamination").param("window_days")
    report = load_demo(
        path,
        warehouse,
        project,
        since={"*": AS_OF, config.pipeline.feature_store_table: AS_OF - dt.timedelta(days=window)},
    )
    max_age = dt.timedelta(hours=config.settings_for("orphaned_staging_tables").max_age_hours)
    now = equivalent_now(report, config.pipeline.staging_prefix, NOW, max_age)
    # Only the staging ages need the equivalent "now"; the rest is judged at the demo's own clock
    # (prediction_gap's deadlines and written-by-now filter depend on it).
    aged = "orphaned_staging_tables"
    try:
        rest = [n for n in registry.names() if n != aged]
        at_demo_now = run_checkpoints(config, rest, as_of=AS_OF, now=NOW, warehouse=warehouse, build_docs=False)
        at_equivalent = run_checkpoints(config, [aged], as_of=AS_OF, now=now, warehouse=warehouse, build_docs=False)
    finally:
        warehouse.close()
    by_name = {c.name: c for c in (*at_demo_now.checkpoints, *at_equivalent.checkpoints)}
    bq = replace(at_demo_now, checkpoints=tuple(by_name[n] for n in registry.names()))

    assert [c.name for c in bq.checkpoints] == [c.name for c in duck.checkpoints] == registry.names()
    for d, b in zip(duck.checkpoints, bq.checkpoints, strict=True):
        assert b.outcome is d.outcome, (scenario, d.name, d.message, b.message)
        assert b.outcome is not Outcome.ERRORED, b.message
        assert set(b.metrics) == set(d.metrics), d.name
        for metric, value in d.metrics.items():
            if (d.name, metric) in AGE_METRICS:
                # rounded to 0.1 h: the orphans sit just past the cut-off at the equivalent "now"
                assert (b.metrics[metric] or 0) >= max_age.total_seconds() / 3600 or value == b.metrics[metric] == 0
            else:
                assert b.metrics[metric] == _value(value), (scenario, d.name, metric)
        assert [(c.name, c.outcome) for c in b.checks] == [(c.name, c.outcome) for c in d.checks]
        for dc, bc in zip(d.checks, b.checks, strict=True):
            if (d.name, dc.metric) not in AGE_METRICS and dc.observed is not None:
                assert bc.observed == _value(dc.observed), (scenario, d.name, dc.name)

    # Every statement sent to BigQuery read the pipeline's tables with a game_date filter.
    guard = PartitionGuard.of(config.pipeline.table(key) for key in PIPELINE_TABLES)
    assert warehouse.sent, "the SQL canaries sent nothing to BigQuery"
    for sql in warehouse.sent:
        assert guard.violations(sql) == [], sql
        assert any(config.pipeline.table(key).name in sql for key in PIPELINE_TABLES), sql
