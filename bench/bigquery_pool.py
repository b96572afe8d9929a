"""Benchmark: 40 canaries on the local BigQuery server at ~0.5 s per statement, serial vs. the run's pool.

Starts the local BigQuery server (bqemulator, as the tests do, through scripts/bq-emulator) unless
``--endpoint`` names one already running, loads the healthy demo's game day into it and puts a
latency proxy (bench/latency_proxy.py) in front: every statement waits ``--latency`` seconds, as a
BigQuery job takes about a second whatever its size. 40 generated SQL canaries (one statement each,
over the demo's schedule, predictions and feature store) then run; per repetition it measures

  * serial: the canaries' statements sent one after another (their collect, no GX): the floor;
  * for each ``--pools`` size: a warm run_checkpoints of the 40 canaries (GX validation included,
    no Data Docs) with ``[warehouse] max_concurrent_queries`` at that size, its wall time, and the
    sum of its own statements' times;

and prints the medians and the median per-repetition ratio wall / serial (target <= 0.25 at pool 8).

The local server runs one statement at a time (one DuckDB connection), so its own time per statement,
times 40, is a floor no pool goes under; the last line measures it (the largest pool, no injected
latency). On a loaded machine that floor grows and the ratio with it: look at both.

Usage: python bench/bigquery_pool.py [--pools 1 8] [--reps 3] [--latency 0.5] [--endpoint URL] [--out bench/out]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from latency_proxy import LatencyProxy

from pipeline_canary.canaries import Canary, CheckContext, CheckSpec, Observation, registry
from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.results import Threshold
from pipeline_canary.warehouse.base import QueryResult
from pipeline_canary.warehouse.bigquery import BigQueryWarehouse

NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 2, 8)
REPO = Path(__file__).resolve().parents[1]
CANARIES = 40
STATEMENTS = (
    "SELECT @k AS k, COUNT(*) AS n FROM {schedule} WHERE game_date = @as_of",
    "SELECT @k AS k, COUNT(DISTINCT game_id) AS n FROM {predictions} WHERE game_date = @as_of",
    "SELECT @k AS k, COUNT(DISTINCT player_lookup) AS n FROM {predictions} WHERE game_date = @as_of",
    "SELECT @k AS k, COUNT(*) AS n FROM {feature_store} WHERE game_date = @as_of",
)


class BenchCanary(Canary):
    """One statement over a demo table; ``k`` (its position) keeps every statement its own."""

    title = "Rows of the day (bench)"
    description = "The table has rows for the game day."
    runbook = "Nothing to do: a bench canary."
    order = 1
    k: ClassVar[int] = 0
    sql: ClassVar[str] = STATEMENTS[0]

    def checks(self, settings: Any) -> list[CheckSpec]:
        return [CheckSpec("rows", "n", Threshold(min=0), "any number of rows")]

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        row = ctx.query(self.sql, k=self.k, as_of=ctx.as_of).one()
        return Observation(metrics={"n": row["n"]}, summary=f"{row['n']} rows")


def register_canaries() -> list[str]:
    for k in range(CANARIES):
        attrs = {"name": f"bench_sql_{k:02d}", "k": k, "sql": STATEMENTS[k % len(STATEMENTS)]}
        registry.add(type(f"Bench{k}", (BenchCanary,), attrs)())
    return [f"bench_sql_{k:02d}" for k in range(CANARIES)]


class Timed(BigQueryWarehouse):
    """The real backend; remembers how long each statement took."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spent: list[float] = []

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        started = time.perf_counter()
        try:
            return super().query(sql, params)
        finally:
            self.spent.append(time.perf_counter() - started)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_server(state_dir: Path) -> Iterator[str]:
    """The local BigQuery server on free ports, started and stopped with scripts/bq-emulator."""
    rest = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # bqemulator
        "PYTHON": sys.executable,
        "BQ_EMULATOR_REST_PORT": str(rest),
        "BQ_EMULATOR_GRPC_PORT": str(free_port()),
        "BQ_EMULATOR_STATE_DIR": str(state_dir),
    }
    script = str(REPO / "scripts" / "bq-emulator")
    subprocess.run(["bash", script, "start"], env=env, check=True, capture_output=True, timeout=120)
    try:
        yield f"http://127.0.0.1:{rest}"
    finally:
        subprocess.run(["bash", script, "stop"], env=env, check=False, capture_output=True, timeout=60)


