"""The dashboard from run history alone: status, streaks, escaping, retention, bounded window, links."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from pipeline_canary.config import CanaryConfig
from pipeline_canary.reports import build_site
from pipeline_canary.reports.data import WINDOW_DAYS
from pipeline_canary.state import open_state
from pipeline_canary.state.history import history, record_run
from tests.reports.conftest import run_result

NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)


def hours_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=n)


def status(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr class="checkpoint" data-checkpoint="(\w+)" data-outcome="([\w ]+)"', html))


def test_status_shows_failing_checkpoints_and_since_when(report_config: Callable[..., CanaryConfig]) -> None:
    config = report_config()
    state = open_state(config)
    for h, failing in ((72, ()), (48, ("prediction_gap",)), (24, ("prediction_gap", "schema_parity")), (0, ())):
        record_run(state, run_result(hours_ago(h), failing))
    record_run(state, run_result(NOW, ("prediction_gap", "schema_parity")))  # replaces the passing run at NOW
    site = build_site(config, build_gx=False)
    html = site.index.read_text()
    assert status(html) == {
        "prediction_gap": "failed",
        "feature_contamination": "passed",
        "schema_parity": "failed",
        "orphaned_staging_tables": "passed",
    }
    assert "<title>Canary dashboard: FAILED</title>" in html
    page = site.checkpoints["prediction_gap"].read_text()
    assert f"failed since {hours_ago(48):%Y-%m-%d %H:%M} UTC" in page
    assert "Runbook" in page and "no_prediction_gap" in page and "&lt;= 0" in page  # thresholds, escaped
    assert page.count('data-outcome="failed"') >= 3  # history rows
    assert "<svg" in page and "<svg" in html  # inline charts, no scripts, no CDN
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)


def test_everything_from_history_is_escaped(report_config: Callable[..., CanaryConfig]) -> None:
    config = report_config()
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    record_run(open_state(config), run_result(NOW, ("schema_parity",), messages={"schema_parity": evil}))
    site = build_site(config, build_gx=False)
    for page in (site.index, site.checkpoints["schema_parity"]):
        text = page.read_text()
        assert "<script>" not in text and "<img" not in text
        assert "&lt;script&gt;" in text


def test_retention_prunes_runs_older_than_the_newest_minus_retention(
    report_config: Callable[..., CanaryConfig],
) -> None:
    config = report_config("retention_days = 10\n")
    state = open_state(config)
    for days in (30, 11, 9, 0):
        record_run(state, run_result(NOW - dt.timedelta(days=days)))
    site = build_site(config, build_gx=False)
    assert site.pruned_runs == 2
    assert sorted({r.run_id for r in history(state)}) == sorted(
        (NOW - dt.timedelta(days=d)).strftime("%Y%m%dT%H%M%SZ") for d in (9, 0)
    )


def test_window_is_bounded_but_status_survives_a_quiet_month(report_config: Callable[..., CanaryConfig]) -> None:
    config = report_config()
    old = NOW - dt.timedelta(days=WINDOW_DAYS + 5)
    record_run(open_state(config), run_result(old, ("feature_contamination",)))
    site = build_site(config, build_gx=False, now=NOW)
    assert status(site.index.read_text())["feature_contamination"] == "failed"
    page = site.checkpoints["feature_contamination"].read_text()
    assert "no data in the window" in page


def test_failure_streaks_stand_in_for_incidents_when_alerting_is_off(
    report_config: Callable[..., CanaryConfig],
) -> None:
    config = report_config("[alerting]\nenabled = false\n")
    state = open_state(config)
    for h, failing in ((5, ()), (4, ("orphaned_staging_tables",)), (3, ("orphaned_staging_tables",)), (2, ())):
        record_run(state, run_result(hours_ago(h), failing))
    html = build_site(config, build_gx=False).index.read_text()
    assert "alerting not configured" in html
    streak = re.search(r"orphaned_staging_tables</a></td>\s*<td><span class=\"badge failed\">FAILED</span></td>", html)
    assert streak, "the resolved orphaned-staging streak is listed"


def test_gx_links_only_to_pages_that_exist_and_pages_link_back(
    report_config: Callable[..., CanaryConfig], tmp_path: Path
) -> None:
    config = report_config()
    site_dir = config.gx.project_dir / "uncommitted" / "data_docs" / "local_site"
    page = site_dir / "validations" / "prediction_gap" / "run1" / "20260208T230000.000000Z" / "batch.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html><body><h1>GX</h1></body></html>")
    (site_dir / "index.html").write_text("<html><body class='x'>GX index</body></html>")
    docs = {"prediction_gap": str(page), "schema_parity": str(site_dir / "validations" / "gone.html")}
    record_run(open_state(config), run_result(NOW, ("prediction_gap",), docs=docs))
    for out in (None, tmp_path / "exported"):
        site = build_site(config, build_gx=False, out=out)
        cp_page = site.checkpoints["prediction_gap"].read_text()
        hrefs = re.findall(r'class="gx-link" href="([^"]+)"', cp_page)
        assert hrefs == ["../local_site/validations/prediction_gap/run1/20260208T230000.000000Z/batch.html"]
        assert (site.checkpoints["prediction_gap"].parent / hrefs[0]).resolve().is_file()
        assert 'class="gx-link"' not in site.checkpoints["schema_parity"].read_text()
        gx_page = (site.root / "local_site" / hrefs[0].removeprefix("../local_site/")).read_text()
        assert 'href="../../../../../index.html"' in gx_page
        assert 'href="../../../../../checkpoints/prediction_gap.html"' in gx_page
        assert gx_page.count("canary-backlink") == 1
        assert 'href="../index.html"' in (site.root / "local_site" / "index.html").read_text()
        assert 'href="local_site/index.html"' in site.index.read_text()
    build_site(config, build_gx=False)
    assert page.read_text().count("canary-backlink") == 1  # idempotent


def test_docs_build_command(report_config: Callable[..., CanaryConfig], tmp_path: Path) -> None:
    import json

    from pipeline_canary.cli import cli

    config = report_config()
    record_run(open_state(config), run_result(NOW, ("prediction_gap",)))
    out = tmp_path / "site"
    result = CliRunner().invoke(
        cli, ["docs", "build", "--config", str(config.source), "--out", str(out), "--no-gx", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["dashboard"] == str(out.resolve() / "index.html")
    assert (out / "checkpoints" / "prediction_gap.html").is_file() and (out / "canary.css").is_file()


def test_streaks_and_since_are_computed_in_sql(report_config: Callable[..., CanaryConfig]) -> None:
    from pipeline_canary.reports._queries import episodes, streak_start

    config = report_config()
    state = open_state(config)
    pattern = ["p", "f", "f", "p", "p", "f", "p", "f", "f", "f"]  # oldest first; the last streak is ongoing
    for i, mark in enumerate(pattern):
        failing = ("schema_parity",) if mark == "f" else ()
        record_run(state, run_result(hours_ago(len(pattern) - 1 - i), failing))
    start = NOW - dt.timedelta(days=WINDOW_DAYS)
    found = episodes(state, "schema_parity", start)
    assert [(e.runs, e.resolved_at) for e in found] == [
        (3, None),
        (1, hours_ago(3)),
        (2, hours_ago(6)),
    ]
    assert found[0].opened_at == hours_ago(2) and found[0].outcome == "failed"
    assert streak_start(state, "schema_parity", "failed", start) == (hours_ago(2), False)
    assert streak_start(state, "prediction_gap", "passed", start) == (hours_ago(9), False)
    assert streak_start(state, "prediction_gap", "passed", hours_ago(5)) == (hours_ago(5), True)
    assert episodes(state, "prediction_gap", start) == []


def test_a_pending_checkpoint_shows_as_skipped_with_its_due_time(report_config: Callable[..., CanaryConfig]) -> None:
    from dataclasses import replace

    from pipeline_canary.results import CheckpointResult

    config = report_config()
    state = open_state(config)
    message = "pending: predictions due by 10:00 America/New_York (15:00 UTC); checked again then"
    due = dt.datetime(2026, 2, 9, 15, 0, tzinfo=dt.UTC)
    run = run_result(NOW + dt.timedelta(hours=1))
    pending = CheckpointResult.skipped("prediction_gap", message, due_at=due)
    record_run(state, replace(run, checkpoints=(pending, *run.checkpoints[1:])))
    (row,) = history(state, "prediction_gap", limit=1)
    assert row.outcome.value == "skipped" and row.message == message
    site = build_site(config, build_gx=False)
    html = site.index.read_text()
    assert status(html)["prediction_gap"] == "skipped" and message in html
    assert message in site.checkpoints["prediction_gap"].read_text()
