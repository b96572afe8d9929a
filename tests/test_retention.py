"""Every run applies retention: run history and GX's stored results stay bounded with or without Data Docs."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.checkpoints import gx_project as gx_module
from pipeline_canary.checkpoints.runner import gx_project
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import CheckpointResult, CheckResult, EvidenceTable, Outcome, RunResult
from pipeline_canary.session import _retention_sink, execute
from pipeline_canary.state import history as history_module
from pipeline_canary.state import open_state
from pipeline_canary.state.history import history, latest_run_time, record_run
from pipeline_canary.state.sqlite import forget_state
from tests.conftest import AS_OF, NOW

KEPT = 3
RETENTION = "retention_days = 2\n"
# A run every 12 hours over four days, oldest first (as the service runs them): nine runs.
TIMES = [NOW - dt.timedelta(hours=12 * i) for i in range(8, -1, -1)]


def run_times(config: CanaryConfig) -> list[dt.datetime]:
    rows = open_state(config).read().execute("SELECT now FROM runs ORDER BY now").fetchall()
    return [dt.datetime.fromisoformat(r["now"]) for r in rows]


def stored_results(config: CanaryConfig) -> Counter[str]:
    """GX validation result files per checkpoint (``validations/<suite>/<run>/<time>/<batch>.json``)."""
    store = config.gx.project_dir / "uncommitted" / "validations"
    return Counter(p.relative_to(store).parts[0] for p in store.rglob("*.json"))


def empty_folders(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_dir() and not any(p.iterdir())]


def test_runs_without_data_docs_prune_history_and_gx_results(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gx_module, "VALIDATION_RESULTS_KEPT", KEPT)
    config = make_config(seeded("healthy"), extra=RETENTION)  # make_config writes [gx] build_docs = false
    assert not config.gx.build_docs and config.state.retention_days == 2

    for now in TIMES:
        result = execute(config, alert=False, now=now, as_of=AS_OF)
        assert result.docs_index is None
        assert any(cp.checks for cp in result.checkpoints), "the run validated with GX"

    cutoff = NOW - dt.timedelta(days=2)
    assert run_times(config) == [t for t in TIMES if t >= cutoff]  # 5 of 9: anchored on the newest run
    stored = stored_results(config)
    assert stored, "GX stored validation results"
    assert max(stored.values()) == KEPT, stored
    assert not empty_folders(config.gx.project_dir / "uncommitted" / "validations")
    assert not list((config.gx.project_dir / "uncommitted" / "data_docs").rglob("*.html")), "no docs were built"
    assert gx_project(config).prune_results() == 0, "nothing left to prune"


def test_prune_results_counts_what_it_removes(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(seeded("healthy"))
    for now in TIMES[-4:]:
        execute(config, alert=False, now=now, as_of=AS_OF)
    before = stored_results(config)
    assert before and max(before.values()) == 4  # under the default cap nothing went

    monkeypatch.setattr(gx_module, "VALIDATION_RESULTS_KEPT", 1)
    assert gx_project(config).prune_results() == sum(n - 1 for n in before.values())
    assert stored_results(config) == Counter(dict.fromkeys(before, 1))
    assert not empty_folders(config.gx.project_dir / "uncommitted" / "validations")


def test_runs_with_data_docs_are_unchanged(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gx_module, "VALIDATION_RESULTS_KEPT", KEPT)
    config = make_config(seeded("healthy"), extra=RETENTION)
    times = TIMES[::2]  # every 24 hours over four days: five runs, each building the docs
    for now in times:
        result = execute(config, alert=False, now=now, as_of=AS_OF, build_docs=True)
        assert result.docs_index is not None and Path(result.docs_index).is_file()

    assert run_times(config) == [t for t in times if t >= NOW - dt.timedelta(days=2)]
    stored = stored_results(config)
    assert stored and max(stored.values()) == KEPT, stored
    site = config.gx.project_dir / "uncommitted" / "data_docs" / "local_site" / "validations"
    pages = Counter(p.relative_to(site).parts[0] for p in site.rglob("*.html"))
    assert pages == stored, "a page for every kept result, none for pruned ones"
    assert (config.gx.project_dir / "uncommitted" / "data_docs" / "index.html").is_file(), "the dashboard was built"


def test_errored_runs_apply_history_retention_without_opening_gx(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("healthy"), extra=RETENTION)
    state = open_state(config)
    for now in TIMES:  # every checkpoint errored before GX, e.g. the warehouse was unreachable
        result = RunResult(
            run_id=now.strftime("%Y%m%dT%H%M%SZ"),
            as_of=AS_OF,
            now=now,
            checkpoints=(CheckpointResult.errored("prediction_gap", "could not run: unreachable"),),
        )
        record_run(state, result)
        _retention_sink(config, result)

    assert latest_run_time(state) == NOW
    assert run_times(config) == [t for t in TIMES if t >= NOW - dt.timedelta(days=2)]
    assert not config.gx.project_dir.exists(), "GX's project was never opened"


def test_a_run_with_a_future_now_does_not_empty_the_real_history(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("healthy"), extra=RETENTION)
    state = open_state(config)
    real = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    future = real + dt.timedelta(days=365)  # a mistyped --now
    for now in (real, future):
        result = RunResult(
            run_id=now.strftime("%Y%m%dT%H%M%SZ"),
            as_of=now.date(),
            now=now,
            checkpoints=(CheckpointResult.errored("prediction_gap", "could not run: unreachable"),),
        )
        record_run(state, result)
        _retention_sink(config, result)
    assert run_times(config) == [real, future], "retention anchored on the future run"


def _evidence_run(now: dt.datetime, rows: int) -> RunResult:
    tables = [{"table": f"_staging_batch_{i:05d}_worker_{'w' * 60}", "age_hours": 30.0} for i in range(rows)]
    cp = CheckpointResult(
        name="orphaned_staging_tables",
        outcome=Outcome.FAILED,
        checks=(CheckResult("no_orphaned_tables", Outcome.FAILED, "", evidence_tables=("orphaned_tables",)),),
        evidence={"orphaned_tables": EvidenceTable.of(tables, 1000, total=5000)},
    )
    return RunResult(run_id=f"r{now:%Y%m%d%H%M}", as_of=AS_OF, now=now, checkpoints=(cp,))


def stored_evidence(config: CanaryConfig) -> list[tuple[str, int | None]]:
    rows = open_state(config).read().execute("SELECT now, length(evidence) AS n FROM checkpoint_results ORDER BY now")
    return [(r["now"], r["n"]) for r in rows.fetchall()]


def test_history_keeps_bounded_evidence_for_the_newest_runs_only(
    make_config: Callable[..., CanaryConfig], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "EVIDENCE_RUNS", 3)
    config = make_config(tmp_path / "none.duckdb")
    state = open_state(config)
    times = [NOW - dt.timedelta(minutes=15 * i) for i in range(40, -1, -1)]  # every 15 minutes, oldest first
    for now in times:
        record_run(state, _evidence_run(now, rows=1000))  # ~100 KB of rows a run, before the bounds
    stored = stored_evidence(config)
    assert len(stored) == len(times)
    kept = [n for _, n in stored if n is not None]
    assert len(kept) == 3 and all(n <= history_module.EVIDENCE_BYTES for n in kept), kept
    assert [n for _, n in stored[:-3]] == [None] * (len(times) - 3)  # outcomes and metrics stay
    [latest] = history(state, "orphaned_staging_tables", limit=1)
    table = latest.evidence["orphaned_tables"]
    assert table.total == 5000 and 0 < len(table) < 1000 and table[0]["table"].startswith("_staging_batch_00000")
    assert state.path.stat().st_size < 2 * 1024 * 1024


def test_an_older_state_file_gains_the_evidence_column(
    make_config: Callable[..., CanaryConfig], tmp_path: Path
) -> None:
    config = make_config(tmp_path / "none.duckdb")
    with sqlite3.connect(config.state.path) as conn:  # history as it was before results kept evidence
        conn.executescript(
            "CREATE TABLE checkpoint_results (run_id TEXT NOT NULL, checkpoint TEXT NOT NULL, now TEXT NOT NULL,"
            " as_of TEXT NOT NULL, outcome TEXT NOT NULL, message TEXT NOT NULL, metrics TEXT NOT NULL,"
            " checks TEXT NOT NULL, bytes_processed INTEGER, duration_s REAL NOT NULL, docs_path TEXT,"
            " PRIMARY KEY (run_id, checkpoint));"
            "INSERT INTO checkpoint_results VALUES ('old', 'orphaned_staging_tables', '2026-02-01T00:00:00+00:00',"
            " '2026-02-01', 'passed', '', '{}', '[]', NULL, 0.1, NULL);"
        )
    forget_state(config.state.path)
    state = open_state(config)
    record_run(state, _evidence_run(NOW, rows=2))
    rows = history(state, "orphaned_staging_tables")
    assert [r.run_id for r in rows] == [f"r{NOW:%Y%m%d%H%M}", "old"]
    assert rows[0].evidence["orphaned_tables"].total == 5000 and rows[1].evidence == {}
