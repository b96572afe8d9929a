"""Benchmark: a full checkpoint run against the floor of running the same canary SQL directly.

For 1, 5 and 20 seasons of demo data it prints:
  * floor: the SQL every canary sends, executed directly on the same DuckDB connection (plus the
    same table description and listing calls), median of N repetitions;
  * GX only: validating observations already collected (four GX Checkpoint runs, no SQL), and
    GX only / floor: above 1, GX's own work outweighs the SQL it validates (the run overlaps
    them: the SQL runs in the run's pool while GX validates);
  * run: a warm, in-process run of all four checkpoints, GX validation included (no docs build);
  * run - floor (what the checkpoints add to their own SQL, in ms) and their ratio (the former 2x target
    is retired, issue 16: at a few ms of SQL it changes nothing for anyone),
    and the 20-season / 1-season ratio of the run (target 1.2x);
then, once: the cold wall time of `canary run` over `python -c "import great_expectations"`
(target 1.3x) and the peak RSS of `canary run` at 20 seasons (target 400 MiB).

Usage: python bench/checkpoints.py [--seasons 1 5 20] [--reps 15] [--out bench/out]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.schema.model import Field
from pipeline_canary.warehouse.base import QueryResult, TableInfo, TableRef, Warehouse
from pipeline_canary.warehouse.duckdb import DuckDBWarehouse
from pipeline_canary.warehouse.sql import translate

NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)


class Recording(Warehouse):
    """Delegates to a real backend and remembers every call, so the floor can replay them."""

    name = "recording"
    sqlglot_dialect = "duckdb"

    def __init__(self, inner: DuckDBWarehouse) -> None:
        self.inner = inner
        self.calls: list[tuple[str, Any, Any]] = []

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        self.calls.append(("query", sql, dict(params or {})))
        return self.inner.query(sql, params)

    def columns(self, table: TableRef) -> list[Field]:
        self.calls.append(("columns", table, None))
        return self.inner.columns(table)

    def tables(self, dataset: str, project: str | None = None) -> list[TableInfo]:
        self.calls.append(("tables", dataset, None))
        return self.inner.tables(dataset)

    def drop(self, table: TableRef) -> None:
        raise NotImplementedError

    def ping(self) -> None:
        self.inner.ping()


def floor_once(wh: DuckDBWarehouse, calls: list[tuple[str, Any, Any]]) -> float:
    conn = wh._connect()
    started = time.perf_counter()
    for kind, arg, params in calls:
        if kind == "query":
            conn.execute(translate(arg, "duckdb"), params).fetchall()
        elif kind == "columns":
            wh.columns(arg)
        else:
            wh.tables(arg)
    return time.perf_counter() - started


def elapsed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def prepare(out: Path, seasons: int) -> CanaryConfig:
    from pipeline_canary.demo import seed

    root = out / f"seasons-{seasons}"
    root.mkdir(parents=True, exist_ok=True)
    warehouse = root / "warehouse.duckdb"
    if not warehouse.exists():
        started = time.perf_counter()
        seed(warehouse, scenario="incident", seasons=seasons, now=NOW)
        print(f"  seeded {seasons} season(s) in {time.perf_counter() - started:.1f}s", flush=True)
    # Earlier bench runs left thousands of GX results here (runs without docs build never prune them).
    shutil.rmtree(root / "gx" / "uncommitted" / "validations", ignore_errors=True)
    (root / "canary.toml").write_text(
        '[warehouse]\npath = "warehouse.duckdb"\n[gx]\nproject_dir = "gx"\nbuild_docs = false\n'
        '[state]\npath = "state.sqlite"\n',
        encoding="utf-8",
    )
    return load_config(root / "canary.toml", env={})


def bench_size(config: CanaryConfig, reps: int) -> tuple[float, float, float, float]:
    """Median floor, median run, median GX-only time and the median of per-repetition run/floor ratios.

    Floor, run and GX alternate within each repetition, so a burst of load elsewhere on the machine
    hits every side of a ratio instead of one. "GX only" validates observations already collected
    (the four GX Checkpoint runs and our result model, no SQL): the part of a run that is not SQL.
    """
    from pipeline_canary.canaries import CheckContext, registry
    from pipeline_canary.checkpoints.runner import collect, gx_project, resolve_clock, run_checkpoints
    from pipeline_canary.checkpoints.validate import validate

    wh = DuckDBWarehouse(config.warehouse.path)
    recording = Recording(wh)
    run_checkpoints(config, now=NOW, warehouse=recording, build_docs=False)  # warm-up: GX objects, caches
    calls = list(recording.calls)
    floor_once(wh, calls)
    clock = resolve_clock(config.pipeline.timezone, None, NOW)
    as_of, now = clock.as_of, clock.now
    ctx = CheckContext(warehouse=wh, pipeline=config.pipeline, as_of=as_of, now=now)
    gathered = [collect(c, config.settings_for(c.name), ctx) for c in registry.all()]
    project = gx_project(config)

    def gx_only() -> None:
        for collected in gathered:
            validate(project, collected, "bench-gx-only", NOW)

    floors, runs, gxs = [], [], []
    for _ in range(reps):
        floors.append(floor_once(wh, calls))
        runs.append(elapsed(lambda: run_checkpoints(config, now=NOW, warehouse=wh, build_docs=False)))
        gxs.append(elapsed(gx_only))
    wh.close()
    ratios = [r / f for r, f in zip(runs, floors, strict=True)]
    return statistics.median(floors), statistics.median(runs), statistics.median(gxs), statistics.median(ratios)


def cold(args: list[str], reps: int) -> float:
    samples = [elapsed(lambda: subprocess.run(args, capture_output=True, check=False)) for _ in range(reps)]
    return statistics.median(samples)


def peak_rss_mib(args: list[str]) -> float:
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seasons", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--reps", type=int, default=31)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    opts = parser.parse_args()

    runs: dict[int, float] = {}
    configs: dict[int, CanaryConfig] = {}
    print(
        f"{'seasons':>8} {'floor ms':>10} {'GX only ms':>11} {'GX/floor':>9} {'run ms':>10} {'run-floor':>10} "
        f"{'run/floor':>10}"
    )
    for seasons in opts.seasons:
        configs[seasons] = prepare(opts.out, seasons)
        floor, run, gx, ratio = bench_size(configs[seasons], opts.reps)
        runs[seasons] = run
        print(
            f"{seasons:>8} {floor * 1000:>10.1f} {gx * 1000:>11.1f} {gx / floor:>8.2f}x {run * 1000:>10.1f} "
            f"{(run - floor) * 1000:>10.1f} {ratio:>9.2f}x",
            flush=True,
        )
    small, large = min(runs), max(runs)
    if small != large:
        print(f"run at {large} seasons / run at {small} season(s): {runs[large] / runs[small]:.2f}x (target <= 1.2x)")

    canary = [sys.executable, "-c", "from pipeline_canary.cli import main; main()"]
    config_path = str(configs[large].source)
    run_cmd = [*canary, "run", "--config", config_path, "--no-alert", "--now", NOW.isoformat()]
    gx_import = cold([sys.executable, "-c", "import great_expectations"], 5)
    cold_run = cold(run_cmd, 5)
    print(
        f"cold `canary run` {cold_run:.2f}s / `import great_expectations` {gx_import:.2f}s: "
        f"{cold_run / gx_import:.2f}x (target <= 1.3x)"
    )
    print(f"peak RSS of `canary run` at {large} seasons: {peak_rss_mib(run_cmd):.0f} MiB (target < 400 MiB)")


if __name__ == "__main__":
    main()
