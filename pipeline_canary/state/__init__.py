"""The state store: run history, incidents, the alert outbox and the cleanup audit, in one place.

``SQLiteState`` (the embedded default) is one SQLite file; each concern keeps its tables in its own
module (``history``, and those added by alerting and staging cleanup) and registers its DDL here.
"""

from __future__ import annotations

from pipeline_canary.state.sqlite import SQLiteState, open_state

__all__ = ["SQLiteState", "open_state"]
