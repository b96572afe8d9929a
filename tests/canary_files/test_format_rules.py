"""The format's rules between parameters, windows before the as-of date, check descriptions and evidence
lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_canary.canary_files import FileCanary
from pipeline_canary.config import load_config
from pipeline_canary.errors import ConfigError
from tests.canary_files.example import worked_example
from tests.canary_files.test_format import line_with, problems

EXAMPLE = worked_example()[1]
# The worked example with a warn line that must stay at or below its fail line.
ORDERED = EXAMPLE.replace(
    "[params]\nmax_not_final = 0\n",
    '[params]\nmax_not_final = 2\n[params.warn_not_final]\ndefault = 1\nmin = 0\nat_most = "@max_not_final"\n',
).replace(
    'description = "every game of the day before is final"\n',
    'description = "at most {max_not_final} games of the day before are not final"\n'
    'evidence = ["games_not_final"]\n\n'
    '[[checks]]\nname = "all_final_warn"\nmetric = "games_not_final"\nmax = "@warn_not_final"\nlevel = "warn"\n'
    'description = "at most {warn_not_final} games not final"\n',
)


def write(tmp_path: Path, text: str, checkpoint: str = "") -> Path:
    folder = tmp_path / "canaries"
    folder.mkdir(exist_ok=True)
    (folder / "games_final.toml").write_text(text, encoding="utf-8")
    config = tmp_path / "canary.toml"
    config.write_text(f'[canaries]\npaths = ["canaries"]\n[checkpoints.games_final]\n{checkpoint}', encoding="utf-8")
    return config


def test_an_ordering_rule_holds_for_every_configured_value(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ORDERED, "max_not_final = 4\nwarn_not_final = 4\n"), env={})
    canary = config.catalogue.get("games_final")
    checks = canary.checks(config.settings_for("games_final"))
    assert [(c.threshold.max, c.threshold.level) for c in checks] == [(4.0, "fail"), (4.0, "warn")]
    for overrides, message in [
        ("warn_not_final = 3\n", "In [checkpoints.games_final], warn_not_final (3) must not exceed max_not_final (2)"),
        ("max_not_final = 0\n", "In [checkpoints.games_final], warn_not_final (1) must not exceed max_not_final (0)"),
    ]:
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, ORDERED, overrides), env={})
        assert message in str(info.value)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('at_most = "@max_not_finl"', "params.warn_not_final.at_most: @max_not_finl is not declared in [params]"),
        ('at_most = "max_not_final"', "params.warn_not_final.at_most: 'max_not_final' is not \"@param\""),
        ('at_most = "@warn_not_final"', "params.warn_not_final.at_most: a parameter is not ordered against itself"),
        ('at_least = "@max_not_final"', "params.warn_not_final.at_least: the defaults break the rule: "
                                        "warn_not_final (1) must not be below max_not_final (2)"),
    ],
)  # fmt: skip
def test_a_bad_ordering_rule_names_its_key(tmp_path: Path, rule: str, message: str) -> None:
    path, text = problems(tmp_path, ORDERED.replace('at_most = "@max_not_final"', rule), compile_sql=False)
    assert f"{path}:" in text and message in text


def test_check_descriptions_fill_in_parameters_and_name_their_evidence(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ORDERED, "max_not_final = 3\n"), env={})
    canary = config.catalogue.get("games_final")
    checks = canary.checks(config.settings_for("games_final"))
    assert [c.description for c in checks] == [
        "at most 3 games of the day before are not final",
        "at most 1 games not final",
    ]
    assert [c.evidence for c in checks] == [("games_not_final",), ()]
    path, text = problems(tmp_path, ORDERED.replace("at most {max_not_final}", "at most {max_not_finl}"))
    assert f"{path}:{line_with(ORDERED, 'at most {max_not_final}')}: checks[0].description: " in text
    assert "{max_not_finl} is not a parameter (max_not_final, warn_not_final)" in text
    path, text = problems(tmp_path, ORDERED.replace('evidence = ["games_not_final"]', 'evidence = ["games"]'))
    assert "checks[0].evidence[0]: 'games' is not an [[evidence]] name (games_not_final)" in text


def test_an_evidence_line_words_each_row(tmp_path: Path) -> None:
    text = EXAMPLE.replace(
        'name = "games_not_final"\n', 'name = "games_not_final"\nline = "{game_id}: status {game_status}"\n'
    )
    config = load_config(write(tmp_path, text), env={})
    canary = config.catalogue.get("games_final")
    config.catalogue.compile()
    assert (
        canary.evidence_line("games_not_final", {"game_id": "0022500861", "game_status": 2}) == "0022500861: status 2"
    )
    assert canary.evidence_line("games_not_final", {"game_id": "x", "game_status": None}) == "x: status NULL"
    assert canary.evidence_line("other", {"a": 1}) == "a=1"  # a table without a line: key=value
    path, said = problems(tmp_path, text.replace("status {game_status}", "status {status}"))
    assert f"{path}:" in said
    assert "evidence[0].line: {status} is not a column of the evidence query (game_id, game_status)" in said
    unnamed = text.replace("MAX(game_status) AS game_status\nFROM", "MAX(game_status)\nFROM")
    path, said = problems(tmp_path, unnamed)
    assert "evidence[0].sql: column 2 (MAX(game_status)) has no name" in said


def test_a_window_before_the_as_of_date_from_a_parameter(tmp_path: Path) -> None:
    import datetime as dt

    from pipeline_canary.canaries.base import CheckContext

    text = EXAMPLE.replace("[params]\n", '[window]\nstart_days = "-@days"\n\n[params]\ndays = 3\n')
    config = load_config(write(tmp_path, text, "days = 5\n"), env={})
    canary = config.catalogue.get("games_final")
    assert isinstance(canary, FileCanary)
    ctx = CheckContext(warehouse=None, pipeline=config.pipeline, as_of=dt.date(2026, 2, 8), now=dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
    params = canary.run_params(ctx, config.settings_for("games_final"))
    assert params["window_start"] == dt.date(2026, 2, 3) and params["window_end"] == dt.date(2026, 2, 8)
    _, said = problems(tmp_path, text.replace('"-@days"', '"-@dayz"'), compile_sql=False)
    assert "window.start_days: @dayz is not declared in [params] (@days, @max_not_final)" in said
