"""The GX project in gx/ is reviewed like code: it must say what the canary definitions say."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.canaries import registry
from pipeline_canary.catalogue import Catalogue
from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.expectations.suite import band_parameter, band_parameters, describe
from tests.conftest import AS_OF, NOW

REPO_GX = Path(__file__).resolve().parents[2] / "gx"


Stored = tuple[str, str, float | None, float | None, str, str]


def expected_expectations(name: str, settings: Any, catalogue: Catalogue | None = None) -> list[Stored]:
    canary = (catalogue or registry).get(name)
    out = []
    for c in canary.all_checks(settings):
        if c.baseline is None:
            out.append(("expect_canary_metric_within_threshold", c.metric, c.threshold.min, c.threshold.max))
        else:  # the learned band: suite parameters each run fills in
            low, high = ({"$PARAMETER": band_parameter(c.name, side)} for side in ("min", "max"))
            out.append(("expect_canary_metric_within_baseline", c.metric, *_sides(c, low, high)))
    return sorted((*row, c.name, describe(c)) for row, c in zip(out, canary.all_checks(settings), strict=True))


def _sides(check: Any, low: Any, high: Any) -> tuple[Any, Any]:
    sides = band_parameters(check)
    return (low if "min" in sides else None, high if "max" in sides else None)


def stored_expectations(path: Path) -> list[Stored]:
    suite = json.loads(path.read_text())
    return sorted(
        (
            e["type"],
            e["kwargs"]["column"],
            e["kwargs"].get("min_value"),
            e["kwargs"].get("max_value"),
            e["meta"]["check"],
            e.get("description", ""),
        )
        for e in suite["expectations"]
    )


def test_committed_gx_project_matches_the_canary_definitions() -> None:
    """Every canary of the repository's canary.toml (the built-ins and the NBA pack) has its suite in gx/."""
    config = load_config(REPO_GX.parent / "canary.toml", env={})
    assert len(config.catalogue.files()) >= 20, "the repository's canary.toml enables the NBA pack"
    for canary in config.catalogue.all():
        settings = config.settings_for(canary.name)
        suite = REPO_GX / "expectations" / f"{canary.name}.json"
        refresh = "run `canary demo --config canary.toml` in the repository root and commit gx/"
        assert suite.is_file(), f"{suite} missing: {refresh}"
        assert stored_expectations(suite) == expected_expectations(canary.name, settings, config.catalogue), (
            f"{suite} is out of date with {canary.source}: " + refresh
        )
        validation = json.loads((REPO_GX / "validation_definitions" / f"{canary.name}.json").read_text())
        assert validation["suite"]["name"] == canary.name
        checkpoint = json.loads((REPO_GX / "checkpoints" / f"{canary.name}.json").read_text())
        assert [v["name"] for v in checkpoint["validation_definitions"]] == [canary.name]


def test_configured_thresholds_update_the_suite(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("healthy"), extra="[checkpoints.feature_contamination]\nwarn_pct = 7\nfail_pct = 21\n")
    run_checkpoints(config, ["feature_contamination"], as_of=AS_OF, now=NOW)
    stored = stored_expectations(config.gx.project_dir / "expectations" / "feature_contamination.json")
    assert stored == expected_expectations("feature_contamination", config.settings_for("feature_contamination"))
    assert {s[3] for s in stored} == {7.0, 21.0}


