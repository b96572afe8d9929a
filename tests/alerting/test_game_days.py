"""Incidents belong to what they are about: a run for another game day (a replay) leaves today's alone."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pipeline_canary.alerting import alert_sink, list_incidents
from pipeline_canary.cli import cli
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import RunResult
from pipeline_canary.state import open_state
from pipeline_canary.state.history import history
from tests.alerting.conftest import FAST, at
from tests.conftest import AS_OF, NOW
from tests.servers.monitoring import MonitoringRecorder
from tests.servers.slack import SlackServer

DAY = dt.timedelta(days=1)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=False)
    return int(result.return_value or 0), result.output


def snapshot(state_path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    import sqlite3

    with sqlite3.connect(state_path) as conn:
        incidents = conn.execute("SELECT * FROM alert_incidents ORDER BY id").fetchall()
        outbox = conn.execute("SELECT * FROM alert_outbox ORDER BY id").fetchall()
    return incidents, outbox


def test_a_run_for_a_past_date_leaves_todays_incidents_and_posts_nothing(
    slack: SlackServer, monitoring: MonitoringRecorder, seeded: Callable[[str], Path], tmp_path: Path
) -> None:
    warehouse, state = tmp_path / "warehouse.duckdb", tmp_path / "state.sqlite"
    shutil.copy(seeded("incident"), warehouse)
    config = tmp_path / "canary.toml"
    config.write_text(
        f'[warehouse]\npath = "{warehouse}"\n[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n'
        f'[state]\npath = "{state}"\n{FAST}'
        f'[metrics]\nproject = "demo"\napi_endpoint = "{monitoring.endpoint}"\ninsecure = true\n',
        encoding="utf-8",
    )
    code, _ = invoke("run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--now", NOW.isoformat())
    assert code == 1 and len(slack.parents()) == 2  # today's two critical checkpoints opened incidents
    before, calls, metrics = snapshot(state), len(slack.calls), len(monitoring.requests)
    assert [row for row in before[0] if "prediction_gap" in row]

    # 7 February passes in this warehouse: before, this run resolved today's prediction_gap incident
    code, out = invoke("run", "prediction_gap", "--config", str(config), "--as-of", "2026-02-07", "--json")
    data = json.loads(out)
    assert code == 0 and data["outcome"] == "passed" and data["replay"] is True
    # every checkpoint, still failing on 7 February, against today's --now: no edits or reminders either
    code, out = invoke("run", "--config", str(config), "--as-of", "2026-02-07", "--now", NOW.isoformat(), "--json")
    assert code == 1 and json.loads(out)["replay"] is True
    assert snapshot(state) == before
    assert len(slack.calls) == calls and len(monitoring.requests) == metrics

    # asked explicitly, a replay writes metrics, and still leaves the live incidents alone
    code, out = invoke("run", "--config", str(config), "--as-of", "2026-02-07", "--now", NOW.isoformat(), "--alert")
    assert code == 1 and len(monitoring.requests) == metrics + 1
    assert snapshot(state)[0][: len(before[0])] == before[0]
    assert {i.game_date for i in list_incidents(open_state_of(config), open_only=True)} == {AS_OF, None}

    replays = [r for r in history(open_state_of(config)) if r.as_of == dt.date(2026, 2, 7)]
    assert replays and all(r.replay for r in replays)
    assert not [r for r in history(open_state_of(config)) if r.as_of == AS_OF and r.replay]


def open_state_of(config: Path) -> Any:
    from pipeline_canary.config import load_config

    return open_state(load_config(config, env={}))


def test_a_result_advances_only_the_incidents_about_its_game_day(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], real_results: dict[str, RunResult]
) -> None:
    """A failing live day opens its own incident; a passing replay of an earlier day resolves that day's only."""
    config = alert_config()
    incident, healthy = real_results["incident"], real_results["healthy"]
    gap = (incident.get("prediction_gap"),)
    alert_sink(config, replace(at(incident, NOW), checkpoints=gap))
    # 8 Feb fixed by a backfill, seen by a replay: resolves 8 Feb's incident and nothing else
    fixed = replace(at(healthy, NOW + dt.timedelta(hours=1)), replay=True)
    alert_sink(config, replace(fixed, checkpoints=(healthy.get("prediction_gap"),)))
    [resolved] = list_incidents(open_state(config))
    assert (resolved.status, resolved.game_date, resolved.check) == ("resolved", AS_OF, "no_prediction_gap")
    assert len(slack.parents()) == 1


