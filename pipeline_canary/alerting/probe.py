"""``canary doctor``'s Slack checks, without posting anything.

Token mode: ``auth.test`` (is the token valid, and whose is it), the token's scopes (from the
``x-oauth-scopes`` header slack_sdk exposes: ``chat:write`` is required, ``channels:history``
optional, without it an ambiguous send cannot be verified), and each alert channel
(``conversations.info``: it exists, is not archived, and the bot is in it). Webhook mode: an
incoming webhook cannot be tested without posting a message, so only its URL's shape is checked
(at configuration load) and ``canary alerts test`` is named. Every failure carries a fix line;
nothing here raises, and no message carries a secret.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pipeline_canary.alerting.ambiguous import find_channel
from pipeline_canary.alerting.settings import (
    API_URL_ENV,
    NO_SECRETS_WARNING,
    TOKEN_ENV,
    WEBHOOK_ENV,
    AlertingConfig,
    SlackTarget,
    silently_off,
    slack_target,
)
from pipeline_canary.alerting.slack_errors import (
    LOOKUP_SCOPES,
    PRIVATE_LOOKUP_SCOPES,
    api_error,
    fix_for,
    granted_scopes,
    missing_scopes,
)
from pipeline_canary.findings import Finding
from pipeline_canary.redaction import redact

PROBE_TIMEOUT_S = 10.0


def probe_slack(settings: AlertingConfig) -> list[Finding]:
    """The Slack checks for ``settings``; empty when alerting is off on purpose."""
    if not settings.enabled or settings.slack == "off":
        return []
    if silently_off(settings):
        return [Finding("slack", True, NO_SECRETS_WARNING, f"set {TOKEN_ENV} (a bot token) to send alerts", True)]
    target = slack_target(settings)
    if target.mode == "webhook":
        return [_webhook(target)]
    return _Token(target, settings).run()


def _webhook(target: SlackTarget) -> Finding:
    host = urlsplit(target.webhook_url or "").hostname or "?"
    return Finding(
        "slack webhook",
        True,
        f"{WEBHOOK_ENV} is a well-formed incoming webhook URL for {host} (/services/T…/B…/…); an incoming webhook "
        "cannot be tested without posting a message",
        "run `canary alerts test` to post a test message through it",
        warning=True,
    )


class _Token:
    def __init__(self, target: SlackTarget, settings: AlertingConfig) -> None:
        from pipeline_canary.alerting.slack import web_client

        self.target, self.settings = target, settings
        self.client = web_client(target, min(settings.timeout_s, PROBE_TIMEOUT_S))
        self.checks: list[Finding] = []

    def run(self) -> list[Finding]:
        auth = self._call("slack token", "auth.test", lambda: self.client.auth_test())
        if auth is None:
            return self.checks
        who = f"bot {auth.get('user') or '?'} ({auth.get('user_id') or '?'})"
        self.checks.append(Finding("slack token", True, f"{who} in workspace {auth.get('team') or '?'} "
                                 f"({auth.get('team_id') or '?'}) at {self._where()}"))  # fmt: skip
        granted = granted_scopes(auth.headers)
        self._scopes(granted)
        channels = dict.fromkeys([self.settings.channel, *(c.channel for c in self.settings.checkpoints.values())])
        for channel in channels:
            if channel:
                self._channel(channel, granted or set())
        return self.checks

    def _scopes(self, granted: set[str] | None) -> None:
        if granted is None:
            self.checks.append(Finding("slack scopes", True, "Slack did not list the token's scopes (no x-oauth-scopes "
                                     "header): cannot check them", warning=True))  # fmt: skip
            return
        write, lookup = missing_scopes(granted)
        if write:
            self.checks.append(Finding("slack scopes", False, f"the bot token lacks {', '.join(write)}: it cannot post",
                                     fix_for("missing_scope", webhook=False, needed=write[0])))  # fmt: skip
            return
        if lookup:
            self.checks.append(Finding(
                "slack scopes", True,
                f"chat:write granted; without {', '.join(lookup)} ambiguous sends cannot be verified (a post Slack "
                "took without answering is posted once more, marked as possibly repeated)",
                f"add {', '.join(LOOKUP_SCOPES)} ({', '.join(PRIVATE_LOOKUP_SCOPES)} for private channels) to the "
                "Slack app and reinstall it", warning=True,
            ))  # fmt: skip
            return
        self.checks.append(Finding("slack scopes", True, "chat:write, and channels:history and channels:read for "
                                 "duplicate detection"))  # fmt: skip

    def _channel(self, name: str, granted: set[str]) -> None:
        check = f"slack channel {name}"
        before = len(self.checks)
        channel_id = self._call(check, "conversations.list", lambda: find_channel(self.client, name), channel=name)
        if channel_id is None:
            if len(self.checks) == before:  # listed, and not there
                self.checks.append(Finding(check, False, f"{name} is not among the channels the bot can see",
                                         fix_for("channel_not_found", webhook=False, channel=name)))  # fmt: skip
            return
        info = self._call(check, "conversations.info", lambda: self.client.conversations_info(channel=channel_id),
                          channel=name)  # fmt: skip
        if info is None:
            return
        data = info.get("channel") or {}
        if data.get("is_archived"):
            self.checks.append(Finding(check, False, f"{name} ({channel_id}) is archived",
                                     fix_for("is_archived", webhook=False, channel=name)))  # fmt: skip
        elif data.get("is_member"):
            self.checks.append(Finding(check, True, f"{name} ({channel_id}): the bot is a member"))
        elif "chat:write.public" in granted and not data.get("is_private"):
            self.checks.append(Finding(check, True, f"{name} ({channel_id}): the bot is not a member but may post "
                                     "there (chat:write.public)", fix_for("not_in_channel", webhook=False,
                                     channel=name), warning=True))  # fmt: skip
        else:
            self.checks.append(Finding(check, False, f"{name} ({channel_id}): the bot is not a member, so it cannot "
                                     "post there", fix_for("not_in_channel", webhook=False, channel=name)))  # fmt: skip

    def _call(self, check: str, method: str, action: Any, *, channel: str = "") -> Any:
        """``action()``, or None with a finding for what Slack said (a read scope missing is a warning)."""
        from slack_sdk.errors import SlackApiError

        try:
            return action()
        except SlackApiError as exc:
            code = api_error(exc.response) or f"HTTP {exc.response.status_code}"
            needed = exc.response.data.get("needed", "") if isinstance(exc.response.data, dict) else ""
            if code == "missing_scope" and method != "auth.test":
                self.checks.append(Finding(check, True, f"cannot check {channel} without the scope {needed or '?'}",
                                         f"add {needed or 'channels:read'} to the Slack app to let doctor and "
                                         "duplicate detection see the channel", warning=True))  # fmt: skip
            else:
                fix = fix_for(code, webhook=False, channel=channel, needed=str(needed))
                self.checks.append(Finding(check, False, f"Slack answered {code} to {method}", fix))
        except OSError as exc:
            self.checks.append(Finding(check, False, f"cannot reach Slack's Web API at {self._where()}: "
                                     f"{type(exc).__name__}: {redact(str(exc), self.target.secrets)}",
                                     f"check the network, or {API_URL_ENV} / [alerting] api_url"))  # fmt: skip
        except Exception as exc:  # anything else from the client: named, never a traceback
            self.checks.append(Finding(check, False, f"{method} failed: {type(exc).__name__}: "
                                     f"{redact(str(exc), self.target.secrets)}",
                                     "run `canary -vv doctor` for more"))  # fmt: skip
        return None

    def _where(self) -> str:
        parts = urlsplit(self.target.api_url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
