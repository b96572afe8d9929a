"""Benchmark: how much slower is ``schema-gate`` than starting Python at all?

Generates a 100-field contract and a 120-column ``bq show --schema`` file in a temporary directory,
then times ``python -m pipeline_canary.cli.schema_gate`` and ``python -c pass`` alternately in one
loop and prints both medians and their ratio (target: under 4x).

    python bench/schema_gate.py [-n RUNS]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TYPES = ("STRING", "INT64", "FLOAT64", "NUMERIC", "BOOL", "DATE", "TIMESTAMP", "JSON")
TARGET_RATIO = 4.0


def write_inputs(directory: Path) -> tuple[Path, Path]:
    columns = [
        {"name": f"col_{i:03d}", "type": TYPES[i % len(TYPES)], "mode": "REQUIRED" if i < 5 else "NULLABLE"}
        for i in range(118)
    ]
    columns.append({"name": "tags", "type": "STRING", "mode": "REPEATED"})
    columns.append(
        {"name": "meta", "type": "RECORD", "fields": [{"name": "a", "type": "INT64"}, {"name": "b", "type": "STRING"}]}
    )
    contract = [dict(c) for c in columns[:98]] + [
        {"name": "new_a", "type": "STRING"},
        {"name": "new_b", "type": "INT64"},
    ]
    contract_path, schema_path = directory / "contract.json", directory / "table_schema.json"
    contract_path.write_text(json.dumps(contract, indent=2))
    schema_path.write_text(json.dumps(columns, indent=2))
    return contract_path, schema_path


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        contract, schema = write_inputs(Path(tmp))
        gate = [sys.executable, "-m", "pipeline_canary.cli.schema_gate", "--contract", str(contract)]
        gate += ["--schema-file", str(schema), "--table-name", "proj-123.ds.tbl", "--format", "json"]
        baseline = [sys.executable, "-c", "pass"]
        check = subprocess.run(gate, capture_output=True, text=True, check=False)
        if check.returncode != 1:  # the generated contract adds two columns: the gate must fail
            print(f"unexpected exit {check.returncode}: {check.stderr.strip()}", file=sys.stderr)
            return 2
        timed(gate), timed(baseline)  # warm the filesystem caches
        gate_times, base_times = [], []
        for _ in range(args.runs):
            gate_times.append(timed(gate))
            base_times.append(timed(baseline))
    gate_ms, base_ms = statistics.median(gate_times) * 1000, statistics.median(base_times) * 1000
    ratio = gate_ms / base_ms
    print(f"runs:                {args.runs}")
    print(f"python -c pass:      {base_ms:7.1f} ms (median)")
    print(f"schema-gate:         {gate_ms:7.1f} ms (median, 100-field contract vs 120 columns)")
    print(
        f"ratio:               {ratio:7.2f}x (target < {TARGET_RATIO:.0f}x) {'OK' if ratio < TARGET_RATIO else 'SLOW'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
