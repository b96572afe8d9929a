"""``canary demo`` prints the dashboard; ``canary docs serve`` serves it on 127.0.0.1 (real subprocesses)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from pipeline_canary.config import CanaryConfig
from pipeline_canary.reports import build_site
from pipeline_canary.state import open_state
from pipeline_canary.state.history import record_run
from tests.reports.conftest import run_result

CANARY = [sys.executable, "-c", "from pipeline_canary.cli import main; main()"]


def test_demo_builds_the_dashboard_and_prints_its_path(tmp_path: Path) -> None:
    proc = subprocess.run([*CANARY, "demo", "--dir", str(tmp_path / "d")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr  # the incident scenario fails every checkpoint
    line = next(x for x in proc.stdout.splitlines() if x.startswith("Dashboard: "))
    dashboard = Path(line.removeprefix("Dashboard: "))
    assert dashboard.is_file() and (dashboard.parent / "local_site" / "index.html").is_file()
    assert 'data-outcome="failed"' in dashboard.read_text()

    proc = subprocess.run(
        [*CANARY, "demo", "--dir", str(tmp_path / "d"), "--json"], capture_output=True, text=True, timeout=600
    )
    assert json.loads(proc.stdout)["dashboard"] == str(dashboard)
    from pipeline_canary.packs import pack_files

    # one row per checkpoint of the demo's configuration: the four built-ins and the NBA pack
    assert dashboard.read_text().count('<tr class="checkpoint"') == 4 + len(pack_files("nba"))


def test_docs_serve_listens_on_loopback(report_config: Callable[..., CanaryConfig]) -> None:
    config = report_config()
    record_run(open_state(config), run_result(dt.datetime(2026, 2, 8, 23, tzinfo=dt.UTC), ("prediction_gap",)))
    build_site(config, build_gx=False)
    proc = subprocess.Popen(
        [*CANARY, "docs", "serve", "--config", str(config.source), "--no-build", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith(f"config: {config.source} ("), first  # the configuration, first
        line = proc.stdout.readline()
        assert line.startswith("Serving ") and " at http://127.0.0.1:" in line, line
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "index.html", timeout=10) as response:
            assert response.status == 200 and b"prediction_gap" in response.read()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
