"""The demo warehouse: volumes, determinism, quality consistency and the scenario facts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline_canary.demo import (
    DemoInfo,
    feature_store_schema,
    iter_tables,
    predictions_schema,
    seed,
    worker_contract,
    write_contract,
)
from pipeline_canary.demo.contract import CONTRACT_JSON, load_contract
from pipeline_canary.demo.schemas import OPTIONAL_FEATURES, REQUIRED_FEATURES
from pipeline_canary.warehouse.duckdb_connect import connect_duckdb
from pipeline_canary.warehouse.duckdb_types import duckdb_to_field

FEB = dt.datetime(2026, 2, 8, 18, 0, tzinfo=dt.UTC)
CORE = ("healthy", "prediction-gap", "contamination", "schema-drift", "orphaned-staging", "incident")
NOV = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)
MODELS = 8


class Demo:
    def __init__(self, info: DemoInfo) -> None:
        self.info = info
        self.conn = connect_duckdb(info.path, read_only=True)  # the package's config: both may be open at once
        self.conn.execute("SET TimeZone = 'UTC'")

    def one(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.conn.execute(sql, params or []).fetchone()
        assert row is not None
        return row[0] if len(row) == 1 else row

    def all(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params or []).fetchall()

    def columns(self, table: str) -> dict[str, Any]:
        rows = self.all(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'nba_predictions' AND table_name = ? ORDER BY ordinal_position",
            [table],
        )
        return {n: duckdb_to_field(n, t, nullable == "YES") for n, t, nullable in rows}

    def contamination(self) -> float:
        return float(
            self.one(
                "SELECT avg(CAST(required_default_count > 0 AS INT)) FROM nba_predictions.ml_feature_store_v2 "
                "WHERE game_date >= ? - INTERVAL 14 DAY AND game_date < ? AND feature_count >= 37",
                [self.info.as_of, self.info.as_of],
            )
        )

    def games_on(self, day: dt.date) -> int:
        """Distinct scheduled games (the incident's schedule also holds duplicate rows)."""
        return int(
            self.one(
                "SELECT count(DISTINCT game_id) FROM nba_reference.nba_schedule "
                "WHERE game_date = ? AND game_status = 1",
                [day],
            )
        )

    def schedule_rows_on(self, day: dt.date) -> int:
        return int(self.one("SELECT count(*) FROM nba_reference.nba_schedule WHERE game_date = ?", [day]))

    def active_on(self, day: dt.date) -> int:
        return int(
            self.one(
                "SELECT count(*) FROM nba_predictions.player_prop_predictions WHERE game_date = ? AND is_active",
                [day],
            )
        )

    def staging_ages_hours(self) -> list[float]:
        rows = self.all(
            "SELECT epoch(CAST(? AS TIMESTAMPTZ) - m.created_at) / 3600.0 FROM duckdb_tables() t "
            "JOIN _canary_meta.table_created m ON m.dataset = t.schema_name AND m.table_name = t.table_name "
            "WHERE t.schema_name = 'nba_predictions' AND starts_with(t.table_name, '_staging_')",
            [self.info.now],
        )
        return [float(r[0]) for r in rows]


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Demo]]:
    base = tmp_path_factory.mktemp("demo")
    out: dict[str, Demo] = {}
    # The core scenarios these tests read (a seed costs seconds; the pack's scenarios are seeded and
    # checked by their own tests in tests/packs, missing-game by tests/cli, tests/alerting and tests/reports).
    for scenario in CORE:
        out[scenario] = Demo(seed(base / f"{scenario}.duckdb", scenario=scenario, now=FEB))
    out["incident-nov"] = Demo(seed(base / "incident-nov.duckdb", scenario="incident", now=NOV))
    yield out
    for demo in out.values():
        demo.conn.close()


def test_validation_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="healthy"):
        seed(tmp_path / "x.duckdb", scenario="nope")
    with pytest.raises(ValueError, match="seasons"):
        seed(tmp_path / "x.duckdb", scenario="healthy", seasons=0)
    assert not list(tmp_path.iterdir())


