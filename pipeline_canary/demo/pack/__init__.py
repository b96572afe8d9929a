"""The tables the NBA pack reads (pipeline_canary/packs/nba), built from the core demo tables.

``seed()`` calls :func:`build` after the schedule, predictions, feature store and the neighbour
tables exist, so every pack table is derived from them: the same games, players, dates and models.
Each module owns its tables and the scenarios that break them:

* ``raw``: the raw schedule, gamebook player stats, player game summary, odds props, phase
  completions and best-bets candidates (phases 1-4);
* ``models``: the model registry, model performance and prediction accuracy (models and grading);
* ``publishing``: daily prediction signals, subset picks and definitions, best-bets picks and filter
  audit, signal health (phases 5-6).

A module exposes ``SCENARIOS`` (scenario name -> faults it switches on) and ``build(ctx)``, which
creates its tables and returns ``(dataset, table, created_at)`` for each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pipeline_canary.demo.pack import models, publishing, raw

Created = list[tuple[str, str, dt.datetime]]

_MODULES = (raw, models, publishing)
SCENARIOS: dict[str, frozenset[str]] = {k: v for m in _MODULES for k, v in m.SCENARIOS.items()}
DATASETS: tuple[str, ...] = ("nba_raw", "nba_analytics", "nba_orchestration")


@dataclass(frozen=True)
class PackContext:
    """What a pack module builds from: the open demo connection and the seed's clock and faults."""

    conn: Any
    as_of: dt.date
    now: dt.datetime
    timezone: str
    faults: frozenset[str]


def build(ctx: PackContext) -> Created:
    """Create every pack table; their (dataset, table, created_at)."""
    for dataset in DATASETS:
        ctx.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
    created: Created = []
    for module in _MODULES:
        created += module.build(ctx)
    return created
