"""Backtest fixtures: the local Cloud Monitoring recorder (the Slack server is tests/conftest.py's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.monitoring import MonitoringRecorder
from tests.servers.monitoring import running as monitoring_running


@pytest.fixture
def monitoring() -> Iterator[MonitoringRecorder]:
    with monitoring_running() as server:
        yield server
