"""A local HTTP server that speaks enough of Slack's Web API and incoming webhooks for real clients.

It keeps channels, messages (with metadata, edits and threads) like Slack does, answers
``auth.test``, ``chat.postMessage``, ``chat.update``, ``conversations.history`` / ``.replies`` /
``.list`` and webhook posts, validates Block Kit limits (``invalid_blocks``), records every call,
and can be told to misbehave on write calls: answer 429 with Retry-After, answer 500, hang, store
the message and then hang (what a crash between send and mark looks like from Slack's side), or drop
the connection without an answer, before or after storing the message (``drop``,
``store_then_drop``: an ambiguous send). ``fail_posts`` applies a fault to every post (``chat.postMessage``
and webhook calls, not ``chat.update``) until it is turned off.

Like Slack it lists the token's scopes in the ``x-oauth-scopes`` header of every Web API answer
(``scopes``), and answers ``missing_scope`` to a read method whose scope the token lacks; a read
method can also be refused outright (``deny_reads``, e.g. ``not_in_channel``) or fail (``fail_reads``).
A token other than ``token`` gets ``invalid_auth``, a webhook path other than ``webhook_path``
``404 no_service``; ``refuse`` makes every call answer an error (a revoked token or webhook: e.g.
``invalid_auth``, or ``401`` for webhooks) until it is turned off. ``conversations.info`` says
whether the bot is a member of a channel (``members``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WRITE_METHODS = ("chat.postMessage", "chat.update", "webhook")
POST_METHODS = ("chat.postMessage", "webhook")
DROPPED = -1  # Call.status of a request answered by closing the connection
READ_METHODS = ("conversations.history", "conversations.replies", "conversations.list", "conversations.info")
ALL_SCOPES = ("chat:write", "channels:history", "channels:read", "groups:history", "groups:read")
_NEEDS = {
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "conversations.list": "channels:read",
    "conversations.info": "channels:read",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
}
TOKEN = "xoxb-1111111111-2222222222-localtestTOKENsecret"
WEBHOOK_PATH = "/services/T0LOCAL/B0LOCAL/localWEBHOOKsecret0001"


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 0


@dataclass
class Message:
    ts: str
    channel: str
    text: str
    blocks: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None
    thread_ts: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)


class SlackServer:
    def __init__(
        self,
        token: str = TOKEN,
        channels: tuple[str, ...] = ("canary-alerts", "critical-alerts"),
        scopes: tuple[str, ...] | None = ALL_SCOPES,
        webhook_path: str = WEBHOOK_PATH,
    ) -> None:
        self.token, self.webhook_path = token, webhook_path
        self.scopes = scopes  # None: no x-oauth-scopes header and no scope checks
        self.read_error: str | None = None  # every read method answers this error (deny_reads)
        self.read_faults: list[str] = []  # '500' per read call (fail_reads)
        self.channels = {f"C0LOCAL{i:04d}": name for i, name in enumerate(channels, 1)}
        self.members = set(self.channels)  # channels the bot is in (conversations.info's is_member)
        self.refusal: tuple[str, int | None] | None = None  # (error, HTTP status) every call answers
        self.webhook_channel = next(iter(self.channels))
        self.messages: list[Message] = []
        self.calls: list[Call] = []
        self.faults: list[tuple[str, float]] = []  # (kind, seconds) consumed by write calls
        self.post_fault: str | None = None  # applied to every post while set (fail_posts)
        self.release = threading.Event()
        self.stored = threading.Event()  # set when a process_then_hang fault has stored its message
        self._lock = threading.Lock()
        self._clock = time.time()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    # --- control ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @property
    def webhook_url(self) -> str:
        return self.url + self.webhook_path

    def start(self) -> SlackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def fail(self, kind: str, times: int = 1, seconds: float = 0.0) -> None:
        """Queue faults for the next write calls: '500', '429' (Retry-After seconds), 'hang', 'store_then_hang',
        'drop' (close the connection without an answer), 'store_then_drop' (store the message, then drop) and
        'reject:CODE' (refuse the message's content, e.g. 'reject:invalid_blocks').

        'ok' lets one write call through (to aim a later fault at a later call).
        """
        with self._lock:
            self.faults.extend([(kind, seconds)] * times)

    def fail_posts(self, kind: str | None = "store_then_drop") -> None:
        """Apply ``kind`` (see ``fail``) to every post from now on, after any queued faults; None to stop."""
        self.post_fault = kind

    def refuse(self, error: str | None = "invalid_auth", status: int | None = None) -> None:
        """Answer every call with ``error`` (Web API: ``status`` or 200; webhook: ``status`` or 403); None: stop."""
        self.refusal = None if error is None else (error, status)

    def deny_reads(self, error: str | None = "missing_scope") -> None:
        """Answer every read method (history, replies, list) with ``error``; None to stop."""
        self.read_error = error

    def fail_reads(self, kind: str = "500", times: int = 1) -> None:
        """Queue faults ('500') for the next read calls."""
        with self._lock:
            self.read_faults.extend([kind] * times)

    # --- what happened ----------------------------------------------------------------------------
    def parents(self) -> list[Message]:
        return [m for m in self.messages if m.thread_ts is None]

    def replies(self, parent: Message) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == parent.ts]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # --- Slack semantics --------------------------------------------------------------------------
    def _next_ts(self) -> str:
        self._clock = max(self._clock + 0.000100, time.time())
        return f"{self._clock:.6f}"

    def _channel_id(self, ref: str, *, ids_only: bool = False) -> str | None:
        if ref in self.channels:
            return ref
        if ids_only:
            return None
        name = ref.lstrip("#")
        return next((cid for cid, n in self.channels.items() if n == name), None)

    def handle(self, method: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        call = Call(method=method, body=body, headers=headers)
        with self._lock:
            self.calls.append(call)
            fault = self.faults.pop(0) if method in WRITE_METHODS and self.faults else None
            if fault is None and method in POST_METHODS and self.post_fault is not None:
                fault = (self.post_fault, 0.0)
            read_fault = self.read_faults.pop(0) if method in READ_METHODS and self.read_faults else None
        if read_fault == "500":
            call.status = 500
            return 500, {}, {"ok": False, "error": "internal_error"}
        if fault is not None:
            kind, seconds = fault
            if kind == "500":
                call.status = 500
                return 500, {}, {"ok": False, "error": "internal_error"}
            if kind == "429":
                call.status = 429
                return 429, {"Retry-After": str(int(seconds or 1))}, {"ok": False, "error": "ratelimited"}
            if kind == "hang":
                self.release.wait(seconds)
                call.status = 599
                return 500, {}, {"ok": False, "error": "request_timeout"}
            if kind == "drop":
                call.status = DROPPED
                return DROPPED, {}, ""
            if kind.startswith("reject:"):  # Slack refuses the message for what it says
                error = kind.removeprefix("reject:")
                call.status = 400 if method == "webhook" else 200
                return call.status, {}, (error if method == "webhook" else {"ok": False, "error": error})
        if self.refusal is not None:
            error, status = self.refusal
            call.status = status or (403 if method == "webhook" else 200)
            return call.status, {}, (error if method == "webhook" else {"ok": False, "error": error})
        if method == "unknown_webhook":
            call.status = 404
            return 404, {}, "no_service"
        if method != "webhook" and headers.get("authorization") != f"Bearer {self.token}":
            return 200, {}, {"ok": False, "error": "invalid_auth" if headers.get("authorization") else "not_authed"}
        scope_header = {"x-oauth-scopes": ",".join(self.scopes)} if self.scopes is not None else {}
        refused = self._refuse(method, body)
        if refused is not None:
            call.status = 200
            return 200, scope_header, refused
        with self._lock:
            status, extra, answer = self._dispatch(method, body)
        call.status = status
        extra = {**scope_header, **extra} if method != "webhook" else extra
        if fault is not None and fault[0] == "store_then_hang":
            self.stored.set()
            self.release.wait(fault[1])
        if fault is not None and fault[0] == "store_then_drop":  # stored if Slack took it, then dropped
            self.stored.set()
            call.status = DROPPED
            return DROPPED, {}, ""
        return status, extra, answer

    def _refuse(self, method: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Slack's answer to a method the token may not call, else None."""
        if method in READ_METHODS and self.read_error is not None:
            answer: dict[str, Any] = {"ok": False, "error": self.read_error}
            if self.read_error == "missing_scope":
                answer.update(needed=_NEEDS[method], provided=",".join(self.scopes or ()))
            return answer
        needed = _NEEDS.get(method)
        private = method == "conversations.list" and "private_channel" in str(body.get("types", ""))
        if private and self.scopes is not None and "groups:read" not in self.scopes:
            needed = "groups:read"  # listing private channels needs it on top of channels:read
        if self.scopes is not None and needed is not None and needed not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(self.scopes)}
        return None

    def _dispatch(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if method == "auth.test":
            return 200, {}, {"ok": True, "url": "https://local.slack.test/", "team": "local", "team_id": "T0LOCAL",
                             "user": "canary", "user_id": "U0LOCAL", "bot_id": "B0LOCAL"}  # fmt: skip
        if method == "conversations.info":
            cid = self._channel_id(str(body.get("channel", "")), ids_only=True)
            if cid is None:
                return 200, {}, {"ok": False, "error": "channel_not_found"}
            info = {"id": cid, "name": self.channels[cid], "is_channel": True, "is_private": False,
                    "is_archived": False, "is_member": cid in self.members}  # fmt: skip
            return 200, {}, {"ok": True, "channel": info}
        if method in ("chat.postMessage", "webhook", "chat.update") and _invalid_blocks(body.get("blocks")):
            return (
                (400, {}, "invalid_blocks")
                if method == "webhook"
                else (200, {}, {"ok": False, "error": "invalid_blocks"})
            )
        if method == "webhook":
            self.messages.append(
                Message(self._next_ts(), self.webhook_channel, body.get("text", ""), body.get("blocks"), None)
            )
            return 200, {}, "ok"
        if method == "chat.postMessage":
            cid = self._channel_id(str(body.get("channel", "")))
            if cid is None:
                return 200, {}, {"ok": False, "error": "channel_not_found"}
            thread = body.get("thread_ts")
            if thread and not any(m.ts == thread and m.channel == cid for m in self.messages):
                return 200, {}, {"ok": False, "error": "thread_not_found"}
            meta = body.get("metadata")
            meta = json.loads(meta) if isinstance(meta, str) else meta
            msg = Message(self._next_ts(), cid, body.get("text", ""), body.get("blocks"), meta, thread)
            self.messages.append(msg)
            return 200, {}, {"ok": True, "channel": cid, "ts": msg.ts, "message": {"text": msg.text}}
        if method == "chat.update":
            cid = self._channel_id(str(body.get("channel", "")), ids_only=True)
            found = next((m for m in self.messages if m.channel == cid and m.ts == body.get("ts")), None)
            if found is None:
                return 200, {}, {"ok": False, "error": "channel_not_found" if cid is None else "message_not_found"}
            found.edits.append({"text": body.get("text"), "blocks": body.get("blocks")})
            found.text, found.blocks = body.get("text", found.text), body.get("blocks", found.blocks)
            return 200, {}, {"ok": True, "channel": cid, "ts": found.ts}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, body)
        if method == "conversations.list":
            chans = [{"id": cid, "name": n} for cid, n in self.channels.items()]
            return 200, {}, {"ok": True, "channels": chans, "response_metadata": {"next_cursor": ""}}
        return 404, {}, {"ok": False, "error": "unknown_method"}

    def _history(self, method: str, q: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        cid = self._channel_id(str(q.get("channel", "")), ids_only=True)
        if cid is None:
            return 200, {}, {"ok": False, "error": "channel_not_found"}
        if method == "conversations.history":
            oldest = float(q.get("oldest") or 0)
            found = [m for m in self.messages if m.channel == cid and m.thread_ts is None and float(m.ts) > oldest]
            found.reverse()  # newest first, like Slack
        else:
            found = [
                m for m in self.messages if m.channel == cid and (m.ts == q.get("ts") or m.thread_ts == q.get("ts"))
            ]
            if not found:
                return 200, {}, {"ok": False, "error": "thread_not_found"}
        start = int(q.get("cursor") or 0)
        limit = int(q.get("limit") or 100)
        page = found[start : start + limit]
        with_meta = str(q.get("include_all_metadata", "")).lower() in ("1", "true")
        out = [
            {"type": "message", "ts": m.ts, "text": m.text, **({"thread_ts": m.thread_ts} if m.thread_ts else {}),
             **({"metadata": m.metadata} if with_meta and m.metadata else {})}
            for m in page
        ]  # fmt: skip
        more = start + limit < len(found)
        return 200, {}, {"ok": True, "messages": out, "has_more": more,
                         "response_metadata": {"next_cursor": str(start + limit) if more else ""}}  # fmt: skip


def _invalid_blocks(blocks: Any) -> bool:
    for block in blocks or []:
        text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
        if block.get("type") == "section" and len(text) >= 3000:
            return True
        if block.get("type") == "header" and len(text) > 150:
            return True
    return False


def _handler(server: SlackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            body: dict[str, Any] = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            if raw:
                ctype = self.headers.get("content-type", "")
                data = (
                    json.loads(raw)
                    if "json" in ctype or raw.startswith("{")
                    else {k: v[-1] for k, v in parse_qs(raw).items()}
                )
                body.update(data)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if parts.path.startswith("/api/"):
                method = parts.path.removeprefix("/api/")
            elif parts.path == server.webhook_path:
                method = "webhook"
            elif parts.path.startswith("/services/"):
                method = "unknown_webhook"
            else:
                method = "unknown"
            status, extra, answer = server.handle(method, body, headers)
            if status == DROPPED:  # taken (or not), never answered: the client sees the connection close
                self.close_connection = True
                return
            payload = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "text/plain" if isinstance(answer, str) else "application/json")
                self.send_header("content-length", str(len(payload)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = _serve

    return Handler


@contextmanager
def running(**kwargs: Any) -> Iterator[SlackServer]:
    server = SlackServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
