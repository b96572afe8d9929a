"""The canary expectation: GX's column-max check on plain-number thresholds, configuration built once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline_canary.canaries import registry
from pipeline_canary.checkpoints.gx_project import GXProject
from pipeline_canary.expectations.canary_metric import ExpectCanaryMetricWithinThreshold


def test_configuration_is_built_once_and_again_after_a_field_changes() -> None:
    expectation = ExpectCanaryMetricWithinThreshold(column="orphaned_tables", max_value=0)
    first = expectation.configuration
    assert expectation.configuration is first
    assert first.type == "expect_canary_metric_within_threshold"
    expectation.max_value = 5
    assert expectation.configuration is not first
    assert expectation.configuration.kwargs == {"column": "orphaned_tables", "max_value": 5}


def test_copies_build_their_own_configuration() -> None:
    import copy

    expectation = ExpectCanaryMetricWithinThreshold(column="orphaned_tables", max_value=0)
    cached = expectation.configuration
    updated = expectation.copy(update={"max_value": 5})  # pydantic sets fields without __setattr__
    assert updated.configuration.kwargs["max_value"] == 5
    shallow = copy.copy(expectation)
    assert shallow.configuration is not cached
    shallow.max_value = 7
    assert shallow.configuration.kwargs["max_value"] == 7
    assert expectation.configuration is cached and cached.kwargs["max_value"] == 0


def test_thresholds_are_plain_numbers() -> None:
    from great_expectations.compatibility.pydantic import ValidationError

    with pytest.raises(ValidationError):
        ExpectCanaryMetricWithinThreshold(column="x", max_value={"$PARAMETER": "upstream_max"})


@pytest.mark.parametrize(("observed", "passed"), [(0.0, True), (668.0, False)])
def test_validates_through_a_gx_checkpoint(tmp_path: Path, observed: float, passed: bool) -> None:
    import pandas as pd

    project = GXProject(tmp_path / "gx")
    canary = registry.get("orphaned_staging_tables")
    settings = canary.parse_settings({})
    when = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)
    # A run name whose suffix dateutil reads as an absurd UTC offset: GX used to parse run names as
    # dates when no run time was given, and every checkpoint of such a run failed.
    result = project.run(
        project.checkpoint(canary, settings),
        pd.DataFrame([{"orphaned_tables": observed, "unknown_age_tables": 0.0}]),
        "20260208T230000Z-4570ad4a",
        when,
    )
    identifier, validation = next(iter(result.run_results.items()))
    assert identifier.run_id.run_time == when
    assert validation.success is passed
    (check,) = [r for r in validation.results if r.expectation_config.kwargs["column"] == "orphaned_tables"]
    assert check.result["observed_value"] == observed
