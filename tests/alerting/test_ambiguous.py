"""Ambiguous sends: Slack takes a post and the connection drops before it answers.

Where the bot may read the channel, the retry checks it first (nothing is posted twice). Where it
cannot (a ``chat:write``-only bot, webhook mode), the retry posts one copy marked as possibly
repeated, and after that the message is ``sent_unconfirmed`` and never posted again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from pipeline_canary.alerting import outbox
from pipeline_canary.alerting.blocks import REPEAT_NOTE
from pipeline_canary.cli import cli
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import Outcome
from pipeline_canary.state import open_state
from tests.alerting.test_slack import run, step
from tests.servers.slack import DROPPED, Message, SlackServer


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=False)
    return int(result.return_value or 0), result.output


def _no_reads(slack: SlackServer, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bot without the read scopes, or an incoming webhook: nothing can be checked."""
    if mode == "token":
        slack.scopes = ("chat:write",)
    else:
        monkeypatch.delenv("CANARY_SLACK_TOKEN")
        monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", slack.webhook_url)


def _marked(message: Message) -> bool:
    return REPEAT_NOTE in json.dumps(message.blocks)


def _incident_parents(slack: SlackServer) -> list[Message]:
    return [m for m in slack.messages if m.text.startswith("CRITICAL")]


