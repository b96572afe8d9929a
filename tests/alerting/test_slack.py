"""Slack delivery with the real slack_sdk client against the local Slack server."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.alerting import deliver_pending, enqueue_run, list_incidents, outbox
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import CheckpointResult, CheckResult, Outcome, RunResult, Threshold
from pipeline_canary.state import open_state
from tests.servers.slack import SlackServer

T0 = dt.datetime(2026, 2, 8, 12, 0, tzinfo=dt.UTC)
HALF_HOUR = dt.timedelta(minutes=30)


def run(i: int, outcome: Outcome = Outcome.FAILED, value: float = 1.0, evidence_rows: int = 3) -> RunResult:
    """Run ``i`` (half-hourly from T0) with prediction_gap in ``outcome``."""
    check = CheckResult("no_prediction_gap", outcome, f"gap_detected = {value:g}", value, Threshold(max=0), "gap")
    games = [{"game_key": f"20260208_AAA_B{n:02d}", "active_predictions": 0} for n in range(evidence_rows)]
    cp = CheckpointResult(
        name="prediction_gap",
        outcome=outcome,
        checks=(check,),
        message="10 games scheduled on 2026-02-08 and 0 active predictions",
        evidence={"games_without_predictions": games},
        docs_path="/srv/gx/uncommitted/data_docs/local_site/validations/prediction_gap/run/page.html",
    )
    now = T0 + i * HALF_HOUR
    return RunResult(run_id=f"r{i}", as_of=now.date(), now=now, checkpoints=(cp,))


def step(config: CanaryConfig, result: RunResult) -> int:
    from pipeline_canary.alerting import alert_sink

    alert_sink(config, result)
    return len(outbox.pending(open_state(config)))


def test_parent_edits_threaded_replies_and_resolution(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config('docs_base_url = "https://docs.example.org/canary"\nreminder_hours = 1')
    for i in range(4):
        assert step(config, run(i)) == 0
    assert step(config, run(4, Outcome.PASSED, 0)) == 0
    [parent] = server_parents(slack)
    assert parent.channel == "C0LOCAL0001" and parent.metadata["event_type"] == "pipeline_canary_alert"
    assert len(parent.edits) == 3 + 1  # three runs still failing, then the resolved edit
    assert "RESOLVED" in parent.blocks[0]["text"]["text"]
    replies = slack.replies(parent)
    assert [r.text.split()[0] for r in replies] == ["⏰", "✅"]  # the reminder after 1 h, then resolved
    text = json.dumps(slack.calls_to("chat.postMessage")[0].body)
    assert "https://docs.example.org/canary/local_site/validations/prediction_gap/run/page.html" in text
    assert "Runbook" in text and "10 games scheduled" in text
    [incident] = list_incidents(open_state(config))
    assert (incident.status, incident.runs, incident.check) == ("resolved", 4, "no_prediction_gap")


def server_parents(slack: SlackServer) -> list:  # type: ignore[type-arg]
    return slack.parents()


def test_rate_limit_waits_retry_after_and_posts_once(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config()
    slack.fail("429", times=1, seconds=1)
    step(config, run(0))
    statuses = [c.status for c in slack.calls_to("chat.postMessage")]
    assert statuses == [429, 200] and len(slack.parents()) == 1


def test_slack_down_for_ten_runs_then_everything_once(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config()
    slack.fail("500", times=10 * 3)  # ten runs of three attempts each
    for i in range(10):
        step(config, run(i))
    assert slack.messages == []
    assert step(config, run(10, Outcome.PASSED, 0)) == 0
    [parent] = slack.parents()
    uids = [m.metadata["event_payload"]["outbox_uid"] for m in slack.messages if m.metadata]
    assert len(uids) == len(set(uids)) == 3  # parent, the 4-hour reminder and the resolution, each once
    assert len(parent.edits) == 1 and "RESOLVED" in parent.text  # stale edits were superseded
    assert [r.text[0] for r in slack.replies(parent)] == ["⏰", "✅"]
    counts = outbox.counts(open_state(config))
    assert counts.get("pending", 0) == 0 and counts["superseded"] == 9


def test_timeout_after_slack_stored_the_message_is_not_a_duplicate(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config()
    slack.fail("store_then_hang", seconds=2.5)  # stores, then answers after the 1 s client timeout
    step(config, run(0))
    assert len(slack.parents()) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1  # the retry looked it up instead of re-posting
    assert slack.calls_to("conversations.history")
    assert outbox.counts(open_state(config)) == {"sent": 1}


def test_hang_without_storing_is_retried(slack: SlackServer, alert_config: Callable[..., CanaryConfig]) -> None:
    config = alert_config()
    slack.fail("hang", seconds=2)
    step(config, run(0))
    assert len(slack.parents()) == 1 and outbox.counts(open_state(config)) == {"sent": 1}


def test_killed_between_send_and_mark_is_not_a_duplicate(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], tmp_path: Path
) -> None:
    config = alert_config()
    from pipeline_canary.alerting import enqueue_run

    enqueue_run(config, run(0))
    slack.fail("store_then_hang", seconds=30)
    script = textwrap.dedent(
        f"""
        from pipeline_canary.config import load_config
        from pipeline_canary.alerting import deliver_pending
        deliver_pending(load_config({str(config.source)!r}))
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ), cwd=os.getcwd())
    try:
        assert slack.stored.wait(20), "the child never reached Slack"
    finally:
        child.kill()
        child.wait()
    [row] = outbox.pending(open_state(config))
    assert row.attempts == 1 and len(slack.parents()) == 1  # in Slack, not marked: the crash window
    slack.release.set()
    assert deliver_pending(config) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1 and len(slack.parents()) == 1
    assert outbox.get(open_state(config), row.id).ts == slack.parents()[0].ts  # type: ignore[union-attr]


