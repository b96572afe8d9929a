"""The README's worked example, read from the README itself (the test follows what users read)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from pipeline_canary.cli import main

REPO = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"<!-- worked-example: (?P<path>\S+) -->\n```toml\n(?P<text>.*?)\n```", re.DOTALL)
# The day before the demo's as-of date (tests.conftest.AS_OF): its games are final in the demo.
YESTERDAY = dt.date(2026, 2, 7)


def worked_example() -> tuple[str, str]:
    """(path relative to canary.toml, file text) of the worked example in README.md."""
    match = _BLOCK.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its worked example (<!-- worked-example: PATH --> before a toml block)"
    return match.group("path"), match.group("text") + "\n"


def write_example(root: Path) -> Path:
    relative, text = worked_example()
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def unfinish_games(warehouse: Path, count: int = 2) -> list[str]:
    """Set ``count`` of YESTERDAY's games back to in progress (status 2) in a demo copy; their ids."""
    import duckdb

    with duckdb.connect(str(warehouse)) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT game_id FROM nba_reference.nba_schedule WHERE game_date = ? ORDER BY game_id LIMIT ?",
                [YESTERDAY, count],
            ).fetchall()
        ]
        conn.execute(
            "UPDATE nba_reference.nba_schedule SET game_status = 2 WHERE game_date = ? AND list_contains(?, game_id)",
            [YESTERDAY, ids],
        )
    return ids


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the CLI in this process: (exit code, stdout + stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return int(exit_info.value.code or 0), out.out + out.err