def test_an_incident_ends_unresolved_when_its_game_day_is_over(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], real_results: dict[str, RunResult]
) -> None:
    """No live run checks 8 Feb once 9 Feb is the game day: its incident closes, never called resolved."""
    config = alert_config()
    incident = real_results["incident"]
    gap = (incident.get("prediction_gap"),)
    alert_sink(config, replace(at(incident, NOW), checkpoints=gap))
    alert_sink(config, replace(at(incident, NOW + DAY), as_of=AS_OF + DAY, checkpoints=gap))
    by_day = {i.game_date: i for i in list_incidents(open_state(config))}
    assert (by_day[AS_OF].status, by_day[AS_OF + DAY].status) == ("closed", "open")
    first, second = slack.parents()
    [last_word] = slack.replies(first)
    assert "Game day 2026-02-08 is over and this never passed" in last_word.text
    assert "Resolved" not in last_word.text and not slack.replies(second)
    assert "ENDED UNRESOLVED" in json.dumps(first.edits[-1])  # the parent says so too (token mode)
    alert_sink(config, replace(at(incident, NOW + DAY + dt.timedelta(hours=1)), as_of=AS_OF + DAY, checkpoints=gap))
    assert len(slack.replies(first)) == 1  # closed once, never re-posted


OLD_SCHEMA = """
CREATE TABLE alert_incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, checkpoint TEXT NOT NULL, check_name TEXT NOT NULL, status TEXT NOT NULL,
    severity TEXT NOT NULL, channel TEXT NOT NULL, first_failed_at TEXT NOT NULL, last_seen_at TEXT NOT NULL,
    runs INTEGER NOT NULL, last_value REAL, message TEXT NOT NULL, threshold TEXT NOT NULL, opened_at TEXT,
    resolved_at TEXT, notified_value REAL, notified_at TEXT, parent_outbox_id INTEGER
);
CREATE UNIQUE INDEX alert_incidents_current ON alert_incidents (checkpoint, check_name)
    WHERE status IN ('pending', 'open');
CREATE TABLE runs (run_id TEXT PRIMARY KEY, as_of TEXT NOT NULL, now TEXT NOT NULL, outcome TEXT NOT NULL,
                   duration_s REAL NOT NULL, docs_index TEXT);
INSERT INTO alert_incidents VALUES (1, 'schema_parity', 'worker_fields_exist', 'open', 'critical', '#c',
    '2026-02-08T22:00:00+00:00', '2026-02-08T22:00:00+00:00', 1, 2, 'missing 2', '= 0', NULL, NULL, 2, NULL, NULL);
INSERT INTO runs VALUES ('old', '2026-02-08', '2026-02-08T22:00:00+00:00', 'failed', 1.0, NULL);
"""


def test_a_state_file_from_before_game_dates_keeps_its_incidents_and_history(
    alert_config: Callable[..., CanaryConfig], real_results: dict[str, RunResult]
) -> None:
    import sqlite3

    config = alert_config('slack = "off"')
    with sqlite3.connect(config.state.path) as conn:
        conn.executescript(OLD_SCHEMA)
    state = open_state(config)
    [old] = list_incidents(state, open_only=True)
    assert (old.check, old.game_date) == ("worker_fields_exist", None)  # date-less, as schema_parity is
    assert [r.replay for r in history(state)] == [] and state.read().execute("SELECT replay FROM runs").fetchall()
    alert_sink(config, at(real_results["healthy"], NOW))  # the newest live run: resolves it
    assert not list_incidents(state, open_only=True)
    alert_sink(config, at(real_results["incident"], NOW + DAY))  # two incidents for one check, one per day
    alert_sink(config, replace(at(real_results["incident"], NOW + 2 * DAY), as_of=AS_OF + DAY))
    days = {i.game_date: i.status for i in list_incidents(state) if i.checkpoint == "prediction_gap"}
    assert days == {AS_OF: "closed", AS_OF + DAY: "open"}  # one per day; 8 Feb ended when 9 Feb went live