def test_webhook_mode_posts_follow_ups_and_cannot_edit(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CANARY_SLACK_TOKEN")
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", slack.webhook_url)
    config = alert_config("reminder_hours = 1")
    slack.fail("500", times=1)
    for i in range(3):
        step(config, run(i))
    step(config, run(3, Outcome.PASSED, 0))
    texts = [m.text for m in slack.messages]
    assert len(slack.calls_to("webhook")) == 4  # one 500, then parent, reminder, resolved
    assert texts[0].startswith("CRITICAL") and "Still failing" in texts[1] and "Resolved" in texts[2]
    assert all("Prediction gap" in t for t in texts[1:])  # follow-ups name their incident
    assert not slack.calls_to("chat.update")


def test_rejected_or_refused_messages_do_not_block_the_queue(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config()
    state = open_state(config)
    with state.transaction() as conn:
        bad = {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3500}}]}
        outbox.enqueue(conn, kind="test", channel="#canary-alerts", mode="token", payload=bad, created_at=T0)
        outbox.enqueue(conn, kind="test", channel="#nowhere", mode="token", payload={"text": "x"}, created_at=T0)
    step(config, run(0))
    rows = {r.id: r for r in outbox.rows(state)}
    assert rows[1].status == "rejected"  # for its blocks: replaced by its plain text, which went out
    assert rows[2].status == "pending" and "channel_not_found" in (rows[2].last_error or "")  # refused: waits
    [plain] = [r for r in rows.values() if r.payload.get("plain")]
    assert plain.status == "sent" and plain.kind == "test"
    assert len(slack.parents()) == 2 and any("CRITICAL" in m.text for m in slack.parents())