@pytest.mark.parametrize("mode", ["token", "webhook"])
def test_posts_dropped_for_three_runs_reach_slack_at_most_twice(
    slack: SlackServer,
    alert_config: Callable[..., CanaryConfig],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    _no_reads(slack, mode, monkeypatch)
    config = alert_config("reminder_hours = 1.5")
    slack.fail_posts("store_then_drop")  # Slack stores every post, then drops the connection
    with caplog.at_level(logging.WARNING, logger="pipeline_canary.alerting.slack"):
        for i in range(3):
            step(config, run(i))
    original, copy = _incident_parents(slack)  # 13 parents before: one more on every attempt
    assert not _marked(original) and _marked(copy) and REPEAT_NOTE in copy.text
    posts = slack.calls_to("chat.postMessage" if mode == "token" else "webhook")
    assert [c.status for c in posts] == [DROPPED, DROPPED]  # never a third post
    state = open_state(config)
    [row] = [r for r in outbox.rows(state) if r.kind == "open"]
    assert (row.status, row.attempts, row.unanswered, row.state) == ("sent_unconfirmed", 2, 2, "sent_unconfirmed")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("marked as possibly repeated" in w for w in warnings)
    assert any("never posts it again" in w for w in warnings)
    assert all(slack.token not in w and "localWEBHOOKsecret" not in w for w in warnings)

    code, out = invoke("alerts", "status", "--config", str(config.source), "--json")
    [shown] = json.loads(out)["outbox"]["unconfirmed"]
    assert code == 0 and (shown["id"], shown["state"], shown["attempts"]) == (row.id, "sent_unconfirmed", 2)
    code, out = invoke("alerts", "status", "--config", str(config.source))
    assert f"#{row.id} sent_unconfirmed open" in out and "attempts 2" in out and "not confirmed" in out

    slack.fail_posts(None)  # healthy again: the reminder and the resolution go out once each
    step(config, run(3))
    step(config, run(4, Outcome.PASSED, 0))
    step(config, run(5, Outcome.PASSED, 0))
    assert len(_incident_parents(slack)) == 2
    follow_ups = [m.text for m in slack.messages[2:]]
    assert [t.count("Still failing") for t in follow_ups] == [1, 0]
    assert [t.count("Resolved") for t in follow_ups] == [0, 1]
    assert all("Prediction gap" in t for t in follow_ups)  # unthreaded: they name their incident
    assert not any(_marked(m) for m in slack.messages[2:])
    assert outbox.pending(state) == []


def test_marked_copy_answered_becomes_the_parent(slack: SlackServer, alert_config: Callable[..., CanaryConfig]) -> None:
    """Token mode without read scopes: the original is dropped, the copy answered; edits and replies use the copy."""
    slack.scopes = ("chat:write",)
    config = alert_config("reminder_hours = 1")
    slack.fail("store_then_drop")
    step(config, run(0))
    original, copy = slack.parents()
    assert _marked(copy) and not _marked(original)
    [row] = outbox.rows(open_state(config))
    assert (row.status, row.ts, row.state) == ("sent", copy.ts, "sent_possibly_twice")
    for i in (1, 2):
        step(config, run(i))
    step(config, run(3, Outcome.PASSED, 0))
    assert slack.parents() == [original, copy] and original.edits == []
    assert len(copy.edits) == 3 and "RESOLVED" in copy.text and _marked(copy)  # edits keep the note
    assert [r.text[0] for r in slack.replies(copy)] == ["⏰", "✅"]
    assert len(slack.calls_to("chat.postMessage")) == 4  # original, copy, reminder, resolution
    _, out = invoke("alerts", "status", "--config", str(config.source), "--json")
    [shown] = json.loads(out)["outbox"]["unconfirmed"]
    assert (shown["id"], shown["state"]) == (row.id, "sent_possibly_twice")


@pytest.mark.parametrize("mode", ["token", "webhook"])
def test_dropped_before_storing_posts_one_marked_copy(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    _no_reads(slack, mode, monkeypatch)
    config = alert_config()
    slack.fail("drop")  # the connection drops before Slack took it: the copy is the only message
    step(config, run(0))
    [message] = slack.messages
    assert _marked(message)
    [row] = outbox.rows(open_state(config))
    assert row.status == "sent" and row.attempts == 2


def test_with_read_scopes_a_dropped_post_is_checked_not_copied(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config("reminder_hours = 1")
    slack.fail_posts("store_then_drop")
    for i in range(3):
        step(config, run(i))
    slack.fail_posts(None)
    step(config, run(3, Outcome.PASSED, 0))
    [parent] = slack.parents()
    uids = [m.metadata["event_payload"]["outbox_uid"] for m in slack.messages if m.metadata]
    assert len(uids) == len(set(uids)) == 3 and not any(_marked(m) for m in slack.messages)
    assert "RESOLVED" in parent.text and [r.text[0] for r in slack.replies(parent)] == ["⏰", "✅"]
    counts = outbox.counts(open_state(config))
    assert "sent_unconfirmed" not in counts and counts.get("pending", 0) == 0


def test_refused_connection_is_not_ambiguous(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listens: the request never left, so the next run posts it plainly, unmarked."""
    monkeypatch.delenv("CANARY_SLACK_TOKEN")
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/T0/B0/secret")
    config = alert_config()
    step(config, run(0))
    [row] = outbox.pending(open_state(config))
    assert row.attempts == 3 and row.unanswered == 0 and row.state == "pending"
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", slack.webhook_url)
    step(config, run(1))
    [message] = slack.messages
    assert not _marked(message)


def test_webhook_crash_mid_send_posts_the_marked_copy_once(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that died after committing its attempt: the post may be in Slack, so the next one is marked."""
    import datetime as dt

    from pipeline_canary.alerting import deliver_pending, enqueue_run

    _no_reads(slack, "webhook", monkeypatch)
    config = alert_config()
    enqueue_run(config, run(0))
    state = open_state(config)
    [row] = outbox.pending(state)
    outbox.record_attempt(state, row.id, dt.datetime.now(dt.UTC))  # what the dead process left behind
    assert outbox.get(state, row.id).state == "ambiguous"  # type: ignore[union-attr]
    _, out = invoke("alerts", "status", "--config", str(config.source))
    assert f"#{row.id} ambiguous open" in out and "attempts 1" in out
    assert deliver_pending(config) == 1 and deliver_pending(config) == 0
    [message] = slack.messages
    assert _marked(message)
