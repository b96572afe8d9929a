"""What the HTTP endpoints report: per-checkpoint status and readiness, computed from the service."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline_canary.scheduler.service import Service

PING_TIMEOUT_S = 3.0


def status(service: Service) -> dict[str, Any]:
    """``/status``: each checkpoint's schedule, last outcome, last run and next run."""
    checkpoints = []
    for name, state in service.states.items():
        next_run = service.next_run(name)
        checkpoints.append(
            {
                "name": name,
                "severity": state.severity,
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


def readiness(service: Service, *, ping: bool = True) -> tuple[bool, dict[str, Any]]:
    """``/readyz``: scheduler running, no checkpoint silent for two intervals, warehouse reachable."""
    now = time.monotonic()
    stale = []
    for name, state in service.states.items():
        if state.running_since is not None:
            continue
        since = now - (state.last_finished_mono or service.started_mono)
        if since > 2 * state.period_s:
            stale.append({"checkpoint": name, "silent_s": round(since, 1), "limit_s": 2 * state.period_s})
    checks: dict[str, Any] = {"scheduler": service.running, "stale": stale}
    if ping:
        checks["warehouse"] = ping_warehouse(service)
    ready = bool(checks["scheduler"]) and not stale and checks.get("warehouse", "ok") == "ok"
    return ready, checks


def ping_warehouse(service: Service, timeout_s: float = PING_TIMEOUT_S) -> str:
    """``"ok"`` or the reason; a hanging backend counts as unreachable after ``timeout_s``."""
    box: dict[str, str] = {}

    def work() -> None:
        try:
            warehouse = service.connect_warehouse(service.config.warehouse)
            try:
                warehouse.ping()
            finally:
                warehouse.close()
            box["result"] = "ok"
        except Exception as exc:
            box["result"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=work, name="canary-readyz-ping", daemon=True)
    thread.start()
    thread.join(timeout_s)
    return box.get("result", f"no answer within {timeout_s:g}s")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
