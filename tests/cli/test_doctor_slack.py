"""``canary doctor`` checks Slack when alerts go there: the token, its scopes and the channels (posting nothing)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.config import CanaryConfig
from tests.cli.test_doctor_creation_times import doctor
from tests.servers.slack import SlackServer


@pytest.fixture
def config(seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]) -> Callable[..., CanaryConfig]:
    def make(alerting: str = "") -> CanaryConfig:
        return make_config(seeded("healthy"), extra=f"[alerting]\ntimeout_s = 2\n{alerting}\n")

    return make


def test_a_working_bot_token_is_named_with_its_scopes_and_channel(
    slack: SlackServer, config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = doctor(capsys, config())
    assert code == 0, out
    assert "ok   slack token: bot canary (U0LOCAL) in workspace local (T0LOCAL)" in out
    assert "ok   slack scopes: chat:write, and channels:history" in out
    assert "ok   slack channel #canary-alerts: #canary-alerts (C0LOCAL0001): the bot is a member" in out
    assert [c.method for c in slack.calls if c.method.startswith("chat.")] == []  # nothing posted


def test_a_refused_token_fails_with_the_fix_and_no_traceback(
    slack: SlackServer,
    config: Callable[..., CanaryConfig],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = "xoxb-0000000000-0000000000-rotatedOLDtokenXYZ"
    monkeypatch.setenv("CANARY_SLACK_TOKEN", token)
    code, out = doctor(capsys, config())
    assert code == 2, out
    assert "FAIL slack token: Slack answered invalid_auth to auth.test" in out
    assert "fix: set CANARY_SLACK_TOKEN to a valid bot token" in out
    assert "Traceback" not in out and token not in out and "rotatedOLD" not in out
    assert "all checks passed" not in out


def test_a_chat_write_only_bot_is_told_that_ambiguous_sends_cannot_be_verified(
    slack: SlackServer, config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    slack.scopes = ("chat:write",)
    code, out = doctor(capsys, config())
    assert code == 0, out
    assert "warn slack scopes: chat:write granted; without channels:history, channels:read ambiguous sends " in out
    assert "cannot be verified" in out and "fix: add channels:history, channels:read" in out
    assert "warn slack channel #canary-alerts: cannot check #canary-alerts without the scope channels:read" in out
    assert "all checks passed (2 warnings)" in out


def test_a_token_without_chat_write_fails(
    slack: SlackServer, config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    slack.scopes = ("channels:history", "channels:read")
    code, out = doctor(capsys, config())
    assert code == 2, out
    assert "FAIL slack scopes: the bot token lacks chat:write: it cannot post" in out
    assert "fix: add the scope chat:write to the Slack app (OAuth & Permissions) and reinstall it" in out


def test_a_channel_without_the_bot_and_a_missing_channel_fail_each_with_their_fix(
    slack: SlackServer, config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    slack.members = set()
    code, out = doctor(capsys, config('[alerting.checkpoints.schema_parity]\nchannel = "#nowhere"'))
    assert code == 2, out
    assert "FAIL slack channel #canary-alerts: #canary-alerts (C0LOCAL0001): the bot is not a member" in out
    assert "fix: invite the bot to #canary-alerts (/invite @the-app), or add the chat:write.public scope" in out
    assert "FAIL slack channel #nowhere: #nowhere is not among the channels the bot can see" in out
    assert "fix: create #nowhere or fix [alerting] channel / CANARY_SLACK_CHANNEL" in out


def test_an_unreachable_slack_api_is_a_finding(
    slack: SlackServer,
    config: Callable[..., CanaryConfig],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CANARY_SLACK_API_URL", f"http://127.0.0.1:{port}/api/")
    code, out = doctor(capsys, config())
    assert code == 2, out
    assert f"FAIL slack token: cannot reach Slack's Web API at http://127.0.0.1:{port}/api/" in out
    assert "fix: check the network, or CANARY_SLACK_API_URL / [alerting] api_url" in out
    assert "Traceback" not in out and slack.token not in out


def test_webhook_mode_says_it_cannot_be_tested_without_posting(
    slack: SlackServer,
    config: Callable[..., CanaryConfig],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CANARY_SLACK_TOKEN")
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", slack.webhook_url)
    code, out = doctor(capsys, config())
    assert code == 0, out
    assert "warn slack webhook: CANARY_SLACK_WEBHOOK_URL is a well-formed incoming webhook URL for 127.0.0.1" in out
    assert "cannot be tested without posting a message" in out and "fix: run `canary alerts test`" in out
    assert slack.calls == [] and "localWEBHOOK" not in out
