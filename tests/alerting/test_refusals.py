"""Slack refusing us (a rotated token, a revoked webhook, an unknown channel) is not a rejection.

The messages stay queued, the condition is logged, stored and shown, and once Slack takes messages
again every parent goes out exactly once. Only a message rejected for its content is dropped, and
then it is replaced by a plain-text form so its incident is still announced.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import replace

import pytest
from click.testing import CliRunner

from pipeline_canary.alerting import alert_sink, deliver_pending, enqueue_run, list_incidents, metrics_sink, outbox
from pipeline_canary.alerting import refusal as refusals
from pipeline_canary.cli import cli
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import CheckpointResult, CheckResult, Outcome, RunResult, Threshold
from pipeline_canary.state import open_state
from tests.alerting.test_slack import run, step
from tests.servers.monitoring import MonitoringRecorder
from tests.servers.slack import SlackServer

T0 = dt.datetime(2026, 2, 8, 12, 0, tzinfo=dt.UTC)
CRITICAL = ("prediction_gap", "schema_parity")
WARNING = ("feature_contamination", "orphaned_staging_tables")
OLD_TOKEN = "xoxb-0000000000-0000000000-rotatedOLDtokenXYZ"


def failing(i: int) -> RunResult:
    """Run ``i`` (half-hourly from T0) with every checkpoint failing its one check."""
    checkpoints = tuple(
        CheckpointResult(
            name=name,
            outcome=Outcome.FAILED,
            checks=(CheckResult(f"{name}_check", Outcome.FAILED, f"{name} broke", 1.0 + i, Threshold(max=0)),),
            message=f"{name} failed",
        )
        for name in CRITICAL + WARNING
    )
    now = T0 + i * dt.timedelta(minutes=30)
    return RunResult(run_id=f"r{i}", as_of=now.date(), now=now, checkpoints=checkpoints)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=False)
    return int(result.return_value or 0), result.output


def announced(slack: SlackServer, mode: str) -> list[str]:
    """The texts of the incidents' parent messages in the channel."""
    if mode == "token":
        return [m.text for m in slack.parents()]
    return [m.text for m in slack.messages if m.text.startswith(("CRITICAL:", "WARNING:"))]


