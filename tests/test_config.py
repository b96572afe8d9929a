from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_canary.config import load_config
from pipeline_canary.errors import ConfigError, UnknownCheckpointError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "canary.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(env={})
    assert config.warehouse.backend == "duckdb"
    assert config.warehouse.path == tmp_path / "canary-demo" / "warehouse.duckdb"
    assert config.settings_for("feature_contamination").param("fail_pct") == 15.0


def test_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    sub = tmp_path / "conf"
    sub.mkdir()
    path = sub / "canary.toml"
    path.write_text('[warehouse]\npath = "wh.duckdb"\n[gx]\nproject_dir = "/abs/gx"\n')
    config = load_config(path, env={})
    assert config.warehouse.path == sub / "wh.duckdb"
    assert config.gx.project_dir == Path("/abs/gx")


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[warehouse]\nbakend = 'duckdb'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert "warehouse.bakend" in str(err.value)
    assert str(path) in str(err.value)


def test_bad_threshold_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[checkpoints.feature_contamination]\nwarn_pct = 20\nfail_pct = 10\n")
    with pytest.raises(ConfigError, match="warn_pct"):
        load_config(path, env={})
    path = write(tmp_path, "[checkpoints.feature_contamination]\nfail_pct = 150\n")
    with pytest.raises(ConfigError, match="fail_pct"):
        load_config(path, env={})


def test_unknown_checkpoint_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[checkpoints.prediction_gapp]\n")
    with pytest.raises(UnknownCheckpointError, match="prediction_gap"):
        load_config(path, env={})


@pytest.mark.parametrize(
    "text,fragment",
    [
        ('[pipeline]\npredictions_table = "nba; DROP TABLE x"\n', "invalid"),
        ('[pipeline]\nstaging_dataset = "nba-predictions"\n', "invalid dataset name"),
        ('[pipeline]\nstaging_prefix = "_"\n', "too broad"),
        ('[pipeline]\ntimezone = "Mars/Olympus"\n', "unknown timezone"),
        ("[warehouse]\nbackend = 'postgres'\n", "backend"),
    ],
)
def test_invalid_values(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_config(write(tmp_path, text), env={})


def test_environment_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "[checkpoints.feature_contamination]\nfail_pct = 20\n")
    env = {
        "CANARY_CHECKPOINTS__FEATURE_CONTAMINATION__FAIL_PCT": "12.5",
        "CANARY_WAREHOUSE__PATH": "/data/x.duckdb",
        "CANARY_SLACK_TOKEN": "not-an-override",
    }
    config = load_config(path, env=env)
    assert config.settings_for("feature_contamination").param("fail_pct") == 12.5
    assert config.warehouse.path == Path("/data/x.duckdb")


def test_unknown_env_override_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"warehouse\.nope.*CANARY_WAREHOUSE__NOPE"):
        load_config(write(tmp_path, ""), env={"CANARY_WAREHOUSE__NOPE": "1"})
    with pytest.raises(ConfigError, match=r"timeout_s.*from environment variable CANARY_WAREHOUSE__TIMEOUT_S"):
        load_config(write(tmp_path, ""), env={"CANARY_WAREHOUSE__TIMEOUT_S": "-3"})


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", env={})
    with pytest.raises(ConfigError, match="CANARY_CONFIG"):
        load_config(None, env={"CANARY_CONFIG": str(tmp_path / "nope.toml")})


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[warehouse\n"), env={})
