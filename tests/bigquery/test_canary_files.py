"""Canary files on the local BigQuery server: the same SQL gives the same results as on DuckDB, the
partition guard covers the tables a file declares, dry runs estimate bytes and `canaries check`
dry-runs every statement."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.alerting.metrics import series_values
from pipeline_canary.checkpoints.runner import estimate, run_checkpoints
from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.demo.bigquery_load import load_demo
from pipeline_canary.results import Outcome
from pipeline_canary.warehouse.bigquery import BigQueryWarehouse
from tests.canary_files.example import unfinish_games, write_example
from tests.conftest import AS_OF, NOW

from .conftest import BigQueryServer

pytestmark = pytest.mark.bigquery

# Parameters of every kind a file can declare, a window from a parameter, an array parameter,
# evidence on every run and a [skip]: SQL that must mean the same on both backends.
FEATURES = '''
title = "Schedule in the window"
description = "Rows of the schedule in a window, some of them for chosen teams."
runbook = "Nothing to do: a test of the format."
about_game_day = false

[window]
start_days = "@lookback"
end_days = 0

[params]
lookback = -7
teams = ["BOS", "LAL", "NYK"]
first_status = 3
min_share = 0.5

[tables.schedule]
table = "schedule_table"
columns = ["game_id", "game_date", "game_status", "home_team_tricode"]

[[statements]]
name = "window"
sql = """
SELECT
  COUNT(*) AS schedule_rows,
  COUNT(DISTINCT game_date) AS days,
  COUNTIF(game_status = @first_status) AS final_rows,
  COUNTIF(home_team_tricode IN UNNEST(@teams)) AS team_rows,
  ROUND(SAFE_DIVIDE(COUNTIF(game_status = @first_status), COUNT(*)), 4) AS final_share
FROM {schedule}
WHERE game_date >= @window_start AND game_date < @window_end
"""

[[statements]]
name = "today"
sql = """
SELECT COUNT(DISTINCT game_id) AS games_today, LOGICAL_OR(game_status = 1) AS any_scheduled
FROM {schedule}
WHERE game_date = @as_of
"""

[[checks]]
name = "mostly_final"
metric = "final_share"
min = "@min_share"

[[checks]]
name = "some_team_rows"
metric = "team_rows"
min = 1
level = "warn"

[[evidence]]
name = "by_day"
when = "always"
sql = """
SELECT game_date, COUNT(*) AS schedule_rows
FROM {schedule}
WHERE game_date >= @window_start AND game_date < @window_end
GROUP BY game_date
ORDER BY game_date
LIMIT 20
"""

[skip]
when_zero = "schedule_rows"
reason = "no schedule rows from {window_start} to {window_end}"
'''


@pytest.fixture
def project(bq_server: BigQueryServer) -> Iterator[str]:
    yield f"files-{uuid.uuid4().hex[:8]}"


def configs(
    tmp_path: Path, warehouse: Path, bq_server: BigQueryServer, project: str, extra: str = ""
) -> tuple[CanaryConfig, CanaryConfig]:
    """The same canary files over the DuckDB demo copy and over the local BigQuery server."""
    common = f'[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n[canaries]\npaths = ["canaries"]\n{extra}'
    duck = tmp_path / "duck.toml"
    duck.write_text(f'[warehouse]\npath = "{warehouse}"\n[state]\npath = "duck.sqlite"\n{common}')
    bq = tmp_path / "bq.toml"
    bq.write_text(
        f'[warehouse]\nbackend = "bigquery"\nproject = "{project}"\napi_endpoint = "{bq_server.endpoint}"\n'
        f'[state]\npath = "bq.sqlite"\n{common}'
    )
    return load_config(duck, env={}), load_config(bq, env={})


def load(warehouse: Path, bq_server: BigQueryServer, project: str) -> None:
    """The demo's schedule (the 14 days the game calendar reads, and the as-of day) into the server."""
    with BigQueryWarehouse.from_config(bq_server.config(project=project)) as bq:
        load_demo(warehouse, bq, project, since={"*": AS_OF - dt.timedelta(days=14)}, datasets=["nba_reference"])


def same(duck: Any, bq: Any) -> None:
    assert bq.outcome is duck.outcome, (duck.message, bq.message)
    assert bq.outcome is not Outcome.ERRORED, bq.message
    assert bq.metrics == {k: pytest.approx(v) for k, v in duck.metrics.items()}
    assert [(c.name, c.outcome, c.observed) for c in bq.checks] == [
        (c.name, c.outcome, c.observed) for c in duck.checks
    ]
    assert bq.message == duck.message


