"""The embedded demo warehouse: a DuckDB file shaped like the pipeline's BigQuery tables.

``seed(path, scenario=...)`` builds it; ``worker_contract()`` is what the prediction worker writes.
"""

from __future__ import annotations

from pipeline_canary.demo.contract import load_contract, worker_contract, write_contract
from pipeline_canary.demo.schemas import feature_store_schema, predictions_schema, schedule_schema
from pipeline_canary.demo.seeding import SCENARIOS, DemoInfo, demo_clock, iter_tables, scenario_faults, seed

__all__ = [
    "SCENARIOS",
    "DemoInfo",
    "demo_clock",
    "feature_store_schema",
    "iter_tables",
    "load_contract",
    "predictions_schema",
    "scenario_faults",
    "schedule_schema",
    "seed",
    "worker_contract",
    "write_contract",
]