def prepare(out: Path, endpoint: str, project: str) -> Path:
    """The healthy demo's game day loaded into ``project``; returns the bench's canary.toml."""
    from pipeline_canary.demo import seed
    from pipeline_canary.demo.bigquery_load import load_demo

    out.mkdir(parents=True, exist_ok=True)
    demo = out / "healthy.duckdb"
    if not demo.exists():
        seed(demo, scenario="healthy", seasons=1, now=NOW)
    shutil.rmtree(out / "gx" / "uncommitted" / "validations", ignore_errors=True)  # earlier bench runs
    config = out / "canary.toml"
    config.write_text(
        f'[warehouse]\nbackend = "bigquery"\nproject = "{project}"\napi_endpoint = "{endpoint}"\ntimeout_s = 60\n'
        '[gx]\nproject_dir = "gx"\nbuild_docs = false\n[state]\npath = "state.sqlite"\n',
        encoding="utf-8",
    )
    direct = BigQueryWarehouse.from_config(load_config(config, env={}).warehouse)
    try:
        load_demo(demo, direct, project, since=AS_OF, datasets=["nba_reference", "nba_predictions"])
    finally:
        direct.close()
    return config


def pooled(path: Path, endpoint: str, size: int) -> CanaryConfig:
    overrides = {"CANARY_WAREHOUSE__API_ENDPOINT": endpoint, "CANARY_WAREHOUSE__MAX_CONCURRENT_QUERIES": str(size)}
    return load_config(path, env=overrides)


def serial(config: CanaryConfig, warehouse: Timed, names: list[str]) -> float:
    """The floor: each canary's statement sent after the previous one returned; their summed time."""
    warehouse.spent.clear()
    for name in names:
        ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=AS_OF, now=NOW)
        registry.get(name).collect(ctx, config.settings_for(name))
    return sum(warehouse.spent)


def run(config: CanaryConfig, warehouse: Timed, names: list[str]) -> tuple[float, float]:
    """Wall time of a run and the summed time of its statements."""
    from pipeline_canary.checkpoints.runner import run_checkpoints

    warehouse.spent.clear()
    started = time.perf_counter()
    result = run_checkpoints(config, names, now=NOW, warehouse=warehouse, build_docs=False)
    wall = time.perf_counter() - started
    broken = [c for c in result.checkpoints if c.outcome.value != "passed"]
    if broken:
        raise SystemExit(f"{broken[0].name} {broken[0].outcome.value}: {broken[0].message}")
    return wall, sum(warehouse.spent)


def bench(path: Path, proxy: LatencyProxy, pools: list[int], reps: int, latency: float) -> None:
    names = register_canaries()
    configs = {size: pooled(path, proxy.endpoint, size) for size in pools}
    warehouse = Timed.from_config(configs[max(pools)].warehouse)
    try:
        run(configs[max(pools)], warehouse, names)  # warm-up: GX objects for 40 canaries, imports, connections
        floors: list[float] = []
        walls: dict[int, list[float]] = {size: [] for size in pools}
        inside: dict[int, list[float]] = {size: [] for size in pools}
        servers: list[float] = []
        for _ in range(reps):
            floors.append(serial(configs[pools[0]], warehouse, names))
            for size in pools:
                wall, statements = run(configs[size], warehouse, names)
                walls[size].append(wall)
                inside[size].append(statements)
            proxy.set_latency(0.0)
            servers.append(run(configs[max(pools)], warehouse, names)[0])
            proxy.set_latency(latency)
    finally:
        warehouse.close()
    floor = statistics.median(floors)
    print(
        f"{CANARIES} canaries, one statement each, {latency:g} s injected per statement; "
        f"serial sum of the statements {floor:.2f} s (median of {reps})"
    )
    print(f"{'pool':>6} {'wall s':>8} {'statements s':>13} {'wall/serial':>12}")
    for size in pools:
        ratio = statistics.median(w / f for w, f in zip(walls[size], floors, strict=True))
        target = " (target <= 0.25)" if size == 8 else ""
        print(
            f"{size:>6} {statistics.median(walls[size]):>8.2f} {statistics.median(inside[size]):>13.2f} "
            f"{ratio:>11.2f}x{target}",
            flush=True,
        )
    print(
        f"the local server's own floor (pool {max(pools)}, no injected latency): {statistics.median(servers):.2f} s, "
        f"{statistics.median(servers) / floor:.2f}x of serial"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pools", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds added to each statement")
    parser.add_argument("--endpoint", help="a local BigQuery server already running (default: start one)")
    parser.add_argument("--out", type=Path, default=Path("bench/out/bigquery-pool"))
    opts = parser.parse_args()
    out = opts.out.resolve()
    project = f"bench-{uuid.uuid4().hex[:8]}"
    with local_server(out / "bq-emulator") if opts.endpoint is None else _given(opts.endpoint) as endpoint:
        path = prepare(out, endpoint, project)
        upstream = int(endpoint.rsplit(":", 1)[1])
        with LatencyProxy(upstream, opts.latency) as proxy:
            bench(path, proxy, sorted(set(opts.pools)), opts.reps, opts.latency)


@contextmanager
def _given(endpoint: str) -> Iterator[str]:
    yield endpoint


if __name__ == "__main__":
    main()
