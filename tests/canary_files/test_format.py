"""The canary file format: every mistake names the file, the line and the key; settings overrides;
the SQL checks (sqlglot: one SELECT, declared tables, provided parameters, named metric columns)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_canary.canary_files import load_file
from pipeline_canary.canary_files._lines import key_lines, line_of
from pipeline_canary.config import CanaryConfig, load_config
from pipeline_canary.errors import ConfigError
from tests.canary_files.example import worked_example

EXAMPLE = worked_example()[1]


def line_with(text: str, fragment: str, after: str = "") -> int:
    """The first line holding ``fragment`` after the first line holding ``after``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines[start:], start=start + 1) if fragment in line)


def problems(tmp_path: Path, text: str, *, compile_sql: bool = True) -> tuple[Path, str]:
    """Load ``text`` as canaries/games_final.toml through the configuration; the error message."""
    folder = tmp_path / "canaries"
    folder.mkdir(exist_ok=True)
    path = folder / "games_final.toml"
    path.write_text(text, encoding="utf-8")
    config = tmp_path / "canary.toml"
    config.write_text('[canaries]\npaths = ["canaries"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        loaded = load_config(config, env={})
        if compile_sql:
            loaded.catalogue.compile()
    return path, str(info.value)


# (replace this, with that, the line that must be named (a fragment of it), the key, the message)
MISTAKES = [
    ('title = "', 'titel = "x"\ntitle = "', "titel =", "titel", "unknown key"),
    ('max = "@max_not_final"', 'max = "@max_not_finl"', "@max_not_finl", "checks[0].max",
     "@max_not_finl is not declared in [params] (@max_not_final)"),
    ('run_on = ["days_after_game_days"]', 'run_on = ["game_dayz"]', "game_dayz", "calendar.run_on[0]",
     "Input should be 'game_days', 'days_after_game_days' or 'always'"),
    ('run_on = ["days_after_game_days"]', 'run_on = ["always", "game_days"]', "run_on =", "calendar.run_on",
     '"always" includes every day'),
    ("max_not_final = 0", "max_not_final = 0\nas_of = 1", "as_of = 1", "params.as_of", "'as_of' is reserved"),
    ('table = "schedule_table"', 'table = "schedule"', 'table = "schedule"', "tables.schedule.table",
     "'schedule' is neither a configured table"),
    ('severity = "critical"', 'severity = "urgent"', "urgent", "severity", "Input should be 'critical' or 'warning'"),
    ('name = "all_final"', 'name = "all final"', "all final", "checks[0].name", "'all final' is not a check name"),
    ("[calendar]", 'name = "other"\n[calendar]', 'name = "other"', "name",
     "'other' differs from the file name 'games_final'"),
    ("DATE_SUB(@as_of, INTERVAL 1 DAY) AND game_status IN (1, 2, 3)\n\"\"\"\n\n[[checks]]",
     "DATE_SUB(@as_off, INTERVAL 1 DAY) AND game_status IN (1, 2, 3)\n\"\"\"\n\n[[checks]]",
     "sql =", "statements[0].sql", "uses @as_off, which the run does not provide"),
    ("SELECT\n  COUNT(DISTINCT game_id) AS games,",
     "DELETE FROM {schedule} WHERE TRUE;\nSELECT\n  COUNT(DISTINCT game_id) AS games,", "sql =",
     "statements[0].sql", "holds 2 statements"),
    ("AS games_not_final\nFROM {schedule}", "AS games_not_final\nFROM {schedul}", "sql =", "statements[0].sql",
     "uses {schedul}, not declared under [tables]"),
    ("  COUNT(DISTINCT game_id) AS games,", "  COUNT(DISTINCT game_id),", "sql =", "statements[0].sql",
     "column 1 (COUNT(DISTINCT game_id)) has no name: add AS metric_name"),
    ('metric = "games_not_final"', 'metric = "games_unfinished"', "games_unfinished", "checks[0].metric",
     "no statement returns 'games_unfinished'"),
    ("ORDER BY game_id\nLIMIT 20", "ORDER BY game_id", "sql =", "evidence[0].sql", "has no LIMIT"),
    ('summary = "{final_games}', 'summary = "{finals}', "summary =", "summary", "{finals} is neither a metric"),
    ('run_on = ["days_after_game_days"]', 'run_on = ["days_after_game_days"]\ndue_by = "9am"', "due_by",
     "calendar.due_by", 'expected a local time "HH:MM" (24-hour, e.g. "10:00"), got \'9am\''),
    ('run_on = ["days_after_game_days"]', 'run_on = ["days_after_game_days"]\ndue_by = "@due"', "due_by",
     "calendar.due_by", '@due is not declared in [params]'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "message"), MISTAKES, ids=[m[3] + ":" + m[4][:20] for m in MISTAKES]
)
def test_a_mistake_names_the_file_the_line_and_the_key(
    tmp_path: Path, old: str, new: str, line: str, key: str, message: str
) -> None:
    assert old in EXAMPLE
    text = EXAMPLE.replace(old, new, 1)
    at = line_with(text, line, after="[[evidence]]" if key.startswith("evidence") else "")
    path, error = problems(tmp_path, text)
    assert f"{path}:{at}: {key}: {message}" in error, error


def test_toml_syntax_and_missing_keys(tmp_path: Path) -> None:
    path, error = problems(tmp_path, EXAMPLE.replace("[calendar]", "[calendar"))
    assert f"{path}: not valid TOML" in error and "line" in error
    path, error = problems(tmp_path, EXAMPLE.replace('runbook = """', 'notes = """'))
    assert f"{path}:1: runbook: required key is missing" in error
    assert f"{path}:{line_with(EXAMPLE, 'runbook =')}: notes: unknown key" in error


def test_every_problem_of_every_file_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "canaries"
    folder.mkdir()
    (folder / "one.toml").write_text(EXAMPLE.replace('severity = "critical"', 'severity = "high"'))
    (folder / "two.toml").write_text(EXAMPLE.replace('tier = "routine"', 'tier = "Routine"'))
    (folder / "fine.toml").write_text(EXAMPLE)
    (tmp_path / "canary.toml").write_text('[canaries]\npaths = ["canaries"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "canary.toml", env={})
    assert "one.toml:5: severity:" in str(info.value) and "two.toml:6: tier:" in str(info.value)
    assert str(tmp_path / "canary.toml") in str(info.value) and "fine.toml" not in str(info.value)


def test_missing_folder_and_unknown_tier(tmp_path: Path) -> None:
    (tmp_path / "canary.toml").write_text('[canaries]\npaths = ["nowhere"]\n')
    with pytest.raises(ConfigError, match=r"canaries\.paths: .*nowhere is not a folder of canary files"):
        load_config(tmp_path / "canary.toml", env={})
    path, error = problems(tmp_path, EXAMPLE.replace('tier = "routine"', 'tier = "nightly"'), compile_sql=False)
    assert (
        f"{path}:6: tier: unknown tier 'nightly' (known tiers: critical, routine; add [schedule.tiers.nightly]" in error
    )


def test_a_name_taken_by_a_built_in_canary(tmp_path: Path) -> None:
    folder = tmp_path / "canaries"
    folder.mkdir()
    (folder / "prediction_gap.toml").write_text(EXAMPLE)
    (tmp_path / "canary.toml").write_text('[canaries]\npaths = ["canaries"]\n')
    with pytest.raises(
        ConfigError, match=r"two canaries are named 'prediction_gap': built-in and .*prediction_gap\.toml"
    ):
        load_config(tmp_path / "canary.toml", env={})


def config_with(tmp_path: Path, checkpoint: str) -> CanaryConfig:
    folder = tmp_path / "canaries"
    folder.mkdir(exist_ok=True)
    (folder / "games_final.toml").write_text(EXAMPLE)
    (tmp_path / "canary.toml").write_text(f'[canaries]\npaths = ["canaries"]\n[checkpoints.games_final]\n{checkpoint}')
    return load_config(tmp_path / "canary.toml", env={})


def test_settings_overrides_from_canary_toml(tmp_path: Path) -> None:
    config = config_with(tmp_path, 'max_not_final = 1\ntier = "critical"\ntables.schedule = "nba_raw.nbac_schedule"\n')
    canary = config.catalogue.get("games_final")
    settings = config.settings_for("games_final")
    assert [c.threshold.max for c in canary.checks(settings)] == [1.0]
    assert config.tier_of("games_final") == "critical" and "games_final" in config.names_in_tier("critical")
    assert str(canary.table_refs(config.pipeline, settings)["schedule"]) == "nba_raw.nbac_schedule"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("checkpoint", "message"),
    [
        ("max_not_final = 0.5\n", "checkpoints.games_final.max_not_final: must be an integer (got 0.5)"),
        ("max_not_finals = 1\n", "unknown key 'checkpoints.games_final.max_not_finals' (did you mean "
                                 "'checkpoints.games_final.max_not_final'?)"),
        ("zzz = 1\n", "unknown key 'checkpoints.games_final.zzz' (this canary's settings: max_not_final, tier, tables"),
        ('tables.sched = "a.b"\n', "checkpoints.games_final.tables.sched: unknown table (this canary reads: schedule)"),
        ('tables.schedule = "a b"\n', "checkpoints.games_final.tables.schedule: 'a b' is neither a configured table"),
    ],
)  # fmt: skip
def test_bad_overrides_name_the_key(tmp_path: Path, checkpoint: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_with(tmp_path, checkpoint)
    assert message in str(info.value) and str(tmp_path / "canary.toml") in str(info.value)


def test_bounded_params(tmp_path: Path) -> None:
    text = EXAMPLE.replace("max_not_final = 0", "[params.max_not_final]\ndefault = 0\nmin = 0\nmax = 5")
    text = text.replace("[params]\n", "")
    folder = tmp_path / "canaries"
    folder.mkdir()
    (folder / "games_final.toml").write_text(text)
    (tmp_path / "canary.toml").write_text(
        '[canaries]\npaths = ["canaries"]\n[checkpoints.games_final]\nmax_not_final = 9\n'
    )
    with pytest.raises(ConfigError, match=r"checkpoints.games_final.max_not_final: must be at most 5 \(got 9\)"):
        load_config(tmp_path / "canary.toml", env={})


def test_lines_of_keys_in_tables_arrays_and_multi_line_values() -> None:
    text = 'a = 1\n[t]\nb = """\nc = 2\n"""\n[[arr]]\nd = [\n  1,\n]\n[[arr]]\n"e.f" = { g = 1 }\nh.i = 2\n'
    lines = key_lines(text)
    assert lines[("a",)] == 1 and lines[("t", "b")] == 3 and ("t", "c") not in lines
    assert lines[("arr", 0)] == 6 and lines[("arr", 0, "d")] == 7 and lines[("arr", 1)] == 10
    assert lines[("arr", 1, "e.f")] == 11 and lines[("arr", 1, "h", "i")] == 12
    assert line_of(lines, ("arr", 1, "e.f", "g")) == 11 and line_of(lines, ("nope",)) == 1


def test_the_scaffold_is_valid_and_compiles(tmp_path: Path, make_config: Callable[..., CanaryConfig]) -> None:
    from pipeline_canary.canary_files.scaffold import render

    path = tmp_path / "active_predictions.toml"
    path.write_text(render("active_predictions"))
    canary = load_file(path)
    assert canary.compiled().metrics == ("active_predictions", "models")
    assert canary.run_on == ("game_days",) and canary.tier == "routine"


def test_due_by_is_pending_before_and_judged_after(
    tmp_path: Path, seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    """[calendar] due_by: before that time of the as-of day the canary is pending (no SQL sent), then judged."""
    import datetime as dt

    from pipeline_canary.checkpoints.runner import run_checkpoints
    from tests.conftest import AS_OF

    text = EXAMPLE.replace('run_on = ["days_after_game_days"]', 'run_on = ["days_after_game_days"]\ndue_by = "@due_by"')
    text = text.replace("max_not_final = 0", 'max_not_final = 0\ndue_by = "09:30"')
    folder = tmp_path / "canaries"
    folder.mkdir()
    (folder / "games_final.toml").write_text(text)
    config = make_config(seeded("healthy"), extra='[canaries]\npaths = ["canaries"]\n')
    early = dt.datetime(2026, 2, 8, 14, 29, tzinfo=dt.UTC)  # 09:29 in New York
    pending = run_checkpoints(config, ["games_final"], as_of=AS_OF, now=early, build_docs=False).get("games_final")
    assert pending.outcome.value == "skipped" and pending.due_at == dt.datetime(2026, 2, 8, 14, 30, tzinfo=dt.UTC)
    assert pending.message == (
        "pending: due by 09:30 America/New_York (14:30 UTC) on 2026-02-08; checked again then"
    )
    judged = run_checkpoints(config, ["games_final"], as_of=AS_OF, now=early + dt.timedelta(minutes=1))
    assert judged.get("games_final").outcome.value == "passed"

    files = '[canaries]\npaths = ["canaries"]\n[checkpoints.games_final]\n'
    later = make_config(seeded("healthy"), extra=files + 'due_by = "23:00"\n')
    still = run_checkpoints(later, ["games_final"], as_of=AS_OF, now=early + dt.timedelta(hours=3), build_docs=False)
    assert still.get("games_final").message.startswith("pending: due by 23:00")
    with pytest.raises(ConfigError, match=r"checkpoints.games_final.due_by: expected a local time"):
        make_config(seeded("healthy"), extra=files + 'due_by = "25:00"\n')
