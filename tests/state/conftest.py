"""Shared-state fixtures: the local Cloud Storage server (with generation preconditions) and Slack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.gcs import GCSServer
from tests.servers.gcs import running as gcs_running
from tests.servers.slack import SlackServer
from tests.servers.slack import running as slack_running


@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[GCSServer]:
    with gcs_running() as server:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.host)
        yield server


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with slack_running() as server:
        yield server
