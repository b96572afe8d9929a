"""What ``/readyz`` knows beyond the scheduler: the warehouse (checked in the background) and Slack.

Pinging the warehouse inside each ``/readyz`` request made readiness as slow as the warehouse and
as the load: during a burst each request opened its own connection and waited up to 3 s, and said
503 when it did not get through in time although the warehouse was fine. Here one thread pings every
``interval_s`` (each ping bounded by ``timeout_s``) and ``/readyz`` reads the last answer. A ping
that is still hanging is not started again (no pile-up of stuck threads); the answer says so.

Slack (:func:`slack_condition`): when Slack refuses us (a rotated token, a missing scope, an unknown
channel) ``/readyz`` names it but stays 200. A restart cannot fix credentials, and a failing probe
would only have Cloud Run restart the instance or stop routing to it, in a loop, while the alerts
wait safely in the outbox; the condition is the ``degraded`` list, the log's ERROR and the
``slack_refusing`` series. It is this process's last look at the state store (no I/O here).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline_canary.alerting.settings import AlertingConfig

log = logging.getLogger(__name__)

PING_TIMEOUT_S = 3.0
PING_INTERVAL_S = 15.0


@dataclass(frozen=True)
class Answer:
    """``"ok"`` or why not, and when (``time.monotonic()``) it was found out."""

    result: str
    at: float


class WarehouseMonitor:
    """``check()`` pings now; ``start()`` keeps pinging in a thread; ``last`` is what ``/readyz`` reads."""

    def __init__(
        self, ping: Callable[[], None], *, interval_s: float = PING_INTERVAL_S, timeout_s: float = PING_TIMEOUT_S
    ) -> None:
        self._ping, self.interval_s, self.timeout_s = ping, interval_s, timeout_s
        self.last: Answer | None = None
        self._checking = threading.Lock()
        self._pending: threading.Thread | None = None
        self._pending_since = 0.0
        self._stop = threading.Event()
        self._loop: threading.Thread | None = None

    def check(self) -> Answer:
        """Ping the warehouse (at most ``timeout_s``), remember the answer and return it."""
        with self._checking:
            began = time.monotonic()
            if self._pending is not None and self._pending.is_alive():
                result = f"no answer for {began - self._pending_since:.0f}s (an earlier ping is still waiting)"
            else:
                result = self._ping_once(began)
            if result != "ok" and (self.last is None or self.last.result == "ok"):
                log.warning("the warehouse does not answer: %s", result)
            self.last = Answer(result, time.monotonic())
            return self.last

    def _ping_once(self, began: float) -> str:
        box: dict[str, str] = {}

        def work() -> None:
            try:
                self._ping()
                box["result"] = "ok"
            except Exception as exc:
                box["result"] = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=work, name="canary-readyz-ping", daemon=True)
        self._pending, self._pending_since = thread, began
        thread.start()
        thread.join(self.timeout_s)
        return box.get("result", f"no answer within {self.timeout_s:g}s")

    def start(self) -> None:
        """Check every ``interval_s`` in a daemon thread until :meth:`stop`."""
        if self._loop is None:
            self._loop = threading.Thread(target=self._run, name="canary-readyz-monitor", daemon=True)
            self._loop.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
            except Exception:  # the monitor must outlive any surprise; /readyz shows the age
                log.exception("warehouse check failed")

    def stop(self) -> None:
        self._stop.set()


def slack_condition(settings: AlertingConfig) -> tuple[str, list[str]]:
    """(``/readyz``'s word on Slack, the degraded reasons): ``off``, ``not delivered yet``, ``ok`` or ``refusing``."""
    from pipeline_canary.alerting import refusal
    from pipeline_canary.alerting.settings import slack_target
    from pipeline_canary.errors import ConfigError

    try:
        if not settings.enabled or slack_target(settings).mode == "off":
            return "off", []
    except ConfigError as exc:  # the environment changed under the service
        return "misconfigured", [f"Slack is misconfigured: {exc}"]
    found = refusal.latest()
    if found is None:
        return "not delivered yet", []
    if not found:
        return "ok", []
    return "refusing", [f"{r.describe()}; alerts stay queued. Fix: {r.fix}" for r in found]