def test_suites_are_rewritten_only_when_they_differ(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    import pipeline_canary.checkpoints.runner as runner

    config = make_config(seeded("healthy"))
    run_checkpoints(config, ["prediction_gap"], as_of=AS_OF, now=NOW)
    suite = config.gx.project_dir / "expectations" / "prediction_gap.json"
    # a stale file: an expectation listed twice (GX's add_or_update merges rather than replaces)
    data = json.loads(suite.read_text())
    data["expectations"].append(dict(data["expectations"][0], id=None))
    suite.write_text(json.dumps(data))
    runner._PROJECTS.clear()  # a new process
    run_checkpoints(config, ["prediction_gap"], as_of=AS_OF, now=NOW)
    defaults = config.settings_for("prediction_gap")
    assert stored_expectations(suite) == expected_expectations("prediction_gap", defaults)
    before = suite.stat().st_mtime_ns
    runner._PROJECTS.clear()
    run_checkpoints(config, ["prediction_gap"], as_of=AS_OF, now=NOW)
    assert suite.stat().st_mtime_ns == before  # unchanged definitions leave gx/ untouched


def test_a_new_project_does_not_reread_config_variables_on_every_store_access(tmp_path: Path) -> None:
    """GX's template names uncommitted/config_variables.yml; we switch it off, and the context we
    keep must not be the one opened with the template (it re-parsed that YAML 28 times a run)."""
    from great_expectations.core.config_provider import _ConfigurationVariablesConfigurationProvider

    from pipeline_canary.checkpoints.gx_project import GXProject

    project = GXProject(tmp_path / "gx")
    providers = project.context.config_provider._providers
    assert _ConfigurationVariablesConfigurationProvider not in providers
    assert project.context.variables.config_variables_file_path is None


def test_pruning_never_drops_the_run_just_stored_when_runs_share_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replays and tests inject one "now" for many runs: the newest by storage must survive."""
    import pandas as pd

    import pipeline_canary.checkpoints.gx_project as gx_project_module
    from pipeline_canary.checkpoints.gx_project import GXProject

    monkeypatch.setattr(gx_project_module, "VALIDATION_RESULTS_KEPT", 3)
    project = GXProject(tmp_path / "gx")
    canary = registry.get("orphaned_staging_tables")
    checkpoint = project.checkpoint(canary, canary.parse_settings({}))
    stored = tmp_path / "gx" / "uncommitted" / "validations"
    names = []
    for i in range(10):
        result = project.run(checkpoint, pd.DataFrame([{"orphaned_tables": float(i)}]), f"run{i:02d}", NOW)
        parts = next(iter(result.run_results)).to_tuple()
        names.append(parts[1])
        project.prune_results()
        assert stored.joinpath(*parts[:-1], f"{parts[-1]}.json").is_file(), f"run {i} pruned its own result"
    kept = sorted(p.name for p in (stored / canary.name).iterdir())
    assert kept == names[-3:]


def test_data_docs_pages_are_headed_by_check_and_name_the_data_asset(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    """GX groups a page by the column tested and took the asset's name from a batch spec without one."""
    import html
    import re

    config = make_config(seeded("prediction-gap"))
    result = run_checkpoints(config, ["prediction_gap"], as_of=AS_OF, now=NOW, build_docs=True)
    page = result.checkpoints[0].docs_path
    assert page is not None
    text = html.unescape(re.sub(r"<[^>]+>", " ", Path(page).read_text(encoding="utf-8")))
    text = re.sub(r"\s+", " ", text)
    assert "Data asset: prediction_gap_metrics" in text and "Data asset: None" not in text
    headers = r'-content-block-1-header"[^>]*>\s*<div>\s*<h5[^>]*>\s*(.*?)\s*</h5>'  # a section's title
    sections = set(re.findall(headers, Path(page).read_text(encoding="utf-8"), re.DOTALL))
    assert {"no_prediction_gap", "every_game_covered"} <= sections, sections
    assert not {"gap_detected", "games_without_predictions"} & sections
    assert "gap_detected must be at most 0, else the checkpoint fails" in text
    suite_page = config.gx.project_dir / "uncommitted/data_docs/local_site/expectations/prediction_gap.html"
    suite_text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", suite_page.read_text(encoding="utf-8"))))
    assert "no_prediction_gap" in suite_text
    assert "games_without_predictions must be at most 0, else a warning" in suite_text
    stored = json.loads(next((config.gx.project_dir / "uncommitted" / "validations").rglob("*.json")).read_text())
    columns = {r["expectation_config"]["kwargs"]["column"] for r in stored["results"]}
    assert columns == {"gap_detected", "games_without_predictions"}  # what is stored stays GX's own
