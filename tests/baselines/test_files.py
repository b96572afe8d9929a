"""Baselines declared in canary files ([baseline.METRIC]) and overridden in canary.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_canary.config import load_config
from pipeline_canary.errors import ConfigError
from tests.canary_files.example import worked_example
from tests.canary_files.test_format import line_with, problems

EXAMPLE = worked_example()[1]
WITH_BASELINE = EXAMPLE.replace("[calendar]", '[baseline.games]\nmin_points = 5\ndirection = "down"\n\n[calendar]')


def load(tmp_path: Path, text: str, checkpoint: str = "") -> object:
    folder = tmp_path / "canaries"
    folder.mkdir(exist_ok=True)
    (folder / "games_final.toml").write_text(text, encoding="utf-8")
    (tmp_path / "canary.toml").write_text(
        f'[canaries]\npaths = ["canaries"]\n[checkpoints.games_final]\n{checkpoint}', encoding="utf-8"
    )
    return load_config(tmp_path / "canary.toml", env={})


def test_a_file_baseline_is_a_check_of_the_canary_and_canary_toml_overrides_it(tmp_path: Path) -> None:
    config = load(tmp_path, WITH_BASELINE)
    canary = config.catalogue.get("games_final")  # type: ignore[attr-defined]
    [check] = [c for c in canary.all_checks(config.settings_for("games_final")) if c.baseline]  # type: ignore[attr-defined]
    assert check.name == "games_baseline" and check.baseline.min_points == 5 and check.baseline.direction == "down"
    config = load(tmp_path, WITH_BASELINE, 'baseline.games = { min_points = 9, level = "warn" }\n')
    [check] = [c for c in canary.all_checks(config.settings_for("games_final")) if c.baseline]  # type: ignore[attr-defined]
    assert check.baseline.min_points == 9 and check.baseline.direction == "both" and check.threshold.level == "warn"


def test_a_baseline_of_a_metric_no_statement_returns_names_the_file_line_and_key(tmp_path: Path) -> None:
    text = WITH_BASELINE.replace("[baseline.games]", "[baseline.gamez]")
    path, message = problems(tmp_path, text)
    assert f"{path}:{line_with(text, '[baseline.gamez]')}: baseline.gamez: no statement returns 'gamez'" in message


def test_a_bad_key_of_a_file_baseline_names_the_file_line_and_key(tmp_path: Path) -> None:
    text = WITH_BASELINE.replace("min_points = 5", "min_point = 5")
    path, message = problems(tmp_path, text, compile_sql=False)
    assert f"{path}:" in message and "baseline.games.min_point: unknown key" in message


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ('baseline.games = { method = "median" }\n', "checkpoints.games_final.baseline.games.method"),
        ("baseline = 3\n", "checkpoints.games_final.baseline: must be a table"),
    ],
)
def test_bad_baseline_overrides_name_the_key(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, EXAMPLE, override)
    assert message in str(info.value)


def test_a_baseline_longer_than_the_kept_history_is_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "canary.toml").write_text(
        "[state]\nretention_days = 30\n[checkpoints.prediction_gap.baseline.active_predictions]\ntraining_days = 40\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "canary.toml", env={})
    message = str(info.value)
    assert (
        "checkpoints.prediction_gap.baseline.active_predictions.training_days: training_days + detection_days"
        in message
    )
    assert "(41) exceeds state.retention_days (30)" in message and "at most 29" in message
