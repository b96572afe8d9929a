"""The wording of configuration errors: where the value came from, the nearest valid key, sentences, fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_canary.config import load_config
from pipeline_canary.errors import ConfigError, UnknownCheckpointError
from tests.cli.test_cli import canary

FAIL_PCT = "CANARY_CHECKPOINTS__FEATURE_CONTAMINATION__FAIL_PCT"


def error(tmp_path: Path, toml: str | None, env: dict[str, str] | None = None) -> ConfigError:
    path = None
    if toml is not None:
        path = tmp_path / "canary.toml"
        path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return info.value


def test_a_bad_value_from_the_environment_names_the_variable_not_the_file(tmp_path: Path) -> None:
    err = error(tmp_path, "[warehouse]\npath = 'wh.duckdb'\n", {FAIL_PCT: "-3"})
    assert str(err) == (
        "invalid configuration from the environment:\n"
        "  checkpoints.feature_contamination.fail_pct: must be at least 0 (got -3)"
        f" (from environment variable {FAIL_PCT})"
    )
    assert "canary.toml" not in str(err)
    assert err.fix == f"change or unset {FAIL_PCT}"


def test_a_section_rule_broken_by_a_variable_names_it(tmp_path: Path) -> None:
    err = error(tmp_path, "", {"CANARY_CHECKPOINTS__FEATURE_CONTAMINATION__WARN_PCT": "20"})
    assert str(err) == (
        "invalid configuration from the environment:\n"
        "  In [checkpoints.feature_contamination], warn_pct (20.0) must not exceed fail_pct (15.0)"
        " (from environment variable CANARY_CHECKPOINTS__FEATURE_CONTAMINATION__WARN_PCT)."
    )


def test_values_from_both_name_each_source(tmp_path: Path) -> None:
    err = error(tmp_path, "[warehouse]\npaht = 'x'\n", {"CANARY_WAREHOUSE__TIMEOUT_S": "-1"})
    text = str(err)
    assert text.startswith(f"invalid configuration in {tmp_path / 'canary.toml'} and the environment:\n")
    assert "warehouse.timeout_s: must be a finite number greater than 0 and at most 21600 s (got -1)" in text
    assert "(from environment variable CANARY_WAREHOUSE__TIMEOUT_S)" in text
    assert err.fix == (
        f"in {tmp_path / 'canary.toml'}: rename 'warehouse.paht' to 'warehouse.path'; "
        "change or unset CANARY_WAREHOUSE__TIMEOUT_S"
    )


@pytest.mark.parametrize(
    "toml,line",
    [
        ("[warehouse]\npaht = 'x'\n", "unknown key 'warehouse.paht' (did you mean 'warehouse.path'?)"),
        ("warehous = 1\n", "unknown key 'warehous' (did you mean 'warehouse'?)"),
        (
            "[checkpoints.feature_contamination]\nfail_pc = 3\n",
            "unknown key 'checkpoints.feature_contamination.fail_pc'"
            " (did you mean 'checkpoints.feature_contamination.fail_pct'?)",
        ),
        (
            "[schedule.checkpoints.prediction_gap]\nevery_minute = 5\n",
            "unknown key 'schedule.checkpoints.prediction_gap.every_minute' (did you mean",
        ),
        ("[gx]\nzzzz = 1\n", "unknown key 'gx.zzzz' (valid keys here: build_docs, project_dir)"),
    ],
)
def test_unknown_keys_suggest_the_nearest_valid_key(tmp_path: Path, toml: str, line: str) -> None:
    err = error(tmp_path, toml)
    assert str(err).startswith(f"invalid configuration in {tmp_path / 'canary.toml'}:\n  {line}")


def test_an_unknown_checkpoint_suggests_the_nearest(tmp_path: Path) -> None:
    err = error(tmp_path, "[checkpoints.prediction_gaps]\ndue_by = '10:00'\n")
    assert isinstance(err, UnknownCheckpointError)
    assert "unknown checkpoint 'prediction_gaps' (did you mean 'prediction_gap'?)" in str(err)
    from_env = error(tmp_path, "", {"CANARY_CHECKPOINTS__PREDICTION_GAPS__DUE_BY": "10:00"})
    assert str(from_env).startswith("environment variable CANARY_CHECKPOINTS__PREDICTION_GAPS__DUE_BY: unknown")
    assert from_env.fix == "unset CANARY_CHECKPOINTS__PREDICTION_GAPS__DUE_BY"


@pytest.mark.parametrize(
    "toml,line",
    [
        (
            "[checkpoints.feature_contamination]\nwarn_pct = 20\nfail_pct = 10\n",
            "  In [checkpoints.feature_contamination], warn_pct (20.0) must not exceed fail_pct (10.0).",
        ),
        (
            "[state]\nbackend = 'gcs'\n",
            '  In [state], backend "gcs" needs uri = "gs://BUCKET/PREFIX/state.sqlite" (or CANARY_STATE__URI).',
        ),
    ],
)
def test_rules_across_a_section_read_as_sentences(tmp_path: Path, toml: str, line: str) -> None:
    text = str(error(tmp_path, toml))
    assert text.splitlines()[1] == line
    assert "Value error" not in text and ".:" not in text and "(got {" not in text


def test_an_impossible_date_says_it_does_not_exist(tmp_path: Path) -> None:
    for given, said in [
        ("2026-02-30", "'2026-02-30' does not exist: February 2026 has 28 days"),
        ("2026-13-01", "'2026-13-01' does not exist: there is no month 13 (months are 01 to 12)"),
        ("8 Feb", "'8 Feb' is not a date like 2026-02-08"),
    ]:
        done = canary("run", "--as-of", given, cwd=tmp_path)
        assert done.returncode == 2 and said in done.stderr, done.stderr
    done = canary("run", "--now", "2026-04-31T10:00:00Z", cwd=tmp_path)
    assert "'2026-04-31T10:00:00Z' does not exist: April 2026 has 30 days" in done.stderr


@pytest.mark.parametrize(
    "args,env,fix",
    [
        (["--config", "missing.toml"], {}, "give --config an existing file (`canary demo` writes one:"),
        ([], {"CANARY_CONFIG": "gone.toml"}, "set CANARY_CONFIG to an existing file, or unset it"),
        ([], {FAIL_PCT: "-3"}, f"change or unset {FAIL_PCT}"),
        (["--config", "bad.toml"], {}, "in bad.toml: rename 'warehouse.paht' to 'warehouse.path'"),
    ],
)
def test_doctor_fix_lines_name_the_thing_to_do(tmp_path: Path, args: list[str], env: dict[str, str], fix: str) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "bad.toml").write_text("[warehouse]\npaht = 'x'\n", encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CANARY_")}
    done = subprocess.run(
        [sys.executable, "-c", "from pipeline_canary.cli import main; main()", "doctor", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**clean, **env},
        timeout=120,
    )
    assert done.returncode == 2
    fixes = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("fix:")]
    assert fixes and fixes[0].startswith(f"fix: {fix}"), done.stdout
    assert "named above" not in done.stdout
