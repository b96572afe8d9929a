"""``/readyz`` names Slack refusing us without failing readiness (a restart cannot fix a token)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from pipeline_canary.alerting import refusal
from pipeline_canary.config import CanaryConfig
from pipeline_canary.scheduler.http import CanaryHTTPServer
from pipeline_canary.scheduler.service import Service
from tests.conftest import NOW
from tests.scheduler.test_sched_http import request
from tests.servers.slack import running as slack_running

OLD_TOKEN = "xoxb-0000000000-0000000000-rotatedOLDtokenXYZ"


def test_readyz_reports_slack_refusing_us_stays_200_and_clears_after_a_send(
    config_for: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    with slack_running() as slack:
        monkeypatch.setenv("CANARY_SLACK_TOKEN", OLD_TOKEN)
        monkeypatch.setenv("CANARY_SLACK_API_URL", slack.api_url)
        monkeypatch.delenv("CANARY_SLACK_WEBHOOK_URL", raising=False)
        monkeypatch.delenv("CANARY_SLACK_CHANNEL", raising=False)
        config = config_for(
            "incident", extra="[alerting]\nbackoff_s = 0.01\ntimeout_s = 2\nmax_attempts = 2\n",
            interval_s=3600, only=["prediction_gap"], run_on_start=False,
        )  # fmt: skip
        monkeypatch.setattr(refusal, "_latest", None)  # a fresh process: nothing known yet
        svc = Service(config, clock=lambda: NOW)
        server = CanaryHTTPServer(("127.0.0.1", 0), svc)
        server.start()
        try:
            code, body, _ = request(server.url, "/readyz")
            assert json.loads(body)["slack"] == "not delivered yet"
            svc.start()  # reads the state store: nothing refused so far
            code, body, _ = request(server.url, "/readyz")
            assert code == 200 and json.loads(body)["slack"] == "ok"
            svc.run_checkpoint("prediction_gap")  # fails: its incident's parent is refused
            code, body, _ = request(server.url, "/readyz")
            answer = json.loads(body)
            assert code == 200 and answer["ready"] is True and answer["slack"] == "refusing"
            [reason] = answer["degraded"]
            assert "invalid_auth" in reason and "CANARY_SLACK_TOKEN" in reason and OLD_TOKEN not in reason
            assert slack.messages == []

            monkeypatch.setenv("CANARY_SLACK_TOKEN", slack.token)  # the token is rotated in
            svc.run_checkpoint("prediction_gap")
            code, body, _ = request(server.url, "/readyz")
            answer = json.loads(body)
            assert code == 200 and (answer["slack"], answer["degraded"]) == ("ok", [])
            assert len(slack.parents()) == 1
        finally:
            svc.shutdown(grace_s=1)
            server.stop()


def test_a_restarted_service_knows_slack_refused_it_before(
    config_for: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from pipeline_canary.scheduler.status import readiness
    from pipeline_canary.state import open_state

    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/T0/B0/secretPART")
    monkeypatch.delenv("CANARY_SLACK_TOKEN", raising=False)
    config = config_for(interval_s=3600, only=["prediction_gap"], run_on_start=False)
    refusal.record(open_state(config), "slack", "no_service", "set CANARY_SLACK_WEBHOOK_URL", dt.datetime.now(dt.UTC))
    monkeypatch.setattr(refusal, "_latest", None)
    svc = Service(config, clock=lambda: NOW)
    svc.start()
    try:
        ready, checks = readiness(svc)
        assert ready and checks["slack"] == "refusing" and "no_service" in checks["degraded"][0]
    finally:
        svc.shutdown(grace_s=1)
