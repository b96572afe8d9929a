"""Every demo scenario is caught by exactly its checkpoints (pipeline_canary/demo/caught.py).

The demo's whole configuration runs on each scenario: the four built-ins and every canary of the
NBA pack. The ones the scenario breaks fail, every other passes or is skipped with its reason, and
nothing errors; a skip always says why.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import load_config
from pipeline_canary.demo import SCENARIOS
from pipeline_canary.demo.caught import CAUGHT_BY, WARNED_BY
from pipeline_canary.packs import pack_files
from tests.conftest import AS_OF, NOW


@pytest.fixture(scope="module")
def gx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenarios") / "gx"  # one GX project for every scenario's run


def test_the_expectations_name_every_scenario_and_only_known_checkpoints() -> None:
    assert set(CAUGHT_BY) == set(SCENARIOS)
    known = {"prediction_gap", "feature_contamination", "schema_parity", "orphaned_staging_tables", *pack_files("nba")}
    assert {n for names in (*CAUGHT_BY.values(), *WARNED_BY.values()) for n in names} <= known
    assert all(CAUGHT_BY[s] or s in ("healthy", "missing-game") for s in SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_is_caught_by_exactly_its_checkpoints(
    scenario: str, seeded: Callable[[str], Path], gx_dir: Path, tmp_path: Path
) -> None:
    config_path = tmp_path / "canary.toml"
    config_path.write_text(
        f'[warehouse]\npath = "{seeded(scenario)}"\n[gx]\nproject_dir = "{gx_dir}"\nbuild_docs = false\n'
        f'[state]\npath = "{tmp_path / "state.sqlite"}"\n[canaries]\npacks = ["nba"]\n',
        encoding="utf-8",
    )
    config = load_config(config_path, env={})
    result = run_checkpoints(config, as_of=AS_OF, now=NOW, build_docs=False)
    by_outcome: dict[str, set[str]] = {}
    for checkpoint in result.checkpoints:
        by_outcome.setdefault(checkpoint.outcome.value, set()).add(checkpoint.name)
    messages = {c.name: c.message for c in result.checkpoints}
    assert len(result.checkpoints) == 4 + len(pack_files("nba"))
    assert by_outcome.get("errored", set()) == set(), messages
    assert by_outcome.get("failed", set()) == set(CAUGHT_BY[scenario]), messages
    assert by_outcome.get("warned", set()) == set(WARNED_BY.get(scenario, ())), messages
    for name in by_outcome.get("skipped", set()):
        assert messages[name].startswith(("skipped: ", "pending: ")) and len(messages[name]) > 12, messages[name]
    for name in by_outcome.get("failed", set()):  # what broke is named, not only counted
        assert any(len(table) for table in result.get(name).evidence.values()), name
