"""prediction_gap deadlines: pending before the day's, per game after tip minus lead; only rows written by now."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.cli import main
from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import ConfigError
from pipeline_canary.results import CheckpointResult, Outcome
from tests.conftest import AS_OF, GameDay


def gap(config: CanaryConfig, now: dt.datetime) -> CheckpointResult:
    return run_checkpoints(config, ["prediction_gap"], now=now).get("prediction_gap")


def games(game_day: GameDay, warehouse: Path) -> list[str]:
    """The day's game keys, first tip first."""
    rows = game_day.rows(
        warehouse,
        "SELECT strftime(game_date, '%Y%m%d') || '_' || away_team_tricode || '_' || home_team_tricode "
        "FROM nba_reference.nba_schedule WHERE game_date = ? ORDER BY game_date_est, game_id",
        AS_OF,
    )
    return [r[0] for r in rows]


@pytest.fixture
def healthy(seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]) -> CanaryConfig:
    return make_config(seeded("healthy"), copy=True)


def test_before_the_deadline_the_check_is_pending_not_passed_nor_failed(
    game_day: GameDay, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("prediction-gap"))
    cp = gap(config, game_day.at(0, 30))
    assert cp.outcome is Outcome.SKIPPED and cp.pending and cp.due_at == game_day.at(10)
    assert cp.message == "pending: predictions due by 10:00 America/New_York (15:00 UTC); checked again then"
    assert not cp.checks and not cp.metrics
    assert len(cp.evidence["games_pending"]) == 10
    assert gap(config, game_day.at(9, 59)).pending
    failed = gap(config, game_day.at(10))
    assert failed.outcome is Outcome.FAILED and failed.due_at is None and not failed.pending


def test_configured_deadline_and_an_early_tip_bring_the_due_time_forward(
    game_day: GameDay, healthy: CanaryConfig, make_config: Callable[..., CanaryConfig]
) -> None:
    warehouse = healthy.warehouse.path
    first = games(game_day, warehouse)[0]
    # a matinee: the first game tips at 11:30 ET, so with a 2 h lead it is due at 09:30
    game_day.edit(
        warehouse,
        f"UPDATE nba_reference.nba_schedule SET game_date_est = TIMESTAMPTZ '{game_day.at(11, 30).isoformat()}' "
        f"WHERE game_date = DATE '{AS_OF}' AND strftime(game_date, '%Y%m%d') || '_' || away_team_tricode || '_' "
        f"|| home_team_tricode = '{first}'",
    )
    cp = gap(healthy, game_day.at(7))
    assert cp.pending and cp.due_at == game_day.at(9, 30)
    assert cp.message == (
        f"pending: predictions due by 09:30 America/New_York (14:30 UTC), 2 h before the first tip ({first}); "
        "checked again then"
    )
    later = make_config(warehouse, extra='[checkpoints.prediction_gap]\ndue_by = "07:15"\nlead_hours = 1.5\n')
    cp = gap(later, game_day.at(7))
    assert cp.pending and cp.due_at == game_day.at(7, 15)
    assert cp.message.startswith("pending: predictions due by 07:15 America/New_York (12:15 UTC); ")
    # due at 07:15, and at 08:30 the 8 AM run has written: the matinee (due 10:00 with 1.5 h) is covered
    cp = gap(later, game_day.at(8, 30))
    assert cp.outcome is Outcome.PASSED and cp.metrics["games_due"] == 0 and cp.metrics["games_pending"] == 10


def test_per_game_only_games_past_tip_minus_lead_are_judged(game_day: GameDay, healthy: CanaryConfig) -> None:
    warehouse = healthy.warehouse.path
    keys = games(game_day, warehouse)
    early, late = keys[0], keys[-1]  # tips 19:00 and 22:30 ET
    game_day.edit(
        warehouse, f"DELETE FROM nba_predictions.player_prop_predictions WHERE game_id IN ('{early}', '{late}')"
    )
    at_noon = gap(healthy, game_day.at(12))
    assert at_noon.outcome is Outcome.PASSED, at_noon.message
    assert at_noon.metrics["games_pending"] == 10 and at_noon.metrics["games_without_predictions"] == 0

    cp = gap(healthy, game_day.at(17, 30))  # the 19:00 games are due (17:00); the 22:30 one not before 20:30
    assert cp.outcome is Outcome.WARNED
    assert [g["game_key"] for g in cp.evidence["games_without_predictions"]] == [early]
    pending = [g["game_key"] for g in cp.evidence["games_pending"]]
    assert late in pending and early not in pending
    assert {g["due_at"] for g in cp.evidence["games_pending"] if g["game_key"] == late} == {
        game_day.at(20, 30).isoformat()
    }
    assert "not due yet (next by" in cp.message

    cp = gap(healthy, game_day.at(21))
    assert {g["game_key"] for g in cp.evidence["games_without_predictions"]} == {early, late}
    assert cp.metrics["games_pending"] == 0


