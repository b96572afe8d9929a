"""Sending one outbox row at most twice: retries, look-ups in Slack, and marked copies.

Every post carries message ``metadata`` naming its outbox row; a row that may already have reached
Slack (an earlier attempt timed out, got a 5xx, or the process died before marking it) is first
looked up with ``conversations.history`` / ``conversations.replies`` (``include_all_metadata``),
so it is never posted twice.

A look-up that fails never turns into a rejection (the row is never dropped because it could not be
*checked*): a transient failure (5xx, 429, connection error) is retried like a send and, after
``max_attempts``, leaves the row pending for the next pass; a refusal of the check itself
(``missing_scope``, ``not_in_channel``, ``channel_not_found`` for a private channel, ...) means
the check is impossible, and a WARNING says that duplicates are possible without the read scopes.
A refusal of the token (``invalid_auth``, ...) is Slack refusing us: :class:`Refused`, as for a send.

Ambiguous sends. A post that got an answer, even a 5xx, is not in Slack and is simply sent again. A
post that went out and got *no* answer (the connection dropped or timed out after the request was
sent, or the process died mid-send; ``unanswered`` in the outbox) may be in Slack. Where it can be
looked up it is; where it cannot (no read scopes, webhook mode) it is posted once more with a context
line "(may repeat an earlier message that Slack did not confirm)" and a WARNING; if that copy goes
unanswered too, the row is ``sent_unconfirmed``: never posted again, and listed by ``canary alerts
status``. So a message is in Slack at most twice (``outbox.MAX_UNANSWERED``), and, when Slack
answered neither post, maybe not at all. A refused connection or a failed DNS lookup sent nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from pipeline_canary.alerting import outbox
from pipeline_canary.alerting.outbox import OutboxRow
from pipeline_canary.alerting.settings import AlertingConfig
from pipeline_canary.alerting.slack_errors import (
    LOOKUP_SCOPES,
    PRIVATE_LOOKUP_SCOPES,
    Refused,
    Rejected,
    Retry,
    api_error,
    classify,
)
from pipeline_canary.errors import DeliveryError
from pipeline_canary.state.sqlite import SQLiteState

log = logging.getLogger("pipeline_canary.alerting.slack")
EVENT_TYPE = "pipeline_canary_alert"
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")

Send = Callable[[OutboxRow, "OutboxRow | None", bool], "tuple[str | None, str | None]"]


class Unconfirmed(Exception):
    """The post and its marked copy both went unanswered: delivered-unconfirmed, never posted again."""


class _LookupImpossible(Exception):
    """Slack refused the duplicate check itself (missing read scopes, not in the channel, ...)."""


class _NotChecked(Exception):
    """This row cannot be checked (its channel name does not resolve); others may be."""


class Sent(NamedTuple):
    ts: str | None
    channel_id: str | None
    answered: bool = False  # Slack confirmed a post just made
    found: bool = False  # a look-up found the row in Slack


class Attempts:
    """One row through retries, look-ups and at most one marked copy (see the module docstring)."""

    def __init__(
        self,
        state: SQLiteState,
        config: AlertingConfig,
        *,
        mode: str,
        client: Callable[[], Any],
        clean: Callable[[str], str],
        clock: Callable[[], dt.datetime],
        sleep: Callable[[float], None],
        before_post: Callable[[], None] | None = None,
    ) -> None:
        self.state, self.config, self.mode = state, config, mode
        self.client, self.clean, self.clock, self.sleep = client, clean, clock, sleep
        self.before_post = before_post
        self.lookup_unavailable: str | None = None  # why duplicate checks are impossible this pass

    def deliver(self, row: OutboxRow, parent: OutboxRow | None, send: Send) -> Sent:
        """Send ``row``; a post that went unanswered is checked in Slack, else re-posted once, marked."""
        post = row.kind != "update"  # an edit can be repeated freely: it never duplicates anything
        maybe_sent = row.attempts > 0
        unanswered = row.unanswered if post else 0
        last = row.last_error or "the process stopped before an answer"
        for attempt in range(self.config.max_attempts):
            try:
                if maybe_sent and self.mode == "token" and post:
                    checked, found = self.checked_lookup(row, parent)
                    if found is not None:
                        log.info("outbox message %s was already in Slack (ts %s); not re-sending", row.id, found[0])
                        return Sent(found[0], found[1], found=True)
                    if checked and unanswered:
                        outbox.checked_absent(self.state, row.id)  # looked: none of the posts arrived
                        unanswered = 0
                if unanswered >= outbox.MAX_UNANSWERED:
                    raise Unconfirmed(f"{unanswered} posts without an answer from Slack (last: {last})")
                copy = unanswered > 0
                if copy:
                    log.warning(
                        "outbox message %s (%s) was sent but Slack did not answer (%s) and the channel cannot be "
                        "checked: posting it once more, marked as possibly repeated", row.id, row.kind, last,
                    )  # fmt: skip
                outbox.record_attempt(self.state, row.id, self.clock(), post=post)
                unanswered += post
                try:
                    if post:
                        self._saved_before_post(row)
                    ts, channel_id = send(row, parent, copy)
                except (Retry, Rejected, Refused) as exc:
                    if post and not (isinstance(exc, Retry) and exc.unanswered):
                        outbox.answered(self.state, row.id)  # an answer, even an error: not in Slack
                        unanswered -= 1
                    raise
                return Sent(ts, channel_id, answered=post)
            except Retry as exc:
                last = str(exc)
                maybe_sent = maybe_sent or exc.maybe_sent
                if attempt + 1 < self.config.max_attempts:
                    wait = exc.wait_s if exc.wait_s is not None else self.config.backoff_s * 2**attempt
                    self.sleep(min(wait, self.config.max_retry_after_s))
        raise DeliveryError(f"gave up after {self.config.max_attempts} attempts: {last}")

    def _saved_before_post(self, row: OutboxRow) -> None:
        """A shared state store (gcs) is saved with the attempt before the post: a kill after it re-posts nothing."""
        if self.before_post is None:
            return
        try:
            self.before_post()
        except Exception as exc:
            raise Retry(f"the state could not be saved before sending, so nothing was sent: {exc}",
                        maybe_sent=False) from None  # fmt: skip

    def find_unconfirmed(self, parent: OutboxRow) -> OutboxRow:
        """A look-up for a parent Slack never confirmed (say the read scopes were added since)."""
        try:
            _, found = self.checked_lookup(parent, None)
        except (Retry, Refused):  # the row waiting for it will meet the refusal itself
            return parent
        if found is None:
            return parent
        log.info("outbox message %s, never confirmed, is in Slack (ts %s)", parent.id, found[0])
        outbox.mark_sent(self.state, parent.id, at=self.clock(), ts=found[0], channel_id=found[1], found=True)
        return outbox.get(self.state, parent.id) or parent

    # --- idempotency: was this row already posted? ----------------------------------------------
    def checked_lookup(
        self, row: OutboxRow, parent: OutboxRow | None
    ) -> tuple[bool, tuple[str | None, str | None] | None]:
        """(checked, where Slack has the row or None); not checked when Slack will not let us look.

        Transient errors raise :class:`Retry`, a refused token :class:`Refused`.
        """
        if self.lookup_unavailable is not None:
            return False, None
        try:
            return True, self._lookup(row, parent)
        except _NotChecked as exc:
            log.warning("cannot check whether outbox message %s already reached Slack: %s", row.id, exc)
            return False, None
        except _LookupImpossible as exc:
            self.lookup_unavailable = str(exc)
            log.warning(
                "cannot check whether outbox message %s already reached Slack (%s): duplicates are possible "
                "after failed attempts (a post Slack took without answering is posted once more, marked as "
                "possibly repeated) unless the bot token has the read scopes %s (%s for private channels)",
                row.id, self.clean(str(exc)), ", ".join(LOOKUP_SCOPES), ", ".join(PRIVATE_LOOKUP_SCOPES),
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
            code = api_error(exc.response)
            problem = classify(exc.response.status_code, exc.response.headers, code, webhook=False)
            if isinstance(problem, Retry):
                raise Retry(f"during lookup: {problem}", wait_s=problem.wait_s) from None
            if isinstance(problem, Refused) and problem.scope == "slack" and code != "missing_scope":
                raise problem from None  # the token itself: no post would get through either
            raise _LookupImpossible(_lookup_error(exc.response)) from None
        except OSError as exc:
            raise Retry(f"connection error during lookup: {type(exc).__name__}") from None
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
        known = outbox.channel_id(self.state, name)
        if known:
            return known
        found = find_channel(self.client(), name)
        if found is not None and found != name:
            outbox.remember_channel(self.state, name, found)
        return found


def find_channel(client: Any, name: str) -> str | None:
    """The id of channel ``name`` (``#x``, ``x`` or an id), listing public and private channels if allowed."""
    if _CHANNEL_ID.fullmatch(name):
        return name
    from slack_sdk.errors import SlackApiError

    try:
        return _listed(client, name, "public_channel,private_channel")
    except SlackApiError as exc:  # a token without groups:read may still list the public channels
        if api_error(exc.response) != "missing_scope":
            raise
        return _listed(client, name, "public_channel")


def _listed(client: Any, name: str, types: str) -> str | None:
    cursor = None
    for _ in range(50):
        resp = client.conversations_list(types=types, exclude_archived=True, limit=1000, cursor=cursor)
        for channel in resp.get("channels") or []:
            if channel.get("name") == name.lstrip("#"):
                return str(channel["id"])
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return None


def _lookup_error(response: Any) -> str:
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    error = api_error(response) or f"HTTP {response.status_code}"
    needed = data.get("needed")
    return f"{error}, needs {needed}" if error == "missing_scope" and needed else error
