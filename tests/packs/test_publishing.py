"""The NBA pack's prediction, publishing and best-bets canaries on the demo warehouse.

One CLI run of the seven canaries per scenario (each scenario seeded once per session): the exact
set that fails, what is skipped and why, and the evidence naming what broke.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.demo.caught import CAUGHT_BY
from pipeline_canary.demo.predictions import SYSTEM_IDS
from tests.canary_files.example import cli

CANARIES = (
    "phase5_predictions",
    "phase6_publishing",
    "quality_filtering",
    "quality_distribution",
    "monitoring_meta",
    "bb_pick_drought",
    "bb_filter_audit",
)
PACKS = ", ".join(f'"nba.{c}"' for c in CANARIES)


def run_pack(
    scenario: str,
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, dict[str, Any]]:
    """The pack's seven canaries on ``scenario`` at 18:00 ET on the demo day: results by name."""
    make_config(seeded(scenario), extra=f'[alerting]\nslack = "off"\n[canaries]\npacks = [{PACKS}]\n')
    code, out = cli(
        capsys, "run", "--json", "--no-docs", "--config", str(tmp_path / "canary.toml"),
        "--as-of", "2026-02-08", "--now", "2026-02-08T23:00:00Z", *CANARIES,
    )  # fmt: skip
    assert code in (0, 1), out
    report = json.loads(out[out.index("{") :])
    results = {c["name"]: c for c in report["checkpoints"]}
    assert sorted(results) == sorted(CANARIES)
    return results


def outcomes(results: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name, result in results.items():
        out.setdefault(result["outcome"], set()).add(name)
    return out


def caught(scenario: str) -> dict[str, set[str]]:
    """The outcomes the demo promises for ``scenario`` (pipeline_canary/demo/caught.py) among these canaries."""
    failed = set(CAUGHT_BY[scenario]) & set(CANARIES)
    return {"failed": failed, "passed": set(CANARIES) - failed} if failed else {"passed": set(CANARIES)}


def rows(result: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return list(result["evidence"][table]["rows"])


def test_healthy_every_canary_passes(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    results = run_pack("healthy", seeded, make_config, tmp_path, capsys)
    assert outcomes(results) == {"passed": set(CANARIES)}, {n: r["message"] for n, r in results.items()}
    assert results["phase6_publishing"]["metrics"]["signal_rows"] == len(SYSTEM_IDS)
    assert results["bb_pick_drought"]["metrics"]["zero_pick_days"] == 0
    assert results["monitoring_meta"]["metrics"]["staleness_days"] == 1
    # NULL levels (cross-model and signal subsets) are in the gated total but never counted as non-green
    assert results["quality_filtering"]["metrics"]["unlevelled_picks"] > 0


def test_prediction_gap_fails_phase5_and_skips_what_has_nothing_to_publish(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    results = run_pack("prediction-gap", seeded, make_config, tmp_path, capsys)
    assert outcomes(results) == {
        "failed": {"phase5_predictions"},
        "skipped": {"phase6_publishing", "quality_distribution"},
        "passed": {"quality_filtering", "monitoring_meta", "bb_pick_drought", "bb_filter_audit"},
    }
    games = rows(results["phase5_predictions"], "games_and_predictions")
    assert len(games) == 10 and {g["active_predictions"] for g in games} == {0}
    assert all(g["game_id"].startswith("20260208_") and g["game_date"] == "2026-02-08" for g in games)
    assert all(g["all_predictions"] > 0 for g in games)  # written, then left inactive
    for name in ("phase6_publishing", "quality_distribution"):
        assert "phase5_predictions judges the predictions" in results[name]["message"]
        assert "2026-02-08" in results[name]["message"]


def test_publishing_down_fails_phase6_only(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    results = run_pack("publishing-down", seeded, make_config, tmp_path, capsys)
    assert outcomes(results) == caught("publishing-down")
    models = rows(results["phase6_publishing"], "models_and_signals")
    assert {m["system_id"] for m in models} == set(SYSTEM_IDS)
    assert all(m["signal_rows"] == 0 and m["predictions_with_line"] >= 10 for m in models)
    assert {m["game_date"] for m in models} == {"2026-02-08"}


def test_quality_leak_fails_both_quality_canaries(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    results = run_pack("quality-leak", seeded, make_config, tmp_path, capsys)
    assert outcomes(results) == caught("quality-leak")
    leaked = rows(results["quality_filtering"], "non_green_picks")
    assert len(leaked) == 3 and {r["subset_id"] for r in leaked} == {"v9_top5_quality"}
    assert {r["game_date"] for r in leaked} == {"2026-02-08"}
    assert sorted(r["quality_alert_level"] for r in leaked) == ["red", "yellow", "yellow"]
    assert results["quality_distribution"]["metrics"]["non_green_picks"] == 3
    top = rows(results["quality_distribution"], "latest_export_by_subset")[0]
    assert top["subset_id"] == "v9_top5_quality" and top["non_green"] == 3
    assert all(r["player_lookup"] in top["non_green_players"] for r in leaked)


def test_filter_jam_fails_the_audit_and_the_drought(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    results = run_pack("filter-jam", seeded, make_config, tmp_path, capsys)
    assert outcomes(results) == caught("filter-jam")
    audit = {r["game_date"]: r for r in rows(results["bb_filter_audit"], "audit_by_game_day")}
    assert sorted(audit) == ["2026-02-05", "2026-02-06", "2026-02-07"]
    for day in ("2026-02-06", "2026-02-07"):
        assert audit[day]["passed_filters"] == 0 and audit[day]["total_candidates"] > 0
        assert json.loads(audit[day]["rejected_json"]) == {"model_health_gate": audit[day]["total_candidates"]}
    assert audit["2026-02-05"]["passed_filters"] > 0
    assert results["bb_filter_audit"]["metrics"]["jammed_days"] == 2
    picks = {r["game_date"]: r["picks"] for r in rows(results["bb_pick_drought"], "picks_by_game_day")}
    assert picks["2026-02-06"] == picks["2026-02-07"] == 0 and picks["2026-02-05"] > 0


def test_signals_stale_fails_monitoring_meta_only(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    results = run_pack("signals-stale", seeded, make_config, tmp_path, capsys)
    assert outcomes(results) == caught("signals-stale")
    assert results["monitoring_meta"]["metrics"]["staleness_days"] == 5
    latest = rows(results["monitoring_meta"], "latest_dates")
    assert latest[0]["game_date"] == "2026-02-03" and latest[0]["signal_tags"] == 8
