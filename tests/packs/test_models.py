"""The NBA pack's models and grading canaries on the seeded demo: one CLI run per scenario.

Each scenario breaks one phase; exactly the canaries that should catch it fail, naming what broke,
and every other canary of this group passes or is skipped with its reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.demo.caught import CAUGHT_BY
from pipeline_canary.demo.pack.models import BLOCKED_MODEL, COLLAPSED_MODEL, NEW_MODEL, last_final_days
from pipeline_canary.warehouse.duckdb_connect import connect_duckdb
from tests.canary_files.example import cli
from tests.conftest import AS_OF, NOW

MINE = (
    "registry_blocked_enabled",
    "model_recovery_gap",
    "fleet_diversity",
    "edge_collapse_alert",
    "new_model_no_predictions",
    "phase5_shadow_coverage",
    "grading_freshness",
    "pa_duplicate_groups",
)
# What each scenario fails among these (the demo's promise, pipeline_canary/demo/caught.py); all others pass.
FAILS: dict[str, set[str]] = {
    scenario: set(CAUGHT_BY[scenario]) & set(MINE)
    for scenario in ("healthy", "grading-stale", "edge-collapse", "model-blocked", "new-model-silent")
}
SHADOW_MODEL = "xgb_v12_noveg_train1215_0214"
PACK = '[alerting]\nslack = "off"\n[canaries]\npacks = [' + ", ".join(f'"nba.{n}"' for n in MINE) + "]\n"


def run_pack(config: CanaryConfig, capsys: pytest.CaptureFixture[str], names: tuple[str, ...] = MINE) -> Any:
    args = ("--config", str(config.source), "--as-of", AS_OF.isoformat(), "--now", NOW.isoformat())
    _, out = cli(capsys, "run", *names, "--json", "--no-docs", "--no-alert", *args)
    return {c["name"]: c for c in json.loads(out[out.index("{") :])["checkpoints"]}


@pytest.mark.parametrize("scenario", list(FAILS))
def test_exactly_the_right_canaries_fail(
    scenario: str,
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    capsys: pytest.CaptureFixture[str],
) -> None:
    warehouse = seeded(scenario)
    results = run_pack(make_config(warehouse, extra=PACK), capsys)
    assert set(results) == set(MINE)
    failed = {n for n, r in results.items() if r["outcome"] == "failed"}
    assert failed == FAILS[scenario], {n: r["message"] for n, r in results.items()}
    for name, result in results.items():
        if name not in failed:
            assert result["outcome"] in {"passed", "skipped"}, (name, result["message"])
        if result["outcome"] == "skipped":
            assert result["message"].startswith("skipped: ") and len(result["message"]) > 20, (name, result)
    # Nothing new was registered outside new-model-silent: the 48 h rule has nothing to judge.
    if scenario != "new-model-silent":
        assert results["new_model_no_predictions"]["outcome"] == "skipped"
        assert "registered in the 48 h before" in results["new_model_no_predictions"]["message"]
    check = _EVIDENCE.get(scenario)
    if check is not None:
        check(results, warehouse)


def test_a_model_missing_yesterday_and_regraded_rows_are_caught(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    """No scenario breaks these two: a healthy copy loses one model's predictions for the day before,
    and that day's judged grading rows are written twice (an append instead of a replace)."""
    config = make_config(seeded("healthy"), copy=True, extra=PACK)
    yesterday = AS_OF - dt.timedelta(days=1)
    with connect_duckdb(config.warehouse.path) as conn:
        conn.execute(
            "DELETE FROM nba_predictions.player_prop_predictions WHERE game_date = ? AND system_id = ?",
            [yesterday, SHADOW_MODEL],
        )
        conn.execute(
            "INSERT INTO nba_predictions.prediction_accuracy SELECT * FROM nba_predictions.prediction_accuracy "
            "WHERE game_date = ? AND recommendation IN ('OVER', 'UNDER')",
            [yesterday],
        )
        (doubled,) = conn.execute(
            "SELECT count(*) // 2 FROM nba_predictions.prediction_accuracy "
            "WHERE game_date = ? AND recommendation IN ('OVER', 'UNDER')",
            [yesterday],
        ).fetchone()
    results = run_pack(config, capsys, ("phase5_shadow_coverage", "pa_duplicate_groups"))
    shadow = results["phase5_shadow_coverage"]
    assert shadow["outcome"] == "failed" and shadow["metrics"]["missing_models"] == 1
    missing = shadow["evidence"]["missing_models"]["rows"]
    assert [(r["model_id"], r["game_date"]) for r in missing] == [(SHADOW_MODEL, yesterday.isoformat())]
    duplicates = results["pa_duplicate_groups"]
    assert doubled > 50 and duplicates["outcome"] == "failed"
    assert duplicates["metrics"]["duplicate_groups"] == doubled
    rows = duplicates["evidence"]["duplicate_groups"]["rows"]
    assert len(rows) == 20 and {(r["game_date"], r["graded"]) for r in rows} == {(yesterday.isoformat(), 2)}


