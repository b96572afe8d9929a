"""[schedule]: defaults, precedence (checkpoint over severity over default), validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_canary.config import load_config
from pipeline_canary.errors import ConfigError
from pipeline_canary.scheduler.settings import ScheduleConfig


def test_defaults_are_thirty_minutes_on_loopback() -> None:
    s = ScheduleConfig()
    assert s.interval_minutes == 30 and s.host == "127.0.0.1"
    resolved = s.for_checkpoint("prediction_gap", "critical")
    assert resolved.interval_minutes == 30 and resolved.cron is None and resolved.describe() == "every 30 min"


def test_checkpoint_beats_severity_beats_default() -> None:
    s = ScheduleConfig.model_validate(
        {
            "timeout_s": 100,
            "severity": {"critical": {"cron": "*/15 * * * *"}, "warning": {"interval_minutes": 60}},
            "checkpoints": {"schema_parity": {"interval_minutes": 5, "timeout_s": 7}},
        }
    )
    assert s.for_checkpoint("prediction_gap", "critical").cron == "*/15 * * * *"
    assert s.for_checkpoint("orphaned_staging_tables", "warning").interval_minutes == 60
    parity = s.for_checkpoint("schema_parity", "critical")
    assert (parity.cron, parity.interval_minutes, parity.timeout_s) == (None, 5, 7)
    assert s.for_checkpoint("prediction_gap", "critical").timeout_s == 100


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[schedule]\ninterval_minute = 5\n", "unknown key 'schedule.interval_minute'"),
        ("[schedule.checkpoints.nope]\ninterval_minutes = 5\n", "unknown checkpoint 'nope'"),
        ("[schedule.severity.urgent]\ninterval_minutes = 5\n", "unknown severity 'urgent'"),
        ('[schedule.checkpoints.prediction_gap]\ncron = "every minute"\n', "invalid cron expression"),
        ('[schedule.checkpoints.prediction_gap]\ncron = "* * * * *"\ninterval_minutes = 1\n', "not both"),
        ('[schedule]\ntimezone = "Mars/Olympus"\n', "unknown timezone"),
        ("[schedule]\ninterval_minutes = 0\n", "schedule.interval_minutes"),
    ],
)
def test_mistakes_name_the_key_and_file(tmp_path: Path, toml: str, expected: str) -> None:
    path = tmp_path / "canary.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_environment_overrides_reach_the_section(tmp_path: Path) -> None:
    config = load_config(None, env={"CANARY_SCHEDULE__PORT": "9999", "CANARY_SCHEDULE__INTERVAL_MINUTES": "15"})
    assert config.schedule.port == 9999 and config.schedule.interval_minutes == 15
