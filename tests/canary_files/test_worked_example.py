"""The README's worked example, step by step as written, on the DuckDB demo: a canary file, `canary
canaries check`, `canary run NAME`, and the canary in `list`, the dashboard, Data Docs and Slack
(the local Slack server) like a built-in. tests/bigquery/test_canary_files.py runs the same file
on the local BigQuery server."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.canary_files.example import cli, unfinish_games, write_example
from tests.conftest import NOW
from tests.servers.slack import SlackServer


def test_the_worked_example_end_to_end(
    seeded: Callable[[str], Path], tmp_path: Path, slack: SlackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(seeded("healthy"), warehouse)
    config = tmp_path / "canary.toml"
    # Step 1 of the README: [canaries] paths = ["canaries"], relative to canary.toml.
    config.write_text(
        f'[warehouse]\npath = "{warehouse}"\n[gx]\nproject_dir = "gx"\n[state]\npath = "state.sqlite"\n'
        "[alerting]\nmax_attempts = 3\nbackoff_s = 0.01\ntimeout_s = 2\n"
        '[canaries]\npaths = ["canaries"]\n',
        encoding="utf-8",
    )
    write_example(tmp_path)  # step 2: canaries/games_final.toml, from the README
    c = ("--config", str(config))

    code, out = cli(capsys, "canaries", "check", *c)  # step 3
    assert code == 0, out
    assert "ok   games_final" in out and "tier routine, days_after_game_days" in out

    code, out = cli(capsys, "run", "games_final", *c, "--now", NOW.isoformat(), "--json")
    assert code == 0, out
    passed = json.loads(out[out.index("{") :])["checkpoints"][0]
    assert (passed["name"], passed["outcome"]) == ("games_final", "passed")
    assert [ch["outcome"] for ch in passed["checks"]] == ["passed"]
    assert slack.parents() == []  # nothing to say

    unfinished = unfinish_games(warehouse)
    code, out = cli(capsys, "run", "games_final", *c, "--now", NOW.isoformat(), "--json")
    assert code == 1, out
    result: dict[str, Any] = json.loads(out[out.index("{") :])
    failed = result["checkpoints"][0]
    assert failed["outcome"] == "failed" and not result["replay"]
    assert failed["checks"][0]["observed"] == 2 and failed["checks"][0]["threshold"]["max"] == 0
    assert failed["message"].startswith("3 of 5 games final on the day before 2026-02-08")

    (parent,) = slack.parents()  # the same message a built-in canary sends
    text = json.dumps(parent.blocks) + parent.text
    assert "Yesterday's games are final" in text
    assert "*Observed:* 2   *Threshold:* &lt;= 0" in text
    assert "Re-run the schedule scraper" in text  # the runbook
    assert all(game in text for game in unfinished)  # the evidence rows

    code, out = cli(capsys, "list", *c, "--json")
    assert code == 0
    (listed,) = [row for row in json.loads(out) if row["name"] == "games_final"]
    assert listed["tier"] == "routine" and listed["calendar"] == {"run_on": ["days_after_game_days"], "skip_on": []}
    assert listed["checks"] == [
        {"name": "all_final", "metric": "games_not_final", "threshold": {"min": None, "max": 0.0, "level": "fail"}}
    ]
    assert listed["source"] == str(tmp_path / "canaries" / "games_final.toml")

    # Data Docs: its suite in gx/, its validation page; the dashboard: its own page, and the overview.
    suite = json.loads((tmp_path / "gx" / "expectations" / "games_final.json").read_text())
    assert [e["meta"]["check"] for e in suite["expectations"]] == ["all_final"]
    assert suite["meta"]["title"] == "Yesterday's games are final"
    site = tmp_path / "gx" / "uncommitted" / "data_docs"
    pages = list((site / "local_site" / "validations" / "games_final").rglob("*.html"))
    assert len(pages) == 2  # the two runs
    dashboard = (site / "index.html").read_text()
    assert "games_final" in dashboard and "Yesterday&#39;s games are final" in dashboard
    page = next(p for p in site.rglob("*.html") if "games_final" in p.name and "local_site" not in p.parts)
    assert "Re-run the schedule scraper" in page.read_text()

    # A day that does not follow a game day: skipped with the calendar's reason, never passed.
    code, out = cli(capsys, "run", "games_final", *c, "--as-of", "2026-07-16", "--json")
    skipped = json.loads(out[out.index("{") :])["checkpoints"][0]
    assert code == 0 and skipped["outcome"] == "skipped"
    assert skipped["message"].startswith("skipped: not the day after a game day (no games on 2026-07-15")
