"""A canary's checks as a GX expectation suite: one expectation per check.

Canaries push their aggregate SQL down to the warehouse and hand GX a one-row frame of metrics, so
each check is an ``expect_canary_metric_within_threshold`` on one metric column (GX's
``expect_column_max_to_be_between`` narrowed to plain-number thresholds: ``canary_metric.py``). The
expectation's ``severity`` is the check's level (``critical`` fails, ``warning`` warns), and its
``description`` (which GX's pages show in place of their own sentence) names the check, so the
suites written to ``gx/`` are stable and reviewable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation import Expectation

    from pipeline_canary.canaries.base import Canary, CheckSpec


def build_expectation(check: CheckSpec) -> Expectation:
    from great_expectations.expectations.metadata_types import FailureSeverity

    from pipeline_canary.expectations.canary_metric import (
        ExpectCanaryMetricWithinBaseline,
        ExpectCanaryMetricWithinThreshold,
    )

    kwargs: dict[str, Any] = {"column": check.metric}
    severity = FailureSeverity.WARNING if check.threshold.level == "warn" else FailureSeverity.CRITICAL
    if check.baseline is not None:
        for side in band_parameters(check):
            kwargs[f"{side}_value"] = {"$PARAMETER": band_parameter(check.name, side)}
        return ExpectCanaryMetricWithinBaseline(
            **kwargs,
            severity=severity,
            meta={"check": check.name, "description": check.description},
            description=describe(check),
        )
    if check.threshold.min is not None:
        kwargs["min_value"] = check.threshold.min
    if check.threshold.max is not None:
        kwargs["max_value"] = check.threshold.max
    return ExpectCanaryMetricWithinThreshold(
        **kwargs,
        severity=severity,
        meta={"check": check.name, "description": check.description},
        description=describe(check),
    )


def band_parameters(check: CheckSpec) -> tuple[str, ...]:
    """The sides ("min", "max") of a baseline check's band that are suite parameters."""
    direction = check.baseline.direction if check.baseline is not None else "both"
    return {"both": ("min", "max"), "down": ("min",), "up": ("max",)}[direction]


def band_parameter(check: str, side: str) -> str:
    """The suite parameter that carries one side of a baseline check's learned band."""
    return f"{check}_{side}"


def describe(check: CheckSpec) -> str:
    """The sentence GX's pages show for the check (in place of "maximum value must be ..."), under a
    section named after the check (``renderers.py``). GX reads it as a string template: no ``$``.
    """
    low, high = check.threshold.min, check.threshold.max
    crossing = "a warning" if check.threshold.level == "warn" else "the checkpoint fails"
    if check.baseline is not None:
        return f"{check.metric} must stay within its learned band, else {crossing} ({check.description})".replace(
            "$", ""
        )
    if low is not None and high is not None:
        bounds = f"must equal {_num(low)}" if low == high else f"must be between {_num(low)} and {_num(high)}"
    elif high is not None:
        bounds = f"must be at most {_num(high)}"
    elif low is not None:
        bounds = f"must be at least {_num(low)}"
    else:
        bounds = "is recorded, with no bound"
    return f"{check.metric} {bounds}, else {crossing} ({check.description})".replace("$", "")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def suite_meta(canary: Canary) -> dict[str, str]:
    return {"title": canary.title, "description": canary.description, "runbook": canary.runbook}


def build_expectations(canary: Canary, settings: Any) -> list[Expectation]:
    return [build_expectation(check) for check in canary.all_checks(settings)]


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
        repr(
            (
                e.expectation_type,
                sorted(e.configuration.kwargs.items()),
                sorted((e.meta or {}).items()),
                e.description,
            )
        )
        for e in expectations
    )
