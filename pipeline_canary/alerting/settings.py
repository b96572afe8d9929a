"""The ``[alerting]`` and ``[metrics]`` configuration sections and the Slack secrets.

Secrets never live in the configuration file or in these models: the bot token and the webhook URL
are read from ``CANARY_SLACK_TOKEN`` / ``CANARY_SLACK_WEBHOOK_URL`` when the configuration is
validated (so a missing or malformed one fails at start-up) and again, by :func:`slack_target`,
when a message is sent. ``CANARY_SLACK_CHANNEL`` and ``CANARY_SLACK_API_URL`` override the file.
With ``slack = "auto"`` (the default) and neither secret set, Slack is off: incidents are still
recorded, the first alert sink call of the process logs a WARNING saying so (``slack = "off"``
silences it), and ``canary alerts status`` shows the delivery mode on its first line.

Example::

    [alerting]
    channel = "#canary-alerts"
    docs_base_url = "https://storage.googleapis.com/nba-canary-docs"   # where Data Docs are published
    failures_before_alert = 2      # K for "warning" checkpoints; "critical" ones alert on the first
    errored_before_blind = 3       # consecutive errored runs before "canary is blind"
    reminder_hours = 4
    [alerting.checkpoints.feature_contamination]
    severity = "critical"
    channel = "#nba-alerts"
    [alerting.checkpoints.prediction_gap.checks.every_game_covered]
    notify = "warn"                # a game without predictions reaches Slack as a warning incident

    [metrics]
    project = "nba-props-platform"  # Cloud Monitoring is off unless a project is set
    environment = "production"
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pipeline_canary.config_types import Bounded, Section
from pipeline_canary.errors import ConfigError, UnknownCheckpointError

TOKEN_ENV = "CANARY_SLACK_TOKEN"
WEBHOOK_ENV = "CANARY_SLACK_WEBHOOK_URL"
CHANNEL_ENV = "CANARY_SLACK_CHANNEL"
API_URL_ENV = "CANARY_SLACK_API_URL"
DEFAULT_API_URL = "https://slack.com/api/"

_TOKEN_RE = re.compile(r"xox[abpr]-[A-Za-z0-9-]{8,250}")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
WEBHOOK_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")
_WEBHOOK_PATH = re.compile(r"/services/[A-Z0-9]{1,40}/[A-Z0-9]{1,40}/[A-Za-z0-9]{1,100}")


Notify = Literal["fail", "warn"]
NOTIFY_HELP = 'fail: only failures open incidents; warn: warnings open "warning" incidents too'


class CheckAlerting(Section):
    """Per-check overrides (``[alerting.checkpoints.NAME.checks.CHECK]``)."""

    notify: Notify = Field(default="fail", description=NOTIFY_HELP)


class CheckpointAlerting(Section):
    """Per-checkpoint overrides: severity (else the canary's own), the channel, which outcomes notify."""

    severity: Literal["critical", "warning"] | None = None
    channel: str | None = None
    notify: Notify | None = Field(default=None, description=NOTIFY_HELP)
    checks: dict[str, CheckAlerting] = Field(default_factory=dict)


class AlertingConfig(Section):
    enabled: bool = True
    slack: Literal["auto", "token", "webhook", "off"] = Field(
        default="auto",
        description="auto: bot token if CANARY_SLACK_TOKEN is set, else the webhook, else off (with a WARNING)",
    )
    channel: str = "#canary-alerts"
    api_url: str | None = None
    docs_base_url: str | None = None
    failures_before_alert: Annotated[int, Bounded(1, 100, unit="runs")] = Field(
        default=2, description="K for 'warning' checkpoints"
    )
    errored_before_blind: Annotated[int, Bounded(1, 100, unit="runs")] = Field(
        default=3, description="errored runs before 'canary is blind'"
    )
    reminder_hours: Annotated[float, Bounded(0, 30 * 24, lo_open=True, unit="hours")] = 4.0
    material_change_pct: Annotated[float, Bounded(0, 10_000, unit="%")] = 20.0
    max_attempts: Annotated[int, Bounded(1, 20)] = Field(default=4, description="tries per message per delivery pass")
    backoff_s: Annotated[float, Bounded(0, 300, unit="s")] = 1.0
    max_retry_after_s: Annotated[float, Bounded(0, 3600, unit="s")] = 30.0
    timeout_s: Annotated[float, Bounded(0, 300, lo_open=True, unit="s")] = 10.0
    evidence_rows: Annotated[int, Bounded(0, 1000, unit="rows")] = 8
    notify: Notify = Field(default="fail", description=NOTIFY_HELP)
    checkpoints: dict[str, CheckpointAlerting] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _env_overrides(cls, data: Any) -> Any:
        data = dict(data or {}) if isinstance(data, Mapping) else data
        if isinstance(data, dict):
            if os.environ.get(CHANNEL_ENV):
                data["channel"] = os.environ[CHANNEL_ENV]
            if os.environ.get(API_URL_ENV):
                data["api_url"] = os.environ[API_URL_ENV]
        return data

    @field_validator("api_url", "docs_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_url(value, "URL")
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _known_checkpoints(self, info: ValidationInfo) -> AlertingConfig:
        if self.checkpoints:
            catalogue: Any = (info.context or {}).get("catalogue")  # the configuration's canaries (files too)
            if catalogue is None:
                from pipeline_canary.canaries import registry as catalogue

            for name, override in self.checkpoints.items():
                try:
                    canary = catalogue.get(name)
                except UnknownCheckpointError as exc:
                    raise UnknownCheckpointError(f"alerting.checkpoints.{name}: {exc}") from None
                if override.checks:
                    known = [c.name for c in canary.all_checks(_settings(canary, info, name))]
                    for check in override.checks:
                        if check not in known:
                            raise ConfigError(
                                f"alerting.checkpoints.{name}.checks.{check}: unknown check of {name}; "
                                f"its checks: {', '.join(known)}"
                            )
        return self

    @model_validator(mode="after")
    def _secrets_present_and_well_formed(self) -> AlertingConfig:
        if self.enabled:
            try:
                slack_target(self)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return self

    def severity_for(self, checkpoint: str, default: str) -> str:
        override = self.checkpoints.get(checkpoint)
        return override.severity if override and override.severity else default

    def notify_for(self, checkpoint: str, check: str) -> Notify:
        """Which outcomes of ``check`` open incidents: the check's setting, else its checkpoint's, else ours."""
        override = self.checkpoints.get(checkpoint)
        if override is None:
            return self.notify
        if check in override.checks:
            return override.checks[check].notify
        return override.notify or self.notify

    def warn_checks(self, checkpoint: str, checks: list[str]) -> frozenset[str]:
        """Those of ``checks`` whose warnings open warning incidents."""
        return frozenset(c for c in checks if self.notify_for(checkpoint, c) == "warn")

    def channel_for(self, checkpoint: str) -> str:
        override = self.checkpoints.get(checkpoint)
        return override.channel if override and override.channel else self.channel


class MetricsConfig(Section):
    """Cloud Monitoring time series; off unless ``project`` is set."""

    project: str | None = None
    environment: str = "production"
    api_endpoint: str | None = Field(default=None, description="host:port; for local servers")
    insecure: bool = False
    timeout_s: Annotated[float, Bounded(0, 300, lo_open=True, unit="s")] = 20.0

    @property
    def enabled(self) -> bool:
        return self.project is not None


def check_url(value: str, what: str) -> str:
    """https anywhere, http only on loopback; the message never repeats the URL (it may be secret)."""
    parts = urlsplit(value)
    if not parts.netloc or parts.scheme not in ("https", "http"):
        raise ConfigError(f"{what} is malformed: expected https://host/...")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ConfigError(f"{what} must use https (plain http is accepted only on 127.0.0.1/localhost)")
    return value


def check_webhook_url(value: str) -> str:
    """An incoming webhook URL, fully: printable, https to Slack's webhook host, ``/services/T…/B…/…``.

    http and any port are accepted on loopback only (the tests' local Slack). Every message names
    the variable and what is wrong, never the value or a piece of it: the whole URL is the secret.
    """
    what = WEBHOOK_ENV
    bad = next((i for i, ch in enumerate(value) if not 0x21 <= ord(ch) <= 0x7E), None)
    if bad is not None:
        raise ConfigError(
            f"{what} contains a space, a line break or another control or non-ASCII character (at position "
            f"{bad + 1} of {len(value)}): copy the webhook URL again from the Slack app's Incoming Webhooks page"
        )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{what} is malformed: expected https://hooks.slack.com/services/T…/B…/…") from None
    if not parts.netloc or parts.scheme not in ("https", "http"):
        raise ConfigError(f"{what} is malformed: expected https://hooks.slack.com/services/T…/B…/…")
    loopback = parts.hostname in _LOOPBACK
    if parts.scheme == "http" and not loopback:
        raise ConfigError(f"{what} must use https (plain http is accepted only on 127.0.0.1/localhost)")
    if parts.hostname not in WEBHOOK_HOSTS and not loopback:
        raise ConfigError(f"{what} must point at {' or '.join(WEBHOOK_HOSTS)} (an incoming webhook URL)")
    if parts.username is not None or parts.password is not None or (port is not None and not loopback):
        raise ConfigError(f"{what} must not carry a user, password or port: expected https://hooks.slack.com/...")
    if parts.query or parts.fragment or "#" in value or not _WEBHOOK_PATH.fullmatch(parts.path):
        raise ConfigError(
            f"{what} is not an incoming webhook URL: expected the path /services/T…/B…/… with nothing after it"
        )
    return value


@dataclass(frozen=True)
class SlackTarget:
    """How to reach Slack. ``repr`` hides the secrets so they never reach a log or traceback."""

    mode: Literal["token", "webhook", "off"]
    channel: str
    api_url: str = DEFAULT_API_URL
    token: str | None = None
    webhook_url: str | None = None

    def __repr__(self) -> str:
        return f"SlackTarget(mode={self.mode!r}, channel={self.channel!r})"

    __str__ = __repr__

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.token, self.webhook_url) if s)


