"""Acceptance: a 48-run replay of the real ``incident`` scenario, then recovery, counted per check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pipeline_canary.alerting import alert_sink, list_incidents
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import CheckpointResult, Outcome, RunResult
from pipeline_canary.state import open_state
from tests.alerting.conftest import at
from tests.conftest import NOW
from tests.servers.slack import SlackServer

HALF_HOUR = dt.timedelta(minutes=30)
CRITICAL = {"prediction_gap", "schema_parity"}


def failing_checks(result: RunResult) -> set[tuple[str, str]]:
    return {(cp.name, c.name) for cp in result.checkpoints for c in cp.checks if c.outcome is Outcome.FAILED}


def test_incident_replay_48_runs_then_recovery(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], real_results: dict[str, RunResult]
) -> None:
    incident, healthy = real_results["incident"], real_results["healthy"]
    failing = failing_checks(incident)
    assert {cp for cp, _ in failing} == {"prediction_gap", "feature_contamination", "schema_parity",
                                         "orphaned_staging_tables"}  # fmt: skip
    assert not failing_checks(healthy)
    config = alert_config("reminder_hours = 4")
    for i in range(48):
        alert_sink(config, at(incident, NOW + i * HALF_HOUR))
    alert_sink(config, at(healthy, NOW + 48 * HALF_HOUR))

    parents = {(m.metadata or {}).get("event_payload", {}).get("outbox_id"): m for m in slack.parents()}
    assert len(parents) == len(failing)  # exactly one parent message per failing check
    by_check = {}
    for message in slack.parents():
        header = message.blocks[0]["text"]["text"] if message.blocks else ""
        [key] = [k for k in failing if header.endswith(f": {k[1]}")]
        by_check[key] = message
    assert set(by_check) == failing
    for (checkpoint, check), parent in by_check.items():
        replies = slack.replies(parent)
        reminders = [r for r in replies if r.text.startswith("⏰")]
        resolved = [r for r in replies if r.text.startswith("✅")]
        opened_at_run = 0 if checkpoint in CRITICAL else 1  # warnings wait for the 2nd failure
        assert len(parent.edits) == (47 - opened_at_run) + 1, (checkpoint, check)  # each later run, then resolved
        assert len(reminders) == 5, (checkpoint, check)  # every 4 hours of a 24-hour outage
        assert len(resolved) == 1 and len(replies) == 6
        assert "RESOLVED" in parent.text
    assert not slack.calls_to("conversations.history")  # nothing ever needed a second look
    incidents = list_incidents(open_state(config))
    assert {(i.checkpoint, i.check) for i in incidents} == failing
    assert all(i.status == "resolved" and i.resolved_at == NOW + 48 * HALF_HOUR for i in incidents)
    assert not list_incidents(open_state(config), open_only=True)


def test_canary_is_blind_after_k_errored_runs(slack: SlackServer, alert_config: Callable[..., CanaryConfig]) -> None:
    config = alert_config("errored_before_blind = 3")
    errored = CheckpointResult.errored("schema_parity", "could not run: table nba_predictions.x not found")
    for i in range(4):
        alert_sink(config, RunResult(f"r{i}", NOW.date(), NOW + i * HALF_HOUR, (errored,)))
    [parent] = slack.parents()
    assert "canary is blind" in parent.text and "could not run" in str(parent.blocks)
    assert len(parent.edits) == 1
    ok = CheckpointResult(name="schema_parity", outcome=Outcome.PASSED)
    alert_sink(config, RunResult("r9", NOW.date(), NOW + 5 * HALF_HOUR, (ok,)))
    assert [r.text[0] for r in slack.replies(parent)] == ["✅"]
    [incident] = list_incidents(open_state(config))
    assert (incident.check, incident.status, incident.runs) == ("canary_blind", "resolved", 4)
