"""A game day on a 30-minute schedule: predictions are due by a deadline, and nothing pages before it.

The demo warehouse of 8 February 2026 holds what the pipeline wrote that day, at the coordinator's
run times (FIRST 8 AM ET, FINAL_RETRY 1 PM, LAST_CALL 4 PM); each run sees only what was written by
its own ``now``. 48 half-hourly live runs from midnight ET go through the session (history,
incidents, the outbox and the local Slack), as ``canary serve`` would run them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline_canary.alerting import list_incidents
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import Outcome, RunResult
from pipeline_canary.session import execute
from pipeline_canary.state import open_state
from pipeline_canary.state.history import history
from tests.alerting.conftest import FAST
from tests.conftest import AS_OF
from tests.servers.slack import SlackServer

NY = ZoneInfo("America/New_York")
MIDNIGHT = dt.datetime.combine(AS_OF, dt.time(0, 0), NY).astimezone(dt.UTC)
DEADLINE = dt.datetime.combine(AS_OF, dt.time(10, 0), NY).astimezone(dt.UTC)  # 15:00 UTC in February


def _config(
    make_config: Callable[..., CanaryConfig], warehouse: Path, checkpoint: str = "", **kw: bool
) -> CanaryConfig:
    """A config on ``warehouse`` (``copy=True``: a private copy) with fast alerting and ``checkpoint`` settings."""
    return make_config(warehouse, extra=f"{FAST}\n[checkpoints.prediction_gap]\n{checkpoint}\n", **kw)


def _day(config: CanaryConfig, runs: int = 48) -> list[RunResult]:
    """``runs`` live runs of prediction_gap, every 30 minutes from midnight in New York."""
    return [
        execute(config, ["prediction_gap"], now=MIDNIGHT + dt.timedelta(minutes=30 * i), lock_timeout_s=5)
        for i in range(runs)
    ]


def _incident_rows(config: CanaryConfig) -> list[tuple[str, str, str]]:
    rows = open_state(config).read().execute("SELECT checkpoint, check_name, status FROM alert_incidents").fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_a_healthy_game_day_on_a_30_minute_schedule_opens_no_incident(
    slack: SlackServer, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = _config(make_config, seeded("healthy"), copy=True)
    results = _day(config)

    assert all(r.live and r.as_of == AS_OF for r in results)
    outcomes = [r.get("prediction_gap") for r in results]
    before = [cp for r, cp in zip(results, outcomes, strict=True) if r.now < DEADLINE]
    after = [cp for r, cp in zip(results, outcomes, strict=True) if r.now >= DEADLINE]
    assert len(before) == 20 and all(cp.pending for cp in before)  # 00:00 .. 09:30: not due yet
    assert before[1].message == ("pending: predictions due by 10:00 America/New_York (15:00 UTC); checked again then")
    assert before[1].due_at == DEADLINE and not before[1].checks
    assert all(cp.outcome is Outcome.PASSED for cp in after), [cp.message for cp in after if not cp.checks]
    # 10:00 sees the 8 AM run's rows only: the 1 PM and 4 PM rewrites are not there yet
    assert after[0].metrics["rows_written_after_now"] > 0
    assert after[-1].metrics["rows_written_after_now"] == 0
    assert after[0].metrics["active_predictions"] == after[-1].metrics["active_predictions"]
    # per game: every tip is 19:00 or later, due 2 h before; until 17:00 those games are pending
    at_noon = outcomes[24]
    assert at_noon.metrics["games_pending"] == 10 and at_noon.metrics["games_due"] == 0
    assert len(at_noon.evidence["games_pending"]) == 10
    assert outcomes[-1].metrics["games_pending"] == 0 and outcomes[-1].metrics["games_due"] == 10

    assert _incident_rows(config) == [] and list_incidents(open_state(config)) == []
    assert slack.parents() == [] and slack.calls == []
    recorded = history(open_state(config), "prediction_gap", limit=100)
    assert len(recorded) == 48
    assert sum(r.outcome is Outcome.SKIPPED and r.message.startswith("pending: ") for r in recorded) == 20


def test_a_game_day_without_predictions_opens_one_incident_at_the_deadline(
    slack: SlackServer, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = _config(make_config, seeded("prediction-gap"), copy=True)
    results = _day(config)

    outcomes = {r.now: r.get("prediction_gap") for r in results}
    assert all(cp.pending for now, cp in outcomes.items() if now < DEADLINE)
    assert all(cp.outcome is Outcome.FAILED for now, cp in outcomes.items() if now >= DEADLINE)

    incidents = list_incidents(open_state(config))
    assert [(i.checkpoint, i.check, i.status, i.game_date) for i in incidents] == [
        ("prediction_gap", "no_prediction_gap", "open", AS_OF)
    ]
    assert incidents[0].opened_at == DEADLINE and incidents[0].first_failed_at == DEADLINE
    assert _incident_rows(config) == [("prediction_gap", "no_prediction_gap", "open")]  # no pending streaks
    parents = slack.parents()
    assert len(parents) == 1 and "prediction" in parents[0].text.lower()
    # edited in place while it keeps failing; reminders (every 4 h) go in its thread
    assert len(slack.replies(parents[0])) == 3
    assert len(slack.messages) == 1 + len(slack.replies(parents[0]))


def test_a_pending_run_leaves_an_open_incident_as_it_is(
    slack: SlackServer, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = _config(make_config, seeded("prediction-gap"), copy=True)
    warehouse = config.warehouse.path
    opened = execute(config, ["prediction_gap"], now=DEADLINE + dt.timedelta(minutes=30), lock_timeout_s=5)
    assert opened.get("prediction_gap").outcome is Outcome.FAILED
    state = config.state.path

    def incidents() -> list[tuple[object, ...]]:
        import sqlite3

        with sqlite3.connect(state) as conn:
            return conn.execute("SELECT * FROM alert_incidents ORDER BY id").fetchall()

    before, calls = incidents(), len(slack.calls)
    assert [row[3] for row in before] == ["open"]
    # the deadline moves to the evening (a config change): the next run is pending again
    later = _config(make_config, warehouse, checkpoint='due_by = "18:00"\nlead_hours = 0')
    pending = execute(later, ["prediction_gap"], now=DEADLINE + dt.timedelta(hours=1), lock_timeout_s=5)
    cp = pending.get("prediction_gap")
    assert cp.pending and cp.message.startswith("pending: predictions due by 18:00 America/New_York (23:00 UTC)")
    assert incidents() == before and len(slack.calls) == calls  # not resolved, not updated, nothing posted
