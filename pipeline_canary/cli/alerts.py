"""``canary alerts``: post a test message, list open incidents and the outbox, flush the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from pipeline_canary.cli._output import print_json
from pipeline_canary.cli.exit_codes import ExitCode
from pipeline_canary.cli.run import config_option
from pipeline_canary.state.sync import state_session

EPILOG = """\b
Examples:
  canary alerts test                     post a test message to #canary-alerts
  canary alerts test --channel '#ops'
  canary alerts status --json
  canary alerts flush                    deliver whatever is still queued

\b
Slack credentials come from the environment only: CANARY_SLACK_TOKEN (bot token, preferred) or
CANARY_SLACK_WEBHOOK_URL (incoming webhook); CANARY_SLACK_CHANNEL and CANARY_SLACK_API_URL
override the [alerting] section.
"""


@click.group(epilog=EPILOG)
def alerts() -> None:
    """Slack alerting: test delivery, open incidents, the outbox."""


@alerts.command("test", epilog=EPILOG)
@config_option
@click.option("--channel", default=None, help="Channel to post to (default: [alerting] channel).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def test_message(config_path: str | None, channel: str | None, as_json: bool) -> int:
    """Post a test message through the outbox, the same path real alerts take."""
    from pipeline_canary.alerting import blocks, deliver_pending, outbox, slack_target
    from pipeline_canary.alerting.slack import SlackDelivery
    from pipeline_canary.config import load_config
    from pipeline_canary.errors import ConfigError, DeliveryError
    from pipeline_canary.state import open_state

    config = load_config(config_path)
    with state_session(config, write=True) as config:
        target = slack_target(config.alerting)
        if target.mode == "off":
            raise ConfigError(
                "Slack is off: set CANARY_SLACK_TOKEN (bot token) or CANARY_SLACK_WEBHOOK_URL, "
                "and keep [alerting] enabled"
            )
        channel = channel or target.channel
        state = open_state(config)
        if target.mode == "token":
            from slack_sdk.errors import SlackApiError

            from pipeline_canary.alerting.slack_errors import api_error, fix_for

            try:
                auth = SlackDelivery(state, target, config.alerting).client().auth_test()
            except SlackApiError as exc:
                code = api_error(exc.response) or f"HTTP {exc.response.status_code}"
                raise DeliveryError(
                    f"Slack refused the bot token (auth.test: {code}): {fix_for(code, webhook=False)}"
                ) from None
            except OSError as exc:
                raise DeliveryError(f"cannot reach the Slack API: {type(exc).__name__}") from None
            for line in _scope_warnings(auth.headers):
                click.echo(line, err=True)
        now = dt.datetime.now(dt.UTC)
        with state.transaction() as conn:
            row_id = outbox.enqueue(
                conn,
                kind="test",
                channel=channel,
                mode=target.mode,
                payload=blocks.test_message(channel, now),
                created_at=now,
            )
        deliver_pending(config, state=state)
        row = outbox.get(state, row_id)
        assert row is not None
        if as_json:
            print_json(row.to_dict())
        elif row.status == "sent":
            click.echo(f"sent a test message to {channel} ({target.mode} mode)")
        elif row.status == "sent_unconfirmed":
            click.echo(
                f"sent a test message to {channel} twice, but Slack confirmed neither: check the channel", err=True
            )
        else:
            click.echo(
                f"test message not delivered ({row.status}): {row.last_error or 'queued for the next run'}", err=True
            )
        return int(ExitCode.OK if row.status == "sent" else ExitCode.ERRORED)


@alerts.command("status", epilog=EPILOG)
@config_option
@click.option("--all", "show_all", is_flag=True, help="Include resolved incidents.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(config_path: str | None, show_all: bool, as_json: bool) -> int:
    """List open incidents and the outbox (queued and undeliverable messages)."""
    from pipeline_canary.alerting import list_incidents, outbox, refusal, slack_target
    from pipeline_canary.alerting.settings import describe_delivery
    from pipeline_canary.config import load_config
    from pipeline_canary.state import open_state

    config = load_config(config_path)
    with state_session(config, write=False) as config:
        mode = slack_target(config.alerting).mode
        delivery = describe_delivery(config.alerting)
        state = open_state(config)
        found = list_incidents(state, open_only=not show_all)
        queued = outbox.pending(state) + outbox.rows(state, status="rejected", limit=20)
        unconfirmed = outbox.unconfirmed(state, limit=20)
        refusals = refusal.current(state) if mode != "off" else []
        if as_json:
            print_json(
                {
                    "slack": mode,
                    "slack_delivery": delivery,
                    "slack_refusing": [r.to_dict() for r in refusals],
                    "incidents": [_incident(i) for i in found],
                    "outbox": {
                        "counts": outbox.counts(state),
                        "queued": [r.to_dict() for r in queued],
                        "unconfirmed": [r.to_dict() for r in unconfirmed],
                    },
                }
            )
            return int(ExitCode.OK)
        click.echo(f"Slack delivery: {delivery.replace(mode, mode.upper(), 1)}")
        _echo_refusals(refusals)
        click.echo(f"{len(found)} {'incident(s)' if show_all else 'open incident(s)'}")
        for i in found:
            since = i.first_failed_at.isoformat(timespec="minutes")
            click.echo(
                f"  [{i.status}] {i.severity:<8} {i.checkpoint}/{i.check}"
                f"{f'  game day {i.game_date}' if i.game_date else ''}  since {since}  runs {i.runs}  "
                f"latest {i.last_value}  → {i.channel}"
            )
        counts = outbox.counts(state)
        click.echo("outbox: " + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "empty"))
        for row in queued:
            click.echo(
                f"  #{row.id} {row.state} {row.kind} → {row.channel}  attempts {row.attempts}  {row.last_error or ''}"
            )
        if unconfirmed:
            click.echo(
                f"{len(unconfirmed)} message(s) not confirmed by Slack (sent; missing or repeated in the channel?):"
            )
        for row in unconfirmed:
            what = _UNCONFIRMED.get(row.state, "")
            click.echo(f"  #{row.id} {row.state} {row.kind} → {row.channel}  attempts {row.attempts}  {what}")
        return int(ExitCode.OK)


_UNCONFIRMED = {
    "sent_unconfirmed": "posted twice (the second marked as a possible repeat), neither answered: never posted again",
    "sent_possibly_twice": "the first post went unanswered; a copy marked as a possible repeat was confirmed",
}


@alerts.command("flush", epilog=EPILOG)
@config_option
def flush(config_path: str | None) -> int:
    """Deliver every queued message now (the scheduler does this on shutdown)."""
    from pipeline_canary.alerting import deliver_pending, outbox
    from pipeline_canary.config import load_config
    from pipeline_canary.state import open_state

    config = load_config(config_path)
    with state_session(config, write=True) as config:
        sent = deliver_pending(config)
        state = open_state(config)
        left = len(outbox.pending(state))
        click.echo(f"delivered {sent}; {left} still queued")
        if left:
            from pipeline_canary.alerting import refusal

            _echo_refusals(refusal.current(state), err=True)
        return int(ExitCode.OK if left == 0 else ExitCode.ERRORED)


def _echo_refusals(refusals: list[Any], *, err: bool = False) -> None:
    """The "Slack is refusing us" condition: what, since when, and the fix."""
    for r in refusals:
        click.echo(f"SLACK IS REFUSING US: {r.describe()} ({r.times} time(s), last {r.last_at:%Y-%m-%d %H:%M}); "
                   "its alerts stay queued", err=err)  # fmt: skip
        click.echo(f"  fix: {r.fix}", err=err)


def _scope_warnings(headers: object) -> list[str]:
    """Warnings about the bot token's scopes (Slack lists them in the x-oauth-scopes header)."""
    from pipeline_canary.alerting.slack import LOOKUP_SCOPES, PRIVATE_LOOKUP_SCOPES, granted_scopes, missing_scopes

    granted = granted_scopes(headers)
    if granted is None:
        return ["note: Slack did not list the bot token's scopes (no x-oauth-scopes header); cannot check them"]
    write, lookup = missing_scopes(granted)
    out = []
    if write:
        out.append(f"WARNING: the bot token lacks {', '.join(write)}: it cannot post alerts")
    if lookup:
        out.append(
            f"WARNING: the bot token lacks the read scope(s) {', '.join(lookup)}: after a failed attempt canary "
            "cannot check whether Slack already has a message and sends it again, so duplicates are possible. "
            f"Add {', '.join(LOOKUP_SCOPES)} ({', '.join(PRIVATE_LOOKUP_SCOPES)} for private channels)."
        )
    elif not all(s in granted for s in PRIVATE_LOOKUP_SCOPES):
        out.append(
            f"note: without {', '.join(PRIVATE_LOOKUP_SCOPES)} duplicate detection works in public channels only"
        )
    return out


def _incident(i: object) -> dict[str, object]:
    from dataclasses import asdict

    data = asdict(i)  # type: ignore[call-overload]
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}
