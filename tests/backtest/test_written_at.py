"""Canary files' ``[tables.NAME] written_at``: a column the file reads, and every statement on it filters by @now."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.canary_files.example import cli

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
