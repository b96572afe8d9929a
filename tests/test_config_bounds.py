"""Values that validated and then crashed every run are refused when the configuration loads (exit 2).

Every number has a finite range (``inf``, ``1e300``, ``max_attempts = 1e9`` raised OverflowError on
each run), booleans are real booleans, every checkpoint name is known, identifiers are whole-string.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from pipeline_canary.canaries import registry
from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.config_types import Bounded
from pipeline_canary.errors import ConfigError
from pipeline_canary.scheduler.settings import CheckpointSchedule
from pipeline_canary.warehouse.base import TableRef, validate_identifier


def canary(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CANARY_")}
    return subprocess.run(
        [sys.executable, "-c", "from pipeline_canary.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **(env or {})},
        timeout=120,
    )


def assert_usage_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "OverflowError" not in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, (fragment, proc.stderr)


# (section, key, value, the range's upper end as the message words it): the values of issue 18
OVER_RANGE = [
    ("alerting", "reminder_hours", "inf", "at most 720 hours"),
    ("alerting", "reminder_hours", "1e300", "at most 720 hours"),
    ("alerting", "timeout_s", "inf", "at most 300 s"),
    ("alerting", "timeout_s", "1e300", "at most 300 s"),
    ("alerting", "max_retry_after_s", "inf", "to 3600 s"),
    ("alerting", "max_retry_after_s", "1e300", "to 3600 s"),
    ("alerting", "max_attempts", "1e9", "from 1 to 20"),
    ("state", "retention_days", "1e6", "from 1 to 3650 days"),
    ("schedule", "interval_minutes", "inf", "at most 10080 minutes"),
    ("schedule", "misfire_grace_s", "inf", "at most 86400 s"),
    ("schedule", "lock_wait_s", "inf", "to 86400 s"),
    ("schedule", "shutdown_grace_s", "inf", "to 3600 s"),
    ("warehouse", "timeout_s", "1e300", "at most 21600 s"),
    ("warehouse", "max_concurrent_queries", "65", "from 1 to 64 queries"),
    ("metrics", "timeout_s", "inf", "at most 300 s"),
    ("schedule.checkpoints.prediction_gap", "timeout_s", "inf", "at most 86400 s"),
    ("checkpoints.orphaned_staging_tables", "max_age_hours", "1e300", "at most 175200 hours"),
]


@pytest.mark.parametrize(("section", "key", "value", "allowed"), OVER_RANGE)
def test_over_range_value_in_the_file_exits_2_naming_key_file_and_range(
    tmp_path: Path, section: str, key: str, value: str, allowed: str
) -> None:
    path = tmp_path / "canary.toml"
    path.write_text(f"[{section}]\n{key} = {value}\n")
    proc = canary("list", "--config", str(path), cwd=tmp_path)
    assert_usage_error(proc, f"{section}.{key}: must be a finite number", allowed, str(path))


@pytest.mark.parametrize(("section", "key", "value", "allowed"), OVER_RANGE)
def test_over_range_value_from_the_environment_exits_2_naming_the_variable(
    tmp_path: Path, section: str, key: str, value: str, allowed: str
) -> None:
    variable = "CANARY_" + "__".join(part.upper() for part in [*section.split("."), key])
    proc = canary("list", cwd=tmp_path, env={variable: value})
    assert_usage_error(proc, f"{section}.{key}: must be a finite number", allowed, variable)


def _numeric(annotation: Any) -> bool:
    kinds = set(typing.get_args(annotation)) - {type(None)} or {annotation}
    return bool(kinds) and kinds <= {int, float}


def _sections() -> list[tuple[str, type[BaseModel]]]:
    sections: list[tuple[str, type[BaseModel]]] = [
        (name, field.annotation)
        for name, field in CanaryConfig.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    ]
    sections.append(("schedule.checkpoints.feature_contamination", CheckpointSchedule))
    sections.append(("schedule.tiers.routine", CheckpointSchedule))
    sections += [(f"checkpoints.{c.name}", c.settings_model) for c in registry.all()]
    return sections


NUMBERS = [
    (section, key, field)
    for section, model in _sections()
    for key, field in model.model_fields.items()
    if _numeric(field.annotation)
]


def test_every_number_in_the_configuration_has_a_bounded_range() -> None:
    assert len(NUMBERS) >= 30  # alerting, metrics, schedule, warehouse, state and the canaries' settings
    unbounded = [f"{s}.{k}" for s, k, f in NUMBERS if not any(isinstance(m, Bounded) for m in f.metadata)]
    assert unbounded == [], "give these an Annotated[..., Bounded(lo, hi)] range"


# The numeric parameters of the built-in canary files (feature_contamination): [params.NAME] min and max.
FILE_NUMBERS = [
    (f"checkpoints.{c.name}", key, param)
    for c in registry.all()
    for key, param in getattr(c, "param_specs", {}).items()
    if isinstance(param.default, int | float) and not isinstance(param.default, bool)
]


def test_every_number_of_the_built_in_canary_files_has_a_bounded_range() -> None:
    assert len(FILE_NUMBERS) >= 5  # feature_contamination's warn_pct, fail_pct, window_days, ...
    unbounded = [f"{s}.{k}" for s, k, p in FILE_NUMBERS if p.min is None or p.max is None]
    assert unbounded == [], "give these [params.NAME] min and max"


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e300"])
@pytest.mark.parametrize(("section", "key", "param"), FILE_NUMBERS, ids=[f"{s}.{k}" for s, k, _ in FILE_NUMBERS])
def test_file_numbers_refuse_non_finite_and_huge_values(
    tmp_path: Path, section: str, key: str, param: Any, value: str
) -> None:
    path = tmp_path / "canary.toml"
    path.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    if isinstance(param.default, float):
        said = "must be at most" if value == "1e300" else "must be a finite number"
    else:
        said = "must be an integer"
    assert f"{section}.{key}: {said}" in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e300"])
@pytest.mark.parametrize(("section", "key"), [(s, k) for s, k, _ in NUMBERS])
def test_every_number_refuses_non_finite_and_huge_values(tmp_path: Path, section: str, key: str, value: str) -> None:
    path = tmp_path / "canary.toml"
    path.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert f"{section}.{key}: must be a finite number" in str(err.value) and str(path) in str(err.value)


def test_the_largest_allowed_values_run(tmp_path: Path, seeded: Any) -> None:
    """The upper ends are usable: a run with them (alerts recorded, history pruned) does not crash."""
    path = tmp_path / "canary.toml"
    path.write_text(
        f'[warehouse]\npath = "{seeded("prediction-gap")}"\ntimeout_s = 21600\n'
        f'[gx]\nproject_dir = "{tmp_path / "gx"}"\nbuild_docs = false\n'
        f'[state]\npath = "{tmp_path / "state.sqlite"}"\nretention_days = 3650\n'
        "[alerting]\nslack = 'off'\nreminder_hours = 720\nfailures_before_alert = 100\nerrored_before_blind = 100\n"
        "max_attempts = 20\nmax_retry_after_s = 3600\ntimeout_s = 300\nevidence_rows = 1000\n"
        "material_change_pct = 10000\n"
        "[checkpoints.orphaned_staging_tables]\nmax_age_hours = 175200\nmax_orphans = 1000000\n"
        "evidence_limit = 10000\n"
    )
    proc = canary("run", "--config", str(path), "--as-of", "2026-02-08", "--now", "2026-02-08T23:00:00Z", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # the prediction gap is caught; nothing overflowed
    assert "Traceback" not in proc.stderr and "error:" not in proc.stderr


@pytest.mark.parametrize(
    "toml",
    [
        '[checkpoints.orphaned_staging_tables]\nauto_cleanup = "yes"\n',
        "[checkpoints.prediction_gap]\ninclude_playoffs = 1\n",
        '[gx]\nbuild_docs = "false"\n',
        '[alerting]\nenabled = "no"\n',
        '[schedule]\nrun_on_start = "true"\n',
        "[schedule.checkpoints.schema_parity]\nenabled = 0\n",
    ],
)
def test_a_boolean_given_as_a_string_or_number_exits_2(tmp_path: Path, toml: str) -> None:
    path = tmp_path / "canary.toml"
    path.write_text(toml)
    assert_usage_error(canary("list", "--config", str(path), cwd=tmp_path), "must be true or false", str(path))


def test_booleans_from_the_environment_are_true_or_false_only(tmp_path: Path) -> None:
    proc = canary("list", cwd=tmp_path, env={"CANARY_SCHEDULE__RUN_ON_START": "yes"})
    assert_usage_error(proc, "schedule.run_on_start", "must be true or false", "CANARY_SCHEDULE__RUN_ON_START")
    config = load_config(env={"CANARY_GX__BUILD_DOCS": "false", "CANARY_SCHEDULE__RUN_ON_START": "TRUE"})
    assert (config.gx.build_docs, config.schedule.run_on_start) == (False, True)


@pytest.mark.parametrize("section", ["alerting.checkpoints.nope", "schedule.checkpoints.nope"])
def test_an_unknown_checkpoint_in_alerting_or_schedule_exits_2_naming_it(tmp_path: Path, section: str) -> None:
    path = tmp_path / "canary.toml"
    key = "severity = 'critical'" if section.startswith("alerting") else "timeout_s = 5"
    path.write_text(f"[{section}]\n{key}\n")
    proc = canary("list", "--config", str(path), cwd=tmp_path)
    assert_usage_error(proc, f"{section}: unknown checkpoint 'nope'", "known checkpoints: prediction_gap", str(path))


def test_a_trailing_newline_is_not_part_of_a_valid_identifier(tmp_path: Path) -> None:
    for bad in ("nba_predictions\n", "events\r\n", "ok\nDROP"):
        with pytest.raises(ConfigError):
            validate_identifier(bad, "dataset name")
    with pytest.raises(ConfigError):
        TableRef.parse("nba-props-platform\n.nba_predictions.t")
    assert validate_identifier("nba_predictions") == "nba_predictions"
    path = tmp_path / "canary.toml"
    path.write_text('[pipeline]\nstaging_dataset = "nba_predictions\\n"\n')
    assert_usage_error(canary("list", "--config", str(path), cwd=tmp_path), "invalid dataset name", str(path))
    path.write_text('[pipeline]\npredictions_table = "nba_predictions.player_prop_predictions\\n"\n')
    assert_usage_error(canary("list", "--config", str(path), cwd=tmp_path), "invalid table name", str(path))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (bytes(range(256)) * 4, "not UTF-8 text"),
        (b"a = " + b"[" * 100_000 + b"]" * 100_000, "nested deeper than 16 levels"),
        (b"a = " + b"[" * 400 + b"]" * 400, "nested deeper than 16 levels"),
        (b"x = 1\n" + b"#" * (2 * 1024 * 1024), "larger than 1024 KiB"),
    ],
    ids=["binary", "nested-100000", "nested-400", "2-MiB"],
)
def test_a_file_that_is_not_a_configuration_exits_2_quickly(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "canary.toml"
    path.write_bytes(content)
    started = time.monotonic()
    proc = canary("run", "--config", str(path), "--no-docs", cwd=tmp_path)
    assert_usage_error(proc, fragment, str(path))
    assert time.monotonic() - started < 30
