"""Generated SQL canaries for the pool's tests: any number of one small canary over the demo schedule.

Each instance sends one statement tagged with its position ``k`` (a query parameter), so a warehouse
wrapper can tell the canaries' statements apart and hold or order them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

from pipeline_canary.canaries import Canary, CheckContext, CheckSpec, Observation, register, registry
from pipeline_canary.results import Threshold

GAMES_SQL = "SELECT @k AS k, COUNT(*) AS games FROM {schedule} WHERE game_date = @as_of"
WAIT_S = 30.0  # how long a test waits for statements that should be in flight together


class GamesCanary(Canary):
    title = "Games on the schedule (pool test)"
    description = "The schedule has games for the day."
    runbook = "Nothing to do: a test canary."
    order = 1
    k: ClassVar[int] = 0
    sql: ClassVar[str] = GAMES_SQL

    def checks(self, settings: Any) -> list[CheckSpec]:
        return [CheckSpec("some_games", "games", Threshold(min=1), "at least one game")]

    def collect(self, ctx: CheckContext, settings: Any) -> Observation:
        row = ctx.query(self.sql, k=self.k, as_of=ctx.as_of).one()
        return Observation(metrics={"games": row["games"]}, summary=f"{row['games']} games")


def games_canaries(count: int, *, sql: str = GAMES_SQL, prefix: str = "pool") -> list[type[Canary]]:
    """``count`` canary classes named ``{prefix}_00``... (listed in that order), each with its own ``k``."""
    return [type(f"Games{k}", (GamesCanary,), {"name": f"{prefix}_{k:02d}", "k": k, "sql": sql}) for k in range(count)]


@contextlib.contextmanager
def registered(*classes: type[Canary]) -> Iterator[list[str]]:
    """Register ``classes`` for the block; yields their names."""
    names: list[str] = []
    try:
        for cls in classes:
            register(cls)
            names.append(cls.name)
        yield names
    finally:
        for name in names:
            registry._canaries.pop(name, None)
