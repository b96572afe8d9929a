"""A sweep SIGKILLed anywhere leaves the audit and the warehouse agreeing once the next command reconciles.

Real ``canary staging cleanup --execute`` processes, held by ``$CANARY_TEST_PAUSE_SWEEP`` at a point
(the entry written, the table dropped, the drop confirmed) and killed there with SIGKILL: no timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.staging.audit import AuditRow, audit_rows
from pipeline_canary.staging.sweep import PAUSE_ENV
from pipeline_canary.state import open_state
from pipeline_canary.state.sqlite import SQLiteState
from pipeline_canary.state.sync import state_session
from tests.cli.test_cli import canary
from tests.servers.gcs import GCSServer
from tests.servers.gcs import running as gcs_running
from tests.staging.builder import NOW, ORPHANS, snapshot

ROOT = Path(__file__).resolve().parents[2]
GUARD_S = 120  # a process that never pauses fails the test instead of hanging it (not a timing assertion)
Names = Callable[[Path], set[tuple[str, str]]]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANARY_")}
    return {**env, "PYTHONPATH": str(ROOT), "CANARY_ACTOR": "ops@test", **extra}


def kill_sweep_at(config: CanaryConfig, point: str, env: dict[str, str]) -> str:
    """Start ``staging cleanup --execute``, wait until it pauses at ``point``, SIGKILL it; its stderr so far."""
    args = ["staging", "cleanup", "--execute", "--now", NOW.isoformat(), "--config", str(config.source)]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from pipeline_canary.cli import main; main()", *args],
        env={**env, PAUSE_ENV: point}, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        for line in proc.stderr:  # ends when the process exits: then it never paused
            seen.append(line)
            if f"paused at {point}" in line:
                break
        else:
            pytest.fail(f"the sweep exited ({proc.wait(GUARD_S)}) without pausing at {point}: {''.join(seen)}")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(GUARD_S) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(GUARD_S)
        proc.stderr.close()
    return "".join(seen)


def entries(state: SQLiteState) -> dict[str, list[AuditRow]]:
    found: dict[str, list[AuditRow]] = {}
    for row in audit_rows(state):
        found.setdefault(row.table_name, []).append(row)
    return found


def assert_agree(state: SQLiteState, present: set[tuple[str, str]]) -> None:
    """No entry is pending, and a table is gone exactly when an entry says it was dropped."""
    rows = audit_rows(state)
    assert not [r.to_dict() for r in rows if r.pending]
    dropped = {r.table_name for r in rows if r.action == "dropped"}
    assert {name for name in ORPHANS if ("nba_predictions", name) not in present} == dropped


@pytest.fixture
def config(small_warehouse: Path, make_config: Callable[..., CanaryConfig]) -> CanaryConfig:
    return make_config(small_warehouse)


def _planned(config: CanaryConfig) -> list[str]:
    """The sweep's order: the plan's candidates (oldest first), read from a dry run."""
    proc = canary("staging", "cleanup", "--json", "--now", NOW.isoformat(), "--config", str(config.source))
    assert proc.returncode == 0, proc.stderr
    return [c["table"] for c in json.loads(proc.stdout)["plan"]["candidates"]]


# (kill point, then the command that must notice, what the killed table's entry becomes)
CASES = [
    ("intent:0", ["staging", "audit", "--json"], "not dropped (reconciled)"),
    ("acted:0", ["staging", "audit", "--json"], "dropped (reconciled)"),
    ("confirmed:0", ["staging", "audit", "--json"], "dropped"),
    ("intent:2", ["staging", "list"], "not dropped (reconciled)"),
    ("acted:2", ["staging", "cleanup"], "dropped (reconciled)"),
    ("acted:4", ["staging", "cleanup", "--execute"], "dropped (reconciled)"),
    ("intent:4", ["staging", "cleanup", "--execute"], "not dropped (reconciled)"),
]


@pytest.mark.parametrize(("point", "command", "settled"), CASES, ids=[f"{c[0]}-{'-'.join(c[1][1:])}" for c in CASES])
def test_a_killed_sweep_is_reconciled_by_the_next_command(
    config: CanaryConfig, table_names: Names, point: str, command: list[str], settled: str
) -> None:
    order = _planned(config)
    victim = order[int(point.split(":")[1])]
    path = config.warehouse.path
    kill_sweep_at(config, point, _env())

    state = open_state(config)
    (entry,) = entries(state)[victim]
    assert entry.status == ("dropped" if point.startswith("confirmed") else "dropping")
    assert (("nba_predictions", victim) in table_names(path)) is point.startswith("intent")
    done = set(order[: order.index(victim) + (1 if point.startswith("confirmed") else 0)])
    assert {n for n, rows in entries(state).items() if rows[-1].status == "dropped"} == done  # confirmed one by one

    clock = [] if command[1] == "audit" else ["--now", NOW.isoformat()]
    proc = canary(*command, *clock, "--config", str(config.source))
    assert proc.returncode == 0, proc.stderr
    if command[1] == "audit":
        data = json.loads(proc.stdout)
        assert [r["status"] for r in data["reconciled"] if r["table"] == victim] == (
            [] if settled == "dropped" else [settled]
        )
    elif settled != "dropped":  # the command says what it reconciled
        assert f"{victim}: dropping -> {settled}" in proc.stdout, proc.stdout
    assert entries(state)[victim][0].status == settled
    assert_agree(state, table_names(path))
    if command[-1] == "--execute":  # the rerun also finished the job
        assert not {("nba_predictions", n) for n in ORPHANS} & table_names(path)


def test_the_audit_lists_entries_and_reconciles_in_json(config: CanaryConfig) -> None:
    victim = _planned(config)[1]
    kill_sweep_at(config, "acted:1", _env())
    proc = canary("staging", "audit", "--json", "--config", str(config.source))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    (reconciled,) = data["reconciled"]
    assert reconciled["table"] == victim and reconciled["was"] == "dropping"
    assert reconciled["status"] == "dropped (reconciled)" and "no longer exists" in reconciled["detail"]
    assert [e["status"] for e in data["entries"]] == ["dropped", "dropped (reconciled)"]
    assert data["not_reconciled"] is None
    again = json.loads(canary("staging", "audit", "--json", "--config", str(config.source)).stdout)
    assert again["reconciled"] == [] and again["entries"] == data["entries"]  # settled once
    proc = canary("staging", "audit", "--config", str(config.source))
    assert "dropped (reconciled)" in proc.stdout and "2 entries in" in proc.stdout


def test_entries_of_a_running_sweep_are_left_alone(config: CanaryConfig, table_names: Names) -> None:
    """While a sweep holds the lock (here: paused, alive), a list or audit reconciles nothing."""
    args = ["staging", "cleanup", "--execute", "--now", NOW.isoformat(), "--config", str(config.source)]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from pipeline_canary.cli import main; main()", *args],
        env={**_env(), PAUSE_ENV: "intent:0"}, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "paused at intent:0" in line:
                break
        audit = canary("staging", "audit", "--json", "--config", str(config.source))
        data = json.loads(audit.stdout)
        assert data["reconciled"] == [] and "holds the lock" in data["not_reconciled"]
        assert [e["status"] for e in data["entries"]] == ["dropping"]
    finally:
        proc.kill()
        proc.wait(GUARD_S)
        proc.stderr.close()


@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[GCSServer]:
    with gcs_running() as server:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.host)
        yield server


def test_with_a_shared_state_the_entry_is_uploaded_before_the_drop(
    small_warehouse: Path, make_config: Callable[..., CanaryConfig], gcs: GCSServer, table_names: Names
) -> None:
    uri = f"gs://{gcs.bucket}/canary/state.sqlite"
    # a short lock: the killed execution's lock expires, and the rerun takes it over
    config = make_config(small_warehouse, extra=f'backend = "gcs"\nuri = "{uri}"\nlock_ttl_s = 2\nlock_wait_s = 60\n')
    victim = _planned(config)[1]
    env = _env(STORAGE_EMULATOR_HOST=gcs.host)
    kill_sweep_at(config, "acted:1", env)
    with state_session(config, write=False) as snapshot:  # what another execution would download
        remote = entries(open_state(snapshot))
    assert [r.status for r in remote[victim]] == ["dropping"]
    assert ("nba_predictions", victim) not in table_names(small_warehouse)

    args = ["staging", "cleanup", "--execute", "--now", NOW.isoformat(), "--config", str(config.source)]
    proc = subprocess.run(
        [sys.executable, "-c", "from pipeline_canary.cli import main; main()", *args],
        env=env, capture_output=True, text=True, timeout=GUARD_S,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"{victim}: dropping -> dropped (reconciled)" in proc.stdout and uri in proc.stdout
    with state_session(config, write=False) as snapshot:
        state = open_state(snapshot)
        assert entries(state)[victim][0].status == "dropped (reconciled)"
        assert_agree(state, table_names(small_warehouse))
    assert not {("nba_predictions", n) for n in ORPHANS} & table_names(small_warehouse)
    assert not config.state.path.exists()  # the shared store was used, not the local file


def test_with_a_shared_state_cleanup_waits_for_the_lock_and_drops_nothing_without_it(
    small_warehouse: Path, make_config: Callable[..., CanaryConfig], gcs: GCSServer
) -> None:
    from pipeline_canary.state.gcs import GCSStateFile
    from pipeline_canary.state.gcs_lock import GCSLock

    uri = f"gs://{gcs.bucket}/canary/state.sqlite"
    config = make_config(small_warehouse, extra=f'backend = "gcs"\nuri = "{uri}"\nlock_wait_s = 0\n')
    before = snapshot(small_warehouse)
    remote = GCSStateFile.from_uri(uri, gcs.client())
    held = GCSLock(remote.bucket, remote.lock_name, ttl_s=600, wait_s=0, owner="a running job")
    held.acquire()
    try:
        proc = canary("staging", "cleanup", "--execute", "--now", NOW.isoformat(), "--config", str(config.source))
    finally:
        held.release()
    assert proc.returncode == 3 and "a running job" in proc.stderr, proc.stderr
    assert snapshot(small_warehouse) == before
