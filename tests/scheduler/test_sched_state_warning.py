"""``canary serve`` warns at start-up when its SQLite state would not survive a restart."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.scheduler._support import read_mounts, volatile_state
from pipeline_canary.scheduler.service import Service

DISK = [("/", "ext4"), ("/dev/shm", "tmpfs"), ("/mnt/state", "nfs4"), ("/var/lib/canary", "tmpfs")]


@pytest.mark.parametrize(
    ("path", "env", "expected"),
    [
        ("/tmp/canary/state.sqlite", {}, "under /tmp"),
        ("/var/tmp/state.sqlite", {}, "under /var/tmp"),
        ("/dev/shm/canary/state.sqlite", {}, "tmpfs mount (/dev/shm)"),
        ("/var/lib/canary/state.sqlite", {}, "tmpfs mount (/var/lib/canary)"),
        ("/srv/canary/state.sqlite", {}, None),  # a local disk, not Cloud Run
        ("/mnt/state/canary/state.sqlite", {"K_SERVICE": "pipeline-canary"}, None),  # a mounted volume
        ("/app/state.sqlite", {"K_SERVICE": "pipeline-canary"}, "Cloud Run"),  # the in-memory container fs
        ("/tmpfoo/state.sqlite", {}, None),  # a prefix of the name, not of the path
    ],
)
def test_volatile_state_locations(path: str, env: dict[str, str], expected: str | None) -> None:
    reason = volatile_state(Path(path), mounts=DISK, env=env)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


def test_mount_table_is_read(tmp_path: Path) -> None:
    table = tmp_path / "mounts"
    table.write_text("/dev/vda / ext4 rw 0 0\ntmpfs /my\\040state tmpfs rw 0 0\n", encoding="utf-8")
    assert read_mounts(str(table)) == [("/", "ext4"), ("/my state", "tmpfs")]
    assert read_mounts(str(tmp_path / "missing")) == []


def test_serve_warns_at_start_up_when_the_state_is_under_tmp(
    config_for: Callable[..., CanaryConfig], caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(interval_s=3600, only=["prediction_gap"], run_on_start=False)
    with tempfile.TemporaryDirectory(dir="/tmp") as scratch:
        config = config.model_copy(
            update={"state": config.state.model_copy(update={"path": Path(scratch) / "state.sqlite"})}
        )
        svc = Service(config)
        caplog.set_level(logging.WARNING, logger="pipeline_canary.scheduler")
        svc.start()
        try:
            (warning,) = [r for r in caplog.records if "will not survive a restart" in r.getMessage()]
        finally:
            svc.shutdown(grace_s=1)
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert str(Path(scratch) / "state.sqlite") in message and "under /tmp" in message
    assert "open incidents" in message and "outbox" in message and "Slack parent" in message
