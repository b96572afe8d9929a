"""The cleanup plan's guards, without a warehouse."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pipeline_canary.errors import ConfigError
from pipeline_canary.staging.plan import (
    CREATED_AFTER_LISTING,
    NO_BATCH_ID,
    OTHER_DATASET,
    TOO_YOUNG,
    UNKNOWN_AGE,
    UNSAFE_NAME,
    Plan,
    build_plan,
    check_name,
    format_duration,
    parse_duration,
)
from pipeline_canary.warehouse.base import TableInfo

NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(hours=24)
ORPHAN = "_staging_batch_2026_02_01_1738400000_prediction_worker_00123_abc_1a2b3c4d"


def info(name: str, age: dt.timedelta | None, dataset: str = "nba_predictions") -> TableInfo:
    return TableInfo(dataset=dataset, name=name, created=None if age is None else NOW - age, rows=3)


def plan(*tables: TableInfo, **kw: Any) -> Plan:
    args: dict[str, Any] = {"dataset": "nba_predictions", "prefix": "_staging_", "older_than": DAY, "now": NOW}
    args.update(kw)
    return build_plan(list(tables), **args)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", dt.timedelta(hours=24)),
        ("90m", dt.timedelta(minutes=90)),
        ("7d", dt.timedelta(days=7)),
        ("1.5h", dt.timedelta(minutes=90)),
        (" 2d ", dt.timedelta(days=2)),
    ],
)
def test_parse_duration(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "-1h", "0h", "24 hours", "1w", "1e3h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(parse_duration(t)) for t in ("24h", "90m", "7d", "30m")] == ["24h", "1.5h", "7d", "30m"]


@pytest.mark.parametrize(
    "name",
    [
        ORPHAN,
        "_staging_batch_2026_02_10_1739180000_worker_0123456789ab",
        "_staging_regen_2026_02_01_line_update_1738400000_worker_0123456789ab",
        "_staging_linecheck_2026_02_01_1738400000_worker_0123456789ab",
        "_staging_fallback_1738400000123_worker_0123456789ab",
        "_staging_20260201_101010_123456_worker_0123456789ab",
    ],
)
def test_pipeline_names_are_droppable(name: str) -> None:
    batch, worker, reason = check_name(name, "_staging_")
    assert reason is None and batch and worker


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("_staging_", NO_BATCH_ID),
        ("_staging_x", NO_BATCH_ID),
        ("_staging_notes", NO_BATCH_ID),
        ("_staging_batch_2026_02_01_1738400000", NO_BATCH_ID),
        ('_staging_x"; DROP TABLE nba_predictions.player_prop_predictions; --', UNSAFE_NAME),
        ("_staging_batch_2026_02_01_1738400000_w; DROP TABLE t", UNSAFE_NAME),
        ("_staging_batch_2026_02_01_1738400000_w`.`player_prop_predictions", UNSAFE_NAME),
        ("_staging_batch_2026_02_01_1738400000_w\n", UNSAFE_NAME),
        ("_staging_batch_2026_02_01_1738400000_wörker", UNSAFE_NAME),
        ("_staging_batch_2026_02_01_1738400000_w-1", UNSAFE_NAME),
        ("_STAGING_batch_2026_02_01_1738400000_w", UNSAFE_NAME),
        ("player_prop_predictions", UNSAFE_NAME),
    ],
)
def test_adversarial_names_are_never_droppable(name: str, reason: str) -> None:
    assert check_name(name, "_staging_") == (None, None, reason)


def test_plan_keeps_everything_but_old_well_named_staging_tables_in_the_dataset() -> None:
    result = plan(
        info(ORPHAN, DAY * 3),
        info(ORPHAN.replace("00123", "00124"), DAY + dt.timedelta(seconds=1)),
        info("player_prop_predictions", DAY * 90),
        info("staging_notes", DAY * 45),
        info("_STAGING_BATCH_2026_02_01_1738400000_W", DAY * 3),
        info("_staging_", DAY * 3),
        info("_staging_x; DROP TABLE nba_predictions.player_prop_predictions", DAY * 3),
        info(ORPHAN.replace("abc", "zzz"), DAY * 3, dataset="nba_analytics"),
        info(ORPHAN.replace("abc", "yng"), DAY),
        info(ORPHAN.replace("abc", "unk"), None),
    )
    assert [c.table.name for c in result.candidates] == [ORPHAN, ORPHAN.replace("00123", "00124")]
    assert all(c.table.dataset == "nba_predictions" for c in result.candidates)
    reasons = {s.name: s.reason for s in result.skipped}
    assert reasons == {
        "_staging_": NO_BATCH_ID,
        "_staging_x; DROP TABLE nba_predictions.player_prop_predictions": UNSAFE_NAME,
        ORPHAN.replace("abc", "zzz"): OTHER_DATASET,
        ORPHAN.replace("abc", "yng"): TOO_YOUNG,
        ORPHAN.replace("abc", "unk"): UNKNOWN_AGE,
    }
    assert result.found == 7 and not result.refused


def test_age_must_be_strictly_over_the_cutoff() -> None:
    result = plan(info(ORPHAN, DAY))
    assert not result.candidates and result.skipped[0].reason == TOO_YOUNG


def test_tables_created_after_the_listing_started_are_kept() -> None:
    started = NOW - dt.timedelta(days=5)
    result = plan(info(ORPHAN, dt.timedelta(days=4)), listing_started=started)
    assert not result.candidates and result.skipped[0].reason == CREATED_AFTER_LISTING


def test_a_table_created_in_the_millisecond_the_listing_started_is_kept() -> None:
    """BigQuery's creation times are whole milliseconds; the listing's start has microseconds."""
    started = NOW - dt.timedelta(days=5) + dt.timedelta(microseconds=123_456)
    created = started.replace(microsecond=123_000)  # the same millisecond, as BigQuery reports it
    table = TableInfo(dataset="nba_predictions", name=ORPHAN, created=created, rows=3)
    result = plan(table, listing_started=started)
    assert not result.candidates and result.skipped[0].reason == CREATED_AFTER_LISTING


def test_tables_created_in_the_future_are_kept() -> None:
    result = plan(info(ORPHAN, -DAY))
    assert not result.candidates and result.skipped[0].reason == CREATED_AFTER_LISTING


def test_max_tables_refuses_the_whole_sweep() -> None:
    tables = [info(f"_staging_fallback_{1738400000000 + i}_worker_{i:012d}", DAY * 2) for i in range(5)]
    assert not plan(*tables, max_tables=5).refused
    refused = plan(*tables, max_tables=4)
    assert refused.refused and "--max-tables 4" in (refused.refusal or "")
    assert len(refused.candidates) == 5


def test_older_than_minimum_and_max_tables_are_validated() -> None:
    with pytest.raises(ConfigError, match="minimum"):
        plan(older_than=dt.timedelta(minutes=30))
    assert not plan(older_than=dt.timedelta(minutes=30), min_older_than=dt.timedelta(0)).refused
    with pytest.raises(ConfigError, match="max-tables"):
        plan(max_tables=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        plan(now=NOW.replace(tzinfo=None))


def test_another_prefix_is_honoured() -> None:
    name = ORPHAN.replace("_staging_", "_test_staging_", 1)
    result = plan(info(name, DAY * 2), info(ORPHAN, DAY * 2), prefix="_test_staging_")
    assert [c.table.name for c in result.candidates] == [name]
    assert result.found == 1


def test_plan_is_serialisable() -> None:
    data = plan(info(ORPHAN, DAY * 2)).to_dict()
    assert data["found"] == 1 and data["older_than"] == "24h"
    assert data["candidates"][0]["batch_id"] == "batch_2026_02_01_1738400000"
