"""``canary run`` says what broke by name: --json carries the evidence tables (first N rows and the
total), the terminal prints their top lines under each checkpoint that did not pass (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.cli import main
from pipeline_canary.config import CanaryConfig
from tests.conftest import AS_OF, NOW


def run(config: CanaryConfig, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    args = ["run", "--config", str(config.source), "--as-of", AS_OF.isoformat(), "--now", NOW.isoformat()]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--no-docs", *extra])
    return int(exit_info.value.code or 0), capsys.readouterr().out


def evidence(data: dict[str, Any], checkpoint: str, table: str) -> dict[str, Any]:
    [cp] = [c for c in data["checkpoints"] if c["name"] == checkpoint]
    return dict(cp["evidence"][table])


def game_line(row: dict[str, Any]) -> str:
    return f"{row['game_key']} ({row['schedule_game_id']}): {row['active_predictions']} active predictions"


def test_incident_names_the_games_the_missing_columns_and_the_orphaned_tables(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(seeded("incident"), extra="[evidence]\nrows = 5\n")
    code, out = run(config, capsys, "--json")
    assert code == 1
    data = json.loads(out)

    games = evidence(data, "prediction_gap", "games_without_predictions")
    assert games["total"] == 7 and len(games["rows"]) == 5 and games["truncated"] is True
    assert all(r["game_key"].startswith("20260208_") and r["active_predictions"] == 0 for r in games["rows"])
    differences = evidence(data, "schema_parity", "differences")
    assert {(r["field"], r["problem"], r["worker_type"]) for r in differences["rows"]} == {
        ("vegas_line_source", "missing_in_table", "STRING"),
        ("required_default_count", "missing_in_table", "INT64"),
    }
    assert differences == {**differences, "total": 2, "truncated": False}
    orphans = evidence(data, "orphaned_staging_tables", "orphaned_tables")
    assert (orphans["total"], len(orphans["rows"]), orphans["truncated"]) == (668, 5, True)
    assert all(r["table"].startswith("_staging_") and r["age_hours"] > 24 for r in orphans["rows"])
    top = evidence(data, "feature_contamination", "most_defaulted_required_features")["rows"][0]
    assert (top["feature_index"], top["feature_name"]) == (13, "opponent_def_rating")
    checks = {c["name"]: c for cp in data["checkpoints"] for c in cp["checks"]}
    assert checks["every_game_covered"]["evidence_tables"] == ["games_without_predictions"]

    code, text = run(config, capsys)
    assert code == 1
    lines = [line.strip() for line in text.splitlines()]
    assert "games without predictions (7):" in lines
    assert [game_line(r) for r in games["rows"]] == [lines[lines.index(game_line(r))] for r in games["rows"]]
    assert "… and 2 more (--json lists the first 5)" in lines
    assert "missing column: vegas_line_source (STRING)" in lines
    assert "missing column: required_default_count (INT64)" in lines
    orphan = orphans["rows"][0]
    assert any(
        line.startswith(f"orphaned: nba_predictions.{orphan['table']} (created ") and line.endswith(" old)")
        for line in lines
    )
    assert "… and 663 more (--json lists the first 5)" in lines
    assert "feature 13 opponent_def_rating: defaulted in" in text


def test_one_game_without_predictions_warns_naming_the_game(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(seeded("missing-game"))
    code, out = run(config, capsys, "--json", "prediction_gap")
    assert code == 0  # a warning
    data = json.loads(out)
    [cp] = data["checkpoints"]
    assert cp["outcome"] == "warned" and cp["metrics"]["games_without_predictions"] == 1
    games = evidence(data, "prediction_gap", "games_without_predictions")
    assert (games["total"], games["truncated"]) == (1, False)
    [game] = games["rows"]
    assert game["active_predictions"] == 0 and game["schedule_game_id"].startswith("00225")
    covered = [g for g in evidence(data, "prediction_gap", "games")["rows"] if g["game_key"] != game["game_key"]]
    assert covered and all(g["active_predictions"] > 0 for g in covered)

    code, text = run(config, capsys, "prediction_gap")
    assert code == 0
    lines = [line.strip() for line in text.splitlines()]
    at = lines.index("└ every_game_covered: games_without_predictions = 1, expected <= 0")
    assert lines[at + 1 : at + 3] == ["games without predictions (1):", game_line(game)]
