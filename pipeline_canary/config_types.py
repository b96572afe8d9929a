"""Shared building blocks of every configuration section: bounded numbers and strict booleans.

Every number in the configuration is finite and within a range that the code can use (a timeout
of ``inf`` or ``1e300`` validated once and then crashed every run with ``OverflowError``)::

    timeout_s: Annotated[float, Bounded(0, 300, lo_open=True, unit="s")] = 10.0

Every boolean is a real TOML boolean: ``auto_cleanup = "yes"`` or ``= 1`` is an error, not ``true``.
Sections get both by deriving from :class:`Section` (the canaries' ``Settings`` do too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, ValidationInfo, field_validator
from pydantic_core import CoreSchema, core_schema


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Bounded:
    """``Annotated`` metadata: a finite number from ``lo`` (excluded when ``lo_open``) to ``hi``.

    The value is checked before pydantic converts it (so ``1e9`` for an integer field reports the
    range, not a conversion detail) and again after; ``None`` passes for optional fields.
    """

    lo: float
    hi: float
    lo_open: bool = False
    unit: str = ""

    def describe(self) -> str:
        """The allowed range in words: ``from 1 to 20 runs``, ``greater than 0 and at most 300 s``."""
        unit = f" {self.unit}" if self.unit else ""
        if self.lo_open:
            return f"greater than {_num(self.lo)} and at most {_num(self.hi)}{unit}"
        return f"from {_num(self.lo)} to {_num(self.hi)}{unit}"

    def check(self, value: Any) -> Any:
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            return value
        low_ok = value > self.lo if self.lo_open else value >= self.lo
        if not (math.isfinite(value) and low_ok and value <= self.hi):
            raise ValueError(f"must be a finite number {self.describe()}")
        return value

    def _validate(self, value: Any, handler: core_schema.ValidatorFunctionWrapHandler) -> Any:
        self.check(value)
        return self.check(handler(value))

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_wrap_validator_function(self._validate, handler(source))


class Section(BaseModel):
    """A configuration section: unknown keys are errors, values are frozen, booleans are strict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and field.annotation is bool and not isinstance(value, bool):
            raise ValueError(f"must be true or false (a TOML boolean, without quotes), not {value!r}")
        return value
