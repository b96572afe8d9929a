"""What a Slack error means for the message: retry it, keep it queued, or drop it.

Three kinds of "no", told apart by Slack's error code (the ``error`` of a Web API answer, the body
of an incoming webhook's answer) and the HTTP status:

* **Transient** (429, 5xx, ``internal_error``, ...): :class:`Retry`, with back-off.
* **Slack refuses us** (:class:`Refused`): the token, the webhook, the app's permissions or the
  channel are wrong (``invalid_auth``, ``token_revoked``, ``missing_scope``, ``not_in_channel``,
  ``channel_not_found``, a webhook's 401/403/404/410, ...). Nothing is wrong with the message: it
  stays queued and goes out once the credentials or the channel are fixed. ``scope`` says how far
  the refusal reaches: ``slack`` (every message: the pass stops), ``channel`` (that channel's
  messages wait), or ``message`` (an error we do not know: that message waits, the others go on).
* **Slack rejects the message** (:class:`Rejected`): its content (``invalid_blocks``,
  ``msg_too_long``, ``invalid_arguments``, too many attachments, ...) or its target message is gone
  (``message_not_found`` for an edit). Retrying the same payload cannot help; ``content`` rejections
  are re-announced in a plain-text form (see :mod:`pipeline_canary.alerting.slack`).

Codes are taken from Slack only when they look like codes (``[a-z_]+``): a body that is anything
else is named by its HTTP status, so an answer never carries arbitrary text into a log line.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Any, Literal

from pipeline_canary.alerting.settings import API_URL_ENV, CHANNEL_ENV, TOKEN_ENV, WEBHOOK_ENV
from pipeline_canary.errors import DeliveryError

Scope = Literal["slack", "channel", "message"]
WRITE_SCOPES = ("chat:write",)
LOOKUP_SCOPES = ("channels:history", "channels:read")  # groups:history, groups:read for private channels
PRIVATE_LOOKUP_SCOPES = ("groups:history", "groups:read")
SCOPES_HEADER = "x-oauth-scopes"
_CODE = re.compile(r"[a-z][a-z0-9_]{1,60}")
_TOKEN, _HOOK, _CHANNEL, _API = TOKEN_ENV, WEBHOOK_ENV, CHANNEL_ENV, API_URL_ENV

TRANSIENT = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
     "rollup_error"}
)  # fmt: skip
# The token, the app or the workspace: no message can get through.
TOKEN_REFUSALS = frozenset(
    {"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired", "no_permission",
     "missing_scope", "not_allowed_token_type", "ekm_access_denied", "access_denied", "team_access_not_granted",
     "org_login_required", "two_factor_setup_required", "enterprise_is_restricted", "accesslimited",
     "app_missing_action_url", "invalid_token", "no_service", "no_service_id", "no_team", "team_disabled",
     "action_prohibited", "unknown_method", "method_deprecated", "deprecated_endpoint", "not_authorized"}
)  # fmt: skip
# One channel: its messages wait, other channels' go out.
CHANNEL_REFUSALS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived", "restricted_action",
     "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
     "restricted_action_non_threadable_channel", "posting_to_general_channel_denied", "team_not_found",
     "user_not_found", "cannot_reply_to_message"}
)  # fmt: skip
# The message itself: a plain-text form of it can go out instead.
CONTENT_REJECTIONS = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long", "no_text",
     "too_many_attachments", "invalid_attachments", "invalid_arguments", "invalid_arg_name", "invalid_array_arg",
     "invalid_charset", "invalid_form_data", "invalid_post_type", "invalid_json", "json_not_object",
     "invalid_payload", "invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large",
     "metadata_must_be_sent_from_app", "markdown_text_conflict", "missing_text_or_fallback_or_attachments",
     "too_many_blocks", "block_mismatch", "invalid_unfurls"}
)  # fmt: skip
# The message an edit or a reply is about is gone: nothing to re-send.
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed", "thread_not_found"})


class Rejected(DeliveryError):
    """Slack refused the message for good; ``content``: for what it says (a plain form can go instead)."""

    def __init__(self, message: str, *, code: str = "", content: bool = False) -> None:
        super().__init__(message)
        self.code, self.content = code, content


class Refused(DeliveryError):
    """Slack refuses us (credentials, permissions, channel): the message stays queued. ``fix`` says how."""

    def __init__(self, code: str, *, status: int, scope: Scope, fix: str) -> None:
        shown = code or f"HTTP {status}"
        super().__init__(f"Slack refuses us: {shown}" + (f" (HTTP {status})" if code and status != 200 else ""))
        self.code, self.status, self.scope, self.fix = shown, status, scope, fix


class Retry(Exception):
    """Try again. ``maybe_sent``: worth a look-up first; ``unanswered``: the post went out and no answer came."""

    def __init__(
        self, reason: str, *, wait_s: float | None = None, maybe_sent: bool = True, unanswered: bool = False
    ) -> None:
        super().__init__(reason)
        self.wait_s, self.maybe_sent, self.unanswered = wait_s, maybe_sent, unanswered


def code_of(text: Any) -> str:
    """A Slack error code from an answer's ``error`` or a webhook's body; "" when it is not one."""
    value = str(text or "").strip()
    return value if _CODE.fullmatch(value) else ""


def api_error(response: Any) -> str:
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    return code_of(data.get("error"))


def classify(status: int, headers: Any, code: str, *, webhook: bool, channel: str = "") -> Exception:
    """The exception a Slack answer other than success calls for (``code`` already from :func:`code_of`)."""
    if status == 429 or code in ("ratelimited", "rate_limited"):
        retry_after = header(headers, "Retry-After")
        try:
            wait = float(retry_after or 1)
        except ValueError:
            wait = 1.0
        return Retry("rate limited (429)", wait_s=wait, maybe_sent=False)
    if status >= 500 or code in TRANSIENT:
        return Retry(f"Slack answered {status} {code}".strip())
    if code in CONTENT_REJECTIONS or (webhook and status == 400 and code not in TOKEN_REFUSALS | CHANNEL_REFUSALS):
        return Rejected(f"Slack rejected the message: {code or f'HTTP {status}'}", code=code, content=True)
    if code in GONE:
        return Rejected(f"Slack answered {code}: the message it is about is gone", code=code)
    if webhook:  # one webhook, one channel: whatever it refuses, it refuses for every message
        return Refused(code, status=status, scope="slack", fix=fix_for(code, webhook=True, channel=channel))
    if code in TOKEN_REFUSALS or status in (401, 403, 404):
        return Refused(code, status=status, scope="slack", fix=fix_for(code, webhook=False, channel=channel))
    scope: Scope = "channel" if code in CHANNEL_REFUSALS else "message"
    return Refused(code, status=status, scope=scope, fix=fix_for(code, webhook=False, channel=channel))


def fix_for(code: str, *, webhook: bool, channel: str = "", needed: str = "") -> str:
    """What to do about a refusal, in one line that names the setting to change."""
    where = channel or "the alert channel"
    if webhook:
        if code in ("channel_not_found", "channel_is_archived", "is_archived"):
            return f"the webhook's channel is gone or archived: create a new incoming webhook and set {_HOOK}"
        if code in ("action_prohibited", "posting_to_general_channel_denied"):
            return "the workspace restricts posting through this webhook: ask a Slack admin, or use another webhook"
        return f"set {_HOOK} to a current incoming webhook URL of the Slack app (Incoming Webhooks page)"
    if code in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "invalid_token"):
        return f"set {_TOKEN} to a valid bot token (xoxb-…) of an app installed in the workspace"
    if code == "missing_scope":
        return f"add the scope {needed or 'chat:write'} to the Slack app (OAuth & Permissions) and reinstall it"
    if code == "not_in_channel":
        return f"invite the bot to {where} (/invite @the-app), or add the chat:write.public scope"
    if code == "channel_not_found":
        return f"create {where} or fix [alerting] channel / {_CHANNEL}; for a private channel, invite the bot"
    if code in ("is_archived", "channel_is_archived"):
        return f"unarchive {where}, or route the alerts to another channel ([alerting] channel)"
    if code in ("unknown_method", "method_deprecated", "deprecated_endpoint") or code == "":
        return f"check {_API} / [alerting] api_url (Slack's Web API is https://slack.com/api/)"
    if code in TOKEN_REFUSALS | CHANNEL_REFUSALS:
        return f"a workspace setting or admin blocks the app ({code}): ask a Slack admin to allow it in {where}"
    return f"Slack answered {code}, which canary does not know: the message stays queued; see Slack's docs for it"


def connection_error(exc: OSError, clean: Callable[[str], str]) -> Retry:
    """Refused or unresolvable: the request never left. Anything else may have reached Slack."""
    reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket error
    cause = reason if isinstance(reason, BaseException) else exc
    left = not isinstance(cause, ConnectionRefusedError | socket.gaierror)
    what = "no answer" if left else "not sent"
    return Retry(f"connection error ({what}): {type(exc).__name__}: {clean(str(exc))}",
                 maybe_sent=left, unanswered=left)  # fmt: skip


def granted_scopes(headers: Any) -> set[str] | None:
    """The token's scopes from an API response's ``x-oauth-scopes`` header; None when absent."""
    value = header(headers, SCOPES_HEADER)
    return None if value is None else {s.strip() for s in value.split(",") if s.strip()}


def missing_scopes(granted: set[str]) -> tuple[list[str], list[str]]:
    """(missing scopes needed to post, missing scopes needed for duplicate detection)."""
    return [s for s in WRITE_SCOPES if s not in granted], [s for s in LOOKUP_SCOPES if s not in granted]


def header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None
