"""The checkpoint page names what broke: the latest run's evidence, and what broke in each past run.

However long the history and however big each run's evidence, the page stays bounded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from html import unescape

from pipeline_canary.config import CanaryConfig
from pipeline_canary.reports import build_site
from pipeline_canary.reports.data import HISTORY_SHOWN, PAST_LINES
from pipeline_canary.results import CheckpointResult, CheckResult, EvidenceTable, Outcome, RunResult, Threshold
from pipeline_canary.state import open_state
from pipeline_canary.state.history import record_run

NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)


def game(key: str, active: int = 0) -> dict[str, object]:
    return {"game_key": key, "schedule_game_id": f"00225{abs(hash(key)) % 100000:05d}", "active_predictions": active}


def gap_run(now: dt.datetime, missing: list[str], *, rows: int = 20, total: int | None = None) -> RunResult:
    outcome = Outcome.WARNED if missing else Outcome.PASSED
    checks = (
        CheckResult("no_prediction_gap", Outcome.PASSED, "gap_detected = 0", 0, Threshold(max=0), "gap_detected",
                    ("games_without_predictions",)),
        CheckResult("every_game_covered", outcome, f"games_without_predictions = {len(missing)}", len(missing),
                    Threshold(max=0, level="warn"), "games_without_predictions", ("games_without_predictions",)),
    )  # fmt: skip
    games = [game(k) for k in missing]
    cp = CheckpointResult(
        "prediction_gap",
        outcome,
        checks,
        message=f"{len(missing)} of 10 games due have no active predictions",
        metrics={"games_without_predictions": len(missing), "gap_detected": 0},
        evidence={
            "games_without_predictions": EvidenceTable.of(games, rows, total=total),
            "games": EvidenceTable.of([*games, game("20260208_BOS_NYK", 600)], rows),
        },
    )
    return RunResult(run_id=f"r{now:%Y%m%dT%H%M%S}", as_of=now.date(), now=now, checkpoints=(cp,))


def test_the_page_shows_the_latest_evidence_and_what_broke_in_past_runs(
    report_config: Callable[..., CanaryConfig],
) -> None:
    config = report_config()
    state = open_state(config)
    record_run(state, gap_run(NOW - dt.timedelta(hours=2), ["20260208_LAL_GSW"]))
    record_run(state, gap_run(NOW - dt.timedelta(hours=1), []))
    record_run(state, gap_run(NOW, ["20260208_DEN_BOS", "20260208_ATL_PHX"]))
    page = unescape(build_site(config, build_gx=False).checkpoints["prediction_gap"].read_text())

    evidence = page[page.index('<section class="evidence"') : page.index("</section>", page.index('class="evidence"'))]
    latest = game("20260208_DEN_BOS")
    assert f"<li>20260208_DEN_BOS ({latest['schedule_game_id']}): 0 active predictions</li>" in evidence
    assert "games without predictions" in evidence and "what broke" in evidence
    assert re.search(r"<details class=\"other-evidence\"><summary>Other evidence: games \(3\)", evidence)
    past = game("20260208_LAL_GSW")
    history = page[page.index("<h2>History") :]
    rows = re.findall(r'<tr data-outcome="(\w+)".*?</tr>', history, re.S)
    assert rows == ["warned", "passed", "warned"]
    assert f"20260208_LAL_GSW ({past['schedule_game_id']}): 0 active predictions" in history  # a past run
    assert history.count('<td class="past-evidence"><details>') == 2  # the passing run broke nothing


def test_long_histories_of_big_evidence_keep_the_page_small(report_config: Callable[..., CanaryConfig]) -> None:
    config = report_config("[evidence]\nrows = 1000\n")
    state = open_state(config)
    keys = [f"20260208_T{i:03d}_{'X' * 150}" for i in range(1000)]  # long names: lines are cut at 200
    for i in range(3 * HISTORY_SHOWN):
        record_run(state, gap_run(NOW - dt.timedelta(minutes=15 * i), keys, rows=1000, total=5000))
    site = build_site(config, build_gx=False)
    page = site.checkpoints["prediction_gap"].read_text()
    assert len(page.encode()) < 400_000, len(page)  # ~190 KB for 150 runs of 2 x 1000 rows, not 150 x 400 KB
    history = page[page.index("<h2>History") :]
    assert history.count('<td class="past-evidence">') == HISTORY_SHOWN
    first_past = history[history.index('<td class="past-evidence">') : history.index("</td>", history.index("past-"))]
    assert first_past.count("<li>") == PAST_LINES and "… and 4990 more" in first_past
    assert state.path.stat().st_size < 8 * 1024 * 1024
