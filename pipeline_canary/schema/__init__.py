"""Schemas as BigQuery describes them, and the one comparison used by schema_parity and the CI gate."""

from __future__ import annotations

from pipeline_canary.schema.model import Field

__all__ = ["Field"]
