"""Benchmark: a backtest's wall time over that of one ordinary run, in the same process.

Seeds the demo warehouse (1 season, ``--scenario``, clock 2026-02-08 23:00 UTC), warms GX with one
run, then prints:
  * run: one ordinary in-process run of every built-in checkpoint (GX validation, no docs build),
    median of ``--reps``;
  * backtest: ``--days`` days at ``--every`` minutes ending at the seed's clock (carrying results
    forward between change points), its steps, canary evaluations and wall time;
  * backtest / run: the ratio (issue 17's target: <= 60x for 60 days at 30 minutes; running every
    canary at every step would be about steps x 1);
  * with ``--full-days N``: the same for N days without carrying forward, for comparison.

Usage: python bench/backtest.py [--days 60] [--every 30] [--scenario healthy] [--full-days 2] [--out bench/out]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

from pipeline_canary.backtest import run_backtest
from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig, load_config

NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 2, 8)


def _config(root: Path, scenario: str) -> CanaryConfig:
    from pipeline_canary.demo import seed

    warehouse = root / f"{scenario}.duckdb"
    if not warehouse.exists():
        seed(warehouse, scenario=scenario, seasons=1, now=NOW)
    path = root / "canary.toml"
    path.write_text(
        f'[warehouse]\npath = "{warehouse}"\n[gx]\nproject_dir = "{root / "gx"}"\nbuild_docs = false\n'
        f'[state]\npath = "{root / "state.sqlite"}"\n',
        encoding="utf-8",
    )
    return load_config(path, env={})


def _backtest(config: CanaryConfig, days: int, every: dt.timedelta, carry: bool) -> tuple[float, int, str, int]:
    started = time.perf_counter()
    result = run_backtest(config, AS_OF - dt.timedelta(days=days - 1), AS_OF, every=every, until=NOW, carry=carry)
    validated = result.evaluations if result.gx_validations is None else result.gx_validations
    series = getattr(result, "series_observations", 0)
    evaluations = f"{result.evaluations} canary evaluations ({series} observed set-wise, {validated} GX validations)"
    return time.perf_counter() - started, result.steps, evaluations, len(result.incidents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--every", type=int, default=30, help="minutes")
    parser.add_argument("--scenario", default="healthy")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--full-days", type=int, default=0, help="also backtest N days without carrying forward")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    root = args.out / "backtest"
    root.mkdir(parents=True, exist_ok=True)
    config = _config(root, args.scenario)
    every = dt.timedelta(minutes=args.every)

    run_checkpoints(config, now=NOW, build_docs=False)  # warm: GX import, context, suites
    _backtest(config, 1, every, True)  # warm the sandbox GX project too
    runs = []
    for _ in range(args.reps):
        started = time.perf_counter()
        run_checkpoints(config, now=NOW, build_docs=False)
        runs.append(time.perf_counter() - started)
    one = statistics.median(runs)
    print(f"run (median of {args.reps}):                      {one * 1000:8.1f} ms")
    spent, steps, evaluations, incidents = _backtest(config, args.days, every, True)
    print(
        f"backtest {args.days} days @ {args.every} min ({args.scenario}): {spent:8.2f} s  "
        f"{steps} steps, {evaluations} of {steps * 4}, {incidents} incidents"
    )
    print(f"backtest / run:                               {spent / one:8.1f}x  (target <= 60x at 60 days)")
    if args.full_days:
        spent, steps, evaluations, _ = _backtest(config, args.full_days, every, False)
        ratio = spent / one
        print(
            f"every step, {args.full_days} days: {spent:8.2f} s, {steps} steps, {evaluations}, "
            f"{ratio:.1f}x one run ({ratio / steps:.2f}x per step)"
        )


if __name__ == "__main__":
    main()
