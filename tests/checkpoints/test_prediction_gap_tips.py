"""prediction_gap without ``game_date_est`` in the schedule: the day's deadline only, said every time.

Or ``[pipeline] tip_table``: the game calendar reads the tip times from another table.

Production's reference view ``nba_reference.nba_schedule`` is documented without the tip time, which
the base table ``nba_raw.nbac_schedule`` has (pipeline facts 1a, 1b).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.cli import main
from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import ConfigError
from pipeline_canary.results import CheckpointResult, Outcome
from tests.conftest import AS_OF, GameDay

NOT_APPLIED = (
    "per-game lead not applied: nba_reference.nba_schedule has no game_date_est column (the tip time), "
    "so only the due_by deadline applies"
)
# The base table, as the pipeline keeps it: every schedule row with its tip time (duplicates included).
BASE_TABLE = (
    "CREATE SCHEMA IF NOT EXISTS nba_raw",  # the NBA pack's demo tables may hold it already
    "CREATE OR REPLACE TABLE nba_raw.nbac_schedule AS "
    "SELECT game_id, game_date, game_date_est FROM nba_reference.nba_schedule",
)
WITHOUT_TIPS = "ALTER TABLE nba_reference.nba_schedule DROP COLUMN game_date_est"


def gap(config: CanaryConfig, game_day: GameDay, hour: int, minute: int = 0) -> CheckpointResult:
    return run_checkpoints(config, ["prediction_gap"], now=game_day.at(hour, minute)).get("prediction_gap")


@pytest.fixture
def late_games_uncovered(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], game_day: GameDay
) -> tuple[CanaryConfig, list[str]]:
    """The healthy day with no predictions for its two latest games (tips 22:00 and later, New York)."""
    config = make_config(seeded("healthy"), copy=True)
    rows = game_day.rows(
        config.warehouse.path,
        "SELECT strftime(game_date, '%Y%m%d') || '_' || away_team_tricode || '_' || home_team_tricode "
        "FROM nba_reference.nba_schedule WHERE game_date = ? ORDER BY game_date_est DESC, game_id LIMIT 2",
        AS_OF,
    )
    late = sorted(r[0] for r in rows)
    game_day.edit(
        config.warehouse.path,
        "DELETE FROM nba_predictions.player_prop_predictions WHERE game_id IN ("
        + ", ".join(f"'{key}'" for key in late)
        + ")",
    )
    return config, late


def test_with_tip_times_late_games_are_not_judged_before_their_lead(
    late_games_uncovered: tuple[CanaryConfig, list[str]], game_day: GameDay
) -> None:
    config, _ = late_games_uncovered
    cp = gap(config, game_day, 12)
    assert cp.outcome is Outcome.PASSED and cp.metrics["games_pending"] == 10
    assert "per-game lead" not in cp.message and "deadline" not in cp.evidence


def test_without_the_column_the_day_deadline_applies_and_the_result_says_why(
    late_games_uncovered: tuple[CanaryConfig, list[str]], game_day: GameDay
) -> None:
    config, late = late_games_uncovered
    game_day.edit(config.warehouse.path, WITHOUT_TIPS)
    cp = gap(config, game_day, 12)  # no crash; every game due at 10:00; never a silent pass
    assert cp.outcome is Outcome.WARNED, cp.message
    assert sorted(g["game_key"] for g in cp.evidence["games_without_predictions"]) == late
    assert cp.metrics["games_due"] == 10 and cp.metrics["games_pending"] == 0
    assert cp.message.endswith(NOT_APPLIED), cp.message
    assert list(cp.evidence["deadline"]) == [{"per_game_lead": "not applied", "reason": NOT_APPLIED.split(": ", 1)[1]}]
    early = gap(config, game_day, 0, 30)  # before 10:00 it is pending, and says the lead is not applied
    assert early.pending and early.due_at == game_day.at(10)
    assert early.message.endswith(f"checked again then; {NOT_APPLIED}"), early.message


def test_a_healthy_day_without_the_column_passes_and_says_the_lead_was_not_applied(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], game_day: GameDay
) -> None:
    config = make_config(seeded("healthy"), copy=True)
    game_day.edit(config.warehouse.path, WITHOUT_TIPS)
    cp = gap(config, game_day, 17)
    assert cp.outcome is Outcome.PASSED and NOT_APPLIED in cp.message


def test_tip_table_reads_the_tip_times_from_the_base_table(
    late_games_uncovered: tuple[CanaryConfig, list[str]],
    make_config: Callable[..., CanaryConfig],
    game_day: GameDay,
) -> None:
    config, late = late_games_uncovered
    game_day.edit(config.warehouse.path, *BASE_TABLE, WITHOUT_TIPS)
    base = make_config(config.warehouse.path, extra='[pipeline]\ntip_table = "nba_raw.nbac_schedule"\n')
    cp = gap(base, game_day, 12)
    assert cp.outcome is Outcome.PASSED and cp.metrics["games_pending"] == 10 and "per-game lead" not in cp.message
    cp = gap(base, game_day, 23)  # every game is past its tip minus 2 h: the two late ones are judged
    assert sorted(g["game_key"] for g in cp.evidence["games_without_predictions"]) == late


def test_a_tip_table_that_does_not_exist_degrades_the_same_way_and_names_it(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], game_day: GameDay
) -> None:
    config = make_config(seeded("healthy"), extra='[pipeline]\ntip_table = "nba_raw.nope"\n')
    cp = gap(config, game_day, 17)
    assert cp.outcome is Outcome.PASSED
    assert cp.message.endswith("per-game lead not applied: tip_table nba_raw.nope does not exist, so only the "
                               "due_by deadline applies")  # fmt: skip


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('tip_column = "game date"', "pipeline.tip_column"),
        ('tip_column = "game_date_est\\n"', "invalid column name"),
        ('tip_table = "nba_raw"', "pipeline.tip_table"),
        ('tip_table = "a.b; DROP TABLE x"', "pipeline.tip_table"),
    ],
)
def test_bad_tip_settings_name_the_key(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], toml: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as info:
        make_config(seeded("healthy"), extra=f"[pipeline]\n{toml}\n")
    assert fragment in str(info.value)


def doctor(capsys: pytest.CaptureFixture[str], config: CanaryConfig) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(["doctor", "--config", str(config.source)])
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out + out.err


def test_doctor_warns_without_tip_times_and_fails_on_a_broken_tip_table(
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    game_day: GameDay,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = make_config(seeded("healthy"), copy=True, extra='[alerting]\nslack = "off"\n')  # its only warning: tips
    code, out = doctor(capsys, config)
    assert code == 0 and "ok   prediction_gap tip times: game_date_est in nba_reference.nba_schedule" in out, out
    game_day.edit(config.warehouse.path, WITHOUT_TIPS)
    code, out = doctor(capsys, config)
    assert code == 0, out  # degraded, not broken: the daily deadline still works
    assert f"warn prediction_gap tip times: {NOT_APPLIED}" in out
    assert 'fix: set [pipeline] tip_table = "nba_raw.nbac_schedule"' in out
    assert "all checks passed (1 warning)" in out, out
    broken = make_config(config.warehouse.path, extra='[pipeline]\ntip_table = "nba_reference.nba_schedule"\n')
    code, out = doctor(capsys, broken)
    assert code == 2 and "FAIL prediction_gap tip times: per-game lead not applied: tip_table" in out
    assert "lacks game_date_est" in out and "Traceback" not in out
