"""Several canaries at once on the local BigQuery server: one shared client, a pool of three threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig
from pipeline_canary.demo.bigquery_load import load_demo
from pipeline_canary.results import Outcome
from pipeline_canary.warehouse.base import QueryResult
from pipeline_canary.warehouse.bigquery import BigQueryWarehouse
from tests.checkpoints.sql_canaries import WAIT_S, games_canaries, registered
from tests.conftest import AS_OF, NOW

from .conftest import BigQueryServer

pytestmark = pytest.mark.bigquery


class Rendezvous(BigQueryWarehouse):
    """BigQuery whose canary statements are sent only when ``barrier.parties`` of them are ready to go."""

    barrier: threading.Barrier | None = None

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        if self.barrier is not None:
            self.barrier.wait()  # broken after WAIT_S unless the pool holds that many: the canary errors
        return super().query(sql, params)


def test_a_pool_sends_several_canaries_at_once_through_one_client(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], bq_server: BigQueryServer
) -> None:
    path = seeded("healthy")
    project = "canary-pool"
    warehouse = Rendezvous.from_config(bq_server.config(project=project))
    load_demo(path, warehouse, project, since=AS_OF, datasets=["nba_reference"])
    try:
        with registered(*games_canaries(6, prefix="bq_pool")) as names:  # before the configs: their catalogue
            pooled = make_config(path, warehouse_keys="max_concurrent_queries = 3\n")
            serial = make_config(path, warehouse_keys="max_concurrent_queries = 1\n")
            one_by_one = run_checkpoints(serial, names, as_of=AS_OF, now=NOW, warehouse=warehouse, build_docs=False)
            warehouse.barrier = threading.Barrier(3, timeout=WAIT_S)  # two rounds of three
            sent_before = len(warehouse.sent)
            at_once = run_checkpoints(pooled, names, as_of=AS_OF, now=NOW, warehouse=warehouse, build_docs=False)
    finally:
        warehouse.close()
    assert not warehouse.barrier.broken
    assert len(warehouse.sent) - sent_before == 6
    assert [c.name for c in at_once.checkpoints] == [c.name for c in one_by_one.checkpoints] == names
    for pooled_result, serial_result in zip(at_once.checkpoints, one_by_one.checkpoints, strict=True):
        assert pooled_result.outcome is Outcome.PASSED, pooled_result.message
        assert pooled_result.metrics == serial_result.metrics == {"games": 10}
