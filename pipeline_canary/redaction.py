"""Secrets out of every output: the Slack token and webhook URL, whole or in parts.

A secret leaks in pieces as often as whole: ``http.client.InvalidURL`` quotes the URL's *path*, a
``repr`` escapes a control character inside it, JSON escapes it differently, a URL-quoted copy
turns a space into ``%20``. So a secret is redacted by every part of it: the value as given, its
escaped and quoted spellings, a URL's path and each path segment, and every run of letters and
digits of at least :data:`MIN_PART` characters (the ``T…``/``B…``/token parts of a webhook path, the
numbers and the secret of a bot token). Anything that looks like a Slack token (``xox?-…``) or a
webhook path (``/services/…``) is redacted whatever its origin.

The secrets are read from the environment (``CANARY_SLACK_TOKEN``, ``CANARY_SLACK_WEBHOOK_URL``) as
they are, malformed or not: a value that fails validation is the one most likely to end up in an
error message. :class:`RedactingFilter` goes on the handlers the CLI and the service log through
(:func:`install`); :func:`redact` cleans exception messages before they are printed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlsplit

SECRET_ENV = ("CANARY_SLACK_TOKEN", "CANARY_SLACK_WEBHOOK_URL")
MIN_PART = 6  # runs of letters and digits at least this long are redacted on their own
MASK = "[redacted]"
# Words of a webhook URL that are not secret (kept so messages still say what they are about).
_PUBLIC_WORDS = frozenset({"https", "hooks", "services", "localhost", "slack-gov"})
_PATTERNS = (
    re.compile(r"xox[a-z]-[A-Za-z0-9-]+"),  # bot, user, app, refresh and config tokens
    re.compile(r"/services/[^\s'\"<>]+"),  # an incoming webhook's path
)
_RUNS = re.compile(r"[A-Za-z0-9]+")
_cache: dict[tuple[str, ...], re.Pattern[str] | None] = {}
_cache_lock = threading.Lock()


def env_secrets(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The secret values in ``env`` (default: the process environment), unvalidated."""
    env = os.environ if env is None else env
    return tuple(v for v in (env.get(name, "") for name in SECRET_ENV) if v.strip())


def fragments(secret: str) -> set[str]:
    """Every spelling and part of ``secret`` that must never be shown."""
    out = {secret, secret.strip()}
    for value in list(out):
        out |= {
            value.encode("unicode_escape").decode("ascii"),  # repr and tracebacks
            json.dumps(value)[1:-1],  # JSON log lines
            quote(value, safe=""),
            quote(value),
        }
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            parts = None
        if parts is not None and parts.netloc:
            out |= {parts.path, parts.query, parts.netloc if "@" in parts.netloc else ""}
            out |= {segment for segment in parts.path.split("/") if len(segment) >= MIN_PART}
        out |= {run for run in _RUNS.findall(value) if len(run) >= MIN_PART and run.lower() not in _PUBLIC_WORDS}
    return {f for f in out if len(f) >= MIN_PART}  # shorter values are no secret worth hiding


def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    with _cache_lock:
        if secrets not in _cache:
            parts = set().union(*(fragments(s) for s in secrets)) if secrets else set()
            ordered = sorted((p for p in parts if p), key=len, reverse=True)  # longest first
            _cache[secrets] = re.compile("|".join(map(re.escape, ordered))) if ordered else None
            if len(_cache) > 64:  # the environment changes in tests; never grow without bound
                _cache.pop(next(iter(_cache)))
        return _cache[secrets]


def redact(text: str, secrets: Iterable[str] = (), *, env: Mapping[str, str] | None = None) -> str:
    """``text`` without any part of ``secrets`` or of the Slack secrets in the environment."""
    every = tuple(dict.fromkeys([*env_secrets(env), *(s for s in secrets if s)]))
    pattern = _pattern(every)
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for known in _PATTERNS:
        text = known.sub(MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts a record's message, exception text, stack and ``extra=`` strings in place.

    On a handler it sees every record the handler writes, whichever logger it came from.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        clean = self.clean
        message = record.getMessage()
        redacted = clean(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = clean(record.exc_text)
        if record.stack_info:
            record.stack_info = clean(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, clean(value))
        return True

    def clean(self, text: str) -> str:
        return redact(text, self.secrets)


_FORMATTER = logging.Formatter()
_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime"}


def install(handlers: Iterable[logging.Handler] | None = None) -> None:
    """Put a :class:`RedactingFilter` on ``handlers`` (default: every handler of the root logger), once."""
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
