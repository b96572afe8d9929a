"""Redaction by every part of a secret: spellings, URL path, path segments, token parts, in every logger."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from urllib.parse import quote

import pytest

from pipeline_canary.redaction import MASK, RedactingFilter, fragments, install, redact

HOOK = "https://hooks.slack.com/services/TSECRET9/BSECRET9/hookPART0secretXYZ"
BAD_HOOK = "http://127.0.0.1:9/services/TSECRET9/BSECRET9/hookPART0 sec\x07retXYZ"
TOKEN = "xoxb-9090909090-8080808080-tokenPARTsecretABC"
PARTS = ("TSECRET9", "BSECRET9", "hookPART0", "secretXYZ", "9090909090", "8080808080", "tokenPARTsecretABC")


@pytest.fixture(autouse=True)
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARY_SLACK_WEBHOOK_URL", BAD_HOOK)
    monkeypatch.setenv("CANARY_SLACK_TOKEN", TOKEN)


def clean(text: str) -> bool:
    return not any(part in text for part in (*PARTS, "retXYZ", "PART0 sec", TOKEN, HOOK))


@pytest.mark.parametrize(
    "leak",
    [
        f"URL can't contain control characters. {BAD_HOOK.split(':9')[1]!r} (found at least ' ')",
        repr(BAD_HOOK),
        json.dumps({"url": BAD_HOOK}),
        quote(BAD_HOOK, safe=""),
        "segment hookPART0 and secretXYZ and TSECRET9 alone",
        f"token {TOKEN} and its parts 9090909090 tokenPARTsecretABC",
        "another token xoxp-1234-abcd and a webhook path /services/TX/BX/whatever",
    ],
)
def test_every_spelling_and_part_is_redacted(leak: str) -> None:
    out = redact(leak, [HOOK])
    assert clean(out) and MASK in out, out
    assert "xoxp-1234" not in out and "/services/TX" not in out


def test_words_that_are_not_secret_survive() -> None:
    assert redact("the incoming webhook at hooks.slack.com answered 404 no_service") == (
        "the incoming webhook at hooks.slack.com answered 404 no_service"
    )
    assert all(len(f) >= 6 for f in fragments(BAD_HOOK))


def test_a_filter_on_the_handler_redacts_every_logger_and_the_traceback() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    install([handler])
    install([handler])  # once only
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    logger = logging.getLogger("some.library.nobody.configured")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"bad url {BAD_HOOK}")
        except ValueError:
            logger.exception("failed to send to %s", BAD_HOOK, extra={"target": HOOK})
        logger.warning("stack", stack_info=True, extra={"token": TOKEN})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    text = stream.getvalue()
    assert "ValueError" in text and "Traceback" in text and clean(text), text


def test_the_json_log_redacts_messages_tracebacks_and_extras() -> None:
    from pipeline_canary.scheduler.logging_json import configure

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    stream = io.StringIO()
    handler = configure(logging.DEBUG, stream)
    try:
        try:
            raise RuntimeError(repr(BAD_HOOK))
        except RuntimeError:
            logging.getLogger("pipeline_canary.x").exception("boom %s", TOKEN, extra={"url": BAD_HOOK})
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for old in saved[1]:
            root.addHandler(old)
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert "RuntimeError" in entry["stack_trace"] and clean(line), line


def test_a_webhook_url_that_slipped_past_validation_never_reaches_the_outbox_or_a_log(
    alert_config: Callable[..., object], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: http.client.InvalidURL quotes the path; the delivery redacts it everywhere."""
    import datetime as dt

    from pipeline_canary.alerting import outbox
    from pipeline_canary.alerting.settings import AlertingConfig, SlackTarget
    from pipeline_canary.alerting.slack import SlackDelivery
    from pipeline_canary.state import open_state

    monkeypatch.delenv("CANARY_SLACK_WEBHOOK_URL")  # only the target knows the URL
    monkeypatch.delenv("CANARY_SLACK_TOKEN")
    config = alert_config()
    state = open_state(config)  # type: ignore[arg-type]
    with state.transaction() as conn:
        outbox.enqueue(conn, kind="test", channel="#c", mode="webhook", payload={"text": "x"},
                       created_at=dt.datetime.now(dt.UTC))  # fmt: skip
    target = SlackTarget(mode="webhook", channel="#c", webhook_url=BAD_HOOK)
    settings = AlertingConfig(slack="off", max_attempts=1)
    with caplog.at_level(logging.DEBUG):
        assert SlackDelivery(state, target, settings).deliver_pending() == 0
    [row] = outbox.pending(state)
    assert "InvalidURL" in (row.last_error or "") and clean(row.last_error or "")
    assert all(clean(r.getMessage()) for r in caplog.records)
