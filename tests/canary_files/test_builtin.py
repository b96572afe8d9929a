"""Built-in canaries shipped as canary files (pipeline_canary/canaries/*.toml): always enabled, like the modules."""

from __future__ import annotations

from pathlib import Path

from pipeline_canary.canary_files import FileCanary, load_file


def test_built_in_canary_files_are_always_enabled() -> None:
    """feature_contamination is a canary file shipped with the package: a built-in, always in the catalogue."""
    from pipeline_canary.canaries import registry
    from pipeline_canary.catalogue import Catalogue

    canary = registry.get("feature_contamination")
    assert isinstance(canary, FileCanary) and canary.source == "built-in"
    assert canary.path == Path(__file__).resolve().parents[2] / "pipeline_canary/canaries/feature_contamination.toml"
    assert "feature_contamination" in Catalogue.load().names() and Catalogue.load().files()[0].name == canary.name
    compiled = canary.compiled()
    assert compiled.metrics == ("rows_checked", "contaminated_rows", "required_default_pct", "days")
    assert load_file(canary.path).name == "feature_contamination"
