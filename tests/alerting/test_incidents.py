"""The incident state machine, without I/O: open, edit, reply, remind, resolve, flapping, blind."""

from __future__ import annotations

import datetime as dt

from pipeline_canary.alerting.incidents import BLIND, Incident, Policy, Transition, evaluate
from pipeline_canary.results import CheckpointResult, CheckResult, Outcome, Threshold

T0 = dt.datetime(2026, 2, 8, 12, 0, tzinfo=dt.UTC)
POLICY = Policy(failures_before_alert=2, errored_before_blind=3, reminder=dt.timedelta(hours=4))


def result(outcome: Outcome, value: float | None = 1.0, name: str = "prediction_gap") -> CheckpointResult:
    if outcome is Outcome.ERRORED:
        return CheckpointResult.errored(name, "warehouse unreachable")
    check = CheckResult(
        name="no_gap", outcome=outcome, message=f"gap = {value}", observed=value, threshold=Threshold(max=0)
    )
    return CheckpointResult(name=name, outcome=outcome, checks=(check,))


class Replay:
    """Feed results one run at a time, keeping the current incidents like the store does."""

    def __init__(self, severity: str = "critical", policy: Policy = POLICY) -> None:
        self.current: dict[str, Incident] = {}
        self.severity, self.policy = severity, policy
        self.kinds: list[str] = []

    def step(self, res: CheckpointResult, now: dt.datetime) -> Transition:
        out = evaluate(self.current, res, now=now, policy=self.policy, severity=self.severity, channel="#c")
        for gone in out.dropped:
            self.current.pop(gone.check)
        for incident in out.incidents:
            if incident.status == "resolved":
                self.current.pop(incident.check, None)
            else:
                self.current[incident.check] = incident
        self.kinds += [i.kind + (f":{i.reason}" if i.reason else "") for i in out.intents]
        return out


def test_critical_opens_on_first_failure_and_resolves() -> None:
    r = Replay()
    out = r.step(result(Outcome.FAILED), T0)
    assert [i.kind for i in out.intents] == ["open"]
    opened = out.incidents[0]
    assert (opened.status, opened.runs, opened.opened_at, opened.last_value) == ("open", 1, T0, 1.0)
    r.step(result(Outcome.FAILED), T0 + dt.timedelta(minutes=30))
    out = r.step(result(Outcome.PASSED, 0.0), T0 + dt.timedelta(hours=1))
    assert [i.kind for i in out.intents] == ["resolve"]
    resolved = out.incidents[0]
    assert resolved.status == "resolved" and resolved.resolved_at == T0 + dt.timedelta(hours=1)
    assert resolved.runs == 2 and resolved.first_failed_at == T0
    assert r.kinds == ["open", "update", "resolve"]


def test_warning_waits_for_k_failures_and_a_single_blip_says_nothing() -> None:
    r = Replay(severity="warning")
    assert r.step(result(Outcome.FAILED), T0).intents == []
    assert r.current["no_gap"].status == "pending"
    out = r.step(result(Outcome.PASSED, 0.0), T0 + dt.timedelta(minutes=30))
    assert out.intents == [] and [d.check for d in out.dropped] == ["no_gap"]
    r.step(result(Outcome.FAILED), T0 + dt.timedelta(hours=1))
    out = r.step(result(Outcome.FAILED), T0 + dt.timedelta(hours=1, minutes=30))
    assert [i.kind for i in out.intents] == ["open"]
    assert out.incidents[0].first_failed_at == T0 + dt.timedelta(hours=1)


def test_material_change_replies_small_change_only_edits() -> None:
    r = Replay()
    r.step(result(Outcome.FAILED, 10.0), T0)
    assert [i.kind for i in r.step(result(Outcome.FAILED, 11.0), T0 + dt.timedelta(minutes=30)).intents] == ["update"]
    out = r.step(result(Outcome.FAILED, 20.0), T0 + dt.timedelta(hours=1))
    assert [(i.kind, i.reason) for i in out.intents] == [("update", ""), ("reply", "changed")]
    assert out.incidents[0].notified_value == 20.0


def test_reminders_every_n_hours_while_failing() -> None:
    r = Replay()
    for i in range(48):
        r.step(result(Outcome.FAILED), T0 + dt.timedelta(minutes=30 * i))
    assert r.kinds.count("open") == 1
    assert r.kinds.count("update") == 47
    assert r.kinds.count("reply:reminder") == 5  # at 4, 8, 12, 16 and 20 hours of a 23.5-hour outage


def test_errored_runs_leave_check_incidents_alone_and_go_blind_after_k() -> None:
    r = Replay()
    r.step(result(Outcome.FAILED), T0)
    for i in range(1, 3):
        out = r.step(result(Outcome.ERRORED), T0 + dt.timedelta(minutes=30 * i))
        assert [i.kind for i in out.intents] == []
    out = r.step(result(Outcome.ERRORED), T0 + dt.timedelta(hours=2))
    assert [(i.kind, i.incident.check) for i in out.intents] == [("open", BLIND)]
    assert r.current["no_gap"].status == "open" and r.current["no_gap"].runs == 1
    out = r.step(result(Outcome.PASSED, 0.0), T0 + dt.timedelta(hours=3))
    assert sorted((i.kind, i.incident.check) for i in out.intents) == [("resolve", BLIND), ("resolve", "no_gap")]


def test_skipped_and_warned() -> None:
    r = Replay()
    r.step(result(Outcome.FAILED), T0)
    out = r.step(CheckpointResult.skipped("prediction_gap", "no games"), T0 + dt.timedelta(hours=1))
    assert out.intents == [] and r.current["no_gap"].status == "open"
    out = r.step(result(Outcome.WARNED, 0.5), T0 + dt.timedelta(hours=2))
    assert [i.kind for i in out.intents] == ["resolve"]


def test_null_observed_value_is_a_material_change() -> None:
    r = Replay()
    r.step(result(Outcome.FAILED, 3.0), T0)
    out = r.step(result(Outcome.FAILED, None), T0 + dt.timedelta(minutes=30))
    assert ("reply", "changed") in [(i.kind, i.reason) for i in out.intents]
