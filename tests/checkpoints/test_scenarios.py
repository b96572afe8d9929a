"""Each scenario's incident is caught by exactly the checkpoint that should catch it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig
from pipeline_canary.results import Outcome, RunResult
from tests.conftest import AS_OF, NOW

ALL = ("prediction_gap", "feature_contamination", "schema_parity", "orphaned_staging_tables")
CATCHES = {
    "healthy": set(),
    "prediction-gap": {"prediction_gap"},
    "contamination": {"feature_contamination"},
    "schema-drift": {"schema_parity"},
    "orphaned-staging": {"orphaned_staging_tables"},
    "incident": set(ALL),
}


def run(config: CanaryConfig, *names: str) -> RunResult:
    return run_checkpoints(config, list(names) or None, as_of=AS_OF, now=NOW)


@pytest.mark.parametrize("scenario", list(CATCHES))
def test_scenario_is_caught_by_exactly_its_checkpoint(
    scenario: str, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    result = run(make_config(seeded(scenario)))
    outcomes = {cp.name: cp.outcome for cp in result.checkpoints}
    assert set(outcomes) == set(ALL)
    failed = {name for name, outcome in outcomes.items() if outcome is Outcome.FAILED}
    assert failed == CATCHES[scenario], outcomes
    for name, outcome in outcomes.items():
        if name not in CATCHES[scenario]:
            assert outcome is Outcome.PASSED, (name, result.get(name).message)


def test_prediction_gap_observed_values(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    cp = run(make_config(seeded("prediction-gap")), "prediction_gap").get("prediction_gap")
    assert cp.metrics["games"] == 10
    assert cp.metrics["active_predictions"] == 0
    assert cp.metrics["inactive_predictions"] > 0  # inactive rows exist and never count
    assert cp.metrics["gap_detected"] == 1
    check = next(c for c in cp.checks if c.name == "no_prediction_gap")
    assert check.outcome is Outcome.FAILED and check.observed == 1


def test_incident_counts_distinct_games_not_schedule_rows(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    """The incident's schedule lists one of its 10 games twice: 10 games, the duplicate is evidence."""
    cp = run(make_config(seeded("incident")), "prediction_gap").get("prediction_gap")
    assert cp.outcome is Outcome.FAILED
    assert cp.metrics["games"] == 10
    assert cp.metrics["schedule_rows"] == 11 and cp.metrics["duplicate_schedule_rows"] == 1
    assert cp.metrics["gap_detected"] == 1
    assert cp.message.startswith(f"10 games scheduled on {AS_OF} and 0 active predictions")
    keys = [g["game_key"] for g in cp.evidence["games"]]
    assert len(keys) == len(set(keys)) == 10
    (dup,) = cp.evidence["duplicate_schedule_rows"]
    assert dup["schedule_rows"] == 2 and dup["duplicate_rows"] == 1
    assert str(dup["schedule_game_id"]).startswith("002") and dup["schedule_game_id"] in cp.message