def _outage(slack: SlackServer, mode: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Slack stops taking our credentials; returns the error code it answers."""
    if mode == "token":
        monkeypatch.setenv("CANARY_SLACK_TOKEN", OLD_TOKEN)  # rotated: Slack answers 200 invalid_auth
        return "invalid_auth"
    monkeypatch.delenv("CANARY_SLACK_TOKEN")
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", slack.webhook_url)
    slack.refuse("invalid_auth", 401)
    return "invalid_auth"


def _recover(slack: SlackServer, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if mode == "token":
        monkeypatch.setenv("CANARY_SLACK_TOKEN", slack.token)
    else:
        slack.refuse(None)


@pytest.mark.parametrize("recovery", ["run", "flush"])
@pytest.mark.parametrize("mode", ["token", "webhook"])
def test_an_auth_outage_then_recovery_delivers_every_parent_exactly_once(
    slack: SlackServer,
    alert_config: Callable[..., CanaryConfig],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    recovery: str,
) -> None:
    code = _outage(slack, mode, monkeypatch)
    config = alert_config()
    with caplog.at_level(logging.WARNING):
        for i in range(3):
            step(config, failing(i))
    state = open_state(config)
    opened = list_incidents(state, open_only=True)
    assert len(opened) == 4 and sum(i.severity == "critical" for i in opened) == 2
    assert slack.messages == [] and outbox.counts(state).get("rejected", 0) == 0
    parents = [outbox.get(state, i.parent_outbox_id or 0) for i in opened]
    assert all(p is not None and p.status == "pending" for p in parents)
    [condition] = refusals.current(state)
    assert (condition.scope, condition.code) == ("slack", code) and condition.times == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3 and all(f"Slack is refusing every message: {code}" in e for e in errors)  # once a run
    assert all("CANARY_SLACK_" in e for e in errors)  # the fix names the variable
    assert not any(OLD_TOKEN in r.getMessage() or "localWEBHOOK" in r.getMessage() for r in caplog.records)
    exit_code, out = invoke("alerts", "status", "--config", str(config.source))
    assert exit_code == 0 and f"SLACK IS REFUSING US: Slack refuses every message: {code}" in out
    _, out = invoke("alerts", "status", "--config", str(config.source), "--json")
    assert [r["code"] for r in json.loads(out)["slack_refusing"]] == [code]

    _recover(slack, mode, monkeypatch)
    if recovery == "run":
        step(config, failing(3))
    else:
        exit_code, out = invoke("alerts", "flush", "--config", str(config.source))
        assert exit_code == 0 and "still queued" in out and " 0 still queued" in out
    texts = announced(slack, mode)
    for name in CRITICAL + WARNING:  # one parent per incident, no duplicates
        assert sum(f": {name}_check" in t for t in texts) == 1, (name, texts)
    assert len(texts) == 4
    if mode == "token":
        uids = [m.metadata["event_payload"]["outbox_uid"] for m in slack.messages if m.metadata]
        assert len(uids) == len(set(uids))
    assert refusals.current(state) == [] and outbox.pending(state) == []
    _, out = invoke("alerts", "status", "--config", str(config.source))
    assert "REFUSING" not in out
    step(config, failing(4))
    assert len(announced(slack, mode)) == 4  # the incidents go on in their threads, not as new parents


def test_a_refused_channel_waits_while_the_other_channels_get_their_alerts(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], caplog: pytest.LogCaptureFixture
) -> None:
    config = alert_config(extra='[alerting.checkpoints.schema_parity]\nchannel = "#schemas"')
    with caplog.at_level(logging.ERROR):
        step(config, failing(0))
    state = open_state(config)
    assert [m.text.split(" (")[0] for m in slack.parents()] == ["CRITICAL: Prediction gap: prediction_gap_check"]
    [condition] = refusals.current(state)
    assert (condition.scope, condition.code) == ("channel:#schemas", "channel_not_found")
    assert "create #schemas" in condition.fix
    [error] = [r.getMessage() for r in caplog.records if "refusing" in r.getMessage()]
    assert "Slack is refusing messages to #schemas: channel_not_found" in error
    [waiting] = outbox.pending(state)
    assert waiting.channel == "#schemas" and "channel_not_found" in (waiting.last_error or "")

    slack.channels["C0LOCAL0099"] = "schemas"  # someone creates the channel
    step(config, failing(1))
    channels = [m.channel for m in slack.parents()]  # the two warnings opened on this second failure
    assert channels.count("C0LOCAL0099") == 1 and channels.count("C0LOCAL0001") == 3
    assert "schema_parity_check" in next(m.text for m in slack.parents() if m.channel == "C0LOCAL0099")
    assert refusals.current(state) == []


def test_a_parent_rejected_for_its_content_is_re_announced_as_plain_text_and_keeps_its_thread(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config("reminder_hours = 1")
    slack.fail("reject:invalid_blocks")
    step(config, run(0))
    [parent] = slack.parents()
    assert parent.blocks is None and "Prediction gap" in parent.text and "plain text" in parent.text
    assert "invalid_blocks" in parent.text
    state = open_state(config)
    [incident] = list_incidents(state, open_only=True)
    replacement = outbox.get(state, incident.parent_outbox_id or 0)
    assert replacement is not None and replacement.payload["plain"] and replacement.status == "sent"
    [rejected] = outbox.rows(state, status="rejected")
    assert rejected.kind == "open" and "invalid_blocks" in (rejected.last_error or "")
    for i in range(1, 4):
        step(config, run(i))
    assert slack.parents() == [parent] and parent.edits  # edited in place: the full blocks again
    assert [r.text[0] for r in slack.replies(parent)] == ["⏰"]  # the reminder threads under it


def test_a_reply_rejected_for_its_content_goes_into_the_thread_as_plain_text(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config("reminder_hours = 0.5")
    slack.fail("ok", times=2)  # the parent, then its first edit
    slack.fail("reject:msg_too_long")  # the first reminder
    step(config, run(0))
    step(config, run(1))
    [parent] = slack.parents()
    [reply] = slack.replies(parent)
    assert reply.text.startswith("⏰") and "plain text" in reply.text and "msg_too_long" in reply.text
    assert reply.blocks is None and len(outbox.rows(open_state(config), status="rejected")) == 1


def test_an_edit_rejected_for_its_content_replaces_the_blocks_with_plain_text(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config()
    slack.fail("ok")  # the parent
    slack.fail("reject:invalid_blocks")  # its first edit
    step(config, run(0))
    step(config, run(1))
    [parent] = slack.parents()
    [edit] = parent.edits
    assert edit["blocks"] == [] and "plain text" in edit["text"] and "invalid_blocks" in edit["text"]


def test_a_plain_form_rejected_too_is_dropped_and_later_replies_still_name_the_incident(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config("reminder_hours = 0.5")
    slack.fail("reject:invalid_blocks", times=2)  # the parent and its plain form
    step(config, run(0))
    assert slack.messages == []
    state = open_state(config)
    assert outbox.counts(state) == {"rejected": 2}
    step(config, run(1))  # the reminder: posted on its own, naming its incident; the edit is skipped
    [reminder] = slack.parents()
    assert reminder.text.startswith("*Prediction gap: no_prediction_gap* · ⏰")
    assert outbox.counts(state)["skipped"] == 1


@pytest.mark.parametrize("error", ["Slack answered 200: invalid_auth", "Slack answered 200: invalid_blocks"])
def test_an_incident_silenced_by_an_earlier_rejection_is_announced_after_all(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], error: str
) -> None:
    """State written by versions that marked refusals ``rejected``: the open incident gets its parent."""
    config = alert_config()
    enqueue_run(config, run(0))
    state = open_state(config)
    [incident] = list_incidents(state, open_only=True)
    outbox.mark(state, [incident.parent_outbox_id or 0], "rejected", error)
    assert deliver_pending(config) == 1
    [parent] = slack.parents()
    assert ("plain text" in parent.text) is error.endswith("invalid_blocks")
    assert deliver_pending(config) == 0 and len(slack.parents()) == 1


def _refusing_series(monitoring: MonitoringRecorder) -> list[dict[str, object]]:
    out = []
    for request in monitoring.requests:
        for ts in request.time_series:
            if ts.metric.type.endswith("/slack_refusing"):
                out.append({**dict(ts.metric.labels), "value": ts.points[0].value.int64_value})
    return out


def test_slack_refusing_series_while_refused_then_zero_and_never_for_a_replay(
    slack: SlackServer,
    monitoring: MonitoringRecorder,
    alert_config: Callable[..., CanaryConfig],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metrics = f'[metrics]\nproject = "p1"\napi_endpoint = "{monitoring.endpoint}"\ninsecure = true'
    config = alert_config(extra=metrics)
    monkeypatch.setenv("CANARY_SLACK_TOKEN", OLD_TOKEN)
    for sink in (alert_sink, metrics_sink):
        sink(config, failing(0))
    during = _refusing_series(monitoring)
    assert {(s["checkpoint"], s["check"], s["value"]) for s in during} == {(n, "_all", 1) for n in CRITICAL + WARNING}
    monkeypatch.setenv("CANARY_SLACK_TOKEN", slack.token)
    for sink in (alert_sink, metrics_sink):
        sink(config, failing(1))
    assert {s["value"] for s in _refusing_series(monitoring)[len(during) :]} == {0}
    before = len(monitoring.requests)
    monkeypatch.setenv("CANARY_SLACK_TOKEN", OLD_TOKEN)
    metrics_sink(config, replace(failing(2), replay=True))
    assert len(monitoring.requests) == before + 1 and not [
        ts for ts in monitoring.requests[-1].time_series if ts.metric.type.endswith("/slack_refusing")
    ]