def test_contract_json_matches_code(tmp_path: Path) -> None:
    assert load_contract(CONTRACT_JSON) == worker_contract()
    written = write_contract(tmp_path / "c.json")
    assert json.loads(written.read_text()) == [f.to_dict() for f in worker_contract()]
    names = [f.name for f in worker_contract()]
    assert "vegas_line_source" in names and "required_default_count" in names
    assert len(names) == len(set(names))


def test_schemas() -> None:
    names = {f.name for f in feature_store_schema()}
    for n in range(60):
        assert {f"feature_{n}_value", f"feature_{n}_quality", f"feature_{n}_source"} <= names
    drift = {f.name for f in predictions_schema(drift=True)}
    assert {f.name for f in predictions_schema()} - drift == {"vegas_line_source", "required_default_count"}


def test_info_and_volumes(demos: dict[str, Demo]) -> None:
    d = demos["healthy"]
    assert d.info.as_of == dt.date(2026, 2, 8) and d.info.now == FEB and d.info.seasons == 1
    assert 160 <= d.info.game_days <= 170
    per_day = d.all("SELECT game_date, count(*) FROM nba_reference.nba_schedule GROUP BY 1 ORDER BY 1")
    assert len(per_day) == d.info.game_days and per_day[-1][0] == d.info.as_of
    counts = [c for _, c in per_day]
    assert min(counts) >= 1 and max(counts) <= 15 and 7 <= sum(counts) / len(counts) <= 12
    assert all(day.month >= 10 or day.month <= 4 for day, _ in per_day)
    feat = d.all("SELECT count(*), count(DISTINCT game_id) FROM nba_predictions.ml_feature_store_v2 GROUP BY game_date")
    assert max(c for c, _ in feat) <= 450
    # a row per player expected to play: the 26 rostered players of each game but the ~5% out that day
    assert all(0.85 * 26 * games <= c <= 26 * games for c, games in feat)
    assert 0.93 <= sum(c for c, _ in feat) / sum(26 * games for _, games in feat) <= 0.97
    active = d.all(
        "SELECT count(*) FROM nba_predictions.player_prop_predictions WHERE is_active GROUP BY game_date, system_id"
    )
    assert len(active) == d.info.game_days * MODELS
    assert all(70 <= c <= 90 for (c,) in active)
    n_active, n_inactive = d.one(
        "SELECT count(*) FILTER (WHERE is_active), count(*) FILTER (WHERE NOT is_active) "
        "FROM nba_predictions.player_prop_predictions"
    )
    assert 0.2 <= n_inactive / n_active <= 0.3
    assert d.info.rows["nba_predictions.player_prop_predictions"] == n_active + n_inactive
    # one active row per (game_id, player_lookup, system_id)
    assert (
        d.one(
            "SELECT count(*) FROM (SELECT 1 FROM nba_predictions.player_prop_predictions WHERE is_active "
            "GROUP BY game_id, player_lookup, system_id HAVING count(*) > 1)"
        )
        == 0
    )
    assert (
        d.one(
            "SELECT count(*) FROM nba_predictions.player_prop_predictions "
            "WHERE NOT regexp_full_match(game_id, '\\d{8}_[A-Z]{3}_[A-Z]{3}')"
        )
        == 0
    )
    assert d.one("SELECT count(*) FROM nba_reference.nba_schedule WHERE game_id NOT LIKE '002%'") == 0


