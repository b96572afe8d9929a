"""``canary docs build`` and ``docs serve`` read ``[state] backend = "gcs"``, not the local file (real processes)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.state import open_state
from pipeline_canary.state.history import record_run
from pipeline_canary.state.sync import state_session
from tests.reports.conftest import run_result
from tests.servers.gcs import GCSServer
from tests.servers.gcs import running as gcs_running

CANARY = [sys.executable, "-c", "from pipeline_canary.cli import main; main()"]
NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)


@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[GCSServer]:
    with gcs_running() as server:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.host)
        yield server


@pytest.fixture
def shared(gcs: GCSServer, report_config: Callable[..., CanaryConfig]) -> CanaryConfig:
    """A config on the shared state, which holds one run where prediction_gap failed."""
    config = report_config(f'backend = "gcs"\nuri = "gs://{gcs.bucket}/canary/state.sqlite"\n')
    with state_session(config) as working:
        record_run(open_state(working), run_result(NOW, ("prediction_gap",), run_id="shared-run"))
    return config


def _env(gcs: GCSServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANARY_")}
    return {**env, "STORAGE_EMULATOR_HOST": gcs.host, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _failing_prediction_gap(html: str) -> bool:
    return "shared-run" in html and 'data-outcome="failed"' in html


def test_docs_build_reads_the_shared_state(shared: CanaryConfig, gcs: GCSServer) -> None:
    proc = subprocess.run(
        [*CANARY, "docs", "build", "--no-gx", "--json", "--config", str(shared.source)],
        capture_output=True, text=True, timeout=300, env=_env(gcs),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    index = Path(json.loads(proc.stdout)["dashboard"])
    assert _failing_prediction_gap(index.read_text(encoding="utf-8"))
    assert not shared.state.path.exists()  # the local file was never opened (nor created)


def test_docs_serve_builds_from_the_shared_state(shared: CanaryConfig, gcs: GCSServer) -> None:
    proc = subprocess.Popen(
        [*CANARY, "docs", "serve", "--port", "0", "--config", str(shared.source)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(gcs),
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        assert first.startswith(f"config: {shared.source} ("), first  # the configuration, first
        line = proc.stdout.readline()  # (not stderr in the message: it stays open while the server runs)
        assert line.startswith("Serving ") and " at http://127.0.0.1:" in line, line
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "index.html", timeout=30) as response:
            assert _failing_prediction_gap(response.read().decode())
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert not shared.state.path.exists()