def test_the_worked_example_and_the_format_give_the_same_results_on_bigquery(
    seeded: Callable[[str], Path], tmp_path: Path, bq_server: BigQueryServer, project: str
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(seeded("healthy"), warehouse)
    unfinished = unfinish_games(warehouse)  # the worked example's failure, with evidence
    write_example(tmp_path)
    (tmp_path / "canaries" / "schedule_window.toml").write_text(FEATURES)
    load(warehouse, bq_server, project)
    duck_config, bq_config = configs(tmp_path, warehouse, bq_server, project)
    names = ["games_final", "schedule_window"]
    duck = run_checkpoints(duck_config, names, as_of=AS_OF, now=NOW)
    bq = run_checkpoints(bq_config, names, as_of=AS_OF, now=NOW)
    for d, b in zip(duck.checkpoints, bq.checkpoints, strict=True):
        same(d, b)
    final_duck, final_bq = duck.get("games_final"), bq.get("games_final")
    assert final_duck.outcome is Outcome.FAILED
    # Cloud Monitoring gets its series like a built-in's: status 2 (failed), the observed value
    values = series_values(bq)
    assert ("check_status", "games_final", "all_final", 2) in values
    assert ("observed_value", "games_final", "all_final", 2.0) in values
    assert [r["game_id"] for r in final_bq.evidence["games_not_final"]] == unfinished
    assert final_bq.evidence == final_duck.evidence
    window = bq.get("schedule_window")
    assert window.metrics["days"] == 7 and window.metrics["any_scheduled"] == 1  # a BOOL metric counts as 0/1
    assert window.evidence == duck.get("schedule_window").evidence and len(window.evidence["by_day"]) == 7

    # An off day: the window is empty and the skip says why, on both backends.
    off = dt.date(2026, 7, 15)
    d_skip = run_checkpoints(duck_config, ["schedule_window"], as_of=off, build_docs=False).get("schedule_window")
    b_skip = run_checkpoints(bq_config, ["schedule_window"], as_of=off, build_docs=False).get("schedule_window")
    assert d_skip.outcome is b_skip.outcome is Outcome.SKIPPED
    assert b_skip.message == d_skip.message == "skipped: no schedule rows from 2026-07-08 to 2026-07-15"


GUARDED = """
title = "Reads a partitioned table"
description = "A statement that forgets the partition filter."
runbook = "Add a game_date condition."

[tables.raw]
table = "nba_reference.nba_schedule"
columns = ["game_id"]
partitioned = true

[[statements]]
sql = "SELECT COUNT(*) AS games FROM {raw} WHERE game_id LIKE '002%'"

[[checks]]
name = "some"
metric = "games"
min = 1
"""


def bq_config_day(config: CanaryConfig) -> dt.date:
    from pipeline_canary.checkpoints.runner import resolve_clock

    return resolve_clock(config.pipeline.timezone).as_of


def test_partition_guard_dry_run_and_lint_on_bigquery(
    seeded: Callable[[str], Path],
    tmp_path: Path,
    bq_server: BigQueryServer,
    project: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipeline_canary.cli import main

    warehouse = seeded("healthy")
    write_example(tmp_path)
    (tmp_path / "canaries" / "unguarded.toml").write_text(GUARDED)
    load(warehouse, bq_server, project)
    _, bq_config = configs(tmp_path, warehouse, bq_server, project)
    assert "nba_reference.nba_schedule" in bq_config.guarded_tables()

    result = run_checkpoints(bq_config, ["unguarded"], as_of=AS_OF, now=NOW, build_docs=False).get("unguarded")
    assert result.outcome is Outcome.ERRORED
    assert "without a game_date predicate" in result.message

    estimates = {e.checkpoint: e for e in estimate(bq_config, ["games_final"], as_of=AS_OF, now=NOW)}
    assert set(estimates) == {"game_calendar", "games_final"}
    # an estimate (the local server estimates 0 bytes; DuckDB none at all) of its metrics statement and
    # its evidence query (sent when the check fails)
    assert estimates["games_final"].statements == 2 and estimates["games_final"].bytes is not None
    assert estimates["game_calendar"].error is None

    with pytest.raises(SystemExit) as exit_info:
        main(["canaries", "check", "--config", str(bq_config.source)])
    out = capsys.readouterr().out
    assert exit_info.value.code == 2, out
    assert f"{tmp_path / 'canaries' / 'unguarded.toml'}:12: statements[0].sql: " in out
    assert "is read without a game_date predicate" in out
    assert "ok   games_final" in out and f"dry run as of {bq_config_day(bq_config)}" in out