@pytest.mark.parametrize("scenario", ["contamination", "incident-nov"])
def test_quality_columns_consistent_with_sources(demos: dict[str, Demo], scenario: str) -> None:
    d = demos[scenario]
    is_def = {n: f"CAST(feature_{n}_source = 'default' AS INT)" for n in range(60)}
    rdc = " + ".join(is_def[n] for n in REQUIRED_FEATURES)
    dfc = " + ".join(is_def.values())
    idx = ", ".join(f"CASE WHEN feature_{n}_source = 'default' THEN {n} END" for n in range(60))
    w = " + ".join(
        f"CASE feature_{n}_source WHEN 'default' THEN 40 WHEN 'phase3' THEN 87 WHEN 'minutes_ppm' THEN 95 ELSE 100 END"
        for n in range(60)
    )
    bad = d.one(
        f"""
        SELECT count(*) FROM (
          SELECT *, ({rdc}) AS r, ({dfc}) AS c, list_filter([{idx}], x -> x IS NOT NULL) AS i,
                 ({w}) / 60.0 AS raw
          FROM nba_predictions.ml_feature_store_v2)
        WHERE required_default_count IS DISTINCT FROM r OR default_feature_count IS DISTINCT FROM c
           OR default_feature_indices IS DISTINCT FROM i
           OR abs(feature_quality_score - round(CASE WHEN r >= 5 THEN least(raw, 49)
                  WHEN r >= 1 THEN least(raw, 69) ELSE raw END, 2)) > 0.005
           OR is_quality_ready IS DISTINCT FROM (r = 0 AND feature_quality_score >= 70
                  AND matchup_quality_pct >= 50 AND quality_tier IN ('gold', 'silver', 'bronze'))
           OR (r > 0 AND quality_alert_level = 'green')
           OR feature_count <> 60 OR feature_version <> 'v2_54features'
        """
    )
    assert bad == 0
    nulls = " OR ".join(f"((feature_{n}_source = 'default') <> (feature_{n}_value IS NULL))" for n in range(60))
    assert d.one(f"SELECT count(*) FROM nba_predictions.ml_feature_store_v2 WHERE {nulls}") == 0
    optional_defaults = d.all(
        "SELECT DISTINCT i FROM (SELECT unnest(default_feature_indices) AS i "
        "FROM nba_predictions.ml_feature_store_v2) WHERE i IN "
        f"({', '.join(map(str, sorted(OPTIONAL_FEATURES)))})"
    )
    assert {i for (i,) in optional_defaults} == {25, 26, 27}


def _assert_healthy_schedule_and_predictions(d: Demo) -> None:
    assert d.games_on(d.info.as_of) == 10
    assert d.schedule_rows_on(d.info.as_of) == 10  # only the incident's schedule holds duplicates
    per_game = d.all(
        """
        SELECT s.game_id, count(DISTINCT p.system_id) FROM nba_reference.nba_schedule s
        LEFT JOIN nba_predictions.player_prop_predictions p
          ON p.game_date = s.game_date AND p.is_active
         AND p.game_id = strftime(s.game_date, '%Y%m%d') || '_' || s.away_team_tricode || '_' || s.home_team_tricode
        WHERE s.game_date = ? GROUP BY 1
        """,
        [d.info.as_of],
    )
    assert len(per_game) == 10 and all(n == MODELS for _, n in per_game)


def _assert_contract_satisfied(d: Demo) -> None:
    cols = d.columns("player_prop_predictions")
    for f in worker_contract():
        assert f.name in cols, f.name
        assert cols[f.name].base_type == f.base_type, f.name
        assert (cols[f.name].mode == "REPEATED") == (f.mode == "REPEATED"), f.name


def test_healthy(demos: dict[str, Demo]) -> None:
    d = demos["healthy"]
    _assert_healthy_schedule_and_predictions(d)
    assert 0.01 <= d.contamination() <= 0.03
    vegas_only = d.one(
        "SELECT avg(CAST(default_feature_count > 0 AND required_default_count = 0 AS INT)) "
        "FROM nba_predictions.ml_feature_store_v2"
    )
    assert 0.25 <= vegas_only <= 0.35
    _assert_contract_satisfied(d)
    ages = d.staging_ages_hours()
    assert len(ages) == 3 and all(10 / 60 <= a <= 1.5 for a in ages)
    names = [t for s, t, _ in iter_tables(d.info.path) if t.startswith("_staging_")]
    assert all(n.startswith(f"_staging_batch_{d.info.as_of:%Y_%m_%d}_") and "-" not in n for n in names)


def test_every_table_recorded(demos: dict[str, Demo]) -> None:
    for name in ("healthy", "incident"):
        tables = list(iter_tables(demos[name].info.path))
        assert tables and all(created is not None for _, _, created in tables)
        listed = {t for _, t, _ in tables}
        assert {"staging_notes", "prediction_accuracy", "model_registry", "demo"} <= listed
    meta = demos["incident"].one("SELECT scenario, seasons, as_of, now FROM _canary_meta.demo")
    assert meta[:3] == ("incident", 1, dt.date(2026, 2, 8)) and meta[3] == FEB