def test_long_evidence_is_cut_with_more_and_a_link(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config('docs_base_url = "https://docs.example.org"\nevidence_rows = 400')
    step(config, run(0, evidence_rows=900))
    [parent] = slack.parents()
    sections = [b["text"]["text"] for b in parent.blocks if b["type"] == "section"]
    assert max(len(s) for s in sections) < 3000
    assert any("more" in s and "docs.example.org" in s for s in sections)


def test_per_checkpoint_channel_and_severity(slack: SlackServer, alert_config: Callable[..., CanaryConfig]) -> None:
    config = alert_config(
        extra='[alerting.checkpoints.prediction_gap]\nseverity = "warning"\nchannel = "#critical-alerts"'
    )
    step(config, run(0))
    assert slack.messages == []  # a warning waits for the second failure
    step(config, run(1))
    [parent] = slack.parents()
    assert parent.channel == "C0LOCAL0002" and "WARNING" in parent.text


def test_enqueue_without_slack_still_tracks_incidents(
    alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CANARY_SLACK_TOKEN", "CANARY_SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    config = alert_config()
    assert enqueue_run(config, run(0)) == 0
    enqueue_run(config, run(1))
    assert deliver_pending(config) == 0
    from pipeline_canary.state.sqlite import SQLiteState

    fresh = SQLiteState(config.state.path)  # as after a restart: incident state is in the file
    [incident] = list_incidents(fresh, open_only=True)
    assert (incident.status, incident.runs, incident.opened_at) == ("open", 2, T0)
    fresh.close()


def test_one_deliverer_at_a_time(slack: SlackServer, alert_config: Callable[..., CanaryConfig]) -> None:
    import threading

    import pipeline_canary.alerting as alerting

    config = alert_config()
    enqueue_run(config, run(0))
    slack.fail("store_then_hang", seconds=3)
    first = threading.Thread(target=deliver_pending, args=(config,))
    first.start()
    assert slack.stored.wait(5)
    old, alerting.DELIVERY_LOCK_WAIT_S = alerting.DELIVERY_LOCK_WAIT_S, 0.2
    try:
        assert deliver_pending(config) == 0  # the other pass holds the outbox
    finally:
        alerting.DELIVERY_LOCK_WAIT_S = old
        slack.release.set()
        first.join()
    assert len(slack.calls_to("chat.postMessage")) == 1 and outbox.counts(open_state(config)) == {"sent": 1}


@pytest.mark.parametrize("refusal", ["missing_scope", "not_in_channel"])
def test_a_failed_lookup_is_never_a_rejection(
    slack: SlackServer,
    alert_config: Callable[..., CanaryConfig],
    caplog: pytest.LogCaptureFixture,
    refusal: str,
) -> None:
    """A chat:write-only bot: after a 500 the duplicate check is refused, so the retry sends anyway."""
    if refusal == "missing_scope":
        slack.scopes = ("chat:write",)
    else:
        slack.deny_reads(refusal)
    config = alert_config('reminder_hours = 1\nchannel = "#canary-alerts"')
    slack.fail("500", times=1)
    with caplog.at_level(logging.WARNING, logger="pipeline_canary.alerting.slack"):
        step(config, run(0))
    reads = slack.calls_to("conversations.list") + slack.calls_to("conversations.history")
    assert reads and all(c.status == 200 for c in reads)  # asked, and refused
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [500, 200]
    assert len(slack.parents()) == 1 and outbox.counts(open_state(config)) == {"sent": 1}
    [warning] = [r for r in caplog.records if "duplicates are possible" in r.getMessage()]
    assert warning.levelno == logging.WARNING and "channels:history" in warning.getMessage()
    assert refusal in warning.getMessage() and slack.token not in warning.getMessage()

    step(config, run(1))  # an edit
    slack.fail("ok")  # the edit goes through, the reminder (a threaded reply) gets a 500, and its
    slack.fail("500")  # retry's check with conversations.replies is refused the same way
    step(config, run(2))
    [parent] = slack.parents()
    assert len(slack.replies(parent)) == 1 and "rejected" not in outbox.counts(open_state(config))
    assert [c.status for c in slack.calls_to("conversations.replies")] == [200]  # refused, then sent anyway
    assert outbox.pending(open_state(config)) == []


def test_a_lookup_that_fails_leaves_the_row_pending(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config()
    enqueue_run(config, run(0))
    slack.fail("500", times=1)  # the post fails; both look-ups of this pass get a 500 too
    slack.fail_reads("500", times=2)
    assert deliver_pending(config) == 0
    [row] = outbox.pending(open_state(config))
    assert row.attempts == 1 and "lookup" in (row.last_error or "")
    assert deliver_pending(config) == 1  # next pass: the look-up works, finds nothing, posts once
    assert len(slack.parents()) == 1 and outbox.counts(open_state(config)) == {"sent": 1}


def test_slack_off_for_want_of_secrets_warns_once(
    alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import pipeline_canary.alerting as alerting

    for name in ("CANARY_SLACK_TOKEN", "CANARY_SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(alerting, "_warned_no_slack", False)
    config = alert_config()
    with caplog.at_level(logging.WARNING, logger="pipeline_canary.alerting"):
        step(config, run(0))
        step(config, run(1))
    [warning] = [r for r in caplog.records if "not sent" in r.getMessage()]
    assert warning.levelno == logging.WARNING and warning.getMessage() == (
        "no CANARY_SLACK_TOKEN or CANARY_SLACK_WEBHOOK_URL: alerts are recorded as incidents but not sent; "
        'set alerting.slack = "off" to silence this'
    )
    assert list_incidents(open_state(config), open_only=True)  # recorded all the same

    caplog.clear()
    monkeypatch.setattr(alerting, "_warned_no_slack", False)
    with caplog.at_level(logging.WARNING, logger="pipeline_canary.alerting"):
        step(alert_config('slack = "off"'), run(2))  # off on purpose: silent
    assert not [r for r in caplog.records if "not sent" in r.getMessage()]


def test_no_warning_when_a_secret_is_set(
    slack: SlackServer,
    alert_config: Callable[..., CanaryConfig],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pipeline_canary.alerting as alerting

    monkeypatch.setattr(alerting, "_warned_no_slack", False)
    with caplog.at_level(logging.WARNING, logger="pipeline_canary.alerting"):
        step(alert_config(), run(0))
    assert not [r for r in caplog.records if "not sent" in r.getMessage()] and len(slack.parents()) == 1
