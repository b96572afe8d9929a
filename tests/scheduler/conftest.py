"""Scheduler fixtures: configs with short intervals, and warehouses that are slow or hang on purpose."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import WarehouseError
from pipeline_canary.warehouse.base import QueryResult
from pipeline_canary.warehouse.duckdb import DuckDBWarehouse

REPO = Path(__file__).resolve().parents[2]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python: it imports ``pipeline_canary`` from this checkout (not from
    wherever the package happens to be installed), without the caller's ``CANARY_*`` settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANARY_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


ALL = ("prediction_gap", "feature_contamination", "schema_parity", "orphaned_staging_tables")


def schedule_toml(*, interval_s: float = 1.0, only: Sequence[str] = ALL, own: Sequence[str] = (), **values: Any) -> str:
    """A ``[schedule]`` section running ``only`` every ``interval_s`` seconds, in their tiers' jobs
    except those in ``own``, which run in jobs of their own."""
    lines = ["[schedule]", f"interval_minutes = {interval_s / 60!r}"]
    lines += [f"{key} = {value!r}".replace("True", "true").replace("False", "false") for key, value in values.items()]
    lines += [f"checkpoints.{name} = {{ enabled = false }}" for name in ALL if name not in only]
    lines += [f"checkpoints.{name} = {{ interval_minutes = {interval_s / 60!r} }}" for name in own]
    return "\n".join(lines) + "\n"


class Tracker:
    """Counts warehouse calls in flight across runs: a peak above 1 means two runs overlapped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.calls = 0

    def __enter__(self) -> Tracker:
        with self._lock:
            self.active += 1
            self.calls += 1
            self.peak = max(self.peak, self.active)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.active -= 1


class SlowWarehouse(DuckDBWarehouse):
    """DuckDB that waits ``delay`` seconds before each query and ``ping_delay`` before each ping;
    ``interrupt()`` ends the query's wait (if honoured)."""

    def __init__(
        self, path: Path, delay: float, tracker: Tracker, *, honour_interrupt: bool = True, ping_delay: float = 0.0
    ) -> None:
        super().__init__(path)
        self.delay, self.tracker, self.honour, self.ping_delay = delay, tracker, honour_interrupt, ping_delay
        self._interrupted = threading.Event()

    def ping(self) -> None:
        threading.Event().wait(self.ping_delay)
        super().ping()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        with self.tracker:
            if self.honour:
                if self._interrupted.wait(self.delay):
                    raise WarehouseError("interrupted")
            else:
                threading.Event().wait(self.delay)
            return super().query(sql, params)

    def interrupt(self) -> None:
        self._interrupted.set()


class HangingDuckDB(DuckDBWarehouse):
    """Every query is a DuckDB scan that would run for hours: only ``connection.interrupt()`` ends it."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        import duckdb

        with self._lock:
            try:
                self._connect().execute("SELECT sum(a * a % 7) FROM range(10000000000000) t(a)").fetchall()
            except duckdb.Error as exc:
                raise WarehouseError(f"DuckDB: {exc}") from exc
        raise AssertionError("the endless query finished")


@pytest.fixture
def config_for(seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]) -> Callable[..., CanaryConfig]:
    """``config_for(scenario, **schedule)`` -> a config over the seeded demo with a [schedule] section."""

    def make(scenario: str = "healthy", extra: str = "", **schedule: Any) -> CanaryConfig:
        return make_config(seeded(scenario), extra=schedule_toml(**schedule) + extra)

    return make