def test_prediction_gap(demos: dict[str, Demo]) -> None:
    d = demos["prediction-gap"]
    assert d.games_on(d.info.as_of) == 10
    assert d.active_on(d.info.as_of) == 0
    assert (
        d.one(
            "SELECT count(*) FROM nba_predictions.player_prop_predictions WHERE game_date = ? AND NOT is_active",
            [d.info.as_of],
        )
        > 0
    )
    assert d.active_on(d.info.as_of - dt.timedelta(days=1)) > 0 or d.active_on(d.info.as_of - dt.timedelta(days=2)) > 0
    assert 0.01 <= d.contamination() <= 0.03
    _assert_contract_satisfied(d)


def test_contamination(demos: dict[str, Demo]) -> None:
    d = demos["contamination"]
    assert abs(d.contamination() - 0.246) <= 0.003
    _assert_healthy_schedule_and_predictions(d)
    earlier = d.one(
        "SELECT avg(CAST(required_default_count > 0 AS INT)) FROM nba_predictions.ml_feature_store_v2 "
        "WHERE game_date < ? - INTERVAL 14 DAY",
        [d.info.as_of],
    )
    assert earlier < 0.05
    per_row = d.all(
        "SELECT DISTINCT required_default_count FROM nba_predictions.ml_feature_store_v2 "
        "WHERE required_default_count > 0"
    )
    assert {r for (r,) in per_row} <= set(range(1, 7))
    top = d.all(
        "SELECT i FROM (SELECT unnest(default_feature_indices) AS i FROM nba_predictions.ml_feature_store_v2 "
        "WHERE game_date >= ? - INTERVAL 14 DAY AND game_date < ?) WHERE i NOT IN (25, 26, 27) "
        "GROUP BY i ORDER BY count(*) DESC LIMIT 2",
        [d.info.as_of, d.info.as_of],
    )
    assert {i for (i,) in top} == {13, 14}


def test_schema_drift(demos: dict[str, Demo]) -> None:
    d = demos["schema-drift"]
    cols = d.columns("player_prop_predictions")
    contract = {f.name for f in worker_contract()}
    assert contract - set(cols) == {"vegas_line_source", "required_default_count"}
    _assert_healthy_schedule_and_predictions(d)
    assert len(d.staging_ages_hours()) == 3


def test_orphaned_staging(demos: dict[str, Demo]) -> None:
    d = demos["orphaned-staging"]
    ages = d.staging_ages_hours()
    old = [a for a in ages if a > 24]
    assert len(old) == 668 and len(ages) == 671
    assert min(old) >= 25 and max(old) <= 30.5 * 24
    names = [t for _, t, _ in iter_tables(d.info.path) if t.startswith("_staging_")]
    for kind in ("batch_", "regen_", "linecheck_", "fallback_"):
        assert any(n.startswith(f"_staging_{kind}") for n in names), kind
    assert len(set(names)) == 671
    assert 0.01 <= d.contamination() <= 0.03


@pytest.mark.parametrize("scenario", ["incident", "incident-nov"])
def test_incident(demos: dict[str, Demo], scenario: str) -> None:
    d = demos[scenario]
    assert d.games_on(d.info.as_of) == 10
    assert d.active_on(d.info.as_of) == 0
    assert abs(d.contamination() - 0.246) <= 0.003
    assert {f.name for f in worker_contract()} - set(d.columns("player_prop_predictions")) == {
        "vegas_line_source",
        "required_default_count",
    }
    assert len([a for a in d.staging_ages_hours() if a > 24]) == 668
    _assert_schedule_duplicates(d)


def _assert_schedule_duplicates(d: Demo) -> None:
    """One of as_of's games listed twice; ~1 in 40 past final games keeps a stale status-1 row."""
    assert d.schedule_rows_on(d.info.as_of) == 11
    (dup,) = d.all(
        "SELECT game_id, count(*), count(DISTINCT game_status) FROM nba_reference.nba_schedule "
        "WHERE game_date = ? GROUP BY 1 HAVING count(*) > 1",
        [d.info.as_of],
    )
    assert dup[1:] == (2, 1)
    stale = d.all(
        "SELECT count(*), min(game_status), max(game_status) FROM nba_reference.nba_schedule "
        "WHERE game_date < ? GROUP BY game_id, game_date HAVING count(*) > 1",
        [d.info.as_of],
    )
    games = d.one("SELECT count(DISTINCT game_id) FROM nba_reference.nba_schedule WHERE game_date < ?", [d.info.as_of])
    assert stale and set(stale) == {(2, 1, 3)} and 0.01 <= len(stale) / games <= 0.05


