"""Canary files' ``[tables.NAME] written_at``: a column the file reads, and every statement on it filters by @now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.canary_files.example import cli
from tests.conftest import AS_OF, NOW, GameDay

FILE = '''title = "Predictions written"
description = "The day's predictions as written by the run's now."
severity = "warning"
tier = "routine"
runbook = "Look at the prediction coordinator's runs for the date."

[calendar]
run_on = ["game_days"]

[tables.predictions]
table = "predictions_table"
columns = ["game_date"]
written_at = "created_at"

[[statements]]
sql = """
SELECT COUNT(*) AS rows_written
FROM {predictions}
WHERE game_date = @as_of AND created_at <= @now
"""

[[checks]]
name = "some_rows"
metric = "rows_written"
min = 1
'''


def _project(tmp_path: Path, warehouse: Path, text: str) -> Path:
    config = tmp_path / "canary.toml"
    config.write_text(
        f'[warehouse]\npath = "{warehouse}"\n[gx]\nproject_dir = "gx"\nbuild_docs = false\n'
        '[state]\npath = "state.sqlite"\n[canaries]\npaths = ["canaries"]\n',
        encoding="utf-8",
    )
    (tmp_path / "canaries").mkdir(exist_ok=True)
    (tmp_path / "canaries" / "predictions_written.toml").write_text(text, encoding="utf-8")
    return config


def test_written_at_is_checked_like_the_columns_read_and_needs_at_now(
    seeded: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _project(tmp_path, seeded("healthy"), FILE)
    code, out = cli(capsys, "canaries", "check", "--config", str(config))
    assert code == 0 and "ok   predictions_written" in out, out
    _project(tmp_path, seeded("healthy"), FILE.replace('written_at = "created_at"', 'written_at = "written_time"'))
    code, out = cli(capsys, "canaries", "check", "--config", str(config))
    assert code != 0 and "no column(s) written_time" in out, out
    _project(tmp_path, seeded("healthy"), FILE.replace(" AND created_at <= @now", ""))
    code, out = cli(capsys, "canaries", "check", "--config", str(config), "--no-warehouse")
    assert code == 2 and "tables.predictions.written_at" in out and "without @now" in out, out


def _points(config_path: Path, name: str, since: dt.datetime, until: dt.datetime) -> list[dt.datetime] | None:
    from pipeline_canary.backtest.changes import change_points
    from pipeline_canary.config import load_config
    from pipeline_canary.warehouse import connect_pipeline

    config = load_config(config_path, env={})
    warehouse = connect_pipeline(config)
    try:
        return change_points(config, warehouse, config.catalogue.get(name), AS_OF, since, until)
    finally:
        warehouse.close()


def test_the_write_times_of_written_at_tables_are_a_file_canarys_change_points(
    seeded: Callable[[str], Path], tmp_path: Path
) -> None:
    """Backtests evaluate a file reading ``written_at <= @now`` only after its tables were written."""
    warehouse = seeded("healthy")
    since, until = NOW - dt.timedelta(days=1), NOW
    windowed = FILE.replace("[tables.predictions]", "[window]\nstart_days = -1\n\n[tables.predictions]")
    windowed = windowed.replace("game_date = @as_of AND", "game_date BETWEEN @window_start AND @as_of AND")
    config = _project(tmp_path, warehouse, windowed)
    written = GameDay().rows(
        warehouse,
        "SELECT DISTINCT created_at FROM nba_predictions.player_prop_predictions "
        "WHERE game_date BETWEEN ? AND ? AND created_at > ? AND created_at <= ? ORDER BY 1",
        AS_OF - dt.timedelta(days=1), AS_OF, since, until,
    )  # fmt: skip
    expected = [w.replace(tzinfo=dt.UTC) for (w,) in written]
    assert expected and _points(config, "predictions_written", since, until) == expected
    # the built-in feature_contamination: the write times of its window's feature rows
    fc = _points(config, "feature_contamination", NOW - dt.timedelta(days=30), NOW)
    rows = GameDay().rows(
        warehouse,
        "SELECT DISTINCT created_at FROM nba_predictions.ml_feature_store_v2 "
        "WHERE game_date BETWEEN ? AND ? AND created_at > ? AND created_at <= ? ORDER BY 1",
        AS_OF - dt.timedelta(days=14), AS_OF - dt.timedelta(days=1), NOW - dt.timedelta(days=30), NOW,
    )  # fmt: skip
    assert fc is not None and fc == [w.replace(tzinfo=dt.UTC) for (w,) in rows] and len(fc) > 1


def test_change_points_stay_unknown_when_the_clock_is_read_otherwise(
    seeded: Callable[[str], Path], tmp_path: Path
) -> None:
    since, until = NOW - dt.timedelta(days=1), NOW
    # a partitioned table without a [window]: no bound for the write times' query, evaluated every step
    config = _project(tmp_path, seeded("healthy"), FILE)
    assert _points(config, "predictions_written", since, until) is None
    # @now compared otherwise (an age): the verdict moves with the clock
    aged = FILE.replace(
        "SELECT COUNT(*) AS rows_written",
        "SELECT COUNT(*) AS rows_written, MAX(TIMESTAMP_DIFF(@now, created_at, HOUR)) AS age_hours",
    ).replace("[tables.predictions]", "[window]\nstart_days = -1\n\n[tables.predictions]")
    config = _project(tmp_path, seeded("healthy"), aged)
    assert _points(config, "predictions_written", since, until) is None


def test_the_write_times_query_takes_its_values_as_parameters() -> None:
    from pipeline_canary.canaries import registry
    from pipeline_canary.canary_files import FileCanary
    from pipeline_canary.canary_files.writes import write_times_sql, writes_read

    canary = registry.get("feature_contamination")
    assert isinstance(canary, FileCanary) and writes_read(canary) == {"feature_store": "created_at"}
    assert write_times_sql(canary, "feature_store") == (
        "SELECT DISTINCT `created_at` AS written FROM {feature_store} "
        "WHERE `created_at` > @since AND `created_at` <= @until AND game_date BETWEEN @window_start AND @window_end"
    )
