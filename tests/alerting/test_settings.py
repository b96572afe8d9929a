"""Configuration: secrets from the environment only, checked at start-up, never echoed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.alerting.blocks import docs_url, fit
from pipeline_canary.alerting.settings import AlertingConfig, slack_target
from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import ConfigError

TOKEN = "xoxb-123456789012-abcdefSECRET"
HOOK = "https://hooks.slack.com/services/T000/B000/SECRETsecret"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CANARY_SLACK_TOKEN", "CANARY_SLACK_WEBHOOK_URL", "CANARY_SLACK_CHANNEL", "CANARY_SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)


def test_auto_mode_prefers_the_token_then_the_webhook_then_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert slack_target(AlertingConfig()).mode == "off"
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", HOOK)
    assert slack_target(AlertingConfig()).mode == "webhook"
    monkeypatch.setenv("CANARY_SLACK_TOKEN", TOKEN)
    target = slack_target(AlertingConfig())
    assert (target.mode, target.api_url, target.channel) == ("token", "https://slack.com/api/", "#canary-alerts")
    assert TOKEN not in repr(target) and HOOK not in str(target)


@pytest.mark.parametrize(
    ("env", "section", "expected"),
    [
        ({"CANARY_SLACK_TOKEN": "not-a-token-" + TOKEN}, "", "CANARY_SLACK_TOKEN is malformed"),
        ({"CANARY_SLACK_WEBHOOK_URL": "http://hooks.slack.com/x/SECRETsecret"}, "", "must use https"),
        ({"CANARY_SLACK_WEBHOOK_URL": "hooks.slack.com/SECRETsecret"}, "", "is malformed"),
        ({}, 'slack = "token"', "CANARY_SLACK_TOKEN is not set"),
        ({}, 'slack = "webhook"', "CANARY_SLACK_WEBHOOK_URL is not set"),
        ({"CANARY_SLACK_TOKEN": TOKEN}, 'api_url = "ftp://x"', "api_url"),
    ],
)
def test_bad_or_missing_secrets_fail_at_load_without_echoing_them(
    env: dict[str, str],
    section: str,
    expected: str,
    alert_config: Callable[..., CanaryConfig],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=expected) as err:
        alert_config(section)
    assert "SECRET" not in str(err.value)


SECRET_PATH = "/services/T0SECRET/B0SECRET/webhookSECRETvalue"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://hooks.slack.com/services/T0SECRET/B0SECRET/web hookSECRETvalue", "a space, a line break"),
        (f"https://hooks.slack.com{SECRET_PATH}\tx", "a space, a line break"),
        ("https://hooks.slack.com/services/T0SECRET/B0SECRET/web\nhookSECRETvalue", "a space, a line break"),
        ("https://hooks.slack.com/services/T0SECRET/B0SECRET/web\x07hookSECRETvalue", "a space, a line break"),
        ("https://hooks.slack.com/services/T0SECRET/B0SECRET/webhookSECRETvalué", "non-ASCII"),
        (f"https://evil.example.org{SECRET_PATH}", "must point at hooks.slack.com"),
        (f"https://user:pw@hooks.slack.com{SECRET_PATH}", "must not carry a user"),
        (f"https://hooks.slack.com:8443{SECRET_PATH}", "must not carry a user, password or port"),
        (f"https://hooks.slack.com{SECRET_PATH}?x=1", "nothing after it"),
        (f"https://hooks.slack.com{SECRET_PATH}/extra", "/services/T…/B…/…"),
        ("https://hooks.slack.com/workflows/T0SECRET/webhookSECRETvalue", "/services/T…/B…/…"),
        (f"https://hooks.slack.com:notaport{SECRET_PATH}", "is malformed"),
    ],
)
def test_webhook_urls_are_validated_fully_at_load_without_echoing_any_part(
    url: str, expected: str, alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", url)
    with pytest.raises(ConfigError, match=expected) as err:
        alert_config()
    assert "SECRET" not in str(err.value) and "webhook" + "SECRET" not in str(err.value)


def test_a_well_formed_webhook_url_with_surrounding_whitespace_is_accepted(
    alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", f"  https://hooks.slack.com{SECRET_PATH}\n")
    config = alert_config()
    assert slack_target(config.alerting).webhook_url == f"https://hooks.slack.com{SECRET_PATH}"


def test_channel_and_api_url_from_the_environment_and_per_checkpoint_overrides(
    alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_SLACK_CHANNEL", "#elsewhere")
    monkeypatch.setenv("CANARY_SLACK_API_URL", "http://127.0.0.1:9/api")
    config = alert_config(extra='[alerting.checkpoints.schema_parity]\nchannel = "#schemas"\nseverity = "warning"')
    assert config.alerting.channel == "#elsewhere"
    assert config.alerting.channel_for("schema_parity") == "#schemas"
    assert config.alerting.severity_for("schema_parity", "critical") == "warning"
    assert config.alerting.severity_for("prediction_gap", "critical") == "critical"
    with pytest.raises(ConfigError, match="unknown key"):
        alert_config("colour = 'red'")


def test_docs_links_and_budget() -> None:
    page = "/x/gx/uncommitted/data_docs/local_site/validations/a b/p.html"
    site = "https://d.example.org/local_site/validations/a%20b/p.html"  # what `canary docs publish` uploads
    assert docs_url(page, "https://d.example.org/") == site
    assert docs_url(page, "https://d.example.org", Path("/x/gx/uncommitted/data_docs")) == site
    assert docs_url("/elsewhere/site/index.html", "https://d", Path("/x/gx/uncommitted/data_docs")) == (
        "https://d/index.html"
    )
    assert docs_url(page, None) == "file:///x/gx/uncommitted/data_docs/local_site/validations/a%20b/p.html"
    assert docs_url(None, "https://d") is None
    text = fit([f"line {i} " + "x" * 80 for i in range(200)], more=" (see Data Docs)")
    assert len(text) < 2900 and text.endswith("more (see Data Docs)") and "… +" in text


def test_cli_start_up_fails_with_exit_2_naming_the_variable_not_the_value(
    alert_config: Callable[..., CanaryConfig], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline_canary.cli import main

    config = alert_config()
    monkeypatch.setenv("CANARY_SLACK_TOKEN", "xoxb-SECRET but with spaces")
    with pytest.raises(SystemExit) as exited:
        main(["alerts", "status", "--config", str(config.source)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "CANARY_SLACK_TOKEN is malformed" in err and "SECRET" not in err


def test_no_alert_means_no_alert_or_metrics_sinks() -> None:
    from pipeline_canary.alerting import alert_sink, metrics_sink
    from pipeline_canary.session import default_sinks

    assert alert_sink in default_sinks(alert=True) and metrics_sink in default_sinks(alert=True)
    assert alert_sink not in default_sinks(alert=False) and metrics_sink not in default_sinks(alert=False)
