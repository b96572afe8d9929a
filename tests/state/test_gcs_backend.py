"""The Cloud Storage state backend in-process: configuration, the lock, conflicts, doctor and alerts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline_canary.cli import cli
from pipeline_canary.config import load_config
from pipeline_canary.errors import ConfigError
from pipeline_canary.state import open_state
from pipeline_canary.state.gcs import GCSStateFile, StateConflictError
from pipeline_canary.state.gcs_lock import GCSLock, StateBusyError
from pipeline_canary.state.sync import state_session
from tests.servers.gcs import GCSServer


def config_file(tmp_path: Path, state: str) -> Path:
    path = tmp_path / "canary.toml"
    path.write_text(
        f'[warehouse]\npath = "{tmp_path / "none.duckdb"}"\n[gx]\nproject_dir = "{tmp_path / "gx"}"\n'
        f'[state]\npath = "{tmp_path / "state.sqlite"}"\n{state}\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ('backend = "gcs"', 'backend "gcs" needs uri'),
        ('backend = "gcs"\nuri = "s3://b/state.sqlite"', "is not a gs:// URI"),
        ('backend = "gcs"\nuri = "gs://bucket/"', "must name a bucket and an object"),
        ('uri = "gs://bucket/state.sqlite"', 'uri applies to backend "gcs" only'),
        ('backend = "gcs"\nuri = "gs://b/s.sqlite"\nlock_wait_s = -1', "lock_wait_s"),
    ],
)
def test_configuration_is_validated(tmp_path: Path, state: str, message: str) -> None:
    with pytest.raises(ConfigError, match="state") as err:
        load_config(config_file(tmp_path, state), env={})
    assert message in str(err.value)


def test_the_lock_is_exclusive_and_an_expired_one_is_taken_over(gcs: GCSServer) -> None:
    bucket = gcs.client().bucket(gcs.bucket)
    first = GCSLock(bucket, "s.lock", ttl_s=600, wait_s=0)
    held = first.acquire()
    with pytest.raises(StateBusyError, match=f"held by {held.owner}"):
        GCSLock(bucket, "s.lock", ttl_s=600, wait_s=0).acquire()
    # What a killed holder leaves behind: a lock whose expiry has passed.
    stale = dict(owner="killed", host="h", pid=1, acquired_at=time.time() - 700, expires_at=time.time() - 100)
    bucket.blob("s.lock").upload_from_string(json.dumps(stale), if_generation_match=held.generation)
    first.release()  # no longer ours: a warning, and the stale lock stays for the taker
    assert GCSLock(bucket, "s.lock", ttl_s=600, wait_s=0).inspect().owner == "killed"  # type: ignore[union-attr]
    taker = GCSLock(bucket, "s.lock", ttl_s=600, wait_s=0)
    assert taker.acquire().owner == taker.owner
    taker.release()
    assert bucket.get_blob("s.lock") is None


def test_an_upload_over_a_changed_state_is_refused(gcs: GCSServer, tmp_path: Path) -> None:
    remote = GCSStateFile(gcs.client().bucket(gcs.bucket), "canary/state.sqlite")
    local = tmp_path / "state.sqlite"
    local.write_bytes(b"")
    generation = remote.download(local)
    assert generation == 0
    remote.upload(local, generation)  # the first run creates the object
    with pytest.raises(StateConflictError, match="changed while this run held the lock"):
        remote.upload(local, generation)


def test_a_session_keeps_what_it_wrote_and_doctor_and_alerts_read_it(gcs: GCSServer, tmp_path: Path) -> None:
    from pipeline_canary.alerting import incidents  # noqa: F401 - registers its tables

    path = config_file(tmp_path, 'backend = "gcs"\nuri = "gs://canary-state/canary/state.sqlite"\nlock_wait_s = 0')
    config = load_config(path, env={})
    with state_session(config) as working:
        assert working.state.path != config.state.path
        with open_state(working).transaction() as conn:
            conn.execute("CREATE TABLE marker (x)")
    with state_session(config, write=False) as working:
        tables = {r[0] for r in open_state(working).read().execute("SELECT name FROM sqlite_master")}
        assert "marker" in tables and "runs" in tables
    runner = CliRunner()
    out = runner.invoke(cli, ["alerts", "status", "--config", str(path)], standalone_mode=False).output
    assert "0 open incident(s)" in out
    with state_session(config):  # the lock held by this "execution"
        out = runner.invoke(cli, ["doctor", "--config", str(path)], standalone_mode=False).output
        assert "ok   state bucket: gs://canary-state/canary/state.sqlite: generation" in out
        assert "lock held by canary-" in out
    out = runner.invoke(cli, ["doctor", "--config", str(path)], standalone_mode=False).output
    assert "lock free" in out
