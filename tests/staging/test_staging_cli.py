"""``canary staging`` on the seeded ``incident`` warehouse: 668 orphans among production tables."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.cli import main
from pipeline_canary.config import CanaryConfig
from pipeline_canary.demo.staging import ORPHAN_COUNT, staging_plan
from pipeline_canary.results import Outcome
from pipeline_canary.session import execute
from pipeline_canary.staging.audit import audit_rows
from pipeline_canary.state import open_state
from tests.conftest import NOW
from tests.staging.builder import DAY, FRESH, SURVIVORS, build_warehouse, snapshot

Names = Callable[[Path], set[tuple[str, str]]]
ISO_NOW = NOW.isoformat()


def staging(capsys: pytest.CaptureFixture[str], config: CanaryConfig, *args: str) -> tuple[int, str, str]:
    """``canary staging ARGS --now NOW --config FILE`` in-process."""
    return cli(capsys, "staging", *args, "--now", ISO_NOW, "--config", str(config.source))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


@pytest.fixture
def plain(seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]) -> CanaryConfig:
    """A private copy of the incident warehouse as seeded."""
    return make_config(seeded("incident"), copy=True)


@pytest.fixture
def incident(plain: CanaryConfig) -> CanaryConfig:
    """The incident warehouse plus adversarial neighbours, 40 days old."""
    in_demo = {"player_prop_predictions", "staging_notes", FRESH}
    survivors = [(s, n) for s, n in SURVIVORS if n not in in_demo]
    build_warehouse(plain.warehouse.path, [(s, n, NOW - 40 * DAY) for s, n in survivors])
    return plain


def demo_orphans(config: CanaryConfig) -> set[tuple[str, str]]:
    plan = staging_plan(NOW, config.pipeline.timezone, orphans=True)
    return {("nba_predictions", name) for name, created, *_ in plan if NOW - created > DAY}


def test_dry_run_lists_the_668_and_changes_nothing(incident: CanaryConfig, capsys: pytest.CaptureFixture[str]) -> None:
    path = incident.warehouse.path
    before = snapshot(path)
    code, out, err = staging(capsys, incident, "cleanup", "--older-than", "24h")
    assert code == 0, err
    assert out.count("would drop ") == ORPHAN_COUNT
    assert "found 675 · planned 668 · dropped 0" in out and "dry run: nothing was changed" in out
    assert snapshot(path) == before
    assert audit_rows(open_state(incident)) == []


def test_execute_drops_exactly_the_orphans_then_the_checkpoint_passes(
    plain: CanaryConfig, capsys: pytest.CaptureFixture[str], table_names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_ACTOR", "ops@test")
    path = plain.warehouse.path
    before = table_names(path)
    started = time.perf_counter()
    code, out, err = staging(capsys, plain, "cleanup", "--older-than", "24h", "--execute")
    elapsed = time.perf_counter() - started
    assert code == 0, err
    assert before - table_names(path) == demo_orphans(plain)
    assert out.count("dropped  ") == ORPHAN_COUNT
    assert "found 671 · planned 668 · dropped 668 · expired 0 · skipped 3 · failed 0" in out and "by ops@test" in out
    rows = audit_rows(open_state(plain))
    assert len(rows) == ORPHAN_COUNT and {r.action for r in rows} == {"dropped"}
    assert {r.actor for r in rows} == {"ops@test"} and all(r.age_hours and r.age_hours > 24 for r in rows)
    print(f"668-table DuckDB sweep via the CLI: {elapsed:.1f}s")
    result = execute(plain, ["orphaned_staging_tables"], now=NOW, alert=False, build_docs=False)
    assert result.checkpoints[0].outcome is Outcome.PASSED, result.checkpoints[0].message
    # a second sweep finds nothing to do
    code, out, _ = staging(capsys, plain, "cleanup", "--execute")
    assert code == 0 and "planned 0" in out


def test_adversarial_neighbours_survive_an_executed_cleanup(
    incident: CanaryConfig, capsys: pytest.CaptureFixture[str], table_names: Names
) -> None:
    path = incident.warehouse.path
    before = table_names(path)
    code, _, err = staging(capsys, incident, "cleanup", "--older-than", "24h", "--execute")
    assert code == 0, err
    after = table_names(path)
    assert before - after == demo_orphans(incident)
    assert set(SURVIVORS) <= after
    neighbours = {("nba_predictions", n) for n in ("model_registry", "prediction_accuracy", "ml_feature_store_v2")}
    assert neighbours <= after and ("nba_reference", "nba_schedule") in after


def test_max_tables_refuses_with_exit_2(incident: CanaryConfig, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(incident.warehouse.path)
    code, _, err = staging(capsys, incident, "cleanup", "--execute", "--max-tables", "667")
    assert code == 2 and "refusing to touch 668 tables" in err
    assert snapshot(incident.warehouse.path) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--expire", "--execute"], "--expire is not supported on the duckdb backend"),
        (["--expire"], "--expire is not supported"),
        (["--older-than", "30m", "--execute"], "below the 1h minimum"),
        (["--older-than", "soon"], "invalid duration"),
        (["--max-tables", "0"], "--max-tables"),
    ],
)
def test_usage_errors_exit_2_and_change_nothing(
    incident: CanaryConfig, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    before = snapshot(incident.warehouse.path)
    code, _, err = staging(capsys, incident, "cleanup", *args)
    assert code == 2 and fragment in err and "Traceback" not in err
    assert snapshot(incident.warehouse.path) == before


def test_list_json(incident: CanaryConfig, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = staging(capsys, incident, "list", "--json")
    rows: list[dict[str, Any]] = json.loads(out)
    eligible = [r for r in rows if r["cleanup"] == "eligible"]
    assert code == 0 and len(eligible) == ORPHAN_COUNT
    assert all(r["batch_id"] and r["age_hours"] > 24 and r["rows"] is not None for r in eligible)
    kept = {r["table"]: r["cleanup"] for r in rows if r["cleanup"] != "eligible"}
    assert kept["_staging_"].startswith("kept: name is not")
    code, out, _ = staging(capsys, incident, "list", "--older-than", "7d")
    assert code == 0 and "older than 7d" in out


def test_cleanup_json(incident: CanaryConfig, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = staging(capsys, incident, "cleanup", "--json")
    data = json.loads(out)
    assert code == 0 and data["executed"] is False
    assert data["summary"] == {"found": 675, "planned": 668, "dropped": 0, "expired": 0, "skipped": 7, "failed": 0}


def test_auto_cleanup_after_the_checkpoint(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], table_names: Names
) -> None:
    config = make_config(
        seeded("incident"), copy=True, extra="[checkpoints.orphaned_staging_tables]\nauto_cleanup = true\n"
    )
    before = table_names(config.warehouse.path)
    first = execute(config, ["orphaned_staging_tables"], now=NOW, alert=False, build_docs=False)
    assert first.checkpoints[0].outcome is Outcome.FAILED
    assert before - table_names(config.warehouse.path) == demo_orphans(config)
    assert len(audit_rows(open_state(config))) == ORPHAN_COUNT
    second = execute(config, ["orphaned_staging_tables"], now=NOW, alert=False, build_docs=False)
    assert second.checkpoints[0].outcome is Outcome.PASSED


def test_auto_cleanup_is_off_by_default(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], table_names: Names
) -> None:
    config = make_config(seeded("incident"), copy=True)
    before = table_names(config.warehouse.path)
    execute(config, ["orphaned_staging_tables"], now=NOW, alert=False, build_docs=False)
    assert table_names(config.warehouse.path) == before


def test_a_failed_drop_exits_1_and_the_sweep_continues(
    plain: CanaryConfig, capsys: pytest.CaptureFixture[str], table_names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline_canary.errors import PermissionDeniedError
    from pipeline_canary.staging import sweep as sweep_module

    real_open = sweep_module.open_target
    victim: list[str] = []

    class Failing:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def recheck(self, candidate: Any) -> str | None:
            result: str | None = self.inner.recheck(candidate)
            return result

        def act(self, candidate: Any) -> str | None:
            if not victim:
                victim.append(candidate.table.name)
                raise PermissionDeniedError("missing bigquery.tables.delete")
            result: str | None = self.inner.act(candidate)
            return result

        def close(self) -> None:
            self.inner.close()

    monkeypatch.setattr(sweep_module, "open_target", lambda *a: Failing(real_open(*a)))
    code, out, _ = staging(capsys, plain, "cleanup", "--execute")
    assert code == 1
    assert "dropped 667 · expired 0 · skipped 3 · failed 1" in out
    assert f"failed   nba_predictions.{victim[0]}" in out and "missing bigquery.tables.delete" in out
    assert ("nba_predictions", victim[0]) in table_names(plain.warehouse.path)
    actions = [r.action for r in audit_rows(open_state(plain))]
    assert actions.count("failed") == 1 and actions.count("dropped") == 667


@pytest.mark.parametrize("prefix", ["", "_", "s_", "_stg_", "staging", "_staging", "%staging_", "_staging_%", "*_"])
def test_a_too_broad_prefix_is_refused_at_configuration_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], prefix: str
) -> None:
    path = tmp_path / "canary.toml"
    path.write_text(f'[pipeline]\nstaging_prefix = "{prefix}"\n', encoding="utf-8")
    code, _, err = cli(capsys, "staging", "cleanup", "--execute", "--config", str(path))
    assert code == 2 and "staging_prefix" in err and "Traceback" not in err


def test_auto_cleanup_reports_when_duckdb_is_held_open_by_the_run(
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    table_names: Names,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pipeline_canary.warehouse.duckdb import DuckDBWarehouse

    config = make_config(
        seeded("incident"), copy=True, extra="[checkpoints.orphaned_staging_tables]\nauto_cleanup = true\n"
    )
    before = table_names(config.warehouse.path)
    with DuckDBWarehouse(config.warehouse.path) as held:  # as the scheduler passes its own warehouse
        result = execute(config, ["orphaned_staging_tables"], now=NOW, alert=False, build_docs=False, warehouse=held)
    assert result.checkpoints[0].outcome is Outcome.FAILED
    assert "automatic staging cleanup could not run" in caplog.text
    assert table_names(config.warehouse.path) == before


def test_a_future_now_is_refused_for_cleanup_but_not_for_list(
    plain: CanaryConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(plain.warehouse.path)
    future = ["--now", "2099-01-01T00:00:00+00:00", "--config", str(plain.source)]
    code, _, err = cli(capsys, "staging", "cleanup", "--execute", *future)
    assert code == 2 and "is in the future" in err
    code, out, _ = cli(capsys, "staging", "list", "--json", *future)
    assert code == 0 and len(json.loads(out)) == ORPHAN_COUNT + 3
    assert snapshot(plain.warehouse.path) == before


def test_an_unwritable_audit_stops_the_sweep_before_any_drop(
    plain: CanaryConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    plain.state.path.mkdir(parents=True)  # a directory where the SQLite file should be
    before = snapshot(plain.warehouse.path)
    code, _, err = staging(capsys, plain, "cleanup", "--execute")
    # an unusable state store is a configuration problem (exit 2), found before any drop
    assert code == 2 and "[state] path" in err, err
    assert snapshot(plain.warehouse.path) == before
