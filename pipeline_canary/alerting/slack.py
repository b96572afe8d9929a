"""Delivery of outbox rows to Slack: bot token (Web API) or incoming webhook.

Token mode posts parents with ``chat.postMessage``, edits them with ``chat.update`` and threads
replies with ``thread_ts``. Each row goes through :class:`~pipeline_canary.alerting.ambiguous.Attempts`
(retries, look-ups, at most one marked copy: never posted twice where Slack can be asked).

Bot token scopes:

* ``chat:write`` (required): post, edit and thread messages.
* ``channels:history`` and ``channels:read`` (``groups:history`` and ``groups:read`` for private
  channels): duplicate detection and resolving a channel name to its id. ``canary doctor`` and
  ``canary alerts test`` check them (Slack lists a token's scopes in ``x-oauth-scopes``).

What Slack's "no" means (:mod:`.slack_errors`): a transient error is retried, and after
``max_attempts`` the row stays pending for the next run and the pass stops (Slack is down). When
Slack *refuses us* (the token, the webhook, a scope, the channel) the row stays pending too; the
refusal is recorded (:mod:`.refusal`: ``canary alerts status``, ``/readyz``, the ``slack_refusing``
series) and logged at ERROR once per pass, and everything queued goes out, once, as soon as a send
succeeds again. Only a message Slack rejects for its *content* (``invalid_blocks``,
``msg_too_long``, ...) is dropped (``rejected``); it is replaced at once by a plain-text form of
itself, so its incident is still announced, and the parent's pending replies and edits follow the
replacement. An incident whose parent was rejected all the same (before this, or the plain form too)
gets its replies posted on their own; its edits are skipped.

Under a ``sent_unconfirmed`` parent (ts unknown, unless a look-up now finds it) edits are
``skipped`` and replies are posted on their own, naming their incident. Webhook mode cannot edit
(edits are ``skipped``) and cannot look anything up: replies become plain follow-up posts; a crash
between Slack's answer and the ``sent`` mark (one SQLite commit) counts as an unanswered post, so the
next run posts the marked copy.

Tokens and webhook URLs never reach a log line, an outbox row or an exception message
(:mod:`pipeline_canary.redaction`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from pipeline_canary.alerting import blocks, incidents, outbox, refusal
from pipeline_canary.alerting.ambiguous import EVENT_TYPE, Attempts, Unconfirmed
from pipeline_canary.alerting.outbox import OutboxRow
from pipeline_canary.alerting.settings import AlertingConfig, SlackTarget
from pipeline_canary.alerting.slack_errors import (
    LOOKUP_SCOPES,
    PRIVATE_LOOKUP_SCOPES,
    Refused,
    Rejected,
    Retry,
    api_error,
    classify,
    code_of,
    connection_error,
    granted_scopes,
    missing_scopes,
)
from pipeline_canary.errors import DeliveryError
from pipeline_canary.redaction import RedactingFilter, redact
from pipeline_canary.state.sqlite import SQLiteState

__all__ = [
    "EVENT_TYPE",
    "LOOKUP_SCOPES",
    "PRIVATE_LOOKUP_SCOPES",
    "SlackDelivery",
    "granted_scopes",
    "missing_scopes",
    "sdk_logger",
]

log = logging.getLogger(__name__)
Next = Literal["go_on", "skip_channel", "stop"]


def sdk_logger(target: SlackTarget) -> logging.Logger:
    """The logger slack_sdk writes to: never DEBUG (it would print headers and URLs), always redacted."""
    logger = logging.getLogger("pipeline_canary.alerting.slack_sdk")
    logger.setLevel(logging.WARNING)
    for old in [f for f in logger.filters if isinstance(f, RedactingFilter)]:
        logger.removeFilter(old)
    logger.addFilter(RedactingFilter(target.secrets))
    return logger


def web_client(target: SlackTarget, timeout_s: float) -> Any:
    from slack_sdk import WebClient

    return WebClient(
        token=target.token,
        base_url=target.api_url,
        timeout=max(1, round(timeout_s)),
        retry_handlers=[],  # retries are ours: a blind re-post could duplicate a message
        logger=sdk_logger(target),
    )


class SlackDelivery:
    """Flushes the outbox in id order; one instance per delivery pass.

    ``before_post`` runs after a post's attempt is committed and before it is sent (the gcs state
    backend uploads the state there, so a kill after the send cannot lose the attempt).
    """

    def __init__(
        self,
        state: SQLiteState,
        target: SlackTarget,
        config: AlertingConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        before_post: Callable[[], None] | None = None,
    ) -> None:
        self.state, self.target, self.config = state, target, config
        self.clock = clock
        self._client: Any = None
        self._webhook: Any = None
        self.attempts = Attempts(
            state, config, mode=target.mode, client=self.client, clean=self._clean, clock=clock, sleep=sleep,
            before_post=before_post,
        )  # fmt: skip
        self._logged: set[str] = set()  # refusals logged this pass

    # --- clients (slack_sdk is imported only when something is delivered) -----------------------
    def client(self) -> Any:
        if self._client is None:
            self._client = web_client(self.target, self.config.timeout_s)
        return self._client

    def webhook(self) -> Any:
        if self._webhook is None:
            from slack_sdk.webhook import WebhookClient

            self._webhook = WebhookClient(
                self.target.webhook_url or "",
                timeout=max(1, round(self.config.timeout_s)),
                retry_handlers=[],
                logger=sdk_logger(self.target),
            )
        return self._webhook

    # --- the pass -------------------------------------------------------------------------------
    def deliver_pending(self) -> int:
        """Send every deliverable pending row; returns how many were delivered."""
        if self.target.mode == "off":
            return 0
        self._heal_silenced()
        rows = self._coalesce(outbox.pending(self.state))
        self._delivered = 0
        refused_channels: set[str] = set()
        for index, queued in enumerate(rows):
            row = outbox.get(self.state, queued.id)  # fresh: a replacement may have moved its parent
            if row is None or row.status != "pending" or row.channel in refused_channels:
                continue
            after = self._one(row, left=len(rows) - index)
            if after == "stop":
                break
            if after == "skip_channel":
                refused_channels.add(row.channel)
        refusal.forget_settled(self.state)
        refusal.current(self.state)  # this process's view, for /readyz
        return self._delivered

    def _one(self, row: OutboxRow, *, left: int) -> Next:
        if row.kind == "update" and self.target.mode == "webhook":
            outbox.mark(self.state, [row.id], "skipped", "webhook mode cannot edit messages")
            return "go_on"
        parent = outbox.get(self.state, row.parent_id) if row.parent_id else None
        if parent is not None and parent.status != "sent" and self.target.mode == "token":
            if parent.status == "pending":
                return "go_on"  # the parent is not in Slack yet; this row waits for it
            if parent.status == "sent_unconfirmed":
                parent = self.attempts.find_unconfirmed(parent)
            if parent.status != "sent":  # unconfirmed (ts unknown) or rejected: nothing to edit or thread under
                if row.kind == "update":
                    why = f"parent message {parent.id} was {_never(parent.status)}: there is nothing to edit"
                    outbox.mark(self.state, [row.id], "skipped", why)
                    return "go_on"
                row, parent = _unthreaded(row), None
        try:
            sent = self.attempts.deliver(row, parent, self._send)
        except Unconfirmed as exc:
            outbox.mark(self.state, [row.id], "sent_unconfirmed", self._clean(str(exc)))
            log.warning(
                "Slack confirmed neither outbox message %s (%s) nor its marked copy: it counts as delivered "
                "but unconfirmed (in the channel at most twice, maybe not at all) and canary never posts it "
                "again; `canary alerts status` lists it", row.id, row.kind,
            )  # fmt: skip
            return "go_on"
        except Rejected as exc:
            return self._rejected(row, exc, left=left)
        except Refused as exc:
            self._refused(row, exc, left=left)
            return "stop" if exc.scope == "slack" else "skip_channel" if exc.scope == "channel" else "go_on"
        except DeliveryError as exc:
            outbox.note_error(self.state, row.id, self._clean(str(exc)))
            log.warning("Slack unreachable; %d message(s) stay queued: %s", left, self._clean(str(exc)))
            return "stop"
        outbox.mark_sent(self.state, row.id, at=self.clock(), ts=sent.ts, channel_id=sent.channel_id,
                         answered=sent.answered, found=sent.found)  # fmt: skip
        self._delivered += 1
        for cleared in refusal.clear(self.state, channel=row.channel, row_id=row.id):
            log.warning("Slack takes messages again (%s); the queued ones go out now", cleared.describe())
        return "go_on"

    def _refused(self, row: OutboxRow, exc: Refused, *, left: int) -> None:
        key = refusal.scope_key(exc.scope, channel=row.channel, row_id=row.id)
        refusal.record(self.state, key, exc.code, exc.fix, self.clock())
        outbox.note_error(self.state, row.id, f"{exc}: {exc.fix}")
        if key in self._logged:
            return
        self._logged.add(key)
        what = {"slack": "every message", "channel": f"messages to {row.channel}"}.get(exc.scope, f"message {row.id}")
        log.error(
            "Slack is refusing %s: %s. Fix: %s. The alerts stay queued (%d waiting in this pass) and go out "
            "once this is fixed; `canary alerts status` shows the condition", what, exc.code, exc.fix, left,
            extra={"slack_refusal": exc.code, "slack_refusal_scope": key},
        )  # fmt: skip

    def _rejected(self, row: OutboxRow, exc: Rejected, *, left: int) -> Next:
        error = self._clean(str(exc))
        if not exc.content or row.payload.get("plain"):
            outbox.mark(self.state, [row.id], "rejected", error)
            log.error("Slack rejected outbox message %s (%s) for good: %s", row.id, row.kind, error)
            return "go_on"
        new_id = self._replace(row, error, blocks.plain(row.payload, exc.code, edit=row.kind == "update"))
        log.error(
            "Slack rejected outbox message %s (%s) for its content (%s): sending it as plain text instead "
            "(message %s), so its incident is still announced", row.id, row.kind, exc.code, new_id,
        )  # fmt: skip
        replacement = outbox.get(self.state, new_id)
        return self._one(replacement, left=left) if replacement is not None else "go_on"

    def _replace(self, row: OutboxRow, error: str, payload: dict[str, Any]) -> int:
        """Reject ``row`` and queue ``payload`` in its place: its pending children and its incident follow."""
        with self.state.transaction() as conn:
            new_id = outbox.replace(conn, row, error, payload, at=self.clock())
            incidents.move_parent(conn, row.id, new_id)
        return new_id

    def _heal_silenced(self) -> None:
        """Open incidents whose parent was rejected, not for its content: refusals rejected by older versions."""
        for row in outbox.rejected_parents_of_open_incidents(self.state):
            code = code_of((row.last_error or "").rpartition(": ")[2])
            problem = classify(200, {}, code, webhook=self.target.mode == "webhook") if code else None
            if isinstance(problem, Refused):
                log.warning("re-queueing outbox message %s: it was rejected for %s, a refusal", row.id, code)
                outbox.requeue(self.state, row.id, f"re-queued: rejected earlier for {code}, a refusal")
            elif not row.payload.get("plain"):
                log.warning("re-announcing the incident of outbox message %s as plain text", row.id)
                self._replace(row, row.last_error or "rejected", blocks.plain(row.payload, code or "rejected"))

    def _coalesce(self, rows: list[OutboxRow]) -> list[OutboxRow]:
        """Of several pending edits of one parent only the newest matters; the rest are superseded."""
        newest: dict[int, int] = {}
        for row in rows:
            if row.kind == "update" and row.parent_id is not None:
                newest[row.parent_id] = row.id
        stale = [r.id for r in rows if r.kind == "update" and r.parent_id is not None and newest[r.parent_id] != r.id]
        outbox.mark(self.state, stale, "superseded")
        return [r for r in rows if r.id not in stale]

    def _clean(self, text: str) -> str:
        return redact(text, self.target.secrets)

    # --- sending one row ------------------------------------------------------------------------
    def _send(self, row: OutboxRow, parent: OutboxRow | None, copy: bool) -> tuple[str | None, str | None]:
        try:
            if self.target.mode == "webhook":
                return self._send_webhook(row, parent, copy=copy)
            return self._send_token(row, parent, copy=copy)
        except (Retry, Rejected, Refused):
            raise
        except OSError as exc:  # URLError, timeouts, refused and reset connections
            raise connection_error(exc, self._clean) from None
        except Exception as exc:  # the client refused to send (a malformed URL...): never the URL in the message
            raise Retry(f"the Slack client did not send: {type(exc).__name__}: {self._clean(str(exc))}",
                        maybe_sent=False) from None  # fmt: skip

    def _body(self, row: OutboxRow, parent: OutboxRow | None, copy: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"text": row.payload.get("text", "")}
        if row.payload.get("blocks") is not None:
            body["blocks"] = row.payload["blocks"]
        # the marked copy, and every later edit of a parent that is a marked copy, keep the note
        if copy or (row.kind == "update" and parent is not None and parent.unanswered):
            body = blocks.marked_copy(body)
        return body

    def _payload(self, row: OutboxRow, parent: OutboxRow | None, copy: bool = False) -> dict[str, Any]:
        body = self._body(row, parent, copy)
        if row.kind != "update":
            event = {"outbox_uid": row.uid, "outbox_id": row.id, "kind": row.kind, **({"copy": True} if copy else {})}
            body["metadata"] = {"event_type": EVENT_TYPE, "event_payload": event}
        return body

    def _send_token(
        self, row: OutboxRow, parent: OutboxRow | None, *, copy: bool = False
    ) -> tuple[str | None, str | None]:
        from slack_sdk.errors import SlackApiError

        body = self._payload(row, parent, copy)
        try:
            if row.kind == "update":
                if parent is None or not parent.ts or not parent.channel_id:
                    raise Rejected("an edit needs its parent message's channel and ts")
                resp = self.client().chat_update(channel=parent.channel_id, ts=parent.ts, **body)
                return parent.ts, parent.channel_id
            if parent is not None:
                resp = self.client().chat_postMessage(
                    channel=parent.channel_id or row.channel, thread_ts=parent.ts, **body
                )
            else:
                resp = self.client().chat_postMessage(channel=row.channel, **body)
        except SlackApiError as exc:
            response = exc.response
            raise classify(response.status_code, response.headers, api_error(response), webhook=False,
                           channel=row.channel) from None  # fmt: skip
        channel_id = resp.get("channel")
        if channel_id and not parent:
            outbox.remember_channel(self.state, row.channel, channel_id)
        return resp.get("ts"), channel_id

    def _send_webhook(
        self, row: OutboxRow, parent: OutboxRow | None, *, copy: bool = False
    ) -> tuple[str | None, str | None]:
        resp = self.webhook().send_dict(self._body(row, parent, copy))
        if resp.status_code == 200:
            return None, None
        raise classify(resp.status_code, resp.headers or {}, code_of(resp.body), webhook=True, channel=row.channel)


def _unthreaded(row: OutboxRow) -> OutboxRow:
    """A reply posted on its own (its parent's ts is unknown): the variant that names its incident."""
    return replace(row, payload=row.payload.get("standalone") or row.payload)


def _never(status: str) -> str:
    return "never confirmed by Slack" if status == "sent_unconfirmed" else status