def _grading_stale(results: dict[str, Any], warehouse: Path) -> None:
    grading = results["grading_freshness"]
    assert grading["metrics"]["final_days"] == 2 and grading["metrics"]["graded_days"] == 0
    with connect_duckdb(warehouse, read_only=True) as conn:
        stale = last_final_days(conn, AS_OF)
    assert len(stale) == 2 and all(d < AS_OF for d in stale)
    rows = grading["evidence"]["final_days"]["rows"]
    assert [(r["game_date"], r["graded_rows"]) for r in rows] == [(d.isoformat(), 0) for d in stale]
    assert grading["message"].startswith("0 of the last 2 final game day(s) before 2026-02-08 graded")
    # The recovery check still sees the performance rows of the days before.
    assert results["model_recovery_gap"]["outcome"] == "passed"


def _edge_collapse(results: dict[str, Any], warehouse: Path) -> None:
    edge = results["edge_collapse_alert"]
    assert edge["metrics"]["collapsed_models"] == 1 and edge["metrics"]["judged_models"] == 8
    first = edge["evidence"]["models_by_edge"]["rows"][0]
    assert first["model_id"] == COLLAPSED_MODEL and first["collapsed"] is True
    assert 0.6 <= first["avg_abs_edge"] < 1.2 and first["framework"] == "catboost"
    assert all(not r["collapsed"] for r in edge["evidence"]["models_by_edge"]["rows"][1:])


def _model_blocked(results: dict[str, Any], warehouse: Path) -> None:
    blocked = results["registry_blocked_enabled"]
    assert [r["model_id"] for r in blocked["evidence"]["blocked_enabled_models"]["rows"]] == [BLOCKED_MODEL]
    recovery = results["model_recovery_gap"]
    (row,) = recovery["evidence"]["recovered_blocked_models"]["rows"]
    assert row["model_id"] == BLOCKED_MODEL and row["state"] == "HEALTHY" and row["rolling_hr_7d"] >= 58.0
    assert row["game_date"] == (AS_OF - dt.timedelta(days=1)).isoformat()  # graded this morning
    # Seven models stay enabled and active, of all three families.
    assert results["fleet_diversity"]["metrics"]["enabled_models"] == 7
    assert results["fleet_diversity"]["metrics"]["families"] == 3


def _new_model_silent(results: dict[str, Any], warehouse: Path) -> None:
    new = results["new_model_no_predictions"]
    assert new["metrics"] == {"new_models": 1, "silent_new_models": 1}
    (row,) = new["evidence"]["new_models"]["rows"]
    assert row["model_id"] == NEW_MODEL and row["predictions"] == 0 and row["game_date"] == AS_OF.isoformat()
    # A model registered 10 h ago is new_model's to judge, not shadow coverage's.
    assert results["phase5_shadow_coverage"]["metrics"]["enabled_models"] == 8


def _healthy(results: dict[str, Any], warehouse: Path) -> None:
    assert results["fleet_diversity"]["metrics"] == {
        "enabled_models": 8,
        "families": 3,
        "lgbm_models": 2,
        "non_lgbm_models": 6,
    }
    assert results["edge_collapse_alert"]["metrics"]["uncollapsed_models"] == 8
    assert results["phase5_shadow_coverage"]["metrics"]["missing_models"] == 0
    assert results["grading_freshness"]["metrics"]["graded_days"] == 2
    assert results["pa_duplicate_groups"]["metrics"]["graded_rows"] > 1000
    assert results["model_recovery_gap"]["metrics"]["models_with_performance"] == 8
    assert results["registry_blocked_enabled"]["metrics"]["registry_models"] == 11


_EVIDENCE: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "healthy": _healthy,
    "grading-stale": _grading_stale,
    "edge-collapse": _edge_collapse,
    "model-blocked": _model_blocked,
    "new-model-silent": _new_model_silent,
}
