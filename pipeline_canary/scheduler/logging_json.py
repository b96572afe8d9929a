"""JSON-lines logs that Cloud Logging parses: ``severity``, ``message``, ``time`` and extra fields.

Cloud Run turns each line written to stdout or stderr that is a JSON object into a structured entry;
``severity`` sets the entry's level and the other keys land in ``jsonPayload``. Fields passed with
``extra=`` (checkpoint, outcome, duration_s, bytes_processed, ...) are kept as they are.

No part of a Slack secret reaches a line: the handler redacts each record (message, traceback,
extras; :mod:`pipeline_canary.redaction`) and the formatter redacts the line it writes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import IO, Any

from pipeline_canary.redaction import RedactingFilter, redact

# Cloud Logging's LogSeverity names for Python's levels.
_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime"}


def severity(levelno: int) -> str:
    """The Cloud Logging severity for a Python level (custom levels round down)."""
    for level in sorted(_SEVERITY, reverse=True):
        if levelno >= level:
            return _SEVERITY[level]
    return "DEFAULT"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": severity(record.levelno),
            "message": record.getMessage(),
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "logger": record.name,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            # Error Reporting picks up a Python traceback from ``stack_trace``.
            entry["stack_trace"] = record.exc_text or self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack_trace"] = self.formatStack(record.stack_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


def configure(level: int = logging.INFO, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as JSON lines, replacing other root handlers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that log every job or request: keep their warnings, drop their chatter.
    for noisy in ("apscheduler", "great_expectations", "urllib3", "google"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return handler
