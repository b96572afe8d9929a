"""Benchmark: GX validation of 40 canaries in one run vs. 4 canaries validated 10 times.

A run validates each canary's metrics through its GX checkpoint as the observations arrive. This
checks that the cost per canary stays flat as a run grows (no step that is super-linear in the
number of canaries: suites, checkpoints, stores): on the demo warehouse, with 40 canary files,

  * the observations are collected once (the SQL is not what is measured);
  * ``validate()`` of all 40, against ``validate()`` of 4 of them, 10 times (the same 40 validations);
  * both after a warm-up, alternating, the median of ``--reps`` repetitions of each.

Prints the ratio 40 / (4 x 10) (target <= 2) and, for scale, a whole warm run of the 40 canaries.

Usage: python bench/gx_scaling.py [--reps 5] [--files 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)


def setup(root: Path, files: int) -> Any:
    sys.path.insert(0, str(REPO))
    from pipeline_canary.config import load_config
    from pipeline_canary.demo import seed
    from tests.canary_files.example import worked_example

    seed(root / "warehouse.duckdb", scenario="healthy", now=NOW)
    folder = root / "canaries"
    folder.mkdir()
    text = worked_example()[1]
    for i in range(files):
        (folder / f"check_{i:02d}.toml").write_text(text, encoding="utf-8")
    (root / "canary.toml").write_text(
        '[warehouse]\npath = "warehouse.duckdb"\n[gx]\nproject_dir = "gx"\nbuild_docs = false\n'
        '[state]\npath = "state.sqlite"\n[canaries]\npaths = ["canaries"]\n',
        encoding="utf-8",
    )
    return load_config(root / "canary.toml", env={})


def collect_all(config: Any, names: list[str]) -> list[Any]:
    from pipeline_canary.canaries.base import CheckContext
    from pipeline_canary.checkpoints.runner import collect
    from pipeline_canary.game_calendar import RunCalendar
    from pipeline_canary.warehouse import connect_pipeline

    warehouse = connect_pipeline(config)
    calendar = RunCalendar()
    ctx = CheckContext(
        warehouse=warehouse, pipeline=config.pipeline, as_of=NOW.date(), now=NOW, calendar_source=calendar
    )
    collected = [collect(config.catalogue.get(n), config.settings_for(n), ctx) for n in names]
    assert all(c.observation is not None and not c.observation.error for c in collected), collected
    return collected


def validate_all(config: Any, collected: list[Any]) -> float:
    from pipeline_canary.checkpoints.runner import gx_project
    from pipeline_canary.checkpoints.validate import validate

    project = gx_project(config)
    project.prepare([(c.canary, c.settings) for c in collected])
    started = time.perf_counter()
    for c in collected:
        result = validate(project, c, f"bench-{time.monotonic_ns()}", NOW)
        assert result.checks, result.message  # validated by GX, not skipped
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--files", type=int, default=40)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="canary-gx-scaling-") as tmp:
        config = setup(Path(tmp), opts.files)
        names = [c.name for c in config.catalogue.files()]
        collected = collect_all(config, names)
        small = collected[:4]
        validate_all(config, collected)  # warm-up: GX imports, every suite and checkpoint written once
        many, few = [], []
        for _ in range(opts.reps):
            many.append(validate_all(config, collected))
            few.append(sum(validate_all(config, small) for _ in range(len(collected) // len(small))))
        from pipeline_canary.checkpoints.runner import run_checkpoints

        run_checkpoints(config, names, as_of=NOW.date(), now=NOW)
        started = time.perf_counter()
        run_checkpoints(config, names, as_of=NOW.date(), now=NOW)
        whole = time.perf_counter() - started
    m, f, n = statistics.median(many), statistics.median(few), len(collected)
    print(f"validate {n} canaries in one run: {m * 1000:8.1f} ms ({m / n * 1000:.1f} ms each)")
    print(f"validate 4 canaries x {n // 4}:        {f * 1000:8.1f} ms ({f / n * 1000:.1f} ms each)")
    print(f"ratio {len(collected)} / (4 x {len(collected) // 4}): {m / f:.2f}x (target <= 2x)")
    print(f"a whole warm run of the {len(collected)} canaries (SQL, calendar, GX): {whole:.2f} s")


if __name__ == "__main__":
    main()
