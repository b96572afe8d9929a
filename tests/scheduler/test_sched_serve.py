"""``canary serve`` as a real process: it answers, serves the docs, and SIGTERM mid-run exits 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Every warehouse call takes half a second, so a run is reliably in flight when SIGTERM arrives.
SLOW = """
import time
from pipeline_canary.warehouse.duckdb import DuckDBWarehouse
for _name in ("query", "columns"):
    def _slow(self, *args, _orig=getattr(DuckDBWarehouse, _name)):
        time.sleep(0.5)
        return _orig(self, *args)
    setattr(DuckDBWarehouse, _name, _slow)
from pipeline_canary.cli import main
main()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, proc: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"canary serve exited early with {proc.returncode}"
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_serve_answers_serves_docs_and_stops_cleanly_on_sigterm(seeded: Callable[[str], Path], tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "state.sqlite"
    config = tmp_path / "canary.toml"
    config.write_text(
        f'[warehouse]\npath = "{seeded("healthy")}"\n[gx]\nproject_dir = "{tmp_path / "gx"}"\n'
        f'[state]\npath = "{state}"\n'
        "[schedule]\ninterval_minutes = 0.02\nshutdown_grace_s = 20\n"
        "checkpoints.feature_contamination = { enabled = false }\n"
        "checkpoints.orphaned_staging_tables = { enabled = false }\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANARY_")}
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", SLOW, "serve", "--config", str(config), "--port", str(port)],
            cwd=tmp_path, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: get(f"{base}/healthz")[0] == 200, 30, "/healthz", proc)

            def status() -> dict[str, Any]:
                return {c["name"]: c for c in json.loads(get(f"{base}/status")[1])["checkpoints"]}

            assert set(status()) == {"prediction_gap", "schema_parity"}
            wait_for(lambda: all(c["last_outcome"] for c in status().values()), 60, "a first run of each", proc)
            code, body = get(f"{base}/docs/")
            assert code == 200 and b"Data Docs" in body
            running = wait_for(
                lambda: next((n for n, c in status().items() if c["running"]), None), 30, "a run in flight", proc
            )
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert all("severity" in entry and "time" in entry for entry in lines)
    messages = [entry["message"] for entry in lines]
    term = messages.index("received SIGTERM: shutting down")
    after = [e for e in lines[term:] if e["message"].startswith("run finished") and e["checkpoint"] == running]
    assert after, f"the run of {running} in flight at SIGTERM did not finish"
    assert {"outcome", "duration_s", "bytes_processed"} <= set(after[0])
    assert messages[-1] == "stopped"
    with sqlite3.connect(state) as conn:
        run_ids = {r[0] for r in conn.execute("SELECT run_id FROM checkpoint_results")}
        assert after[0]["run_id"] in run_ids
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alert_outbox" in tables:
            assert conn.execute("SELECT count(*) FROM alert_outbox WHERE status = 'pending'").fetchone()[0] == 0
