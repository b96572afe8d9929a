"""Benchmark: start-up of `canary --help` and `canary list`, with no canary files and with 40.

Prints the median wall time of each command over ``python -c pass`` (the floor, measured in the
same run, alternating with the commands so a burst of load hits every side of a ratio):

  * `canary --help` and `canary list` with 40 canary files (target: each within 4x the floor);
  * `canary list` with 40 files over `canary list` with none (target: about 1x: canary files cost
    nothing measurable until a run needs their SQL; `list` never parses it).

Usage: python bench/startup.py [--reps 15] [--files 40]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CANARY = [sys.executable, "-c", "from pipeline_canary.cli import main; main()"]


def example() -> str:
    sys.path.insert(0, str(REPO))
    from tests.canary_files.example import worked_example

    return worked_example()[1]


def project(root: Path, files: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    folder = root / "canaries"
    folder.mkdir(exist_ok=True)
    text = example()
    for i in range(files):
        (folder / f"check_{i:02d}.toml").write_text(text, encoding="utf-8")
    (root / "canary.toml").write_text('[canaries]\npaths = ["canaries"]\n', encoding="utf-8")
    return root


def timed(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--files", type=int, default=40)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="canary-startup-") as tmp:
        empty = project(Path(tmp) / "none", 0)
        full = project(Path(tmp) / "many", opts.files)
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], empty),
            "canary --help": ([*CANARY, "--help"], full),
            "canary list (0 files)": ([*CANARY, "list"], empty),
            f"canary list ({opts.files} files)": ([*CANARY, "list"], full),
        }
        for args, cwd in cases.values():  # warm the file cache and the bytecode
            timed(args, cwd)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(opts.reps):
            for name, (args, cwd) in cases.items():
                samples[name].append(timed(args, cwd))
    median = {name: statistics.median(values) for name, values in samples.items()}
    floor = median["python -c pass"]
    for name, value in median.items():
        print(f"{name:<24} {value * 1000:8.1f} ms  {value / floor:6.2f}x python -c pass")
    many = f"canary list ({opts.files} files)"
    for name in ("canary --help", many):
        print(f"{name} / python -c pass: {median[name] / floor:.2f}x (target <= 4x)")
    print(f"{many} / canary list (0 files): {median[many] / median['canary list (0 files)']:.2f}x (target about 1x)")


if __name__ == "__main__":
    main()
