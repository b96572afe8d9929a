"""The one GX expectation a canary check becomes: a metric of the canary's one-row frame within a threshold.

It is GX's ``expect_column_max_to_be_between`` (the max of one row is the value, and its Data Docs
renderers come with it) narrowed to what a canary threshold is: plain numbers, never suite
parameters or dates, and never strict bounds.

Because its fields are plain values that change by assignment (or in a copy), never in place, it
can build its GX configuration once: GX rebuilds an expectation's ``configuration`` (a full
pydantic ``dict()``) about fifty times for every validation of it, which was a fifth of a checkpoint
run's time (a two-check checkpoint run went from 5.3 to 4.2 ms; the four checkpoints' GX-only time
in ``bench/checkpoints.py`` from 25 to 19.5 ms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

import great_expectations.expectations as gxe
from great_expectations.compatibility.pydantic import PrivateAttr
from great_expectations.core.suite_parameters import SuiteParameterDict
from great_expectations.render import LegacyDiagnosticRendererType
from great_expectations.render.renderer.renderer import renderer

if TYPE_CHECKING:
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration


class ExpectCanaryMetricWithinThreshold(gxe.ExpectColumnMaxToBeBetween):
    """Expect a canary metric (a column of the canary's one-row metrics frame) within its threshold."""

    # pydantic (v1, GX's) evaluates these annotations at class creation: no PEP 604 unions here.
    min_value: Optional[Union[int, float]] = None  # noqa: UP007, UP045
    max_value: Optional[Union[int, float]] = None  # noqa: UP007, UP045
    _configuration: Any = PrivateAttr(default=None)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            object.__setattr__(self, "_configuration", None)  # a changed field: build it again
        super().__setattr__(name, value)

    def _copy_and_set_values(self, *args: Any, **kwargs: Any) -> Any:  # pydantic's copy(update=...)
        copied = super()._copy_and_set_values(*args, **kwargs)
        object.__setattr__(copied, "_configuration", None)  # ``update`` bypasses __setattr__
        return copied

    def __getstate__(self) -> dict[str, Any]:  # copy.copy, deepcopy and pickle
        state: dict[str, Any] = super().__getstate__()
        private = dict(state.get("__private_attribute_values__") or {})
        private["_configuration"] = None
        state["__private_attribute_values__"] = private
        return state

    @property
    def configuration(self) -> ExpectationConfiguration:
        built = self._configuration
        if built is None:
            built = super().configuration
            object.__setattr__(self, "_configuration", built)
        return built

    @classmethod
    @renderer(renderer_type=LegacyDiagnosticRendererType.UNEXPECTED_TABLE)
    def _diagnostic_unexpected_table_renderer(
        cls, configuration: Any = None, result: Any = None, runtime_configuration: Any = None
    ) -> Any:
        """GX's unexpected-values table (none for a metric), then the canary's evidence for the check."""
        from pipeline_canary.checkpoints.evidence_docs import evidence_blocks

        base = super()._diagnostic_unexpected_table_renderer(
            configuration=configuration, result=result, runtime_configuration=runtime_configuration
        )
        return [*(base or []), *evidence_blocks(result)] or None


class ExpectCanaryMetricWithinBaseline(ExpectCanaryMetricWithinThreshold):
    """Expect a canary metric within the band its baseline learned (pipeline_canary.baselines).

    The bounds are suite parameters (``{"$PARAMETER": "CHECK_min"}``): the suite in ``gx/`` says
    which band, each run passes the band it learned. A side the baseline does not judge has none.
    """

    min_value: Optional[Union[int, float, SuiteParameterDict]] = None  # type: ignore[assignment]  # noqa: UP007, UP045
    max_value: Optional[Union[int, float, SuiteParameterDict]] = None  # type: ignore[assignment]  # noqa: UP007, UP045

    @property
    def configuration(self) -> ExpectationConfiguration:
        # Not cached: GX substitutes each run's suite parameters into the configuration it builds.
        return gxe.ExpectColumnMaxToBeBetween.configuration.fget(self)  # type: ignore[attr-defined]
