"""prediction_gap's set-wise observations (an ARRAY<TIMESTAMP> parameter) on the local BigQuery server.

The demo's incident day is copied into the server; the series over the day's clocks equals the
observation at each clock, on BigQuery and against DuckDB's, and its statements filter game_date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.backtest import schedule
from pipeline_canary.backtest.changes import change_points
from pipeline_canary.canaries import CheckContext, registry
from pipeline_canary.config import CanaryConfig
from pipeline_canary.demo.bigquery_load import load_demo
from pipeline_canary.game_calendar import RunCalendar
from pipeline_canary.warehouse import Warehouse, connect_pipeline
from pipeline_canary.warehouse._bq_guard import PartitionGuard
from pipeline_canary.warehouse.bigquery import BigQueryWarehouse
from tests.conftest import AS_OF, NOW

from .conftest import BigQueryServer

pytestmark = pytest.mark.bigquery

NAME = "prediction_gap"
TABLES = ("schedule_table", "predictions_table")


def clocks_of(config: CanaryConfig, warehouse: Warehouse) -> list[dt.datetime]:
    """Every second hour of the day to the demo's clock, and each change point and a microsecond before it."""
    steps = schedule(AS_OF, AS_OF, dt.timedelta(hours=2), config.pipeline.timezone, until=NOW)
    points = change_points(config, warehouse, registry.get(NAME), AS_OF, steps[0], NOW, RunCalendar()) or []
    assert points
    return sorted({*steps, *points, *(p - dt.timedelta(microseconds=1) for p in points)})


def test_series_on_bigquery_equals_each_clock_and_duckdb(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], bq_server: BigQueryServer
) -> None:
    path = seeded("prediction-gap")
    config = make_config(path)
    canary, settings = registry.get(NAME), config.settings_for(NAME)
    duck = connect_pipeline(config)
    project = "canary-series"
    warehouse = BigQueryWarehouse.from_config(bq_server.config(project=project))
    try:
        clocks = clocks_of(config, duck)
        duck_ctx = CheckContext(warehouse=duck, pipeline=config.pipeline, as_of=AS_OF, now=clocks[0])
        on_duckdb = canary.observe_series(duck_ctx, settings, clocks)
        warehouse.guard_tables(config.pipeline.table(key) for key in TABLES)
        load_demo(path, warehouse, project, since=AS_OF, datasets={config.pipeline.table(k).dataset for k in TABLES})
        ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=AS_OF, now=clocks[0])
        series = canary.observe_series(ctx, settings, clocks)
        assert series is not None and on_duckdb is not None and list(series) == clocks
        sent = list(warehouse.sent)
        judged = 0
        for clock in clocks:
            at_clock = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=AS_OF, now=clock)
            expected = canary.observe(at_clock, settings)
            assert series[clock] == expected == on_duckdb[clock], clock
            judged += expected.skip_reason is None
        assert 0 < judged < len(clocks)  # pending before the first deadline, judged (a gap) after
        assert series[clocks[-1]].metrics["gap_detected"] == 1
    finally:
        warehouse.close()
        duck.close()
    guard = PartitionGuard.of(config.pipeline.table(key) for key in TABLES)
    series_sql = [sql for sql in sent if "UNNEST(@clocks)" in sql]
    assert len(series_sql) == 2  # SERIES_GAMES_SQL and SERIES_TOTALS_SQL, once for all the clocks
    for sql in series_sql:
        assert guard.violations(sql) == [], sql
