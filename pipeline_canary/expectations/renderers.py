"""GX's Data Docs pages in the canary's words: one section per check, named as the canary names it.

GX groups a page's expectations by the column they test, so a canary's pages were headed by metric
columns (``gap_detected``) rather than by checks (``no_prediction_gap``), and its validation header
read "Data asset: None": GX takes the asset's name from the batch spec, which for a dataframe asset
does not carry it (the batch definition in the same result does). These page renderers, named in
the site's ``site_section_builders`` (``gx_project.py``), hand GX a copy of the suite or the result in
which each canary expectation's section is its check and the batch spec names its data asset. The
row under each section is the expectation's ``description`` (``suite.py``), which GX renders in
place of its own sentence. The stored suites and results are not changed.
"""

from __future__ import annotations

import copy
from typing import Any

from great_expectations.render.renderer.page_renderer import (
    ExpectationSuitePageRenderer,
    ValidationResultsPageRenderer,
)

MODULE = __name__
VALIDATIONS = "CanaryValidationResultsPageRenderer"
SUITES = "CanaryExpectationSuitePageRenderer"


def _check(meta: Any) -> str | None:
    check = (meta or {}).get("check")
    return check if isinstance(check, str) and check else None


class CanaryValidationResultsPageRenderer(ValidationResultsPageRenderer):
    """A validation page with a section per check and the data asset the canary's frame came from."""

    def render(self, validation_results: Any, suite_parameters: Any = None) -> Any:
        shown = copy.deepcopy(validation_results)
        for result in shown.results:
            config = result.expectation_config
            check = _check(config.meta) if config is not None else None
            if check is not None and "column" in config.kwargs:
                config.kwargs["column"] = check
        meta = shown.meta
        asset = (meta.get("active_batch_definition") or {}).get("data_asset_name")
        spec = meta.get("batch_spec")
        if asset and isinstance(spec, dict) and not spec.get("data_asset_name"):
            meta["batch_spec"] = {**spec, "data_asset_name": asset}
        return super().render(shown, suite_parameters)


class CanaryExpectationSuitePageRenderer(ExpectationSuitePageRenderer):
    """A suite page with a section per check."""

    def render(self, expectations: Any) -> Any:
        if isinstance(expectations, dict):  # not what the site builder passes
            return super().render(expectations)
        shown = copy.deepcopy(expectations)  # a copy belongs to no Data Context: nothing is saved
        for expectation in shown.expectations:
            check = _check(expectation.meta)
            if check is not None and getattr(expectation, "column", None) is not None:
                expectation.column = check
        return super().render(shown)


def site_section_builders() -> dict[str, Any]:
    """The part of a Data Docs site's config that selects these renderers (GX merges it with its defaults)."""
    return {
        "expectations": {"renderer": {"module_name": MODULE, "class_name": SUITES}},
        "validations": {"renderer": {"module_name": MODULE, "class_name": VALIDATIONS}},
    }
