"""Dashboard build time after 10 and after 10,000 stored runs (the ratio should stay under 2x).

    python bench/docs.py [--runs 10 10000] [--repeat 3]

For each size, in a fresh folder: four real GX validations (one per checkpoint, on synthetic metric
frames) serve as templates; N runs are written straight into the history (``record_run`` with
synthetic RunResults, 15 minutes apart, with failure streaks) and N x 4 GX validation results are
synthesised from the templates, as if every run had stored its result. Then:

- catch-up: the first ``build_site`` (GX prunes its store to the newest results per checkpoint and
  renders the missing pages; paid once after an upgrade, not per run),
- steady state: one more run is recorded (history row + GX results) and the site is built again,
  as ``canary run`` + ``canary docs build`` would; the median of ``--repeat`` builds is reported.

The ratio compares the steady-state builds. Exit status 1 when it is 2x or more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from pipeline_canary.canaries import registry
from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.results import CheckpointResult, CheckResult, Outcome, RunResult

END = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)
STEP = dt.timedelta(minutes=15)


def make_config(root: Path) -> CanaryConfig:
    path = root / "canary.toml"
    path.write_text(
        '[warehouse]\npath = "wh.duckdb"\n[gx]\nproject_dir = "gx"\n[state]\npath = "state.sqlite"\n'
        "retention_days = 400\n",
        encoding="utf-8",
    )
    return load_config(path, env={})


def templates(config: CanaryConfig) -> dict[str, tuple[dict[str, Any], str]]:
    """One real GX validation result per checkpoint: (its JSON, its batch file name)."""
    import pandas as pd

    from pipeline_canary.checkpoints.runner import gx_project

    project = gx_project(config)
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for canary in registry.all():
        settings = config.settings_for(canary.name)
        frame = pd.DataFrame([{spec.metric: 1.0 for spec in canary.checks(settings)}])
        project.run(project.checkpoint(canary, settings), frame, "template", dt.datetime.now(dt.UTC))
    store = config.gx.project_dir / "uncommitted" / "validations"
    for path in store.rglob("*.json"):
        suite = path.relative_to(store).parts[0]
        out[suite] = (json.loads(path.read_text()), path.name)
        path.unlink()
    return out


def synthetic_run(
    i: int, now: dt.datetime, config: CanaryConfig, tpl: dict[str, tuple[dict[str, Any], str]]
) -> RunResult:
    """A run with a failure streak now and then, and its GX validation results on disk."""
    run_id = f"{now:%Y%m%dT%H%M%SZ}-{i:06d}"
    failing = (i // 40) % 5 == 0  # 40-run streaks
    store = config.gx.project_dir / "uncommitted" / "validations"
    site = config.gx.project_dir / "uncommitted" / "data_docs" / "local_site" / "validations"
    checkpoints = []
    for canary in registry.all():
        data, batch = tpl[canary.name]
        data["meta"]["run_id"] = {"run_name": run_id, "run_time": now.isoformat()}
        folder = Path(canary.name, run_id, now.strftime("%Y%m%dT%H%M%S.%fZ"))
        (store / folder).mkdir(parents=True, exist_ok=True)
        (store / folder / batch).write_text(json.dumps(data), encoding="utf-8")
        outcome = Outcome.FAILED if failing and canary.name == "feature_contamination" else Outcome.PASSED
        value = 20.0 + i % 7 if outcome is Outcome.FAILED else float(i % 4)
        spec = canary.checks(config.settings_for(canary.name))[0]
        checkpoints.append(
            CheckpointResult(
                name=canary.name,
                outcome=outcome,
                checks=(CheckResult(spec.name, outcome, "synthetic", value, spec.threshold, spec.metric),),
                message="synthetic",
                metrics={spec.metric: value, "active_predictions": 5000.0 + i % 100},
                bytes_processed=10_000_000 + i,
                duration_s=0.2,
                docs_path=str(site / folder / batch.replace(".json", ".html")),
            )
        )
    return RunResult(run_id, now.date(), now, tuple(checkpoints), duration_s=1.0)


def bench(runs: int, repeat: int) -> dict[str, float]:
    from pipeline_canary.reports import build_site
    from pipeline_canary.state import open_state
    from pipeline_canary.state.history import record_run

    with tempfile.TemporaryDirectory(prefix=f"canary-bench-{runs}-") as tmp:
        config = make_config(Path(tmp))
        tpl = templates(config)
        state = open_state(config)
        started = time.perf_counter()
        for i in range(runs):
            record_run(state, synthetic_run(i, END - (runs - i) * STEP, config, tpl))
        seeded = time.perf_counter() - started
        os.sync()  # the timed builds should not wait behind the seeding's own disk writeback
        started = time.perf_counter()
        build_site(config)
        catch_up = time.perf_counter() - started
        os.sync()
        steady, dashboard_only = [], []
        for k in range(repeat):
            record_run(state, synthetic_run(runs + k, END + k * STEP, config, tpl))
            os.sync()
            started = time.perf_counter()
            build_site(config)
            steady.append(time.perf_counter() - started)
            started = time.perf_counter()
            build_site(config, build_gx=False)
            dashboard_only.append(time.perf_counter() - started)
        validations = sum(1 for _ in (config.gx.project_dir / "uncommitted" / "validations").rglob("*.json"))
    return {
        "seed_s": seeded,
        "catch_up_s": catch_up,
        "build_s": statistics.median(steady),
        "dashboard_only_s": statistics.median(dashboard_only),
        "gx_results_kept": validations,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs=2, default=[10, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import great_expectations  # noqa: F401  - pay the import before timing anything

    bench(args.runs[0], 1)  # warm-up: first renders compile templates on both sides
    results = {n: bench(n, args.repeat) for n in args.runs}
    small, large = args.runs
    print(f"{'runs':>7} {'seed':>8} {'catch-up':>9} {'build':>8} {'dashboard':>10} {'GX results':>11}")
    for n, r in results.items():
        print(
            f"{n:>7} {r['seed_s']:>7.2f}s {r['catch_up_s']:>8.2f}s {r['build_s']:>7.3f}s "
            f"{r['dashboard_only_s']:>9.3f}s {r['gx_results_kept']:>11}"
        )
    ratio = results[large]["build_s"] / results[small]["build_s"]
    dash_ratio = results[large]["dashboard_only_s"] / results[small]["dashboard_only_s"]
    print(f"build after {large} runs / after {small} runs: {ratio:.2f}x (dashboard alone {dash_ratio:.2f}x)")
    print("OK: under 2x" if ratio < 2 else "SLOW: 2x or more")
    return 0 if ratio < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
