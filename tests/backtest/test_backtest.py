"""canary backtest on the demo warehouse: quiet when healthy, each incident once at its deadline, sandboxed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.backtest import run_backtest, schedule
from pipeline_canary.cli import main
from pipeline_canary.config import CanaryConfig
from tests.conftest import AS_OF, NEW_YORK, NOW
from tests.servers.monitoring import MonitoringRecorder
from tests.servers.slack import SlackServer

STEP = dt.timedelta(minutes=30)
DUE = dt.datetime.combine(AS_OF, dt.time(10, 0), NEW_YORK).astimezone(dt.UTC)  # prediction_gap due_by


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return int(exit_info.value.code or 0), out.out, out.err


def test_schedule_steps_from_local_midnight_and_stops_at_until() -> None:
    steps = schedule(AS_OF, AS_OF, STEP, "America/New_York", until=NOW)
    assert steps[0] == dt.datetime(2026, 2, 8, 5, 0, tzinfo=dt.UTC)  # 00:00 in New York
    assert steps[-1] == NOW and len(steps) == 37
    assert len(schedule(AS_OF, AS_OF, STEP, "America/New_York")) == 48


def test_a_healthy_backtest_opens_no_incident(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("healthy"))
    result = run_backtest(config, AS_OF - dt.timedelta(days=2), AS_OF, until=NOW)
    assert result.steps == 2 * 48 + 37
    assert result.incidents == [] and result.failing_steps == {}
    # carried forward between change points: far fewer canary runs than steps x checkpoints
    assert result.evaluations < result.steps * len(result.checkpoints) / 2


def test_the_incident_scenario_opens_each_incident_once_within_a_step_of_its_deadline(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("incident"))
    result = run_backtest(config, AS_OF - dt.timedelta(days=1), AS_OF, until=NOW)
    first_step = dt.datetime(2026, 2, 7, 5, 0, tzinfo=dt.UTC)
    opened = {(i.checkpoint, i.check): i for i in result.incidents}
    assert len(opened) == len(result.incidents) == 4  # each once, not again on the second day
    gap = opened["prediction_gap", "no_prediction_gap"]
    assert gap.as_of == gap.game_date == AS_OF  # Feb 7 was predicted: no gap that day
    assert DUE <= gap.opened_at < DUE + STEP  # critical: the first step at or after 10:00 ET
    # failing from the first step: critical alerts at once, warnings after two failing runs
    assert opened["schema_parity", "worker_fields_exist"].opened_at == first_step
    for key in (
        ("feature_contamination", "contamination_below_fail"),
        ("orphaned_staging_tables", "no_orphaned_tables"),
    ):
        assert opened[key].opened_at == first_step + STEP, key
    for incident in result.incidents:
        assert incident.resolved_at is None and incident.messages[0].kind == "open"
        assert incident.messages[0].text.startswith(incident.severity.upper())
        assert [m.kind for m in incident.messages[1:]] == ["reply"] * (len(incident.messages) - 1)  # reminders


def test_carrying_results_forward_finds_what_running_every_step_finds(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("incident"))
    every = dt.timedelta(hours=2)
    carried = run_backtest(config, AS_OF, AS_OF, every=every, until=NOW)
    full = run_backtest(config, AS_OF, AS_OF, every=every, until=NOW, carry=False)
    assert full.evaluations == full.steps * 4 > carried.evaluations
    assert carried.gx_validations is not None and carried.gx_validations < carried.evaluations  # verdicts reused

    def seen(result: object) -> list[tuple[object, ...]]:
        return [
            (i.checkpoint, i.check, i.opened_at, i.last_value, [(m.at, m.kind, m.text) for m in i.messages])
            for i in result.incidents  # type: ignore[attr-defined]
        ]

    assert seen(carried) == seen(full) and len(seen(full)) == 4
    assert carried.failing_steps == full.failing_steps


def test_json_shape_and_set_changes_the_outcome(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(seeded("incident"))
    args = ["backtest", "--config", str(config.source), "--from", "2026-02-08", "--to", "2026-02-08"]
    args += ["--until", NOW.isoformat(), "--every", "2h", "feature_contamination", "--json"]
    code, out, _ = cli(capsys, *args)
    report = json.loads(out)
    assert code == 1 and report["steps"] == 10 and report["checkpoints"] == ["feature_contamination"]
    assert report["series_observations"] == 0  # feature_contamination has no set-wise path: it runs per step
    [incident] = report["incidents"]
    assert {"checkpoint", "check", "as_of", "opened_at", "resolved_at", "messages"} <= set(incident)
    assert incident["check"] == "contamination_below_fail" and incident["as_of"] == "2026-02-08"
    assert incident["resolved_at"] is None and incident["messages"][0]["kind"] == "open"
    assert report["alerts_without_known_incident"] == 1
    observed = incident["last_value"]
    assert observed == pytest.approx(24.6, abs=0.05)  # the demo's 24.6% of the window's rows, to a whole row
    # what if fail_pct had been above the observed contamination: no incident (the warn line only warns)
    code, out, _ = cli(capsys, *args, "--set", "checkpoints.feature_contamination.fail_pct=30")
    report = json.loads(out)
    assert (
        code == 0
        and report["incidents"] == []
        and report["overrides"] == {"checkpoints.feature_contamination.fail_pct": "30"}
    )
    assert config.settings_for("feature_contamination").param("fail_pct") == 15  # the configuration itself is unchanged
    # a known incident day explains the alert; --page writes the timeline next to the dashboard
    code, out, err = cli(capsys, *args, "--known-incident", "2026-02-08", "--page")
    report = json.loads(out)
    assert code == 0 and report["alerts_without_known_incident"] == 0
    # time to detect: from the known incident's start (local midnight of the day, or the time given)
    [incident] = report["incidents"]
    opened = dt.datetime.fromisoformat(incident["opened_at"])
    midnight = dt.datetime.combine(AS_OF, dt.time(0), NEW_YORK)
    assert incident["time_to_detect_minutes"] == (opened - midnight).total_seconds() / 60
    first = dt.datetime.fromisoformat(incident["first_failed_at"])
    assert incident["alert_delay_minutes"] == (opened - first).total_seconds() / 60 == 120  # a warning: 2nd failing run
    _, timed, _ = cli(capsys, *args, "--known-incident", "2026-02-08T01:30")
    assert json.loads(timed)["incidents"][0]["time_to_detect_minutes"] == incident["time_to_detect_minutes"] - 90
    code, _, bad = cli(capsys, *args, "--known-incident", "2026-02-08T25:00")
    assert code == 2 and "not HH:MM" in bad
    page = config.gx.project_dir / "uncommitted" / "data_docs" / "backtest.html"
    assert f"backtest page: {page}" in err
    text = page.read_text(encoding="utf-8")
    assert "feature_contamination" in text and 'title="2026-02-08: failed ▲"' in text


def test_bad_set_keys_and_values_exit_2_with_the_configuration_messages(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(seeded("healthy"))
    base = ["backtest", "--config", str(config.source), "--from", "2026-02-08", "--to", "2026-02-08", "--set"]
    code, _, err = cli(capsys, *base, "checkpoints.feature_contamination.fail_pc=3")
    assert code == 2 and "unknown key 'checkpoints.feature_contamination.fail_pc'" in err
    assert "did you mean 'checkpoints.feature_contamination.fail_pct'" in err and "--set" in err
    code, _, err = cli(capsys, *base, "checkpoints.feature_contamination.fail_pct=200")
    assert code == 2 and "checkpoints.feature_contamination.fail_pct: must be at most 100 (got 200)" in err
    assert "CANARY_" not in err  # named as the --set that made it, not as a variable
    code, _, err = cli(capsys, *base, "checkpoints.nope.x=1")
    assert code == 2 and "unknown checkpoint 'nope'" in err
    code, _, err = cli(capsys, *base, "fail_pct")
    assert code == 2 and "KEY=VALUE" in err


def test_a_backtest_posts_nothing_writes_no_metrics_and_leaves_the_state_alone(
    slack: SlackServer,
    monitoring: MonitoringRecorder,
    seeded: Callable[[str], Path],
    make_config: Callable[..., CanaryConfig],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    extra = (
        "[alerting]\nbackoff_s = 0.01\ntimeout_s = 2\n"
        f'[metrics]\nproject = "demo"\napi_endpoint = "{monitoring.endpoint}"\ninsecure = true\n'
    )
    config = make_config(seeded("incident"), extra=extra)
    state = config.state.path
    state.write_bytes(b"")  # the configured state file: must stay exactly as it is
    before = state.stat()
    args = ["backtest", "--config", str(config.source), "--from", "2026-02-08", "--to", "2026-02-08"]
    code, out, _ = cli(capsys, *args, "--until", NOW.isoformat(), "--every", "3h")
    assert code == 1 and "prediction_gap" in out and "no_prediction_gap" in out
    assert slack.calls == [] and monitoring.requests == []
    after = state.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert not (config.gx.project_dir / "uncommitted" / "validations").exists()  # nor the configured GX project
    # the same configuration, run live, does reach both: the backtest was quiet, not misconfigured
    code, _, _ = cli(capsys, "run", "--config", str(config.source), "--now", NOW.isoformat(), "--no-docs")
    assert code == 1 and slack.parents() and monitoring.requests
