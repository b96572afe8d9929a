"""Acceptance: headless Chromium on the served dashboard after a demo ``incident`` run.

The page loads with no console errors, shows the failing checkpoints as failing, every link resolves
(dashboard -> GX pages -> back), and a screenshot is saved under test-artifacts/.
"""

from __future__ import annotations

import os
import re
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.reports import build_site
from pipeline_canary.reports.serve import serve_in_thread
from pipeline_canary.session import execute
from tests.conftest import AS_OF, NOW
from tests.reports.chromium import Browser, artifacts_dir, find_chromium

pytestmark = pytest.mark.browser
ALL = ("prediction_gap", "feature_contamination", "schema_parity", "orphaned_staging_tables")
LINKS = "Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; scripts/test installs Debian's chromium with apt")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return found


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    instance = Browser(chromium)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def served(seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]) -> Iterator[str]:
    config = make_config(seeded("incident"))
    execute(config, as_of=AS_OF, now=NOW, build_docs=True)
    site = build_site(config)
    assert site.gx_index is not None
    server, url = serve_in_thread(site.root)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8", "replace")


def test_dashboard_in_headless_chromium(served: str, browser: Browser) -> None:
    browser.open(served + "index.html")
    assert browser.errors() == []
    failing = browser.evaluate(
        "Array.from(document.querySelectorAll('tr.checkpoint[data-outcome=failed]')).map(r => r.dataset.checkpoint)"
    )
    assert sorted(failing) == sorted(ALL)
    assert browser.evaluate("document.title") == "Canary dashboard: FAILED"
    assert browser.evaluate("document.querySelectorAll('svg.chart').length") == len(ALL)
    browser.screenshot(artifacts_dir() / "dashboard-incident.png")

    pages = {urldefrag(u)[0] for u in browser.evaluate(LINKS) if u.startswith(served)}
    checkpoint_pages = sorted(u for u in pages if "/checkpoints/" in u)
    assert len(checkpoint_pages) == len(ALL)
    for page in checkpoint_pages:
        browser.open(page)
        assert browser.errors() == [], page
        assert browser.evaluate("document.querySelector('section.summary').dataset.outcome") == "failed"
        pages |= {urldefrag(u)[0] for u in browser.evaluate(LINKS) if u.startswith(served)}
    browser.screenshot(artifacts_dir() / "checkpoint-incident.png")

    gx_validations = [u for u in pages if "/local_site/validations/" in u]
    assert len(gx_validations) == len(ALL), "each checkpoint page links its run's GX validation page"
    assert served + "local_site/index.html" in pages
    for url in sorted(pages):
        status, body = fetch(url)  # urllib raises on 404
        assert status == 200, url
        if "/local_site/" in url and url.endswith(".html"):
            back = re.search(r'id="canary-backlink".*?</div>', body, re.DOTALL)
            assert back, f"no link back to the dashboard on {url}"
            targets = [urljoin(url, h) for h in re.findall(r'href="([^"]+)"', back.group(0))]
            assert served + "index.html" in targets
            for target in targets:
                assert fetch(target)[0] == 200, (url, target)


EVIDENCE_LINES = (
    "Array.from(document.querySelectorAll('#evidence .evidence-table.explains')).map(t => [t.dataset.table,"
    " t.dataset.total, t.querySelector('h3').innerText, Array.from(t.querySelectorAll('li')).map(li => li.innerText),"
    " t.getBoundingClientRect().height > 0])"
)


def test_evidence_read_from_the_rendered_pages(served: str, browser: Browser) -> None:
    """Issue 15: the dashboard and GX's pages name the games, the missing columns and the orphaned tables."""
    browser.open(served + "checkpoints/prediction_gap.html")
    assert browser.errors() == []
    [(table, total, header, lines, visible)] = browser.evaluate(EVIDENCE_LINES)
    assert (table, total, visible) == ("games_without_predictions", "7", True)
    assert header.startswith("games without predictions 7")
    assert len(lines) == 7 and all(
        re.fullmatch(r"20260208_[A-Z]{3}_[A-Z]{3} \(\d{10}\): 0 active predictions", x) for x in lines
    )
    past = "Array.from(document.querySelectorAll('td.past-evidence details')).map(d => (d.open = true, d.innerText))"
    assert any(lines[0] in text for text in browser.evaluate(past)), "the run in the history table names it too"
    browser.screenshot(artifacts_dir() / "evidence-prediction-gap.png")

    browser.open(served + "checkpoints/schema_parity.html")
    tables = {t[0]: t for t in browser.evaluate(EVIDENCE_LINES)}
    assert tables["differences"][3] == [
        "missing column: vegas_line_source (STRING)",
        "missing column: required_default_count (INT64)",
    ]
    gx_page = browser.evaluate("document.querySelector('a.gx-link').href")

    browser.open(served + "checkpoints/orphaned_staging_tables.html")
    [(table, total, header, lines, visible)] = browser.evaluate(EVIDENCE_LINES)
    assert (table, total, visible) == ("orphaned_tables", "668", True) and "first 20 of 668" in header
    assert len(lines) == 21 and lines[-1] == "… and 648 more"
    orphan = re.compile(r"orphaned: nba_predictions\._staging_\S+ \(created [\d-]+ [\d:]+ UTC, [\d.]+ (h|days) old\)")
    assert all(orphan.fullmatch(x) for x in lines[:20])

    browser.open(gx_page)  # GX's validation page of the run (its CDN assets are unreachable here)
    text = browser.evaluate("document.body.innerText")
    assert "Evidence: differences (2)" in text and "missing column: vegas_line_source (STRING)" in text


def test_one_missing_game_is_named_on_the_rendered_page(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig], browser: Browser
) -> None:
    config = make_config(seeded("missing-game"))
    result = execute(config, ["prediction_gap"], as_of=AS_OF, now=NOW, alert=False)
    [game] = result.get("prediction_gap").evidence["games_without_predictions"]
    site = build_site(config, build_gx=False)
    server, url = serve_in_thread(site.root)
    try:
        browser.open(url + "checkpoints/prediction_gap.html")
        assert browser.errors() == []
        assert browser.evaluate("document.querySelector('section.summary').dataset.outcome") == "warned"
        [(table, total, _, lines, visible)] = browser.evaluate(EVIDENCE_LINES)
    finally:
        server.shutdown()
        server.server_close()
    assert (table, total, visible) == ("games_without_predictions", "1", True)
    assert lines == [f"{game['game_key']} ({game['schedule_game_id']}): 0 active predictions"]
