"""One coherent layout: each command says which configuration it uses, and the repository's own
canary.toml and the demo's (canary-demo/canary.toml) share no warehouse, state file or dashboard.

Runs in a copy of the repository's canary.toml and gx/ (tests never write into the repository).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pipeline_canary.config import load_config
from pipeline_canary.reports import docs_root
from tests.cli.test_cli import canary

REPO = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_the_repository_config_and_the_demo_share_nothing(tmp_path: Path) -> None:
    root = tmp_path / "clone"
    root.mkdir()
    shutil.copy(REPO / "canary.toml", root / "canary.toml")
    shutil.copytree(REPO / "gx", root / "gx")

    demo = canary("demo", "--history-days", "1", cwd=root)
    assert demo.returncode == 1, demo.stderr
    demo_config = root / "canary-demo" / "canary.toml"
    assert demo.stdout.splitlines()[0] == (
        f"config: {demo_config} (warehouse: duckdb {root / 'canary-demo' / 'warehouse.duckdb'}; "
        f"state: {root / 'canary-demo' / 'state.sqlite'}; gx: {root / 'canary-demo' / 'gx'})"
    )
    ours, theirs = load_config(root / "canary.toml", env={}), load_config(demo_config, env={})
    assert ours.warehouse.path != theirs.warehouse.path
    assert ours.state.path != theirs.state.path
    assert docs_root(ours) != docs_root(theirs)
    before = snapshot(root / "canary-demo")

    # A plain `canary run` from the root uses the repository's file, whose warehouse is not seeded yet.
    run = canary("run", cwd=root)
    assert run.returncode == 3, run.stderr
    assert run.stdout.splitlines()[0].startswith(
        f"config: {root / 'canary.toml'} (warehouse: duckdb {root / '.canary' / 'warehouse.duckdb'}; "
    )
    assert "`canary demo --config FILE` seeds the one a configuration file names" in run.stdout
    assert (root / ".canary" / "state.sqlite").is_file()  # that run's errored checkpoints are history
    seed = canary("demo", "--config", "canary.toml", "--history-days", "1", "--json", cwd=root)
    assert seed.returncode == 1, seed.stderr
    assert json.loads(seed.stdout)["demo"]["config"] == "canary.toml"  # --json: no config line, a field
    run = canary("run", cwd=root)
    assert run.returncode in (0, 1), run.stderr
    assert (root / "gx" / "uncommitted" / "data_docs" / "index.html").is_file()

    # The repository's runs wrote nothing of the demo's: its GX results, pages and dashboard are as they were.
    assert snapshot(root / "canary-demo") == before, "the repository's runs touched the demo's folder"
    assert (docs_root(theirs) / "index.html").is_file()


def test_demo_with_a_config_refuses_a_warehouse_it_did_not_seed(tmp_path: Path) -> None:
    import duckdb

    warehouse = tmp_path / "real.duckdb"
    duckdb.connect(str(warehouse)).close()
    (tmp_path / "canary.toml").write_text(f'[warehouse]\npath = "{warehouse}"\n', encoding="utf-8")
    done = canary("demo", "--config", str(tmp_path / "canary.toml"), cwd=tmp_path)
    assert done.returncode == 2 and "is not a demo warehouse" in done.stderr, done.stderr
    assert warehouse.stat().st_size > 0 and not (tmp_path / "real.seed.json").exists()
    both = canary("demo", "--config", str(tmp_path / "canary.toml"), "--dir", "x", cwd=tmp_path)
    assert both.returncode == 2 and "give --dir or --config, not both" in both.stderr


def test_the_config_line_heads_human_output_only(tmp_path: Path) -> None:
    (tmp_path / "canary.toml").write_text('[warehouse]\npath = "wh.duckdb"\n', encoding="utf-8")
    line = (
        f"config: {tmp_path / 'canary.toml'} (warehouse: duckdb {tmp_path / 'wh.duckdb'}; "
        f"state: {tmp_path / 'canary-demo' / 'state.sqlite'}; gx: {tmp_path / 'canary-demo' / 'gx'})"
    )
    for args in (["list"], ["alerts", "status"], ["staging", "list"], ["doctor"]):
        done = canary(*args, cwd=tmp_path)
        assert done.stdout.splitlines()[0] == line, (args, done.stdout, done.stderr)
    listed = canary("list", "--json", cwd=tmp_path)
    assert json.loads(listed.stdout) and "config:" not in listed.stdout
    broken = canary("list", "--config", "missing.toml", cwd=tmp_path)
    assert broken.returncode == 2 and broken.stdout == ""  # the error alone, on stderr
