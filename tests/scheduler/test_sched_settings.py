"""[schedule]: defaults, precedence (checkpoint over tier over default), validation messages."""

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


def test_checkpoint_beats_tier_beats_default() -> None:
    s = ScheduleConfig.model_validate(
        {
            "timeout_s": 100,
            "tiers": {"critical": {"cron": "*/15 * * * *"}, "routine": {"interval_minutes": 60, "timeout_s": 20}},
            "checkpoints": {"schema_parity": {"interval_minutes": 5, "timeout_s": 7}, "prediction_gap": {}},
        }
    )
    assert s.for_tier("critical").cron == "*/15 * * * *" and s.for_tier("critical").timeout_s == 100
    assert (s.for_tier("routine").interval_minutes, s.for_tier("routine").timeout_s) == (60, 20)
    assert s.for_tier("nightly").interval_minutes == 30  # a tier without a section: the defaults
    parity = s.for_checkpoint("schema_parity", "critical")
    assert (parity.cron, parity.interval_minutes, parity.timeout_s) == (None, 5, 7)
    assert s.own_job("schema_parity") and s.own_job("prediction_gap") and not s.own_job("feature_contamination")
    gap = s.for_checkpoint("prediction_gap", "critical")  # an entry without a trigger: its tier's
    assert (gap.cron, gap.timeout_s) == ("*/15 * * * *", 100)
    assert s.tier_names() == ("critical", "routine")


def test_schedule_severity_is_migrated_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "canary.toml"
    path.write_text('[schedule.severity.critical]\ncron = "*/15 * * * *"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert "[schedule.severity.critical] was replaced by tiers: write [schedule.tiers.critical]" in message
    assert str(path) in message


def test_an_unknown_tier_names_where_it_is_set(tmp_path: Path) -> None:
    path = tmp_path / "canary.toml"
    path.write_text('[checkpoints.feature_contamination]\ntier = "nightly"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "checkpoints.feature_contamination.tier: unknown tier 'nightly'" in str(info.value)
    assert "known tiers: critical, routine; add [schedule.tiers.nightly]" in str(info.value)
    path.write_text(
        '[checkpoints.feature_contamination]\ntier = "nightly"\n[schedule.tiers.nightly]\ncron = "0 3 * * *"\n'
    )
    config = load_config(path, env={})
    assert config.tier_of("feature_contamination") == "nightly" and config.names_in_tier("nightly") == [
        "feature_contamination"
    ]
    assert config.tier_of("prediction_gap") == "critical" and config.tier_of("orphaned_staging_tables") == "routine"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[schedule]\ninterval_minute = 5\n", "unknown key 'schedule.interval_minute'"),
        ("[schedule.checkpoints.nope]\ninterval_minutes = 5\n", "unknown checkpoint 'nope'"),
        ("[schedule.tiers.Urgent]\ninterval_minutes = 5\n", "a tier name is lowercase"),
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
