"""A canary's checks as a GX expectation suite: one expectation per check.

Canaries push their aggregate SQL down to the warehouse and hand GX a one-row frame of metrics, so
each check is an ``expect_column_max_to_be_between`` on one metric column (the max of one row is
the value, and this aggregate expectation costs GX a third of a per-row one). Expectation ids are
derived from the canary and check names, so the suites written to ``gx/`` are stable and reviewable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation import Expectation

    from pipeline_canary.canaries.base import Canary, CheckSpec


def build_expectation(canary_name: str, check: CheckSpec) -> Expectation:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    kwargs: dict[str, Any] = {"column": check.metric}
    if check.threshold.min is not None:
        kwargs["min_value"] = check.threshold.min
    if check.threshold.max is not None:
        kwargs["max_value"] = check.threshold.max
    return gxe.ExpectColumnMaxToBeBetween(
        **kwargs,
        severity=FailureSeverity.WARNING if check.threshold.level == "warn" else FailureSeverity.CRITICAL,
        meta={
            "canary": canary_name,
            "check": check.name,
            "level": check.threshold.level,
            "description": check.description,
        },
    )


def suite_meta(canary: Canary) -> dict[str, str]:
    return {"title": canary.title, "description": canary.description, "runbook": canary.runbook}


def build_expectations(canary: Canary, settings: Any) -> list[Expectation]:
    return [build_expectation(canary.name, check) for check in canary.checks(settings)]


def build_suite(canary: Canary, settings: Any) -> ExpectationSuite:
    """A new suite for ``canary``. Only for names not yet stored: GX treats a new suite object whose
    name is already in the store as saved, and ``add_expectation`` would then append to the stored one.
    """
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=canary.name, meta=suite_meta(canary))
    for expectation in build_expectations(canary, settings):
        suite.add_expectation(expectation)
    return suite


def signature(expectations: list[Expectation]) -> list[str]:
    """What makes two sets of expectations equal for our purposes (skips needless rewrites of gx/)."""
    return sorted(
        repr((e.expectation_type, sorted(e.configuration.kwargs.items()), sorted((e.meta or {}).items())))
        for e in expectations
    )
