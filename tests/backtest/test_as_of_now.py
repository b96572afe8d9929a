"""The built-in canaries see the warehouse as it was at the run's now: rows and tables written later do not count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig
from tests.conftest import AS_OF, NOW, GameDay


def test_feature_rows_and_staging_tables_written_after_now_are_not_seen(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], game_day: GameDay
) -> None:
    config = make_config(seeded("healthy"), copy=True)
    warehouse = config.warehouse.path
    assert warehouse is not None
    yesterday = AS_OF - dt.timedelta(days=1)
    [(rows_yesterday,)] = game_day.rows(
        warehouse,
        "SELECT COUNT(*) FROM nba_predictions.ml_feature_store_v2 WHERE game_date = ? AND feature_count >= 37",
        yesterday,
    )
    # a backfill rewrote yesterday's feature rows after the run's now
    game_day.edit(
        warehouse,
        f"UPDATE nba_predictions.ml_feature_store_v2 SET created_at = TIMESTAMPTZ '{NOW + dt.timedelta(hours=1)}' "
        f"WHERE game_date = DATE '{yesterday}'",
    )
    names = ["feature_contamination", "orphaned_staging_tables"]
    at_now = run_checkpoints(config, names, now=NOW, build_docs=False)
    later = run_checkpoints(config, names, now=NOW + dt.timedelta(hours=2), build_docs=False)
    seen_now = at_now.get("feature_contamination").metrics["rows_checked"]
    seen_later = later.get("feature_contamination").metrics["rows_checked"]
    assert rows_yesterday > 0 and seen_later - seen_now == rows_yesterday
    # the demo's three fresh staging tables were created 12, 41 and 83 minutes before NOW
    staging = [
        run_checkpoints(config, ["orphaned_staging_tables"], now=NOW - dt.timedelta(minutes=m), build_docs=False)
        .get("orphaned_staging_tables")
        .metrics["staging_tables"]
        for m in (90, 60, 20, 0)
    ]
    assert staging == [0, 1, 2, 3]
