"""``[canaries] packs`` and ``exclude``: enabling the shipped packs whole or one canary at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_canary.catalogue import Catalogue
from pipeline_canary.config import load_config
from pipeline_canary.errors import ConfigError
from pipeline_canary.packs import PackSelection, available, pack_files


def _config(tmp_path: Path, canaries: str) -> Path:
    path = tmp_path / "canary.toml"
    text = f'[warehouse]\nbackend = "duckdb"\npath = "wh.duckdb"\n\n[canaries]\n{canaries}\n'
    path.write_text(text, encoding="utf-8")
    return path


def test_every_pack_file_loads_and_its_sql_compiles() -> None:
    assert "nba" in available()
    files = PackSelection.resolve(["nba"]).files
    assert files, "the nba pack ships no canary files"
    catalogue = Catalogue.load(files)
    catalogue.compile()  # sqlglot parses every statement; parameters and partition filters checked
    assert {c.name for c in catalogue.files() if c.source != "built-in"} == set(pack_files("nba"))


def test_a_whole_pack_one_canary_and_exclude(tmp_path: Path) -> None:
    whole = load_config(_config(tmp_path, 'packs = ["nba"]'), env={})
    names = {c.name for c in whole.catalogue.files() if c.source != "built-in"}
    assert names == set(pack_files("nba"))
    assert "prediction_gap" in whole.catalogue  # the built-ins stay

    one = load_config(_config(tmp_path, 'packs = ["nba.registry_blocked_enabled"]'), env={})
    assert [c.name for c in one.catalogue.files() if c.source != "built-in"] == ["registry_blocked_enabled"]

    left_out = load_config(_config(tmp_path, 'packs = ["nba"]\nexclude = ["registry_blocked_enabled"]'), env={})
    assert "registry_blocked_enabled" not in left_out.catalogue
    assert {c.name for c in left_out.catalogue.files() if c.source != "built-in"} == names - {
        "registry_blocked_enabled"
    }

    from_env = load_config(_config(tmp_path, ""), env={"CANARY_CANARIES__PACKS": "nba.registry_blocked_enabled"})
    assert [c.name for c in from_env.catalogue.files() if c.source != "built-in"] == ["registry_blocked_enabled"]


@pytest.mark.parametrize(
    ("canaries", "env", "message"),
    [
        ('packs = ["nbaa"]', {}, "canary.toml: canaries.packs: no pack named 'nbaa'; did you mean 'nba'?"),
        (
            'packs = ["nba.registry_blocked"]',
            {},
            "canaries.packs: pack 'nba' has no canary 'registry_blocked'; did you mean nba.registry_blocked_enabled?",
        ),
        ('packs = ["NBA"]', {}, "canaries.packs: 'NBA' is not a pack (\"nba\") or one canary of a pack"),
        ('exclude = ["fleet_diversity"]', {}, "canaries.exclude: no pack is enabled; remove exclude or add"),
        (
            'packs = ["nba"]\nexclude = ["fleet"]',
            {},
            "canary.toml: canaries.exclude: 'fleet' is not a canary of the packs enabled (nba); remove it from exclude",
        ),
        (
            "",
            {"CANARY_CANARIES__PACKS": "nbaa"},
            "environment variable CANARY_CANARIES__PACKS: canaries.packs: no pack named 'nbaa'",
        ),
    ],
)
def test_bad_pack_settings_say_what_to_write(tmp_path: Path, canaries: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, canaries), env=env)
    assert message in str(caught.value)


def test_the_readme_lists_every_canary_of_the_pack_with_its_tier_and_calendar() -> None:
    """README's pack table is what `canary list` says: one row per canary file, tier and calendar rule."""
    import re

    from pipeline_canary.canary_files.load import load_file

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The NBA pack") : readme.index("**Not covered yet**")]
    rows = {m[0]: (m[1], m[2]) for m in re.findall(r"^\| `(\w+)` \| (\w+) \| ([^|]+?) \|", section, re.M)}
    expected = {}
    for name, path in pack_files("nba").items():
        spec = load_file(path).spec
        rule = ", ".join(spec.calendar.run_on)
        if spec.calendar.skip_on:
            rule += f"; not on {' or '.join(spec.calendar.skip_on)}"
        expected[name] = (spec.tier, rule)
    assert rows == expected
