"""Shared fixtures: demo warehouses seeded once per test session, and configs pointing at them."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline_canary.config import CanaryConfig, load_config
from tests.servers.slack import SlackServer
from tests.servers.slack import running as slack_running

NEW_YORK = ZoneInfo("America/New_York")  # the pipeline's timezone
# A fixed clock for reproducible runs: 18:00 in New York on the day of the February 2026 incident.
NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 2, 8)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``seeded(scenario)`` -> path of a read-only DuckDB demo warehouse (1 season, fixed clock).

    Under pytest-xdist the workers share one folder: the first worker to ask for a scenario seeds it
    (under a file lock; ``seed`` renames the finished file into place) and the others open it, so a
    scenario is seeded once per test session, not once per worker.
    """
    from pipeline_canary.demo import seed

    cache: dict[str, Path] = {}
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = tmp_path_factory.getbasetemp().parent / "warehouses"  # the session's, shared by its workers
        root.mkdir(exist_ok=True)
    else:
        root = tmp_path_factory.mktemp("warehouses")

    def get(scenario: str) -> Path:
        if scenario not in cache:
            path = root / f"{scenario}.duckdb"
            with (root / f"{scenario}.lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not path.exists():
                    seed(path, scenario=scenario, seasons=1, now=NOW)
            cache[scenario] = path
        return cache[scenario]

    return get


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., CanaryConfig]:
    """``make_config(warehouse_path, copy=False, extra="", warehouse_keys="")`` -> a config with its own GX project.

    ``extra`` is TOML appended after the other sections; ``warehouse_keys`` goes into ``[warehouse]``.
    """

    def make(warehouse: Path, *, copy: bool = False, extra: str = "", warehouse_keys: str = "") -> CanaryConfig:
        if copy:
            target = tmp_path / warehouse.name
            shutil.copy(warehouse, target)
            warehouse = target
        path = tmp_path / "canary.toml"
        path.write_text(
            f'[warehouse]\nbackend = "duckdb"\npath = "{warehouse}"\n{warehouse_keys}'
            f'[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n'
            f'[state]\npath = "{tmp_path / "state.sqlite"}"\n{extra}',
            encoding="utf-8",
        )
        return load_config(path, env={})

    return make


@dataclass(frozen=True)
class GameDay:
    """The demo's game day (``AS_OF``) in the pipeline's timezone, and SQL on a demo warehouse file."""

    day: dt.date = AS_OF
    zone: ZoneInfo = NEW_YORK

    def at(self, hour: int, minute: int = 0) -> dt.datetime:
        """``hour:minute`` local time on the game day, in UTC."""
        return dt.datetime.combine(self.day, dt.time(hour, minute), self.zone).astimezone(dt.UTC)

    def rows(self, warehouse: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """``sql`` on a read-only connection (session timezone UTC)."""
        from pipeline_canary.warehouse.duckdb_connect import connect_duckdb

        with connect_duckdb(warehouse, read_only=True) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            return list(conn.execute(sql, list(params)).fetchall())

    def edit(self, warehouse: Path, *statements: str) -> None:
        """Run ``statements`` on the file, as the pipeline (or a fault) would change it."""
        from pipeline_canary.warehouse.duckdb_connect import connect_duckdb

        with connect_duckdb(warehouse) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            for sql in statements:
                conn.execute(sql)


@pytest.fixture
def game_day() -> GameDay:
    return GameDay()


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    """A running local Slack; the environment points the bot-token client at it (no webhook, no channel)."""
    with slack_running() as server:
        monkeypatch.setenv("CANARY_SLACK_TOKEN", server.token)
        monkeypatch.setenv("CANARY_SLACK_API_URL", server.api_url)
        monkeypatch.delenv("CANARY_SLACK_WEBHOOK_URL", raising=False)
        monkeypatch.delenv("CANARY_SLACK_CHANNEL", raising=False)
        yield server