def slack_target(config: AlertingConfig, env: Mapping[str, str] | None = None) -> SlackTarget:
    """Resolve the mode and secrets from the environment; ConfigError names the variable, not its value."""
    env = os.environ if env is None else env
    token = env.get(TOKEN_ENV, "").strip() or None
    webhook = env.get(WEBHOOK_ENV, "").strip() or None
    mode = config.slack
    if not config.enabled or mode == "off":
        return SlackTarget(mode="off", channel=config.channel)
    if mode == "auto":
        mode = "token" if token else "webhook" if webhook else "off"
        if mode == "off":
            return SlackTarget(mode="off", channel=config.channel)
    if mode == "token":
        if not token:
            raise ConfigError(f"alerting.slack = 'token' but {TOKEN_ENV} is not set (put the bot token there)")
        if not _TOKEN_RE.fullmatch(token):
            raise ConfigError(f"{TOKEN_ENV} is malformed: expected a Slack bot token starting with 'xoxb-'")
        api_url = config.api_url or DEFAULT_API_URL
        return SlackTarget(mode="token", channel=config.channel, api_url=_slash(api_url), token=token)
    if not webhook:
        raise ConfigError(f"alerting.slack = 'webhook' but {WEBHOOK_ENV} is not set")
    check_webhook_url(webhook)
    return SlackTarget(mode="webhook", channel=config.channel, webhook_url=webhook)


