"""Baselines in real runs on the demo warehouse: learned from history, judged by GX, named in the result."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.cli import main
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import CheckResult, Outcome
from pipeline_canary.state.history import record_run
from pipeline_canary.state.sqlite import open_state
from tests.conftest import AS_OF, NOW, GameDay

BASELINE = """
[checkpoints.prediction_gap.baseline.active_predictions]
direction = "down"
"""
CHECK = "active_predictions_baseline"


def learn_days(config: CanaryConfig, days: int) -> None:
    """Run prediction_gap at 18:00 on each of the ``days`` before AS_OF and keep the history, as the schedule would."""
    for back in range(days, 0, -1):
        day = AS_OF - dt.timedelta(days=back)
        result = run_checkpoints(config, ["prediction_gap"], as_of=day, now=NOW - dt.timedelta(days=back))
        record_run(open_state(config), result)


def baseline_check(config: CanaryConfig) -> CheckResult:
    [cp] = run_checkpoints(config, ["prediction_gap"], now=NOW).checkpoints
    return next(c for c in cp.checks if c.name == CHECK)


def test_a_60_percent_drop_fails_the_baseline_while_every_fixed_check_passes(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], game_day: GameDay
) -> None:
    config = make_config(seeded("healthy"), copy=True, extra=BASELINE)
    learn_days(config, 10)
    normal = baseline_check(config)
    assert normal.outcome is Outcome.PASSED and normal.baseline is not None and normal.baseline["points"] >= 7
    assert normal.threshold is not None and normal.threshold.min is not None
    assert normal.observed is not None and normal.observed >= normal.threshold.min
    assert "expected >= " in normal.message

    warehouse = Path(str(config.warehouse.path))
    game_day.edit(
        warehouse,
        f"DELETE FROM nba_predictions.player_prop_predictions WHERE game_date = DATE '{AS_OF}'"
        " AND hash(player_lookup) % 10 < 6",
    )  # 60% of the day's players lose their predictions; every game keeps some
    [cp] = run_checkpoints(config, ["prediction_gap"], now=NOW).checkpoints
    by_name = {c.name: c for c in cp.checks}
    assert by_name["no_prediction_gap"].outcome is by_name["every_game_covered"].outcome is Outcome.PASSED
    dropped = by_name[CHECK]
    assert dropped.outcome is Outcome.FAILED and cp.outcome is Outcome.FAILED
    assert dropped.observed is not None and normal.observed is not None and dropped.observed < 0.6 * normal.observed
    assert f"expected >= {int(normal.threshold.min)}" in dropped.message.replace(",", "")
    assert f"observed {dropped.observed:g}" in dropped.message


def test_without_enough_history_the_baseline_is_learning_never_passed(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("healthy"), extra=BASELINE)
    learn_days(config, 3)
    check = baseline_check(config)
    assert check.outcome is Outcome.SKIPPED and check.message.startswith("learning: 3 of 7 days learned")


def test_the_suite_in_gx_declares_the_band_as_suite_parameters(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], tmp_path: Path
) -> None:
    config = make_config(seeded("healthy"), extra=BASELINE)
    run_checkpoints(config, ["prediction_gap"], now=NOW)
    suite = json.loads((tmp_path / "gx" / "expectations" / "prediction_gap.json").read_text())
    [expectation] = [e for e in suite["expectations"] if e["meta"]["check"] == CHECK]
    assert expectation["type"] == "expect_canary_metric_within_baseline"
    assert expectation["kwargs"]["min_value"] == {"$PARAMETER": f"{CHECK}_min"}
    assert "max_value" not in expectation["kwargs"]  # direction = "down": drops only


def test_a_misspelt_baseline_key_exits_2_naming_it(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    make_config(seeded("healthy"))
    path = tmp_path / "canary.toml"
    path.write_text(
        path.read_text() + "\n[checkpoints.prediction_gap.baseline.active_predictions]\nsensitivty = 4\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["list", "--config", str(path)])
    assert exit_info.value.code == 2
    assert "checkpoints.prediction_gap.baseline.active_predictions.sensitivty" in capsys.readouterr().err
