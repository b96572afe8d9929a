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


def build_suite(canary: Canary, settings: Any) -> ExpectationSuite:
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name=canary.name,
        meta={"title": canary.title, "description": canary.description, "runbook": canary.runbook},
    )
    for check in canary.checks(settings):
        suite.add_expectation(build_expectation(canary.name, check))
    return suite


def suite_signature(suite: ExpectationSuite) -> list[str]:
    """What makes two suites equal for our purposes (used to skip needless rewrites of gx/)."""
    return sorted(
        repr((e.expectation_type, sorted(e.configuration.kwargs.items()), sorted((e.meta or {}).items())))
        for e in suite.expectations
    )
