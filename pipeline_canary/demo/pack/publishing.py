"""Pack tables of the demo warehouse: see pipeline_canary.demo.pack (this module: publishing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline_canary.demo.pack import Created, PackContext

SCENARIOS: dict[str, frozenset[str]] = {}


def build(ctx: PackContext) -> Created:
    return []
