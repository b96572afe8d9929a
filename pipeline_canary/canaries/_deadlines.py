"""Deadlines: by when a canary's data is due, in the pipeline's timezone and in UTC.

Before its deadline a check is *pending* (a skip with the due time), never a pass or a failure: the
pipeline writes a game day's predictions in runs during that day (FIRST 8 AM ET, FINAL_RETRY 1 PM,
LAST_CALL 4 PM; pipeline facts 7), so at 00:30 the day has games and nothing predicted yet.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

_LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_local_time(value: Any) -> dt.time:
    """``"HH:MM"`` (24-hour) as a time; anything else is a ValueError saying what is expected."""
    match = _LOCAL_TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'expected a local time "HH:MM" (24-hour, e.g. "10:00"), got {value!r}')
    return dt.time(int(match.group(1)), int(match.group(2)))


def local_deadline(day: dt.date, at: dt.time, timezone: str) -> dt.datetime:
    """``at`` on ``day`` in ``timezone``, as an aware UTC datetime."""
    return dt.datetime.combine(day, at, ZoneInfo(timezone)).astimezone(dt.UTC)


def as_utc(value: Any) -> dt.datetime | None:
    """A warehouse TIMESTAMP as an aware UTC datetime (naive values are UTC); None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a timestamp, got {type(value).__name__} {value!r}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def describe(moment: dt.datetime, timezone: str, day: dt.date | None = None) -> str:
    """``"10:00 America/New_York (14:00 UTC)"``; the local date is added when it is not ``day``."""
    local = moment.astimezone(ZoneInfo(timezone))
    utc = moment.astimezone(dt.UTC)
    when = local.strftime("%H:%M") if day is None or local.date() == day else local.strftime("%Y-%m-%d %H:%M")
    return f"{when} {timezone} ({utc.strftime('%H:%M')} UTC)"


def describe_lead(lead: dt.timedelta) -> str:
    """``2 h``, ``90 min``, ``0 min``."""
    minutes = int(lead.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes and minutes % 60 == 0 else f"{minutes} min"