NO_SECRETS_WARNING = (
    f"no {TOKEN_ENV} or {WEBHOOK_ENV}: alerts are recorded as incidents but not sent; "
    'set alerting.slack = "off" to silence this'
)


def silently_off(config: AlertingConfig, env: Mapping[str, str] | None = None) -> bool:
    """True when alerting is on and ``slack = "auto"`` found no secret: Slack is off by accident."""
    env = os.environ if env is None else env
    no_secret = not env.get(TOKEN_ENV, "").strip() and not env.get(WEBHOOK_ENV, "").strip()
    return config.enabled and config.slack == "auto" and no_secret


def describe_delivery(config: AlertingConfig, env: Mapping[str, str] | None = None) -> str:
    """One line for humans: how alerts reach Slack (never a secret)."""
    target = slack_target(config, env)
    if target.mode == "token":
        return f"token (bot token from {TOKEN_ENV}) → {target.channel}"
    if target.mode == "webhook":
        return f"webhook (incoming webhook from {WEBHOOK_ENV}; its channel, no edits)"
    if not config.enabled:
        return "off ([alerting] enabled = false: no incidents, no messages)"
    if config.slack == "off":
        return 'off (alerting.slack = "off": incidents are recorded, nothing is sent)'
    return f"off ({NO_SECRETS_WARNING})"


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _settings(canary: Any, info: ValidationInfo, name: str) -> Any:
    """The checkpoint's configured settings (its baselines add checks), or its defaults if they are wrong
    (the configuration reports those itself)."""
    values = ((info.context or {}).get("checkpoints") or {}).get(name, {})
    try:
        return canary.parse_settings(values if isinstance(values, dict) else {})
    except ConfigError:
        return canary.parse_settings({})
