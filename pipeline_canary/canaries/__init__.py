"""The canaries: one module each, registered where defined."""

from __future__ import annotations

from pipeline_canary.canaries.base import (
    Canary,
    CheckContext,
    CheckSpec,
    Observation,
    Query,
    Settings,
    register,
    registry,
)

__all__ = ["Canary", "CheckContext", "CheckSpec", "Observation", "Query", "Settings", "register", "registry"]
