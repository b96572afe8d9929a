"""Alerting: stateful incidents delivered to Slack through a durable outbox, and Cloud Monitoring.

After each run :func:`alert_sink` advances the incidents of every checkpoint (a pure state machine,
:mod:`.incidents`), writes the new incident states and the messages they call for to the state store
in one transaction (:mod:`.outbox`), then flushes the outbox (:mod:`.slack`). A message that cannot
be delivered now stays queued and goes out, once, on a later run or through :func:`deliver_pending`.
:func:`metrics_sink` writes the run's time series to Cloud Monitoring (:mod:`.metrics`).

This module imports no Slack or Google client: ``canary --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline_canary.alerting import blocks, incidents, outbox, refusal
from pipeline_canary.alerting.incidents import Incident, Policy, list_incidents
from pipeline_canary.alerting.settings import (
    NO_SECRETS_WARNING,
    AlertingConfig,
    MetricsConfig,
    SlackTarget,
    silently_off,
    slack_target,
)

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.results import CheckpointResult, RunResult
    from pipeline_canary.state.sqlite import SQLiteState

__all__ = [
    "AlertingConfig",
    "Incident",
    "MetricsConfig",
    "alert_sink",
    "deliver_pending",
    "enqueue_run",
    "list_incidents",
    "metrics_sink",
    "slack_refusing",
    "slack_target",
    "warn_if_slack_silently_off",
]

log = logging.getLogger(__name__)
OUTBOX_RETENTION = dt.timedelta(days=30)
DELIVERY_LOCK_WAIT_S = 60.0


def _state(config: CanaryConfig) -> SQLiteState:
    from pipeline_canary.state import open_state

    return open_state(config)


def enqueue_run(config: CanaryConfig, result: RunResult, *, state: SQLiteState | None = None) -> int:
    """Advance every checkpoint's incidents by ``result`` and queue the messages; returns how many.

    A checkpoint's result advances only the incidents about its as-of game date; date-less ones (the
    current state, ``canary_blind``) only when the run is live and the newest. A replay therefore
    never touches the live incidents, even when asked to alert.
    """
    state = state or _state(config)
    settings = config.alerting
    target = slack_target(settings)
    policy = Policy.from_config(settings)
    site_root = _site_root(config)
    queued = 0
    with state.transaction() as conn:
        for cp in result.checkpoints:
            info = blocks.CanaryInfo.lookup(cp.name, config.catalogue)
            newest = result.live and incidents.is_newest(conn, cp.name, result.now)
            transition, saved = advance(conn, config, policy, cp, result.as_of, result.now, newest=newest)
            if target.mode == "off":
                continue
            for intent in transition.intents:
                incident = saved[intent.incident.key]
                incident, n = _enqueue(
                    conn, intent.kind, intent.reason, incident, info, cp, target, settings, result, site_root
                )
                saved[incident.key] = incident
                queued += n
    return queued


def advance(
    conn: Any,
    config: CanaryConfig,
    policy: Policy,
    cp: CheckpointResult,
    as_of: dt.date,
    now: dt.datetime,
    *,
    newest: bool,
) -> tuple[incidents.Transition, dict[Any, Incident]]:
    """Advance ``cp``'s incidents (saved in ``conn``) by one result; the transition and the saved incidents.

    Only the incidents about its as-of game date move, and the date-less ones (``canary_blind``, the
    current state) only for the ``newest`` live run, which also ends earlier days' incidents. The
    live alert sink and the backtest's sandbox both advance incidents through here.
    """
    settings = config.alerting
    game_date = as_of if _about_game_day(config, cp.name) else None
    current = incidents.current_incidents(conn, cp.name, game_date) if game_date else {}
    if newest:  # date-less: canary_blind, state checks, and incidents from before game dates
        current = incidents.current_incidents(conn, cp.name, None) | current
        if game_date:
            incidents.drop_stale_pending(conn, cp.name, before=game_date)
    transition = incidents.evaluate(
        current,
        cp,
        now=now,
        policy=policy,
        severity=settings.severity_for(cp.name, _canary_severity(config, cp.name)),
        channel=settings.channel_for(cp.name),
        game_date=game_date,
        warn_checks=settings.warn_checks(cp.name, [c.name for c in cp.checks]),
    )
    transition = incidents.scope(transition, date_less=newest)
    if newest and game_date:  # the live game day moved on: earlier days' incidents end here
        ended = incidents.close_past_days(conn, cp.name, before=game_date, now=now)
        transition.incidents += ended.incidents
        transition.intents += ended.intents
    saved = {i.key: i for i in incidents.save(conn, transition.incidents, transition.dropped)}
    return transition, saved


def _enqueue(
    conn: Any,
    kind: str,
    reason: str,
    incident: Incident,
    info: blocks.CanaryInfo,
    cp: CheckpointResult,
    target: SlackTarget,
    settings: AlertingConfig,
    result: RunResult,
    site_root: Path | None = None,
) -> tuple[Incident, int]:
    link = blocks.docs_url(cp.docs_path or result.docs_index, settings.docs_base_url, site_root)
    parent_id = incident.parent_outbox_id

    def put(kind: outbox.Kind, payload: dict[str, Any], parent: int | None = None) -> int:
        return outbox.enqueue(
            conn, kind=kind, channel=incident.channel, mode=target.mode, payload=payload,
            created_at=result.now, incident_id=incident.id, parent_id=parent,
        )  # fmt: skip

    if kind in ("open", "update") and parent_id is None:
        payload = blocks.parent(incident, info, result=cp, link=link, evidence_rows=settings.evidence_rows)
        new_id = put("open", payload)
        incidents.set_parent(conn, incident.id or 0, new_id)
        return _with_parent(incident, new_id), 1
    if parent_id is None:
        return incident, 0  # a reply or resolution of an incident never posted: nothing to thread under
    standalone = target.mode == "webhook"
    count = 0
    if kind in ("reply", "resolve"):
        payload = blocks.reply(incident, info, reason, standalone=standalone)
        if not standalone:  # posted on its own if Slack never confirmed the parent (its ts is unknown)
            payload["standalone"] = blocks.reply(incident, info, reason, standalone=True)
        put("reply", payload, parent_id)
        count += 1
    if kind in ("update", "resolve") and target.mode == "token":
        payload = blocks.parent(incident, info, result=cp, link=link, evidence_rows=settings.evidence_rows)
        put("update", payload, parent_id)
        count += 1
    return incident, count


def _site_root(config: CanaryConfig) -> Path:
    """The folder ``canary docs publish`` uploads: published Data Docs links are relative to it."""
    from pipeline_canary.reports.dashboard import docs_root

    return docs_root(config)


def _with_parent(incident: Incident, outbox_id: int) -> Incident:
    from dataclasses import replace

    return replace(incident, parent_outbox_id=outbox_id)


def _canary_severity(config: CanaryConfig, name: str) -> str:
    from pipeline_canary.errors import UnknownCheckpointError

    try:
        return config.catalogue.get(name).severity
    except UnknownCheckpointError:
        return "warning"


def _about_game_day(config: CanaryConfig, name: str) -> bool:
    from pipeline_canary.errors import UnknownCheckpointError

    try:
        return config.catalogue.get(name).about_game_day
    except UnknownCheckpointError:
        return False


def deliver_pending(config: CanaryConfig, *, state: SQLiteState | None = None) -> int:
    """Flush the outbox (the scheduler calls this on shutdown); returns how many messages went out."""
    from pipeline_canary.alerting.slack import SlackDelivery
    from pipeline_canary.state.lock import LockTimeoutError, run_lock

    state = state or _state(config)
    target = slack_target(config.alerting)
    if target.mode == "off":
        return 0
    # One deliverer at a time across processes (a run, `alerts flush`, the scheduler's shutdown):
    # two passes over the same pending row could both post it.
    before_post = None
    if config.state.backend == "gcs":  # the attempt reaches the shared state before the post reaches Slack
        from pipeline_canary.state.sync import save_now

        def before_post() -> None:
            save_now(config)

    try:
        with run_lock(config.state.path.with_suffix(".outbox.lock"), timeout_s=DELIVERY_LOCK_WAIT_S):
            return SlackDelivery(state, target, config.alerting, before_post=before_post).deliver_pending()
    except LockTimeoutError:
        log.info("another process is delivering the outbox; leaving the queue to it")
        return 0


_warned_no_slack = False


def warn_if_slack_silently_off(settings: AlertingConfig) -> bool:
    """Log, once per process, that ``slack = "auto"`` found no secret; True if it warned now."""
    global _warned_no_slack
    if _warned_no_slack or not silently_off(settings):
        return False
    _warned_no_slack = True
    log.warning(NO_SECRETS_WARNING)
    return True


def alert_sink(config: CanaryConfig, result: RunResult) -> None:
    """Session sink: incidents and outbox first (durable), then delivery (best effort)."""
    if not config.alerting.enabled:
        return
    warn_if_slack_silently_off(config.alerting)
    state = _state(config)
    queued = enqueue_run(config, result, state=state)
    if queued:
        log.info("queued %d alert message(s) for run %s", queued, result.run_id)
    try:
        deliver_pending(config, state=state)
    finally:
        outbox.prune(state, result.now - OUTBOX_RETENTION)


def metrics_sink(config: CanaryConfig, result: RunResult) -> None:
    """Session sink: one batched CreateTimeSeries call, when a project is configured."""
    if not config.metrics.enabled:
        return
    from pipeline_canary.alerting.metrics import write_run_metrics

    write_run_metrics(config.metrics, result, slack_refusing=slack_refusing(config) if result.live else None)


def slack_refusing(config: CanaryConfig) -> bool | None:
    """Whether Slack refuses us now (:mod:`.refusal`); None when alerts do not go to Slack."""
    if not config.alerting.enabled or slack_target(config.alerting).mode == "off":
        return None
    return bool(refusal.current(_state(config)))
