"""The demo's baseline-only scenarios: each is caught by its learned baseline, by no fixed threshold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.baselines.spec import check_name
from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.cli.demo import BASELINES
from pipeline_canary.config import CanaryConfig
from pipeline_canary.demo.caught import CAUGHT_BY, CAUGHT_BY_BASELINE
from pipeline_canary.packs import pack_files
from pipeline_canary.results import Outcome
from pipeline_canary.state.history import record_run
from pipeline_canary.state.sqlite import open_state
from tests.conftest import AS_OF, NOW

HISTORY_DAYS = 14  # what `canary demo` replays


def configured(make_config: Callable[..., CanaryConfig], warehouse: Path) -> CanaryConfig:
    """The demo's baselines; of the pack, the canaries they are about."""
    pack = [f'"nba.{n}"' for n in sorted(pack_files("nba")) if f"[checkpoints.{n}." in BASELINES]
    return make_config(warehouse, extra=f"[canaries]\npacks = [{', '.join(pack)}]\n" + BASELINES)


@pytest.mark.parametrize("scenario", sorted(CAUGHT_BY_BASELINE))
def test_each_baseline_scenario_is_caught_by_its_baseline_and_no_fixed_threshold(
    scenario: str, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    assert CAUGHT_BY[scenario] == ()  # no fixed threshold of the demo's configuration catches it
    expected = {cp: set() for cp, _ in CAUGHT_BY_BASELINE[scenario]}
    names = sorted(expected)
    config = configured(make_config, seeded(scenario))
    for cp, metric in CAUGHT_BY_BASELINE[scenario]:
        [baseline] = [b for m, b in config.settings_for(cp).baselines if m == metric]
        expected[cp].add(check_name(metric, baseline))
    for back in range(HISTORY_DAYS, 0, -1):  # the demo's history: a run at 18:00 of each past day
        past = run_checkpoints(config, names, as_of=AS_OF - dt.timedelta(days=back), now=NOW - dt.timedelta(days=back))
        record_run(open_state(config), past)
    run = run_checkpoints(config, names, now=NOW)
    for cp in run.checkpoints:
        flagged = {c.name for c in cp.checks if c.outcome in (Outcome.FAILED, Outcome.WARNED)}
        # its baseline flags it and no fixed check does; another baseline may too (one model of eight
        # stopping is also an eighth fewer predictions: inside the band here, outside on other data)
        fixed = {c.name for c in cp.checks if c.baseline is None and c.name in flagged}
        assert expected[cp.name] <= flagged and not fixed, {c.name: c.message for c in cp.checks}
        for check in cp.checks:
            if check.name in expected[cp.name]:
                assert check.baseline is not None and "expected " in check.message and "observed " in check.message


def test_on_the_healthy_demo_every_baseline_is_judged_and_passes(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = configured(make_config, seeded("healthy"))
    names = sorted({cp for pairs in CAUGHT_BY_BASELINE.values() for cp, _ in pairs})
    for back in range(HISTORY_DAYS, 0, -1):
        past = run_checkpoints(config, names, as_of=AS_OF - dt.timedelta(days=back), now=NOW - dt.timedelta(days=back))
        record_run(open_state(config), past)
    run = run_checkpoints(config, names, now=NOW)
    judged = [c for cp in run.checkpoints for c in cp.checks if c.baseline is not None]
    assert len(judged) == sum(len(config.settings_for(n).baselines) for n in names) == 4
    assert all(c.outcome is Outcome.PASSED for cp in run.checkpoints for c in cp.checks), [
        c.message for cp in run.checkpoints for c in cp.checks
    ]
