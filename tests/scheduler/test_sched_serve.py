"""``canary serve`` as a real process on the ``incident`` scenario, alerting a local Slack: it answers,
serves the dashboard, and SIGTERM mid-run exits 0 with the run recorded and every alert sent once."""

from __future__ import annotations

import datetime as dt
import json
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

from tests.conftest import NOW
from tests.scheduler.conftest import subprocess_env
from tests.servers.slack import SlackServer
from tests.servers.slack import running as slack_running

# Every warehouse call takes half a second, so a run is reliably in flight when SIGTERM arrives; the
# service's clock starts at $SERVE_TEST_NOW (the demo's incident day) and then follows the real one.
SLOW = """
import datetime as dt, os, time
import pipeline_canary
assert pipeline_canary.__file__.startswith(os.environ["PYTHONPATH"].split(os.pathsep)[0]), pipeline_canary.__file__
from pipeline_canary.warehouse.duckdb import DuckDBWarehouse
for _name in ("query", "columns"):
    def _slow(self, *args, _orig=getattr(DuckDBWarehouse, _name)):
        time.sleep(0.5)
        return _orig(self, *args)
    setattr(DuckDBWarehouse, _name, _slow)
from pipeline_canary.scheduler import service as _service
_start, _began = dt.datetime.fromisoformat(os.environ["SERVE_TEST_NOW"]), time.monotonic()
_init = _service.Service.__init__
def _init_clock(self, config, **kwargs):
    kwargs.setdefault("clock", lambda: _start + dt.timedelta(seconds=time.monotonic() - _began))
    _init(self, config, **kwargs)
_service.Service.__init__ = _init_clock
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


def failing_checks(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """Every (checkpoint, check) that failed in any recorded run."""
    found = set()
    for checkpoint, checks in conn.execute("SELECT checkpoint, checks FROM checkpoint_results"):
        found |= {(checkpoint, c["name"]) for c in json.loads(checks) if c["outcome"] == "failed"}
    return found


def parent_keys(conn: sqlite3.Connection, slack: SlackServer) -> list[tuple[str, str]]:
    """The (checkpoint, check) of each parent message Slack holds, through its outbox row's incident."""
    keys = []
    for parent in slack.parents():
        assert parent.metadata is not None, parent.text
        outbox_id = parent.metadata["event_payload"]["outbox_id"]
        row = conn.execute(
            "SELECT i.checkpoint, i.check_name FROM alert_outbox o JOIN alert_incidents i ON i.id = o.incident_id "
            "WHERE o.id = ?",
            (outbox_id,),
        ).fetchone()
        assert row is not None, f"parent {parent.text!r} names no outbox row of an incident"
        keys.append((row[0], row[1]))
    return keys


def test_serve_answers_serves_docs_and_stops_cleanly_on_sigterm(seeded: Callable[[str], Path], tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "state.sqlite"
    config = tmp_path / "canary.toml"
    config.write_text(
        f'[warehouse]\npath = "{seeded("incident")}"\n[gx]\nproject_dir = "{tmp_path / "gx"}"\n'
        f'[state]\npath = "{state}"\n'
        "[alerting]\nbackoff_s = 0.01\ntimeout_s = 2\nmax_attempts = 2\n"
        "[schedule]\ninterval_minutes = 0.02\nshutdown_grace_s = 20\n"
        "checkpoints.feature_contamination = { enabled = false }\n"
        "checkpoints.orphaned_staging_tables = { enabled = false }\n",
        encoding="utf-8",
    )
    log_path = tmp_path / "serve.log"
    with slack_running() as slack, log_path.open("wb") as log_file:
        env = subprocess_env(
            CANARY_SLACK_TOKEN=slack.token, CANARY_SLACK_API_URL=slack.api_url, SERVE_TEST_NOW=NOW.isoformat()
        )
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
            assert {c["last_outcome"] for c in status().values()} == {"failed"}
            code, body = get(f"{base}/docs/")
            assert code == 200 and b"Data Docs" in body

            def just_started() -> str | None:  # a run whose alerts are still to come
                now = dt.datetime.now(dt.UTC)
                return next(
                    (n for n, c in status().items()
                     if c["running"] and now - dt.datetime.fromisoformat(c["running_since"]) < dt.timedelta(seconds=1)),
                    None,
                )  # fmt: skip

            running = wait_for(just_started, 30, "a run in flight", proc)
            # Slack fails every try of that run's delivery: its alerts stay queued for the shutdown.
            slack.fail("500", times=2)
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
        assert after[0]["outcome"] == "failed"
        assert messages[-1] == "stopped"
        (stopped,) = [e for e in lines if e["message"] == "scheduler stopped"]
        assert stopped["alerts_delivered"] >= 1, "the shutdown did not deliver the queued alerts"
        assert len([c for c in slack.calls if c.status == 500]) == 2
        assert not [e for e in lines if e["severity"] in ("ERROR", "CRITICAL") and "run finished" not in e["message"]]
        with sqlite3.connect(state) as conn:
            run_ids = {r[0] for r in conn.execute("SELECT run_id FROM checkpoint_results")}
            assert after[0]["run_id"] in run_ids
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            assert {"alert_outbox", "alert_incidents"} <= tables
            assert conn.execute("SELECT count(*) FROM alert_outbox WHERE status = 'pending'").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM alert_outbox WHERE status = 'sent'").fetchone()[0] > 0
            failing = failing_checks(conn)
            parents = parent_keys(conn, slack)
        assert failing, "the incident scenario failed no check"
        assert sorted(parents) == sorted(failing), "one Slack parent per failing check, none twice"
        assert len(slack.calls_to("chat.postMessage")) == len(slack.messages)  # nothing posted twice
