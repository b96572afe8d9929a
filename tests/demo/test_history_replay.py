"""``canary demo``'s replayed history goes through the incident logic: dashboard, incidents and streaks agree."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline_canary.alerting.incidents import BLIND, Incident, list_incidents
from pipeline_canary.canaries import registry
from pipeline_canary.cli import main
from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.reports.data import checkpoint_view
from pipeline_canary.state import open_state
from pipeline_canary.state.history import history, latest_run_time
from tests.servers.monitoring import MonitoringRecorder
from tests.servers.monitoring import running as monitoring_running
from tests.servers.slack import SlackServer
from tests.servers.slack import running as slack_running

NOT_FAILING = ("passed", "warned", "skipped")  # warned checks open no incident


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SlackServer, MonitoringRecorder]]:
    """A bot token and a metrics project in the environment, pointing at local recorders."""
    with slack_running() as slack, monitoring_running() as monitoring:
        monkeypatch.setenv("CANARY_SLACK_TOKEN", slack.token)
        monkeypatch.setenv("CANARY_SLACK_API_URL", slack.api_url)
        monkeypatch.delenv("CANARY_SLACK_WEBHOOK_URL", raising=False)
        monkeypatch.delenv("CANARY_SLACK_CHANNEL", raising=False)
        monkeypatch.setenv("CANARY_METRICS__PROJECT", "demo")
        monkeypatch.setenv("CANARY_METRICS__API_ENDPOINT", monitoring.endpoint)
        monkeypatch.setenv("CANARY_METRICS__INSECURE", "true")
        yield slack, monitoring


def _cli(*args: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    with pytest.raises(SystemExit):
        main([*args, "--json"])
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def _errored_streaks(config: CanaryConfig, checkpoint: str) -> list[tuple[dt.datetime, int]]:
    """(first run, runs) of every streak of consecutive errored runs, oldest first."""
    streaks: list[tuple[dt.datetime, int]] = []
    previous = ""
    for row in reversed(history(open_state(config), checkpoint)):
        if row.outcome.value == "errored":
            if previous == "errored":
                streaks[-1] = (streaks[-1][0], streaks[-1][1] + 1)
            else:
                streaks.append((row.now, 1))
        previous = row.outcome.value
    return streaks


def assert_consistent(config: CanaryConfig) -> None:
    """Each checkpoint's dashboard streak is its open incident's, run for run; errored streaks went blind."""
    state = open_state(config)
    anchor = latest_run_time(state)
    assert anchor is not None
    incidents = list_incidents(state)
    gx_site = config.gx.project_dir / "uncommitted" / "data_docs" / "local_site"
    for canary in registry.all():
        view = checkpoint_view(state, canary, config.settings_for(canary.name), anchor=anchor, gx_site=gx_site)
        mine = [i for i in incidents if i.checkpoint == canary.name]
        current = [i for i in mine if i.status == "open"]
        if view.outcome in NOT_FAILING:
            assert current == [], (canary.name, view.outcome, current)
            continue
        assert view.since is not None
        streak = len([r for r in history(state, canary.name, since=view.since)])
        expected = BLIND if view.outcome == "errored" else None
        checks = [i for i in current if (i.check == BLIND) == (expected == BLIND)]
        assert checks, f"{canary.name} is {view.outcome} since {view.since} with no open incident: {mine}"
        first: Incident = min(checks, key=lambda i: i.first_failed_at)
        assert first.first_failed_at == view.since, (canary.name, first, view.since)
        assert first.runs == streak, (canary.name, first.runs, streak)
        if canary.about_game_day and expected is None:
            assert first.game_date == view.history[0].row.as_of
    threshold = config.alerting.errored_before_blind
    for start, runs in _errored_streaks(config, "orphaned_staging_tables"):
        if runs < threshold:
            continue
        blind = [i for i in incidents if i.checkpoint == "orphaned_staging_tables" and i.check == BLIND]
        assert any(i.first_failed_at == start and i.runs == runs for i in blind), (start, runs, blind)


def test_demo_history_opens_the_incidents_its_dashboard_shows_and_sends_nothing(
    tmp_path: Path,
    outside: tuple[SlackServer, MonitoringRecorder],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack, monitoring = outside
    root = tmp_path / "demo"
    data = _cli("demo", "--dir", str(root), "--scenario", "incident", capsys=capsys)
    assert data["outcome"] == "failed"
    config = load_config(root / "canary.toml", env={})
    # the replay left history behind, not a fresh state with today's run alone
    assert len(history(open_state(config), "schema_parity")) > 20
    assert_consistent(config)
    assert [i.checkpoint for i in list_incidents(open_state(config), open_only=True)], "no open incidents"
    assert slack.calls == [] and monitoring.requests == []

    # a later `canary run` (its own clock, Slack off) continues the same incidents and streaks
    for name in ("CANARY_SLACK_TOKEN", "CANARY_METRICS__PROJECT"):
        monkeypatch.delenv(name)
    before = {i.key: i.runs for i in list_incidents(open_state(config), open_only=True)}
    _cli("run", "--config", str(root / "canary.toml"), "--no-docs", capsys=capsys)
    after = {i.key: i.runs for i in list_incidents(open_state(config), open_only=True)}
    assert {k: v for k, v in after.items() if k in before} == {k: v + 1 for k, v in before.items() if k in after}
    assert_consistent(config)
