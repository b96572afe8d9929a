"""GX's Data Docs stay bounded: old validation results are pruned, the index is capped, pages render once."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import yaml

from pipeline_canary.canaries import registry
from pipeline_canary.checkpoints.gx_project import VALIDATION_RESULTS_INDEXED, VALIDATION_RESULTS_KEPT, GXProject


def test_build_docs_prunes_old_results_and_renders_only_missing_pages(tmp_path: Path) -> None:
    import pandas as pd

    project = GXProject(tmp_path / "gx")
    canary = registry.get("feature_contamination")
    settings = canary.parse_settings({})
    frame = pd.DataFrame([{"required_default_pct": 1.0}])
    project.run(project.checkpoint(canary, settings), frame, "template", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    store = tmp_path / "gx" / "uncommitted" / "validations"
    template = next(store.rglob("*.json"))
    data = json.loads(template.read_text())
    shutil.rmtree(store / canary.name / "template")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(VALIDATION_RESULTS_KEPT + 10):
        now = start + dt.timedelta(hours=i)
        data["meta"]["run_id"] = {"run_name": f"run{i:03d}", "run_time": now.isoformat()}
        folder = store / canary.name / f"run{i:03d}" / now.strftime("%Y%m%dT%H%M%S.%fZ")
        folder.mkdir(parents=True)
        (folder / template.name).write_text(json.dumps(data))

    index = project.build_docs()
    assert index is not None and Path(index).is_file()
    kept = sorted(p.relative_to(store).parts[1] for p in store.rglob("*.json"))
    newest = [f"run{i:03d}" for i in range(10, VALIDATION_RESULTS_KEPT + 10)]
    assert kept == newest
    assert sorted(p.name for p in (store / canary.name).iterdir()) == newest  # no empty folders left
    site = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations" / canary.name
    pages = sorted(p.relative_to(site).parts[0] for p in site.rglob("*.html"))
    assert pages == newest

    page = next(site.rglob("*.html"))
    page.write_text(page.read_text() + "<!-- marker -->")
    project.build_docs()
    assert page.read_text().endswith("<!-- marker -->"), "existing pages are not rendered again"

    config = yaml.safe_load((tmp_path / "gx" / "great_expectations.yml").read_text())
    limit = config["data_docs_sites"]["local_site"]["site_index_builder"]["validation_results_limit"]
    assert limit == VALIDATION_RESULTS_INDEXED


def test_every_kept_result_of_every_checkpoint_gets_its_page_beyond_the_index_limit(tmp_path: Path) -> None:
    """GX's validations section inherits the index's limit (40 over all checkpoints) unless told otherwise."""
    import pandas as pd

    project = GXProject(tmp_path / "gx")
    canaries = [registry.get("prediction_gap"), registry.get("orphaned_staging_tables")]
    runs = VALIDATION_RESULTS_INDEXED // len(canaries) + 5
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for canary in canaries:
        checkpoint = project.checkpoint(canary, canary.parse_settings({}))
        frame = pd.DataFrame([{c.metric: 0.0 for c in canary.all_checks(canary.parse_settings({}))}])
        for i in range(runs):
            project.run(checkpoint, frame, f"run{i:03d}", start + dt.timedelta(hours=i))
    project.build_docs()
    site = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations"
    for canary in canaries:
        assert len(list((site / canary.name).rglob("*.html"))) == runs, canary.name
