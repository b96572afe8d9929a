"""Pure planning of a staging cleanup: which listed tables may go, and why each other one stays.

Every guard lives here and is tested without a warehouse. A table is a candidate only if it is in
the configured staging dataset, its whole name is ``{prefix}{batch_id}_{worker_id}`` (a batch id the
pipeline makes, safe identifier characters only), its creation time is known, it existed when the
listing started, and it is strictly older than the cutoff relative to the injected ``now``. A plan
with more candidates than ``max_tables`` is refused as a whole, never truncated.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pipeline_canary.canaries.orphaned_staging_tables import StagingTable, staging_tables
from pipeline_canary.errors import ConfigError
from pipeline_canary.warehouse.base import TableInfo, TableRef

DEFAULT_MAX_TABLES = 1000
# A batch's tables live for minutes; a cutoff under an hour could race a running consolidation.
MIN_OLDER_THAN = dt.timedelta(hours=1)
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([mhd])\s*")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_]+")

# Reasons a staging-prefixed table is kept.
OTHER_DATASET = "not in the configured staging dataset"
UNSAFE_NAME = "name has characters outside letters, digits and underscores"
NO_BATCH_ID = "name is not {prefix}{batch_id}_{worker_id} with a known batch id format"
UNKNOWN_AGE = "creation time unknown"
CREATED_AFTER_LISTING = "created after the listing started"
TOO_YOUNG = "not older than the cutoff"


def parse_duration(text: str) -> dt.timedelta:
    """``24h``, ``90m``, ``7d`` (decimals allowed) as a timedelta; ConfigError otherwise."""
    match = _DURATION.fullmatch(text or "")
    if not match:
        raise ConfigError(f"invalid duration {text!r}: use a number and a unit m, h or d, like 24h, 90m or 7d")
    value = dt.timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    if value <= dt.timedelta(0):
        raise ConfigError(f"invalid duration {text!r}: must be more than zero")
    return value


def format_duration(value: dt.timedelta) -> str:
    hours = value.total_seconds() / 3600.0
    if hours >= 48 and hours % 24 == 0:
        return f"{hours / 24:g}d"
    return f"{hours:g}h" if hours >= 1 else f"{hours * 60:g}m"


@dataclass(frozen=True)
class Candidate:
    """A staging table the plan would drop, with what the sweep re-checks before dropping it."""

    table: TableRef
    created: dt.datetime
    age_hours: float
    batch_id: str
    worker_id: str | None
    rows: int | None = None
    bytes: int | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "dataset": self.table.dataset,
            "table": self.table.name,
            "created": self.created.isoformat(),
            "age_hours": round(self.age_hours, 1),
            "batch_id": self.batch_id,
            "worker_id": self.worker_id,
            "rows": self.rows,
            "bytes": self.bytes,
        }


@dataclass(frozen=True)
class Skipped:
    """A staging-prefixed table the plan keeps, and why."""

    dataset: str
    name: str
    reason: str
    age_hours: float | None = None

    def to_row(self) -> dict[str, Any]:
        age = None if self.age_hours is None else round(self.age_hours, 1)
        return {"dataset": self.dataset, "table": self.name, "age_hours": age, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    dataset: str
    prefix: str
    older_than: dt.timedelta
    now: dt.datetime
    listing_started: dt.datetime
    max_tables: int
    candidates: tuple[Candidate, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    refusal: str | None = field(default=None)

    @property
    def found(self) -> int:
        """Staging-prefixed tables seen in the listing."""
        return len(self.candidates) + len(self.skipped)

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "prefix": self.prefix,
            "older_than": format_duration(self.older_than),
            "now": self.now.isoformat(),
            "listing_started": self.listing_started.isoformat(),
            "max_tables": self.max_tables,
            "found": self.found,
            "candidates": [c.to_row() for c in self.candidates],
            "skipped": [s.to_row() for s in self.skipped],
            "refusal": self.refusal,
        }


def _aware(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")
    return value


def check_name(name: str, prefix: str) -> tuple[str | None, str | None, str | None]:
    """``(batch_id, worker_id, None)`` for a droppable staging name, else ``(None, None, reason)``."""
    from pipeline_canary.canaries.orphaned_staging_tables import parse_batch_id

    if not name.startswith(prefix) or len(name) > 1024 or not _SAFE_NAME.fullmatch(name):
        return None, None, UNSAFE_NAME
    batch, worker = parse_batch_id(name, prefix)
    if batch is None or not worker:
        return None, None, NO_BATCH_ID
    return batch, worker, None


def _judge(item: StagingTable, dataset: str, prefix: str, plan_age: dt.timedelta, started: dt.datetime) -> str | None:
    info = item.info
    if info.dataset != dataset:
        return OTHER_DATASET
    _, _, bad_name = check_name(info.name, prefix)
    if bad_name:
        return bad_name
    if info.created is None or item.age_hours is None:
        return UNKNOWN_AGE
    if info.created >= started:
        return CREATED_AFTER_LISTING
    if not item.age_hours * 3600.0 > plan_age.total_seconds():
        return TOO_YOUNG
    return None


def build_plan(
    listed: list[TableInfo],
    *,
    dataset: str,
    prefix: str,
    older_than: dt.timedelta,
    now: dt.datetime,
    listing_started: dt.datetime | None = None,
    max_tables: int = DEFAULT_MAX_TABLES,
    min_older_than: dt.timedelta = MIN_OLDER_THAN,
) -> Plan:
    """Decide, without I/O, which of ``listed`` may be dropped; ``now`` fixes every age.

    ``min_older_than`` is lowered only by read-only callers (``canary staging list``).
    """
    _aware(now, "now")
    started = _aware(listing_started, "listing_started") if listing_started else now
    # BigQuery reports creation times in whole milliseconds: a table created within the millisecond
    # the listing started in must count as created after it, so compare at that resolution.
    started = started.replace(microsecond=started.microsecond // 1000 * 1000)
    if older_than < min_older_than or older_than <= dt.timedelta(0):
        raise ConfigError(
            f"--older-than {format_duration(older_than)} is below the {format_duration(min_older_than)} "
            "minimum: tables of a running batch could be dropped"
        )
    if max_tables < 1:
        raise ConfigError(f"--max-tables must be at least 1, got {max_tables}")
    candidates: list[Candidate] = []
    skipped: list[Skipped] = []
    for item in staging_tables(listed, prefix, now):
        reason = _judge(item, dataset, prefix, older_than, started)
        if reason is not None:
            skipped.append(Skipped(item.info.dataset, item.info.name, reason, item.age_hours))
            continue
        assert item.info.created is not None and item.age_hours is not None and item.batch_id
        candidates.append(
            Candidate(
                table=TableRef(dataset=item.info.dataset, name=item.info.name),
                created=item.info.created,
                age_hours=item.age_hours,
                batch_id=item.batch_id,
                worker_id=item.worker_id,
                rows=item.info.rows,
                bytes=item.info.bytes,
            )
        )
    candidates.sort(key=lambda c: (-c.age_hours, c.table.name))
    refusal = None
    if len(candidates) > max_tables:
        refusal = (
            f"refusing to touch {len(candidates)} tables: more than --max-tables {max_tables}. "
            "Check the list, then raise --max-tables if the sweep is really meant to be this large"
        )
    return Plan(
        dataset=dataset,
        prefix=prefix,
        older_than=older_than,
        now=now,
        listing_started=started,
        max_tables=max_tables,
        candidates=tuple(candidates),
        skipped=tuple(skipped),
        refusal=refusal,
    )
