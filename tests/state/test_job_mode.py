"""Job mode on Cloud Run: every `canary run` is a new process sharing one state in Cloud Storage.

Real processes (``python -c 'from pipeline_canary.cli import main; main()' run ...``) against the local
Cloud Storage server and the local Slack: incidents open once and resolve once across executions,
executions started together never double-post, and a killed execution's lock expires.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.servers.gcs import GCSServer
from tests.servers.slack import SlackServer

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 2, 8, 21, 0, tzinfo=dt.UTC)  # 16:00 in New York on the incident's game day
STEP = dt.timedelta(minutes=15)
FAILING = range(9, 12)  # executions 9, 10 and 11 see the incident warehouse
GUARD_S = 300  # a hung subprocess fails the test instead of hanging it (not a timing assertion)


class Job:
    """One Cloud Run job: its configuration file and environment, executions as subprocesses."""

    def __init__(self, tmp: Path, gcs: GCSServer, slack: SlackServer, warehouses: dict[str, Path]) -> None:
        self.config = tmp / "canary.toml"
        self.warehouses = warehouses
        self.config.write_text(
            f'[warehouse]\nbackend = "duckdb"\npath = "{warehouses["healthy"]}"\n'
            f'[gx]\nproject_dir = "{tmp / "gx"}"\nbuild_docs = false\n'
            f'[state]\nbackend = "gcs"\nuri = "gs://{gcs.bucket}/canary/state.sqlite"\n'
            f'path = "{tmp / "local" / "state.sqlite"}"\nlock_wait_s = 240\nlock_ttl_s = 600\n'
            "[alerting]\nmax_attempts = 2\nbackoff_s = 0.01\ntimeout_s = 2\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CANARY_")}
        self.env = {
            **env,
            "PYTHONPATH": str(ROOT),
            "STORAGE_EMULATOR_HOST": gcs.host,
            "CANARY_SLACK_TOKEN": slack.token,
            "CANARY_SLACK_API_URL": slack.api_url,
        }

    def start(
        self, scenario: str, now: dt.datetime, env: dict[str, str] | None = None, **state: str
    ) -> subprocess.Popen[str]:
        env = {**self.env, "CANARY_WAREHOUSE__PATH": str(self.warehouses[scenario]), **(env or {})}
        env |= {f"CANARY_STATE__{key.upper()}": value for key, value in state.items()}
        args = ["run", "prediction_gap", "--config", str(self.config), "--now", now.isoformat(), "--json"]
        code = "from pipeline_canary.cli import main; main()"
        return subprocess.Popen(
            [sys.executable, "-c", code, *args], env=env, cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip

    def run(self, scenario: str, now: dt.datetime, **state: str) -> tuple[int, str, str]:
        proc = self.start(scenario, now, **state)
        out, err = proc.communicate(timeout=GUARD_S)
        return proc.returncode, out, err


@pytest.fixture
def job(tmp_path: Path, gcs: GCSServer, slack: SlackServer, seeded: Callable[[str], Path]) -> Job:
    warehouses = {}
    for scenario in ("healthy", "incident"):  # a copy each: executions may overlap
        warehouses[scenario] = tmp_path / f"{scenario}.duckdb"
        shutil.copy(seeded(scenario), warehouses[scenario])
    return Job(tmp_path, gcs, slack, warehouses)


def resolved_replies(slack: SlackServer) -> list[str]:
    return [m.text for p in slack.parents() for m in slack.replies(p) if m.ts != p.ts and "esolved" in m.text]


def test_twenty_executions_open_one_incident_and_resolve_it_once(job: Job, slack: SlackServer, gcs: GCSServer) -> None:
    outcomes = []
    for i in range(1, 21):
        scenario = "incident" if i in FAILING else "healthy"
        code, _, err = job.run(scenario, START + i * STEP)
        assert code in (0, 1), err
        assert "skipped" not in err, err
        outcomes.append((i, code))
    assert [i for i, code in outcomes if code == 1] == list(FAILING)
    assert len(slack.parents()) == 1, [p.text for p in slack.parents()]
    assert len(resolved_replies(slack)) == 1
    assert len(slack.calls_to("chat.postMessage")) == 2  # the parent and the resolved reply, nothing re-posted
    bucket = gcs.client().bucket(gcs.bucket)
    assert bucket.get_blob("canary/state.sqlite") is not None
    assert bucket.get_blob("canary/state.sqlite.lock") is None  # every execution released the lock


def test_two_executions_started_together_post_once(job: Job, slack: SlackServer) -> None:
    job.run("healthy", START)
    first = job.start("incident", START + STEP)
    second = job.start("incident", START + STEP)
    results = [(p.wait(timeout=GUARD_S), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
               for p in (first, second)]  # fmt: skip
    assert [code for code, _, _ in results] == [1, 1], [err for _, _, err in results]
    assert len(slack.parents()) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1  # the second run waited and found the incident posted


def test_a_busy_lock_skips_the_run_and_a_killed_executions_lock_expires(job: Job, slack: SlackServer) -> None:
    slack.fail("hang", seconds=GUARD_S)  # the first post hangs: the execution holds the lock, mid-run
    hung = {"CANARY_ALERTING__TIMEOUT_S": str(GUARD_S)}  # its Slack client waits as long as Slack hangs
    stuck = job.start("incident", START, env=hung, lock_ttl_s="45")  # > a loaded machine's CLI start-up
    deadline = time.monotonic() + GUARD_S
    while not slack.calls_to("chat.postMessage"):
        assert stuck.poll() is None and time.monotonic() < deadline, "the first execution never posted"
        time.sleep(0.1)

    code, out, err = job.run("incident", START + STEP, lock_wait_s="0")
    assert code == 0 and '"outcome": "skipped"' in out, err
    assert "another execution holds the state lock" in out and "lock_wait_s" in out

    stuck.kill()  # what the job's task timeout does: no release, no upload
    stuck.wait(timeout=GUARD_S)
    code, out, err = job.run("incident", START + 2 * STEP)
    assert code == 1, err
    assert "taking over the expired state lock" in err
    posted = [c for c in slack.calls_to("chat.postMessage") if c.status == 200]
    assert len(posted) == 1 and len(slack.parents()) == 1  # the killed run had posted nothing

    code, out, err = job.run("healthy", START + 3 * STEP)
    assert code == 0, err
    assert len(slack.parents()) == 1 and len(resolved_replies(slack)) == 1
