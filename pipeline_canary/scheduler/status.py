"""What the HTTP endpoints report: per-checkpoint status and readiness, computed from the service's
state in memory (nothing here waits on a run or the warehouse)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline_canary.scheduler.service import Service


def status(service: Service) -> dict[str, Any]:
    """``/status``: each checkpoint's schedule, last outcome, last run and next run."""
    checkpoints = []
    for name, state in service.states.items():
        next_run = service.next_run(name)
        checkpoints.append(
            {
                "name": name,
                "severity": state.severity,
                "tier": state.tier,
                "job": state.job,
                "schedule": state.schedule.describe(),
                "timeout_s": state.schedule.timeout_s,
                "running": state.running_since is not None,
                "running_since": _iso(state.running_since),
                "last_outcome": state.last_outcome,
                "last_message": state.last_message,
                "last_run": _iso(state.last_run),
                "last_run_id": state.last_run_id,
                "last_duration_s": state.last_duration_s,
                "next_run": _iso(next_run),
                "runs_since_start": state.runs,
            }
        )
    return {
        "scheduler": "running" if service.running else "stopped",
        "timezone": str(service.tz),
        "uptime_s": round(time.monotonic() - service.started_mono, 1),
        "checkpoints": checkpoints,
    }


def readiness(service: Service) -> tuple[bool, dict[str, Any]]:
    """``/readyz``: scheduler running, no checkpoint silent for two intervals, warehouse reachable.

    Only state in memory: the warehouse's answer is the service's last background check
    (:class:`pipeline_canary.scheduler.health.WarehouseMonitor`), so a request never waits on it.
    Slack refusing us is reported (``slack``, ``degraded``) without failing readiness: see
    :func:`pipeline_canary.scheduler.health.slack_condition`.
    """
    from pipeline_canary.scheduler.health import slack_condition

    now = time.monotonic()
    stale = []
    for name, state in service.states.items():
        if state.running_since is not None:
            continue
        since = now - (state.last_finished_mono or service.started_mono)
        if since > 2 * state.period_s:
            stale.append({"checkpoint": name, "silent_s": round(since, 1), "limit_s": 2 * state.period_s})
    answer = service.warehouse_health.last
    checks: dict[str, Any] = {
        "scheduler": service.running,
        "stale": stale,
        "warehouse": answer.result if answer is not None else "not checked yet",
        "warehouse_checked_s_ago": round(now - answer.at, 1) if answer is not None else None,
    }
    checks["slack"], checks["degraded"] = slack_condition(service.config.alerting)
    ready = bool(checks["scheduler"]) and not stale and checks["warehouse"] == "ok"
    return ready, checks


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
