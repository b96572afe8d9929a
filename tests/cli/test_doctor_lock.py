"""`canary doctor` reports the local run lock: free, or held by a run now (without taking it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline_canary.config import CanaryConfig
from pipeline_canary.state.lock import inspect_lock, run_lock
from tests.cli.test_cli import canary


def test_doctor_says_whether_a_run_holds_the_lock(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], tmp_path: Path
) -> None:
    config = make_config(seeded("healthy"), copy=True)
    assert config.source is not None
    lock = config.state.path.with_suffix(".lock")

    free = canary("doctor", "--config", str(config.source))
    assert f"run lock: {lock}: free" in free.stdout, free.stdout + free.stderr

    with run_lock(lock, timeout_s=1):
        held = canary("doctor", "--config", str(config.source))
        assert inspect_lock(lock) is not None  # doctor did not take it, and another look still sees it held
    assert "warn" in held.stdout and f"a canary run holds {lock} now" in held.stdout, held.stdout
    assert "Traceback" not in held.stderr
    assert inspect_lock(lock) is None
