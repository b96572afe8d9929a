"""Soak: 500 scheduled runs back to back in one process; RSS, threads and connections, start vs end.

    python bench/soak.py [--runs 500] [--warmup 20] [--dir /tmp/canary-soak]

Seeds the healthy demo warehouse, starts the service with every checkpoint on a tiny interval
(runs follow each other with no idle time) and samples after ``--warmup`` runs (GX imported, GX
context and thread pools built: the start of steady state) and again after ``--runs`` more.
Data Docs are not rebuilt here (their cost grows with history and is a reports concern). Exits 1
if RSS grew by 10% or more, or threads or open connections (file descriptors on the warehouse and
the state store, sockets) are not back where they started.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from pipeline_canary.config import load_config
from pipeline_canary.scheduler.service import Service

NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def connections(root: Path) -> dict[str, int]:
    """Open file descriptors by what they point at."""
    counts = {"warehouse": 0, "state": 0, "sockets": 0, "other": 0}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(root)) and ".duckdb" in target:
            counts["warehouse"] += 1
        elif target.startswith(str(root)) and "state.sqlite" in target:
            counts["state"] += 1
        elif target.startswith("socket:"):
            counts["sockets"] += 1
        else:
            counts["other"] += 1
    return counts


def quiesce(svc: Service) -> None:
    """Pause the schedule and wait until no run is in flight, so counts are not caught mid-run."""
    if svc.scheduler.running:
        svc.scheduler.pause()
    quiet_since = None
    while True:
        busy = any(s.running_since for s in svc.states.values()) or any(
            t.name.startswith("canary-run-") for t in threading.enumerate()
        )
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 0.5:
            return
        time.sleep(0.02)


def sample(label: str, svc: Service, root: Path) -> dict[str, object]:
    quiesce(svc)
    runs = sum(s.runs for s in svc.states.values())
    data: dict[str, object] = {
        "runs": runs,
        "rss_mib": round(rss_mib(), 1),
        "python_threads": threading.active_count(),
        "os_threads": os_threads(),
        "fds": connections(root),
    }
    print(f"{label:>6}: " + "  ".join(f"{k}={v}" for k, v in data.items()), flush=True)
    if svc.running:
        svc.scheduler.resume()
    return data


def wait_runs(svc: Service, target: int) -> None:
    while sum(s.runs for s in svc.states.values()) < target:
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: max instances" by design

    root = (args.dir or Path(tempfile.mkdtemp(prefix="canary-soak-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    warehouse = root / "warehouse.duckdb"
    if not warehouse.exists():
        from pipeline_canary.demo import seed

        seed(warehouse, scenario="healthy", seasons=1, now=NOW)
    (root / "canary.toml").write_text(
        f'[warehouse]\npath = "{warehouse}"\n[gx]\nproject_dir = "{root / "gx"}"\nbuild_docs = false\n'
        f'[state]\npath = "{root / "state.sqlite"}"\n[schedule]\ninterval_minutes = 0.001\n',
        encoding="utf-8",
    )
    config = load_config(root / "canary.toml", env={})
    svc = Service(config, clock=lambda: NOW)
    print(f"soak: {args.runs} scheduled runs after {args.warmup} warm-up runs, in {root}", flush=True)
    svc.start()
    wait_runs(svc, args.warmup)
    start = sample("start", svc, root)
    began = time.perf_counter()
    wait_runs(svc, int(start["runs"]) + args.runs)  # type: ignore[call-overload]
    elapsed = time.perf_counter() - began
    end = sample("end", svc, root)
    svc.shutdown(grace_s=30)
    after = sample("after shutdown", svc, root)

    growth = (float(end["rss_mib"]) / float(start["rss_mib"]) - 1) * 100  # type: ignore[arg-type]
    outcomes: dict[str, str | None] = {n: s.last_outcome for n, s in svc.states.items()}
    print(f"runs: {int(end['runs']) - int(start['runs'])} in {elapsed:.1f}s "  # type: ignore[call-overload]
          f"({elapsed / args.runs * 1000:.0f} ms each); last outcomes {outcomes}")  # fmt: skip
    print(f"RSS growth: {growth:+.1f}% ({start['rss_mib']} -> {end['rss_mib']} MiB)")
    leaks = []
    if growth >= 10:
        leaks.append(f"RSS grew {growth:.1f}%")
    for key in ("python_threads", "os_threads", "fds"):
        if end[key] != start[key]:
            leaks.append(f"{key}: {start[key]} -> {end[key]}")
    print("OK: growth under 10%, no leaked threads or connections" if not leaks else "LEAK: " + "; ".join(leaks))
    del after
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