def test_a_game_without_a_tip_time_is_due_with_the_day(game_day: GameDay, healthy: CanaryConfig) -> None:
    warehouse = healthy.warehouse.path
    key = games(game_day, warehouse)[-1]
    game_day.edit(
        warehouse,
        f"UPDATE nba_reference.nba_schedule SET game_date_est = NULL WHERE game_date = DATE '{AS_OF}' "
        f"AND strftime(game_date, '%Y%m%d') || '_' || away_team_tricode || '_' || home_team_tricode = '{key}'",
        f"DELETE FROM nba_predictions.player_prop_predictions WHERE game_id = '{key}'",
    )
    cp = gap(healthy, game_day.at(10, 30))
    assert cp.outcome is Outcome.WARNED  # unknown tip: judged at 10:00, never "not due yet"
    assert [g["game_key"] for g in cp.evidence["games_without_predictions"]] == [key]


def test_only_predictions_written_by_now_count(game_day: GameDay, healthy: CanaryConfig) -> None:
    warehouse = healthy.warehouse.path
    # the whole day written late, by the 4 PM LAST_CALL run only
    game_day.edit(
        warehouse,
        "UPDATE nba_predictions.player_prop_predictions SET created_at = "
        f"TIMESTAMPTZ '{game_day.at(16).isoformat()}' WHERE game_date = DATE '{AS_OF}'",
    )
    cp = gap(healthy, game_day.at(10))
    assert cp.outcome is Outcome.FAILED and cp.metrics["active_predictions"] == 0
    assert cp.metrics["rows_written_after_now"] > 0
    cp = gap(healthy, game_day.at(16, 30))
    assert cp.outcome is Outcome.PASSED and cp.metrics["rows_written_after_now"] == 0


def test_a_row_replaced_after_now_was_active_at_now(game_day: GameDay, healthy: CanaryConfig) -> None:
    ((active, inactive, rewritten),) = game_day.rows(
        healthy.warehouse.path,
        "SELECT count(*) FILTER (WHERE is_active), count(*) FILTER (WHERE NOT is_active), "
        "count(*) FILTER (WHERE prediction_run_mode IN ('FINAL_RETRY', 'LAST_CALL')) "
        "FROM nba_predictions.player_prop_predictions WHERE game_date = ?",
        AS_OF,
    )
    assert rewritten == inactive > 0  # each rewrite deactivated its key's 8 AM row
    at_ten = gap(healthy, game_day.at(10))  # every key's 8 AM row; some are replaced at 1 or 4 PM, after "now"
    assert at_ten.metrics["active_predictions"] == active
    assert at_ten.metrics["inactive_predictions"] == 0
    assert at_ten.metrics["rows_written_after_now"] == rewritten
    evening = gap(healthy, game_day.at(17))
    assert evening.metrics["active_predictions"] == active
    assert evening.metrics["inactive_predictions"] == inactive
    assert evening.metrics["rows_written_after_now"] == 0


@pytest.mark.parametrize(
    "toml,fragment",
    [
        ('due_by = "25:00"', "checkpoints.prediction_gap.due_by"),
        ('due_by = "10am"', 'local time "HH:MM"'),
        ("lead_hours = -1", "checkpoints.prediction_gap.lead_hours"),
        ("due = 1", "unknown key 'checkpoints.prediction_gap.due' (did you mean 'checkpoints.prediction_gap.due_by'?)"),
    ],
)
def test_bad_deadline_settings_name_the_key_and_the_file(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], toml: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as info:
        make_config(seeded("healthy"), extra=f"[checkpoints.prediction_gap]\n{toml}\n")
    assert fragment in str(info.value) and "canary.toml" in str(info.value)


def test_pending_in_json_and_in_the_terminal(
    game_day: GameDay,
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_config(seeded("prediction-gap"))
    args = ["run", "prediction_gap", "--config", str(tmp_path / "canary.toml"), "--now", game_day.at(0, 30).isoformat()]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--json"])
    assert exit_info.value.code == 0
    data = json.loads(capsys.readouterr().out)
    (cp,) = data["checkpoints"]
    assert cp["outcome"] == "skipped" and cp["pending"] is True and cp["due_at"] == game_day.at(10).isoformat()
    assert cp["message"].startswith("pending: predictions due by 10:00 America/New_York")
    assert data["pending"] == ["prediction_gap"] and data["replay"] is False
    with pytest.raises(SystemExit):
        main(args)
    out = capsys.readouterr().out
    assert "PENDING" in out and "1 pending" in out and "checked again then" in out
