"""Every demo scenario is caught by exactly its checkpoints (pipeline_canary/demo/caught.py).

The demo's whole configuration runs on each scenario: the four built-ins and every canary of the
NBA pack. The ones the scenario breaks fail, every other passes or is skipped with its reason, and
nothing errors; a skip always says why. The scenarios only a learned baseline catches fail nothing,
and their metric (``CAUGHT_BY_BASELINE``) moves away from the healthy demo's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import load_config
from pipeline_canary.demo import SCENARIOS
from pipeline_canary.demo.caught import CAUGHT_BY, CAUGHT_BY_BASELINE, WARNED_BY
from pipeline_canary.packs import pack_files
from tests.conftest import AS_OF, NOW


@pytest.fixture(scope="module")
def gx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenarios") / "gx"  # one GX project for every scenario's run


def test_the_expectations_name_every_scenario_and_only_known_checkpoints() -> None:
    assert set(CAUGHT_BY) == set(SCENARIOS)
    known = {"prediction_gap", "feature_contamination", "schema_parity", "orphaned_staging_tables", *pack_files("nba")}
    assert {n for names in (*CAUGHT_BY.values(), *WARNED_BY.values()) for n in names} <= known
    assert all(CAUGHT_BY[s] or s in ("healthy", "missing-game", *CAUGHT_BY_BASELINE) for s in SCENARIOS)
    assert set(CAUGHT_BY_BASELINE) <= set(SCENARIOS)
    for scenario, metrics in CAUGHT_BY_BASELINE.items():
        assert metrics and CAUGHT_BY[scenario] == () and scenario not in WARNED_BY, scenario
        assert {checkpoint for checkpoint, _ in metrics} <= known, scenario


def _config(warehouse: Path, gx_dir: Path, tmp_path: Path) -> Path:
    config_path = tmp_path / "canary.toml"
    config_path.write_text(
        f'[warehouse]\npath = "{warehouse}"\n[gx]\nproject_dir = "{gx_dir}"\nbuild_docs = false\n'
        f'[state]\npath = "{tmp_path / "state.sqlite"}"\n[canaries]\npacks = ["nba"]\n',
        encoding="utf-8",
    )
    return config_path


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_is_caught_by_exactly_its_checkpoints(
    scenario: str, seeded: Callable[[str], Path], gx_dir: Path, tmp_path: Path
) -> None:
    config = load_config(_config(seeded(scenario), gx_dir, tmp_path), env={})
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


# The as-of value of each baseline scenario's metric against the healthy demo's (same clock, same games).
MOVES: dict[tuple[str, str], tuple[float, float]] = {  # (scenario, metric) -> allowed ratio scenario/healthy
    ("predictions-drop", "active_predictions"): (0.3, 0.5),
    ("contamination-creep", "required_default_pct"): (1.5, 2.4),
    ("features-thin", "feature_rows"): (0.5, 0.7),
    ("model-stops", "models"): (7 / 8, 7 / 8),
}


@pytest.mark.parametrize("scenario", sorted(CAUGHT_BY_BASELINE))
def test_each_baseline_scenario_moves_its_metric_away_from_the_healthy_day(
    scenario: str, seeded: Callable[[str], Path], gx_dir: Path, tmp_path: Path
) -> None:
    checkpoints = sorted({checkpoint for checkpoint, _ in CAUGHT_BY_BASELINE[scenario]})
    observed = {}
    for name in ("healthy", scenario):
        (tmp_path / name).mkdir()
        config = load_config(_config(seeded(name), gx_dir, tmp_path / name), env={})
        observed[name] = run_checkpoints(config, checkpoints, as_of=AS_OF, now=NOW, build_docs=False)
    for checkpoint, metric in CAUGHT_BY_BASELINE[scenario]:
        healthy = observed["healthy"].get(checkpoint).metrics[metric]
        value = observed[scenario].get(checkpoint).metrics[metric]
        low, high = MOVES[(scenario, metric)]
        assert healthy and low <= value / healthy <= high, (checkpoint, metric, value, healthy)
        assert observed[scenario].get(checkpoint).outcome.value == "passed", observed[scenario].get(checkpoint).message


def test_the_readme_lists_every_scenario_with_what_catches_it() -> None:
    """README's Demo scenarios tables say what caught.py promises: the checkpoints, or the baseline's metric."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Demo scenarios") : readme.index("## How it works")]
    fixed: dict[str, set[str]] = {}
    baseline: dict[str, set[tuple[str, str]]] = {}
    for name, *cells in re.findall(r"^\| `([a-z-]+)` \| ([^|]+) \|(.*)\|$", section, re.M):
        pairs = re.findall(r"`(\w+)`\.`(\w+)`", cells[1])
        if pairs:
            baseline[name] = set(pairs)
        else:
            fixed[name] = set(re.findall(r"`(\w+)`", cells[1]))
    assert set(fixed) | set(baseline) == set(SCENARIOS)
    for scenario, names in fixed.items():
        assert names == set(CAUGHT_BY[scenario]) | set(WARNED_BY.get(scenario, ())), scenario
    assert baseline == {s: set(m) for s, m in CAUGHT_BY_BASELINE.items()}


def test_the_baseline_scenarios_break_only_their_metric(seeded: Callable[[str], Path]) -> None:
    """The rest of the game day stays as the healthy demo has it: the same games, players and models."""
    import datetime as dt
    import itertools

    from pipeline_canary.demo.predictions import STOPPED_MODEL
    from pipeline_canary.warehouse.duckdb_connect import connect_duckdb

    def rows(scenario: str, sql: str, *params: object) -> list[tuple[object, ...]]:
        with connect_duckdb(seeded(scenario), read_only=True) as conn:
            return list(conn.execute(sql, list(params)).fetchall())

    preds = "nba_predictions.player_prop_predictions"
    per_game = (
        f"SELECT game_id, count(*), count(DISTINCT system_id) FROM {preds} WHERE game_date = ? AND is_active GROUP BY 1"
    )
    dropped = rows("predictions-drop", per_game, AS_OF)
    assert len(dropped) == 10 and all(n == 24 and models == 8 for _, n, models in dropped), dropped
    thin = rows(
        "features-thin",
        f"SELECT count(*), count(f.player_lookup) FROM {preds} p LEFT JOIN nba_predictions.ml_feature_store_v2 f "
        "ON f.game_date = p.game_date AND f.player_lookup = p.player_lookup WHERE p.game_date = ? AND p.is_active",
        AS_OF,
    )
    assert thin == [(640, 640)]  # every prediction of the thin day was made from a feature row
    stopped = rows(
        "model-stops",
        f"SELECT game_date, count(*) FROM {preds} WHERE system_id = ? AND game_date > ? GROUP BY 1 ORDER BY 1",
        STOPPED_MODEL,
        AS_OF - dt.timedelta(days=14),
    )
    assert stopped and all(day < AS_OF and n > 0 for day, n in stopped)
    creep = rows(
        "contamination-creep",
        "SELECT game_date, avg(CAST(required_default_count > 0 AS INT)) FROM nba_predictions.ml_feature_store_v2 "
        "WHERE game_date >= ? GROUP BY 1 ORDER BY 1",
        AS_OF - dt.timedelta(days=10),
    )
    shares = [float(share) for _, share in creep]
    assert creep[-1][0] == AS_OF and 0.085 <= shares[-1] <= 0.095 and shares[0] <= 0.025
    assert all(b >= a - 0.005 for a, b in itertools.pairwise(shares)), shares