def test_duplicate_schedule_rows_are_evidence_not_games(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    """Append-then-merge leftovers: copies of a game, and a stale status beside the latest one."""
    from pipeline_canary.demo.calendar import insert_schedule_duplicates

    config = make_config(seeded("healthy"), copy=True)
    with duckdb.connect(str(config.warehouse.path)) as con:
        twice, thrice = insert_schedule_duplicates(con, AS_OF, as_of_games=2, stale_every=1)
        # a third row for one game, as a scrape after tip-off appended it
        con.execute(
            "INSERT INTO nba_reference.nba_schedule SELECT * REPLACE (2 AS game_status) "
            "FROM nba_reference.nba_schedule WHERE game_date = $d AND game_id = $g LIMIT 1",
            {"d": AS_OF, "g": thrice},
        )
        yesterday = con.execute(
            "SELECT max(game_date) FROM nba_reference.nba_schedule WHERE game_date < $d", {"d": AS_OF}
        ).fetchone()[0]
        yesterday_games = con.execute(
            "SELECT count(DISTINCT game_id), count(*) FROM nba_reference.nba_schedule WHERE game_date = $d",
            {"d": yesterday},
        ).fetchone()
    cp = run(config, "prediction_gap").get("prediction_gap")
    assert cp.outcome is Outcome.PASSED, cp.message  # every game is still covered
    assert cp.metrics["games"] == 10
    assert cp.metrics["schedule_rows"] == 13 and cp.metrics["duplicate_schedule_rows"] == 3
    assert cp.metrics["games_without_predictions"] == 0
    assert "3 duplicate schedule rows not counted" in cp.message and twice in cp.message and thrice in cp.message
    games = {g["schedule_game_id"]: g for g in cp.evidence["games"]}
    assert len(cp.evidence["games"]) == len(games) == 10
    assert games[thrice]["game_status"] == 2  # the latest status wins, as in v_nbac_schedule_latest
    dups = {d["schedule_game_id"]: d for d in cp.evidence["duplicate_schedule_rows"]}
    assert set(dups) == {twice, thrice}
    assert (dups[twice]["schedule_rows"], dups[twice]["game_status"], dups[twice]["lowest_status"]) == (2, 1, 1)
    assert (dups[thrice]["schedule_rows"], dups[thrice]["game_status"], dups[thrice]["lowest_status"]) == (3, 2, 1)

    # a final game that kept its stale "scheduled" row is one final game
    games_n, rows_n = yesterday_games
    assert rows_n == 2 * games_n
    past = run_checkpoints(config, ["prediction_gap"], as_of=yesterday, now=NOW).get("prediction_gap")
    assert past.metrics["games"] == games_n and past.metrics["duplicate_schedule_rows"] == games_n
    assert {g["game_status"] for g in past.evidence["games"]} == {3}
    assert {d["lowest_status"] for d in past.evidence["duplicate_schedule_rows"]} == {1}


def test_healthy_predictions_cover_every_game(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    cp = run(make_config(seeded("healthy")), "prediction_gap").get("prediction_gap")
    assert cp.outcome is Outcome.PASSED
    assert cp.metrics["games"] >= 1 and cp.metrics["active_predictions"] > 0
    assert cp.metrics["games_without_predictions"] == 0


def test_one_uncovered_game_is_a_warning(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("healthy"), copy=True)
    with duckdb.connect(str(config.warehouse.path)) as con:
        game = con.execute(
            "SELECT game_id FROM nba_predictions.player_prop_predictions WHERE game_date = $d AND is_active "
            "ORDER BY game_id LIMIT 1",
            {"d": AS_OF},
        ).fetchone()[0]
        con.execute(
            "UPDATE nba_predictions.player_prop_predictions SET is_active = FALSE "
            "WHERE game_date = $d AND game_id = $g",
            {"d": AS_OF, "g": game},
        )
    cp = run(config, "prediction_gap").get("prediction_gap")
    assert cp.outcome is Outcome.WARNED
    assert cp.metrics["games_without_predictions"] == 1
    assert [g["game_key"] for g in cp.evidence["games_without_predictions"]] == [game]


def test_no_games_is_skipped(seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]) -> None:
    config = make_config(seeded("healthy"))
    with duckdb.connect(str(config.warehouse.path), read_only=True) as con:
        dates = {r[0] for r in con.execute("SELECT DISTINCT game_date FROM nba_reference.nba_schedule").fetchall()}
    off_day = next(AS_OF.replace(day=d) for d in range(1, 28) if AS_OF.replace(day=d) not in dates)
    result = run_checkpoints(config, ["prediction_gap"], as_of=off_day, now=NOW)
    assert result.get("prediction_gap").outcome is Outcome.SKIPPED
    assert "no games" in result.get("prediction_gap").message


def test_contamination_observed_value_matches_direct_sql(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    path = seeded("contamination")
    cp = run(make_config(path), "feature_contamination").get("feature_contamination")
    with duckdb.connect(str(path), read_only=True) as con:
        total, bad = con.execute(
            "SELECT count(*), count_if(required_default_count > 0) FROM nba_predictions.ml_feature_store_v2 "
            "WHERE game_date >= $d - INTERVAL 14 DAY AND game_date < $d AND feature_count >= 37",
            {"d": AS_OF},
        ).fetchone()
    assert cp.metrics["rows_checked"] == total
    assert cp.metrics["required_default_pct"] == round(100 * bad / total, 2)
    assert abs(cp.metrics["required_default_pct"] - 24.6) <= 0.3
    assert cp.outcome is Outcome.FAILED
    assert {c.name: c.outcome for c in cp.checks} == {
        "contamination_below_fail": Outcome.FAILED,
        "contamination_below_warn": Outcome.WARNED,
    }
    assert len(cp.evidence["trend_by_day"]) == 14
    top = cp.evidence["most_defaulted_required_features"]
    assert top and all(f["feature_index"] not in (25, 26, 27) and f["feature_index"] < 37 for f in top)
    assert top[0]["rows_defaulted"] >= top[-1]["rows_defaulted"]


def test_contamination_thresholds_are_configurable(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(
        seeded("contamination"), extra="[checkpoints.feature_contamination]\nwarn_pct = 20\nfail_pct = 30\n"
    )
    cp = run(config, "feature_contamination").get("feature_contamination")
    assert cp.outcome is Outcome.WARNED


def test_schema_drift_names_the_february_fields(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    cp = run(make_config(seeded("schema-drift")), "schema_parity").get("schema_parity")
    assert cp.outcome is Outcome.FAILED
    assert cp.metrics["missing_in_table"] == 2
    assert cp.metrics["incompatible_fields"] == 0
    fields = {d["field"] for d in cp.evidence["differences"]}
    assert fields == {"vegas_line_source", "required_default_count"}
    statements = " ".join(s["sql"] for s in cp.evidence["alter_statements"])
    assert "ADD COLUMN" in statements and "vegas_line_source" in statements and "required_default_count" in statements


def test_orphaned_staging_counts(seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]) -> None:
    cp = run(make_config(seeded("orphaned-staging")), "orphaned_staging_tables").get("orphaned_staging_tables")
    assert cp.outcome is Outcome.FAILED
    assert cp.metrics["orphaned_tables"] == 668
    assert cp.metrics["staging_tables"] == 668 + 3
    rows = cp.evidence["orphaned_tables"]
    assert all(r["age_hours"] > 24 for r in rows)
    assert all(r["table"].startswith("_staging_") for r in rows)
    assert sum(1 for r in rows if r["batch_id"]) == len(rows)


def test_max_age_is_configurable(seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]) -> None:
    config = make_config(
        seeded("orphaned-staging"), extra="[checkpoints.orphaned_staging_tables]\nmax_age_hours = 100000\n"
    )
    assert run(config, "orphaned_staging_tables").get("orphaned_staging_tables").outcome is Outcome.PASSED


def test_dropped_table_errors_only_its_checkpoint(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("healthy"), copy=True)
    with duckdb.connect(str(config.warehouse.path)) as con:
        con.execute("DROP TABLE nba_predictions.ml_feature_store_v2")
    result = run(config)
    cp = result.get("feature_contamination")
    assert cp.outcome is Outcome.ERRORED
    assert "ml_feature_store_v2" in cp.message
    others = {c.name: c.outcome for c in result.checkpoints if c.name != "feature_contamination"}
    assert set(others.values()) == {Outcome.PASSED}


def test_missing_warehouse_errors_every_checkpoint_with_the_fix(
    tmp_path: Path, make_config: Callable[..., CanaryConfig]
) -> None:
    result = run(make_config(tmp_path / "nope.duckdb"))
    assert {c.outcome for c in result.checkpoints} == {Outcome.ERRORED}
    assert "canary demo" in result.checkpoints[0].message


def test_each_checkpoint_links_its_gx_validation_page(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    result = run_checkpoints(make_config(seeded("incident")), as_of=AS_OF, now=NOW, build_docs=True)
    assert result.docs_index and Path(result.docs_index).is_file()
    for cp in result.checkpoints:
        assert cp.docs_path and Path(cp.docs_path).is_file(), cp.name
        assert cp.name in Path(cp.docs_path).read_text(encoding="utf-8")


def test_unreachable_warehouse_fails_fast_for_every_checkpoint(make_config: Callable[..., CanaryConfig]) -> None:
    import socket

    from pipeline_canary.checkpoints.runner import run_checkpoints as run_all
    from pipeline_canary.config import WarehouseConfig
    from pipeline_canary.warehouse.bigquery import BigQueryWarehouse

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    warehouse = BigQueryWarehouse.from_config(
        WarehouseConfig(
            backend="bigquery", project="canary-local", api_endpoint=f"http://127.0.0.1:{port}", timeout_s=2
        )
    )
    result = run_all(make_config(Path("/nonexistent.duckdb")), as_of=AS_OF, now=NOW, warehouse=warehouse)
    assert {c.outcome for c in result.checkpoints} == {Outcome.ERRORED}
    assert len({c.message for c in result.checkpoints}) == 1  # one cause, found once
    assert "127.0.0.1" in result.checkpoints[0].message
    # no checkpoint tried the warehouse itself (each would have waited out its own timeout)
    assert all(c.duration_s == 0.0 for c in result.checkpoints)


def test_production_schema_parity_needs_the_workers_contract(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    """Against BigQuery, schema_parity never silently compares the demo's packaged contract."""
    from pipeline_canary.config import DEMO_CONTRACT, load_config

    config = make_config(seeded("healthy"))
    assert config.pipeline.worker_contract == DEMO_CONTRACT  # the embedded demo's default
    assert config.source is not None
    text = config.source.read_text().replace(
        'backend = "duckdb"', 'backend = "bigquery"\nproject = "nba-props-platform"'
    )
    config.source.write_text(text)
    production = load_config(config.source, env={})
    assert production.pipeline.worker_contract is None
    without = config.model_copy(update={"pipeline": production.pipeline})  # still reads the DuckDB file
    cp = run_checkpoints(without, ["schema_parity"], as_of=AS_OF, now=NOW).get("schema_parity")
    assert cp.outcome is Outcome.ERRORED
    assert "pipeline.worker_contract is not set" in cp.message
