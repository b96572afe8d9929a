"""A real local BigQuery-compatible server (bqemulator) for the whole session, on free loopback ports.

Tests marked ``bigquery`` use the real google-cloud-bigquery client against it. If the server cannot
start they are skipped with the reason shown, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.config import WarehouseConfig
from pipeline_canary.warehouse.bigquery import BigQueryWarehouse

REPO = Path(__file__).resolve().parents[2]
PROJECT = "canary-local"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class BigQueryServer:
    endpoint: str
    project: str
    log: Path

    def config(self, **overrides: Any) -> WarehouseConfig:
        values: dict[str, Any] = {
            "backend": "bigquery",
            "project": self.project,
            "api_endpoint": self.endpoint,
            "timeout_s": 30.0,
        }
        return WarehouseConfig(**{**values, **overrides})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"the local BigQuery server must start in CI: {reason}", pytrace=False)
    pytest.skip(f"local BigQuery server unavailable: {reason}")


def _bqemulator_command() -> list[str] | None:
    beside = Path(sys.executable).with_name("bqemulator")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("bqemulator")
    return [found] if found else None


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> str | None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            return f"bqemulator exited with code {proc.returncode}:\n{tail}"
        try:
            with urllib.request.urlopen(url, timeout=1):
                return None
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return f"bqemulator did not answer on {url} within {START_TIMEOUT_S:.0f} s (log: {log})"


@pytest.fixture(scope="session")
def bq_server() -> Iterator[BigQueryServer]:
    command = _bqemulator_command()
    if command is None:
        _unavailable("the `bqemulator` command is not installed (pip install -e '.[dev]')")
        return
    install = subprocess.run(
        ["bash", str(REPO / "scripts" / "bq-emulator"), "install-spatial"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        check=False,
    )
    if install.returncode != 0:
        _unavailable(f"installing the DuckDB spatial extension failed: {install.stderr.strip()}")
    rest, grpc = free_port(), free_port()
    log = Path(tempfile.mkdtemp(prefix="bqemulator-")) / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *command, "start", "--rest-host", "127.0.0.1", "--grpc-host", "127.0.0.1",
                "--rest-port", str(rest), "--grpc-port", str(grpc), "--project", PROJECT,
                "--log-level", "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    endpoint = f"http://127.0.0.1:{rest}"
    try:
        problem = _wait_ready(proc, f"{endpoint}/bigquery/v2/projects/{PROJECT}/datasets", log)
        if problem:
            _unavailable(problem)
        yield BigQueryServer(endpoint=endpoint, project=PROJECT, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def bq_warehouse(bq_server: BigQueryServer) -> Iterator[BigQueryWarehouse]:
    warehouse = BigQueryWarehouse.from_config(bq_server.config())
    yield warehouse
    warehouse.close()


@contextlib.contextmanager
def temporary_dataset(warehouse: BigQueryWarehouse, prefix: str) -> Iterator[str]:
    """A fresh, uniquely named dataset, deleted with its tables afterwards (the server is shared)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    warehouse.client.create_dataset(name)
    try:
        yield name
    finally:
        warehouse.client.delete_dataset(name, delete_contents=True, not_found_ok=True)


@pytest.fixture
def dataset(bq_warehouse: BigQueryWarehouse) -> Iterator[str]:
    """A fresh, uniquely named dataset (the server is shared by the whole session)."""
    with temporary_dataset(bq_warehouse, "t") as name:
        yield name
