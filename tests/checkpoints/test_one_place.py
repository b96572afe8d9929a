"""A canary is added by defining it in one place: the CLI, GX, doctor and reports pick it up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.canaries import Canary, CheckContext, CheckSpec, Observation, register, registry
from pipeline_canary.canaries.base import Headline
from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import Outcome, Threshold
from tests.conftest import AS_OF, NOW


class ScheduledGames(Canary):
    name = "scheduled_games_test"
    title = "Games on the schedule"
    description = "The schedule has games for the day."
    runbook = "Re-run the schedule scraper."
    order = 5
    reads = {"schedule_table": ("game_date", "season_year")}
    headline = Headline(("games",), "Games", "games")

    def checks(self, settings: Any) -> list[CheckSpec]:
        return [CheckSpec("some_games", "games", Threshold(min=1), "at least one game")]

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        row = ctx.query("SELECT COUNT(*) AS games FROM {schedule} WHERE game_date = @as_of", as_of=ctx.as_of).one()
        return Observation(metrics={"games": row["games"]}, summary=f"{row['games']} games")


@pytest.fixture
def extra_canary() -> Iterator[None]:
    register(ScheduledGames)
    try:
        yield
    finally:
        registry._canaries.pop(ScheduledGames.name)


def test_a_new_canary_module_is_all_it_takes(
    extra_canary: None, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    from pipeline_canary.cli.doctor import required_columns

    assert registry.names()[0] == "scheduled_games_test"  # its own `order`
    assert "season_year" in required_columns()["schedule_table"]
    config = make_config(seeded("healthy"))
    result = run_checkpoints(config, ["scheduled_games_test"], as_of=AS_OF, now=NOW)
    cp = result.get("scheduled_games_test")
    assert cp.outcome is Outcome.PASSED and cp.metrics["games"] == 10
    assert (config.gx.project_dir / "expectations" / "scheduled_games_test.json").is_file()
