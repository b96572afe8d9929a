"""Delivery of outbox rows to Slack: bot token (Web API) or incoming webhook.

Token mode posts parents with ``chat.postMessage``, edits them with ``chat.update`` and threads
replies with ``thread_ts``. Every post carries message ``metadata`` naming its outbox row; a row that
may already have reached Slack (an earlier attempt timed out, got a 5xx, or the process died before
marking it) is first looked up with ``conversations.history`` / ``conversations.replies``
(``include_all_metadata``), so it is never posted twice.

Bot token scopes:

* ``chat:write`` (required): post, edit and thread messages.
* ``channels:history`` and ``channels:read`` (``groups:history`` and ``groups:read`` for private
  channels): duplicate detection, i.e. the look-up above and resolving a channel name to its id.
  ``canary alerts test`` checks them (Slack lists a token's scopes in ``x-oauth-scopes``).

A look-up that fails never turns into a rejection (the row is never dropped because it could not be
*checked*): a transient failure (5xx, 429, connection error) is retried like a send and, after
``max_attempts``, leaves the row pending for the next pass; a refusal (``missing_scope``,
``not_in_channel``, ``channel_not_found`` for a private channel, any other error) means the check is
impossible, and a WARNING says that duplicates are possible without the read scopes.

Ambiguous sends. A post that got an answer, even a 5xx, is not in Slack and is simply sent again. A
post that went out and got *no* answer (the connection dropped or timed out after the request was
sent, or the process died mid-send; ``unanswered`` in the outbox) may be in Slack. Where it can be
looked up it is; where it cannot (no read scopes, webhook mode) it is posted once more with a context
line "(may repeat an earlier message that Slack did not confirm)" and a WARNING; if that copy goes
unanswered too, the row is ``sent_unconfirmed``: never posted again, and listed by ``canary alerts
status``. So a message is in Slack at most twice (``outbox.MAX_UNANSWERED``), and, when Slack
answered neither post, maybe not at all. A refused connection or a failed DNS lookup sent nothing.
A confirmed copy becomes the parent: edits go to it (and keep the note), replies thread under it.
Under a ``sent_unconfirmed`` parent (ts unknown, unless a look-up now finds it) edits are
``skipped`` and replies are posted on their own, naming their incident.

Webhook mode cannot edit (edits are ``skipped``) and cannot look anything up: replies become plain
follow-up posts; a crash between Slack's answer and the ``sent`` mark (one SQLite commit) counts as
an unanswered post, so the next run posts the marked copy.

Retries: 429 waits ``Retry-After``; 5xx and connection errors back off exponentially; after
``max_attempts`` the row stays pending for the next run and the pass stops (Slack is down).
Tokens and webhook URLs never reach a log line, an outbox row or an exception message.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

from pipeline_canary.alerting import blocks, outbox
from pipeline_canary.alerting.outbox import OutboxRow
from pipeline_canary.alerting.settings import AlertingConfig, SlackTarget
from pipeline_canary.errors import DeliveryError
from pipeline_canary.state.sqlite import SQLiteState

log = logging.getLogger(__name__)
EVENT_TYPE = "pipeline_canary_alert"
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
_TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
WRITE_SCOPES = ("chat:write",)
LOOKUP_SCOPES = ("channels:history", "channels:read")  # groups:history, groups:read for private channels
PRIVATE_LOOKUP_SCOPES = ("groups:history", "groups:read")
SCOPES_HEADER = "x-oauth-scopes"


class Rejected(DeliveryError):
    """Slack refused the message for good (bad blocks, unknown channel): retrying cannot help."""


class _Retry(Exception):
    """Try again. ``maybe_sent``: worth a look-up first; ``unanswered``: the post went out and no answer came."""

    def __init__(
        self, reason: str, *, wait_s: float | None = None, maybe_sent: bool = True, unanswered: bool = False
    ) -> None:
        super().__init__(reason)
        self.wait_s, self.maybe_sent, self.unanswered = wait_s, maybe_sent, unanswered


class _LookupImpossible(Exception):
    """Slack refused the duplicate check itself (missing read scopes, not in the channel, ...)."""


class _NotChecked(Exception):
    """This row cannot be checked (its channel name does not resolve); others may be."""


class _Unconfirmed(Exception):
    """The post and its marked copy both went unanswered: delivered-unconfirmed, never posted again."""


class _Sent(NamedTuple):
    ts: str | None
    channel_id: str | None
    answered: bool = False  # Slack confirmed a post just made
    found: bool = False  # a look-up found the row in Slack


def granted_scopes(headers: Any) -> set[str] | None:
    """The token's scopes from an API response's ``x-oauth-scopes`` header; None when absent."""
    value = _header(headers, SCOPES_HEADER)
    return None if value is None else {s.strip() for s in value.split(",") if s.strip()}


def missing_scopes(granted: set[str]) -> tuple[list[str], list[str]]:
    """(missing scopes needed to post, missing scopes needed for duplicate detection)."""
    return [s for s in WRITE_SCOPES if s not in granted], [s for s in LOOKUP_SCOPES if s not in granted]


class _Redact(logging.Filter):
    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            record.msg, record.args = redact(message, self.secrets), None
        return True


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return re.sub(r"xox[abpr]-[A-Za-z0-9-]+", "[redacted-token]", text)


def sdk_logger(target: SlackTarget) -> logging.Logger:
    """The logger slack_sdk writes to: never DEBUG (it would print headers and URLs), always redacted."""
    logger = logging.getLogger("pipeline_canary.alerting.slack_sdk")
    logger.setLevel(logging.WARNING)
    for old in [f for f in logger.filters if isinstance(f, _Redact)]:
        logger.removeFilter(old)
    logger.addFilter(_Redact(target.secrets))
    return logger


class SlackDelivery:
    """Flushes the outbox in id order; one instance per delivery pass."""

    def __init__(
        self,
        state: SQLiteState,
        target: SlackTarget,
        config: AlertingConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.state, self.target, self.config = state, target, config
        self.sleep, self.clock = sleep, clock
        self._client: Any = None
        self._webhook: Any = None
        self._lookup_unavailable: str | None = None  # why duplicate checks are impossible this pass

    # --- clients (slack_sdk is imported only when something is delivered) -----------------------
    def client(self) -> Any:
        if self._client is None:
            from slack_sdk import WebClient

            self._client = WebClient(
                token=self.target.token,
                base_url=self.target.api_url,
                timeout=max(1, round(self.config.timeout_s)),
                retry_handlers=[],  # retries are ours: a blind re-post could duplicate a message
                logger=sdk_logger(self.target),
            )
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
        rows = self._coalesce(outbox.pending(self.state))
        delivered = 0
        for index, row in enumerate(rows):
            if row.kind == "update" and self.target.mode == "webhook":
                outbox.mark(self.state, [row.id], "skipped", "webhook mode cannot edit messages")
                continue
            parent = outbox.get(self.state, row.parent_id) if row.parent_id else None
            if parent is not None and parent.status != "sent" and self.target.mode == "token":
                if parent.status == "pending":
                    continue  # the parent is not in Slack yet; this row waits for it
                if parent.status == "sent_unconfirmed":
                    parent = self._find_unconfirmed(parent)
                if parent.status == "sent_unconfirmed":  # its ts is unknown: nothing to edit or thread under
                    if row.kind == "update":
                        why = f"parent message {parent.id} was never confirmed by Slack: its ts is unknown"
                        outbox.mark(self.state, [row.id], "skipped", why)
                        continue
                    row, parent = _unthreaded(row), None
                elif parent.status != "sent":
                    outbox.mark(self.state, [row.id], "rejected", f"parent message {parent.id} was {parent.status}")
                    continue
            try:
                sent = self._deliver(row, parent)
            except _Unconfirmed as exc:
                outbox.mark(self.state, [row.id], "sent_unconfirmed", self._clean(str(exc)))
                log.warning(
                    "Slack confirmed neither outbox message %s (%s) nor its marked copy: it counts as delivered "
                    "but unconfirmed (in the channel at most twice, maybe not at all) and canary never posts it "
                    "again; `canary alerts status` lists it", row.id, row.kind,
                )  # fmt: skip
                continue
            except Rejected as exc:
                outbox.mark(self.state, [row.id], "rejected", self._clean(str(exc)))
                log.error("Slack rejected outbox message %s (%s): %s", row.id, row.kind, self._clean(str(exc)))
                continue
            except DeliveryError as exc:
                outbox.note_error(self.state, row.id, self._clean(str(exc)))
                log.warning("Slack unreachable; %d message(s) stay queued: %s", len(rows) - index,
                            self._clean(str(exc)))  # fmt: skip
                break
            outbox.mark_sent(self.state, row.id, at=self.clock(), ts=sent.ts, channel_id=sent.channel_id,
                             answered=sent.answered, found=sent.found)  # fmt: skip
            delivered += 1
        return delivered

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

    def _find_unconfirmed(self, parent: OutboxRow) -> OutboxRow:
        """A look-up for a parent Slack never confirmed (say the read scopes were added since)."""
        try:
            _, found = self._checked_lookup(parent, None)
        except _Retry:
            return parent
        if found is None:
            return parent
        log.info("outbox message %s, never confirmed, is in Slack (ts %s)", parent.id, found[0])
        outbox.mark_sent(self.state, parent.id, at=self.clock(), ts=found[0], channel_id=found[1], found=True)
        return outbox.get(self.state, parent.id) or parent

    # --- one row, with retries ------------------------------------------------------------------
    def _deliver(self, row: OutboxRow, parent: OutboxRow | None) -> _Sent:
        """Send ``row``; a post that went unanswered is checked in Slack, else re-posted once, marked."""
        post = row.kind != "update"  # an edit can be repeated freely: it never duplicates anything
        maybe_sent = row.attempts > 0
        unanswered = row.unanswered if post else 0
        last = row.last_error or "the process stopped before an answer"
        for attempt in range(self.config.max_attempts):
            try:
                if maybe_sent and self.target.mode == "token" and post:
                    checked, found = self._checked_lookup(row, parent)
                    if found is not None:
                        log.info("outbox message %s was already in Slack (ts %s); not re-sending", row.id, found[0])
                        return _Sent(found[0], found[1], found=True)
                    if checked and unanswered:
                        outbox.checked_absent(self.state, row.id)  # looked: none of the posts arrived
                        unanswered = 0
                if unanswered >= outbox.MAX_UNANSWERED:
                    raise _Unconfirmed(f"{unanswered} posts without an answer from Slack (last: {last})")
                copy = unanswered > 0
                if copy:
                    log.warning(
                        "outbox message %s (%s) was sent but Slack did not answer (%s) and the channel cannot be "
                        "checked: posting it once more, marked as possibly repeated", row.id, row.kind, last,
                    )  # fmt: skip
                outbox.record_attempt(self.state, row.id, self.clock(), post=post)
                unanswered += post
                try:
                    if self.target.mode == "webhook":
                        ts, channel_id = self._send_webhook(row, parent, copy=copy)
                    else:
                        ts, channel_id = self._send_token(row, parent, copy=copy)
                except (_Retry, Rejected) as exc:
                    if post and not (isinstance(exc, _Retry) and exc.unanswered):
                        outbox.answered(self.state, row.id)  # an answer, even an error: not in Slack
                        unanswered -= 1
                    raise
                return _Sent(ts, channel_id, answered=post)
            except _Retry as exc:
                last = str(exc)
                maybe_sent = maybe_sent or exc.maybe_sent
                if attempt + 1 < self.config.max_attempts:
                    wait = exc.wait_s if exc.wait_s is not None else self.config.backoff_s * 2**attempt
                    self.sleep(min(wait, self.config.max_retry_after_s))
        raise DeliveryError(f"gave up after {self.config.max_attempts} attempts: {last}")

    def _body(self, row: OutboxRow, parent: OutboxRow | None, copy: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"text": row.payload.get("text", ""), "blocks": row.payload.get("blocks")}
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
            raise self._classify(exc.response.status_code, exc.response.headers, _error(exc.response)) from None
        except OSError as exc:  # URLError, timeouts, refused and reset connections
            raise self._connection_error(exc) from None
        channel_id = resp.get("channel")
        if channel_id and not parent:
            outbox.remember_channel(self.state, row.channel, channel_id)
        return resp.get("ts"), channel_id

    def _send_webhook(
        self, row: OutboxRow, parent: OutboxRow | None, *, copy: bool = False
    ) -> tuple[str | None, str | None]:
        try:
            resp = self.webhook().send_dict(self._body(row, parent, copy))
        except OSError as exc:
            raise self._connection_error(exc) from None
        if resp.status_code == 200:
            return None, None
        raise self._classify(resp.status_code, resp.headers or {}, str(resp.body or "")[:200])

    def _classify(self, status: int, headers: Any, error: str) -> Exception:
        if status == 429 or error == "ratelimited":
            retry_after = _header(headers, "Retry-After")
            return _Retry("rate limited (429)", wait_s=float(retry_after or 1), maybe_sent=False)
        if status >= 500 or error in _TRANSIENT:
            return _Retry(f"Slack answered {status} {error}".strip())
        return Rejected(f"Slack answered {status}: {error or 'error'}")

    def _connection_error(self, exc: OSError) -> _Retry:
        """Refused or unresolvable: the request never left. Anything else may have reached Slack."""
        reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket error
        cause = reason if isinstance(reason, BaseException) else exc
        left = not isinstance(cause, ConnectionRefusedError | socket.gaierror)
        what = "no answer" if left else "not sent"
        return _Retry(f"connection error ({what}): {type(exc).__name__}: {self._clean(str(exc))}",
                      maybe_sent=left, unanswered=left)  # fmt: skip

    # --- idempotency: was this row already posted? ----------------------------------------------
    def _checked_lookup(
        self, row: OutboxRow, parent: OutboxRow | None
    ) -> tuple[bool, tuple[str | None, str | None] | None]:
        """(checked, where Slack has the row or None); not checked when Slack will not let us look.

        Transient errors raise ``_Retry``.
        """
        if self._lookup_unavailable is not None:
            return False, None
        try:
            return True, self._lookup(row, parent)
        except _NotChecked as exc:
            log.warning("cannot check whether outbox message %s already reached Slack: %s", row.id, exc)
            return False, None
        except _LookupImpossible as exc:
            self._lookup_unavailable = str(exc)
            log.warning(
                "cannot check whether outbox message %s already reached Slack (%s): duplicates are possible "
                "after failed attempts (a post Slack took without answering is posted once more, marked as "
                "possibly repeated) unless the bot token has the read scopes %s (%s for private channels)",
                row.id, self._clean(str(exc)), ", ".join(LOOKUP_SCOPES), ", ".join(PRIVATE_LOOKUP_SCOPES),
            )  # fmt: skip
            return False, None

    def _lookup(self, row: OutboxRow, parent: OutboxRow | None) -> tuple[str | None, str | None] | None:
        from slack_sdk.errors import SlackApiError

        channel_id: str | None
        try:
            if parent is not None and parent.ts and parent.channel_id:
                channel_id = parent.channel_id
                pages = self._pages("conversations_replies", channel=channel_id, ts=parent.ts)
            else:
                channel_id = self._channel_id(row.channel)
                if channel_id is None:
                    raise _NotChecked(f"cannot resolve channel {row.channel}")
                since = self._first_attempt(row) - 300
                pages = self._pages("conversations_history", channel=channel_id, oldest=f"{since:.6f}")
            for message in pages:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == EVENT_TYPE and payload.get("outbox_uid") == row.uid:
                    return str(message["ts"]), channel_id
        except SlackApiError as exc:
            # Never Rejected: the row itself was not refused, only the check. Transient: retry.
            problem = self._classify(exc.response.status_code, exc.response.headers, _error(exc.response))
            if isinstance(problem, _Retry):
                raise _Retry(f"during lookup: {problem}", wait_s=problem.wait_s) from None
            raise _LookupImpossible(_lookup_error(exc.response)) from None
        except OSError as exc:
            raise _Retry(f"connection error during lookup: {type(exc).__name__}") from None
        return None

    def _first_attempt(self, row: OutboxRow) -> float:
        found = self.state.read().execute("SELECT attempted_at FROM alert_outbox WHERE id = ?", (row.id,)).fetchone()
        value = found["attempted_at"] if found else None
        return dt.datetime.fromisoformat(value).timestamp() if value else row.created_at.timestamp()

    def _pages(self, method: str, **params: Any) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        cursor = None
        for _ in range(20):
            resp = getattr(self.client(), method)(include_all_metadata=True, limit=200, cursor=cursor, **params)
            messages.extend(resp.get("messages") or [])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return messages

    def _channel_id(self, name: str) -> str | None:
        if _CHANNEL_ID.fullmatch(name):
            return name
        known = outbox.channel_id(self.state, name)
        if known:
            return known
        from slack_sdk.errors import SlackApiError

        try:
            return self._find_channel(name, "public_channel,private_channel")
        except SlackApiError as exc:  # a token without groups:read may still list the public channels
            if _error(exc.response) != "missing_scope":
                raise
            return self._find_channel(name, "public_channel")

    def _find_channel(self, name: str, types: str) -> str | None:
        cursor = None
        for _ in range(50):
            resp = self.client().conversations_list(types=types, exclude_archived=True, limit=1000, cursor=cursor)
            for channel in resp.get("channels") or []:
                if channel.get("name") == name.lstrip("#"):
                    outbox.remember_channel(self.state, name, channel["id"])
                    return str(channel["id"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None


def _unthreaded(row: OutboxRow) -> OutboxRow:
    """A reply posted on its own (its parent's ts is unknown): the variant that names its incident."""
    return replace(row, payload=row.payload.get("standalone") or row.payload)


def _lookup_error(response: Any) -> str:
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    error = str(data.get("error") or f"HTTP {response.status_code}")
    needed = data.get("needed")
    return f"{error}, needs {needed}" if error == "missing_scope" and needed else error


def _error(response: Any) -> str:
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    return str(data.get("error", ""))


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None
