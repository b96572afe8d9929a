"""Backtests learn baselines too: from the live history before --from, then from their own steps."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

from pipeline_canary.backtest import run_backtest
from pipeline_canary.config import CanaryConfig
from tests.baselines.test_runs import BASELINE, learn_days
from tests.conftest import AS_OF, NOW, GameDay

DROP = (
    f"DELETE FROM nba_predictions.player_prop_predictions WHERE game_date = DATE '{AS_OF}'"
    " AND hash(player_lookup) % 10 < 6"
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_drop_opens_one_baseline_incident_and_no_fixed_one_without_touching_the_live_state(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], game_day: GameDay
) -> None:
    config = make_config(seeded("healthy"), copy=True, extra=BASELINE)
    learn_days(config, 10)
    game_day.edit(Path(str(config.warehouse.path)), DROP)
    live = digest(config.state.path)
    result = run_backtest(config, AS_OF - dt.timedelta(days=1), AS_OF, names=["prediction_gap"], until=NOW)
    assert [(i.checkpoint, i.check, i.as_of) for i in result.incidents] == [
        ("prediction_gap", "active_predictions_baseline", AS_OF)
    ]
    [incident] = result.incidents
    # the output shows both: the baseline failed at some steps, no fixed threshold of the checkpoint at any
    assert set(result.failing_checks["prediction_gap"]) == {"active_predictions_baseline"}
    assert incident.messages and f"observed {incident.last_value:g}, expected >= " in incident.messages[0].text
    assert digest(config.state.path) == live  # learned from it, never wrote to it


def test_a_healthy_backtest_with_a_baseline_opens_nothing(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("healthy"), copy=True, extra=BASELINE)
    learn_days(config, 10)
    result = run_backtest(config, AS_OF - dt.timedelta(days=1), AS_OF, names=["prediction_gap"], until=NOW)
    assert result.incidents == [] and result.failing_steps == {}
