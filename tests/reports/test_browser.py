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
