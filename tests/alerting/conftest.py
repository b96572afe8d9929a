"""Alerting fixtures: a local Slack server, a local Cloud Monitoring recorder, configs and real results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.results import RunResult
from tests.conftest import AS_OF, NOW
from tests.servers.monitoring import MonitoringRecorder
from tests.servers.monitoring import running as monitoring_running

FAST = """
[alerting]
max_attempts = 3
backoff_s = 0.01
max_retry_after_s = 1.5
timeout_s = 1
"""


@pytest.fixture
def monitoring() -> Iterator[MonitoringRecorder]:
    with monitoring_running() as server:
        yield server


@pytest.fixture
def alert_config(tmp_path: Path) -> Callable[..., CanaryConfig]:
    """``alert_config(alerting="key = value lines", extra="[section] toml", warehouse=None)`` -> a config."""

    def make(alerting: str = "", extra: str = "", warehouse: Path | None = None) -> CanaryConfig:
        path = tmp_path / "canary.toml"
        wh = warehouse or tmp_path / "none.duckdb"
        path.write_text(
            f'[warehouse]\npath = "{wh}"\n[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n'
            f'[state]\npath = "{tmp_path / "state.sqlite"}"\n{FAST}{alerting}\n{extra}\n',
            encoding="utf-8",
        )
        return load_config(path, env={})

    return make


@pytest.fixture(scope="session")
def real_results(seeded: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult]:
    """One real run (GX and all) of the ``incident`` and of the ``healthy`` scenario, for replays."""
    from pipeline_canary.checkpoints.runner import run_checkpoints

    root = tmp_path_factory.mktemp("alert-results")
    out = {}
    for scenario in ("incident", "healthy"):
        cfg_path = root / f"{scenario}.toml"
        cfg_path.write_text(
            f'[warehouse]\npath = "{seeded(scenario)}"\n[gx]\nproject_dir = "{root / "gx"}"\nbuild_docs = false\n'
            f'[state]\npath = "{root / "state.sqlite"}"\n',
            encoding="utf-8",
        )
        out[scenario] = run_checkpoints(load_config(cfg_path, env={}), as_of=AS_OF, now=NOW)
    return out


def at(result: RunResult, now: dt.datetime) -> RunResult:
    """The same results as if observed at ``now`` (replays)."""
    from dataclasses import replace

    return replace(result, now=now, run_id=f"replay-{now:%Y%m%dT%H%M}")
