"""The real path: ``canary run`` (execute → GX → sinks) to the local Slack and Cloud Monitoring servers,
then ``canary alerts status`` / ``test``; and no secret anywhere in logs, results or Data Docs."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from pipeline_canary.cli import cli
from pipeline_canary.config import CanaryConfig
from tests.conftest import AS_OF, NOW
from tests.servers.monitoring import MonitoringRecorder
from tests.servers.slack import SlackServer


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=False)
    return int(result.return_value or 0), result.output


def test_run_alerts_metrics_status_and_no_secrets_anywhere(
    slack: SlackServer,
    monitoring: MonitoringRecorder,
    seeded: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", slack.webhook_url)  # present, unused in token mode
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(seeded("incident"), warehouse)
    config = tmp_path / "canary.toml"
    config.write_text(
        f'[warehouse]\npath = "{warehouse}"\n[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = true\n'
        f'[state]\npath = "{tmp_path / "state.sqlite"}"\n'
        '[alerting]\nbackoff_s = 0.01\ntimeout_s = 2\ndocs_base_url = "https://canary.example.org/docs"\n'
        f'[metrics]\nproject = "demo"\napi_endpoint = "{monitoring.endpoint}"\ninsecure = true\n',
        encoding="utf-8",
    )
    args = ["--config", str(config), "--as-of", AS_OF.isoformat()]
    code, out = invoke("-vv", "run", *args, "--now", NOW.isoformat(), "--json")
    assert code == 1
    result = json.loads(out[out.index("{") :])
    (tmp_path / "result.json").write_text(out, encoding="utf-8")
    parents = slack.parents()
    assert len(parents) == 2  # the two critical checkpoints alert on the first failure
    assert {p.blocks[0]["text"]["text"].split(" · ")[0] for p in parents} == {"🔴 CRITICAL"}
    links = re.findall(r"https://canary\.example\.org/docs/[^|>\s\"]+", json.dumps([p.blocks for p in parents]))
    assert links and all(link.startswith("https://canary.example.org/docs/local_site/validations/") for link in links)
    site = tmp_path / "gx" / "uncommitted" / "data_docs"  # docs_root: what `canary docs publish` uploads
    for link in links:  # the published path is the path under the local site folder
        assert (site / unquote(link.removeprefix("https://canary.example.org/docs/"))).is_file(), link
    assert len(monitoring.requests) == 1 and result["checkpoints"]

    code, out = invoke("run", *args, "--now", "2026-02-08T23:30:00+00:00", "--no-docs")
    assert code == 1 and len(slack.parents()) == 4  # the warnings' second failure; criticals are edited
    assert sum(len(p.edits) for p in slack.parents()) == 2

    code, out = invoke("alerts", "status", "--config", str(config), "--json")
    status = json.loads(out)
    assert len(status["incidents"]) == 4 and status["outbox"]["queued"] == []
    assert {i["status"] for i in status["incidents"]} == {"open"} and status["slack"] == "token"
    code, out = invoke("alerts", "status", "--config", str(config))
    assert "4 open incident(s)" in out and "prediction_gap/no_prediction_gap" in out
    assert out.splitlines()[0].startswith(f"config: {config.resolve()} (")  # the configuration, first
    assert out.splitlines()[1] == "Slack delivery: TOKEN (bot token from CANARY_SLACK_TOKEN) → #canary-alerts"

    code, out = invoke("alerts", "test", "--config", str(config))
    assert code == 0 and "sent a test message" in out and "WARNING" not in out  # all scopes granted
    assert slack.calls_to("auth.test") and slack.messages[-1].text.startswith("🧪")

    monkeypatch.delenv("CANARY_SLACK_TOKEN")  # webhook mode: one more run (nothing due) and a test post
    code, out = invoke("run", *args, "--now", "2026-02-09T00:00:00+00:00", "--no-docs")
    assert code == 1 and slack.calls_to("webhook") == []
    code, out = invoke("alerts", "test", "--config", str(config))
    assert code == 0 and "webhook mode" in out and len(slack.calls_to("webhook")) == 1

    secrets = [slack.token, slack.webhook_url, slack.webhook_url.split("/services/")[1]]
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    # the runs, the alert queue and the metrics writer all logged: the grep below reads real logs
    loggers = {r.name for r in caplog.records}
    assert {"pipeline_canary.checkpoints.runner", "pipeline_canary.alerting", "pipeline_canary.alerting.metrics"} <= (
        loggers
    )
    assert not [s for s in secrets if s in logs]
    docs = list((tmp_path / "gx").rglob("*.html"))
    assert docs, "Data Docs were built"
    for path in [*tmp_path.rglob("*"), *docs]:
        if path.is_file():
            data = path.read_bytes()
            assert not [s for s in secrets if s.encode() in data], path


def test_alerts_test_warns_about_missing_read_scopes(
    slack: SlackServer, alert_config: Callable[..., CanaryConfig]
) -> None:
    config = alert_config()
    slack.scopes = ("chat:write",)
    code, out = invoke("alerts", "test", "--config", str(config.source))
    assert code == 0 and "sent a test message" in out
    assert "WARNING: the bot token lacks the read scope(s) channels:history, channels:read" in out
    assert "duplicates are possible" in out and slack.token not in out
    slack.scopes = ("chat:write", "channels:history", "channels:read")
    code, out = invoke("alerts", "test", "--config", str(config.source))
    assert code == 0 and "WARNING" not in out and "groups:history, groups:read" in out  # a note only
    slack.scopes = None  # no x-oauth-scopes header: say so, and still send
    code, out = invoke("alerts", "test", "--config", str(config.source))
    assert code == 0 and "cannot check them" in out


def below_config(out: str) -> str:
    """Human output after its first line, the configuration the command used."""
    first, _, rest = out.partition("\n")
    assert first.startswith("config: "), out
    return rest


def test_status_shows_delivery_mode(
    alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch, slack: SlackServer
) -> None:
    monkeypatch.delenv("CANARY_SLACK_TOKEN")
    config = alert_config()
    code, out = invoke("alerts", "status", "--config", str(config.source))
    assert code == 0
    assert below_config(out).startswith("Slack delivery: OFF (no CANARY_SLACK_TOKEN or CANARY_SLACK_WEBHOOK_URL")
    code, out = invoke("alerts", "status", "--config", str(config.source), "--json")
    assert code == 0 and json.loads(out)["slack"] == "off" and "not sent" in json.loads(out)["slack_delivery"]
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", slack.webhook_url)
    code, out = invoke("alerts", "status", "--config", str(config.source))
    assert code == 0 and slack.webhook_url not in out
    assert below_config(out).startswith("Slack delivery: WEBHOOK (incoming webhook")
    code, out = invoke("alerts", "status", "--config", str(alert_config('slack = "off"').source))
    assert code == 0 and below_config(out).startswith('Slack delivery: OFF (alerting.slack = "off"')


def test_help_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom pipeline_canary.cli import main\n"
        "try:\n    main(['alerts', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('slack_sdk', 'google.cloud.monitoring_v3', 'grpc', 'great_expectations') "
        "if m in sys.modules]\nprint('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "HEAVY []" in out and "canary alerts test" in out