def test_november_as_of_uses_local_date(demos: dict[str, Demo]) -> None:
    d = demos["incident-nov"]
    assert d.info.as_of == dt.date(2026, 11, 20)  # 23:30 UTC is 18:30 in New York
    assert d.one("SELECT max(game_date) FROM nba_reference.nba_schedule") == d.info.as_of
    assert d.one("SELECT count(*) FROM nba_reference.nba_schedule WHERE game_date > ?", [d.info.as_of]) == 0


def test_overwrite_progress_and_determinism(demos: dict[str, Demo], tmp_path: Path) -> None:
    target = tmp_path / "w.duckdb"
    target.write_bytes(b"not a database")
    calls: list[tuple[str, int, int]] = []
    info = seed(target, scenario="incident", now=NOV, progress=lambda s, a, b: calls.append((s, a, b)))
    assert info.path == target and target.stat().st_size > 0
    assert {s for s, _, _ in calls} >= {"schedule", "seasons", "staging"}
    assert ("seasons", 1, 1) in calls
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]
    # same arguments -> identical data
    again, first = Demo(info), demos["incident-nov"]
    sql = {
        "p": "SELECT count(*), sum(hash(prediction_id, predicted_points, created_at, is_active, superseded_by)) "
        "FROM nba_predictions.player_prop_predictions",
        "f": "SELECT count(*), sum(hash(player_lookup, game_date, feature_quality_score, "
        "default_feature_indices, feature_13_value, feature_40_value)) FROM nba_predictions.ml_feature_store_v2",
        "s": "SELECT count(*), sum(hash(game_id, game_date, home_team_tricode)) FROM nba_reference.nba_schedule",
        "m": "SELECT count(*), sum(hash(table_name, created_at)) FROM _canary_meta.table_created",
    }
    for q in sql.values():
        assert again.one(q) == first.one(q)
    assert again.info.rows == first.info.rows
    again.conn.close()


def test_staging_tables_and_neighbours(demos: dict[str, Demo]) -> None:
    d = demos["incident"]
    tables = [t for s, t, _ in iter_tables(d.info.path) if s == "nba_predictions"]
    staging = [t for t in tables if t.startswith("_staging_")]
    assert len(staging) == 671
    neighbours = set(tables) - set(staging)
    assert neighbours >= {  # and the NBA pack's tables (pipeline_canary/demo/pack)
        "player_prop_predictions",
        "ml_feature_store_v2",
        "staging_notes",
        "prediction_accuracy",
        "model_registry",
        "model_performance_daily",  # the NBA pack's models tables (demo/pack/models.py)
    }
    fresh = d.all(
        "SELECT m.table_name FROM _canary_meta.table_created m "
        "WHERE starts_with(m.table_name, '_staging_') AND m.created_at > CAST(? AS TIMESTAMPTZ) - INTERVAL 2 HOUR",
        [d.info.now],
    )
    assert len(fresh) == 3
    for (name,) in fresh:
        assert d.one(f'SELECT count(*) FROM nba_predictions."{name}"') == 3
        cols = d.columns(name)
        assert {"vegas_line_source", "required_default_count", "prediction_id"} <= set(cols)
    with_rows = sum(d.one(f'SELECT count(*) > 0 FROM nba_predictions."{t}"') for t in staging)
    assert 3 < with_rows < 671
    registry = d.all("SELECT model_id FROM nba_predictions.model_registry WHERE enabled AND status = 'active'")
    active = d.all(
        "SELECT DISTINCT system_id FROM nba_predictions.player_prop_predictions WHERE game_date = ? AND is_active",
        [d.info.as_of - dt.timedelta(days=1)],
    ) or d.all("SELECT DISTINCT system_id FROM nba_predictions.player_prop_predictions WHERE is_active")
    assert {r for (r,) in registry} == {s for (s,) in active} and len(registry) == MODELS
    graded = d.one(
        "SELECT count(*) FROM nba_predictions.prediction_accuracy WHERE prediction_correct IS NOT NULL "
        "AND game_date < ?",
        [d.info.as_of],
    )
    assert graded > 0
