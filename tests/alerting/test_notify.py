"""Which outcomes notify (``notify = "fail" | "warn"``): a warning can open a warning incident of its own.

The configuration per [alerting], checkpoint and check; the state machine without I/O; and the real
path: ``canary run`` on the demo's missing-game day through slack-sdk to the local Slack server.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline_canary.alerting import alert_sink
from pipeline_canary.alerting.incidents import Policy, evaluate
from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.cli import cli
from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import ConfigError
from pipeline_canary.results import CheckpointResult, CheckResult, Outcome, Threshold
from tests.alerting.conftest import at
from tests.conftest import AS_OF, NOW
from tests.servers.slack import SlackServer

T0 = dt.datetime(2026, 2, 8, 18, 0, tzinfo=dt.UTC)
COVERED = '[alerting.checkpoints.prediction_gap.checks.every_game_covered]\nnotify = "warn"\n'


def test_notify_is_set_per_check_then_checkpoint_then_alerting(alert_config: Callable[..., CanaryConfig]) -> None:
    config = alert_config(
        'notify = "warn"',
        extra='[alerting.checkpoints.prediction_gap]\nnotify = "fail"\n'
        '[alerting.checkpoints.prediction_gap.checks.every_game_covered]\nnotify = "warn"\n',
    )
    alerting = config.alerting
    assert alerting.notify_for("prediction_gap", "every_game_covered") == "warn"
    assert alerting.notify_for("prediction_gap", "no_prediction_gap") == "fail"
    assert alerting.notify_for("feature_contamination", "contamination_below_warn") == "warn"
    assert alert_config().alerting.notify_for("prediction_gap", "every_game_covered") == "fail"  # the default
    assert alerting.warn_checks("prediction_gap", ["no_prediction_gap", "every_game_covered"]) == {"every_game_covered"}


def test_a_baseline_check_takes_a_notify_setting(alert_config: Callable[..., CanaryConfig]) -> None:
    baseline = '[checkpoints.prediction_gap.baseline.active_predictions]\ndirection = "down"\n'
    notify = '[alerting.checkpoints.prediction_gap.checks.active_predictions_baseline]\nnotify = "warn"\n'
    config = alert_config(extra=baseline + notify)
    assert config.alerting.notify_for("prediction_gap", "active_predictions_baseline") == "warn"
    with pytest.raises(ConfigError) as err:
        alert_config(
            extra='[alerting.checkpoints.prediction_gap.checks.active_predictions_baseline]\nnotify = "warn"\n'
        )
    assert "unknown check of prediction_gap" in str(err.value)  # without the baseline there is no such check


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (
            '[alerting.checkpoints.prediction_gap.checks.every_game]\nnotify = "warn"\n',
            "alerting.checkpoints.prediction_gap.checks.every_game: unknown check of prediction_gap; "
            "its checks: no_prediction_gap, every_game_covered",
        ),
        ('[alerting.checkpoints.prediction_gap]\nnotify = "always"\n', "alerting.checkpoints.prediction_gap.notify"),
    ],
)
def test_a_wrong_notify_setting_names_the_key(
    alert_config: Callable[..., CanaryConfig], extra: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as err:
        alert_config(extra=extra)
    assert fragment in str(err.value) and "canary.toml" in str(err.value)


def warned(outcome: Outcome = Outcome.WARNED, value: float = 1.0) -> CheckpointResult:
    check = CheckResult("every_game_covered", outcome, f"games_without_predictions = {value:g}", value,
                        Threshold(max=0, level="warn"), evidence_tables=("games_without_predictions",))  # fmt: skip
    return CheckpointResult("prediction_gap", outcome, (check,))


def test_a_warning_that_notifies_is_a_warning_incident_with_its_own_lifecycle() -> None:
    policy, current, kinds = Policy(failures_before_alert=2), {}, []
    runs = [warned(), warned(), warned(), warned(value=2.0), warned(Outcome.PASSED, 0.0)]
    for i, res in enumerate(runs):
        out = evaluate(current, res, now=T0 + dt.timedelta(minutes=30 * i), policy=policy, severity="critical",
                       channel="#c", game_date=AS_OF, warn_checks={"every_game_covered"})  # fmt: skip
        kinds.append([x.kind + (f":{x.reason}" if x.reason else "") for x in out.intents])
        for incident in out.incidents:
            assert incident.severity == "warning" and incident.game_date == AS_OF  # not the checkpoint's critical
            current = {} if incident.status == "resolved" else {incident.check: incident}
    # K = 2 warned runs before it is announced, once; then edits, a reply on a material change, resolved
    assert kinds == [[], ["open"], ["update"], ["update", "reply:changed"], ["resolve"]]
    quiet = evaluate({}, warned(), now=T0, policy=policy, severity="critical", channel="#c", game_date=AS_OF)
    assert quiet.incidents == [] and quiet.intents == []  # notify = "fail": a warning opens nothing


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=False)
    return int(result.return_value or 0), result.output


def test_a_one_game_warning_reaches_slack_naming_the_game(
    slack: SlackServer,
    seeded: Callable[[str], Path],
    alert_config: Callable[..., CanaryConfig],
    tmp_path: Path,
) -> None:
    config = alert_config(extra=COVERED, warehouse=seeded("missing-game"))
    args = ["run", "prediction_gap", "--config", str(config.source), "--no-docs"]
    live = [*args, "--as-of", AS_OF.isoformat()]

    code, out = invoke(*live, "--now", NOW.isoformat(), "--json")
    assert code == 0 and slack.parents() == []  # warned: exit 0, and below K = 2 runs nothing is sent
    [game] = json.loads(out)["checkpoints"][0]["evidence"]["games_without_predictions"]["rows"]
    assert invoke(*args, "--as-of", "2026-02-07", "--now", NOW.isoformat())[0] == 0  # a replay: history only
    assert slack.parents() == []
    assert invoke(*live, "--now", (NOW + dt.timedelta(minutes=15)).isoformat())[0] == 0
    [parent] = slack.parents()
    assert parent.blocks[0]["text"]["text"].startswith("🟠 WARNING · Prediction gap: every_game_covered")
    sections = "\n".join(b["text"]["text"] for b in parent.blocks if b["type"] == "section")
    assert f"• {game['game_key']} ({game['schedule_game_id']}): 0 active predictions" in sections
    assert "*games without predictions* (1):" in sections and "warning since" in sections

    assert invoke(*live, "--now", (NOW + dt.timedelta(minutes=30)).isoformat())[0] == 0
    assert len(slack.parents()) == 1 and len(slack.parents()[0].edits) == 1  # announced once, then edited
    code, out = invoke("alerts", "status", "--config", str(config.source), "--json")
    [incident] = json.loads(out)["incidents"]
    assert (incident["check"], incident["severity"], incident["status"]) == ("every_game_covered", "warning", "open")
    assert incident["game_date"] == AS_OF.isoformat()

    healthy = run_checkpoints(config_for(tmp_path, seeded("healthy")), ["prediction_gap"], as_of=AS_OF, now=NOW)
    assert healthy.get("prediction_gap").outcome is Outcome.PASSED
    alert_sink(config, at(healthy, NOW + dt.timedelta(minutes=45)))
    [parent] = slack.parents()
    assert "RESOLVED" in parent.blocks[0]["text"]["text"]
    assert [r.text[0] for r in slack.replies(parent)] == ["✅"]


def config_for(tmp_path: Path, warehouse: Path) -> CanaryConfig:
    from pipeline_canary.config import load_config

    path = tmp_path / "healthy.toml"
    path.write_text(
        f'[warehouse]\npath = "{warehouse}"\n[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n'
        f'[state]\npath = "{tmp_path / "other.sqlite"}"\n',
        encoding="utf-8",
    )
    return load_config(path, env={})
