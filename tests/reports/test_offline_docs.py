"""Acceptance: GX's Data Docs read in headless Chromium with every host but 127.0.0.1 unresolvable.

After a demo ``incident`` run, the GX index (opened from disk, as the CLI prints it, and served over
HTTP, as ``canary docs serve`` does) lists the validations, a validation page shows its failed
expectation's status icon in the vendored Font Awesome, and the "← Canary dashboard" link is the
element at its own centre point (GX's fixed footer covered it). No request leaves the machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.reports import Site, build_site
from pipeline_canary.reports.offline import external_assets
from pipeline_canary.reports.serve import serve_in_thread
from pipeline_canary.session import execute
from tests.conftest import AS_OF, NOW
from tests.reports.chromium import OFFLINE, Browser, artifacts_dir
from tests.reports.test_browser import ALL, chromium  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser
ROWS = "#section-1-content-block-2-1-body-table tbody tr.clickable-row"
ICON_FONT = """(async () => {
  await document.fonts.ready;
  return Array.from(document.fonts).filter(f => f.status === 'loaded').map(f => f.family);
})()"""
VISIBLE = """(selector => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  return {width: r.width, height: r.height, font: style.fontFamily,
          glyph: getComputedStyle(el, '::before').content, visibility: style.visibility};
})"""
AT_CENTRE = """(() => {
  const link = Array.from(document.querySelectorAll('#canary-backlink a'))
    .find(a => a.textContent.includes('Canary dashboard'));
  link.scrollIntoView({block: 'center'});
  const r = link.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {hit: hit ? hit.outerHTML.slice(0, 120) : null, ok: hit === link || link.contains(hit)};
})()"""


@pytest.fixture(scope="module")
def site(seeded: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Site:
    from pipeline_canary.config import load_config

    root = tmp_path_factory.mktemp("offline-docs")
    path = root / "canary.toml"
    path.write_text(
        f'[warehouse]\npath = "{seeded("incident")}"\n[gx]\nproject_dir = "{root / "gx"}"\n'
        f'[state]\npath = "{root / "state.sqlite"}"\n',
        encoding="utf-8",
    )
    config: CanaryConfig = load_config(path, env={})
    execute(config, as_of=AS_OF, now=NOW, build_docs=True)
    built = build_site(config)
    assert built.gx_index is not None
    return built


@pytest.fixture
def offline(chromium: str) -> Iterator[Browser]:  # noqa: F811
    instance = Browser(chromium, OFFLINE)
    try:
        yield instance
    finally:
        instance.close()


def test_no_page_loads_anything_from_the_internet(site: Site) -> None:
    pages = sorted((site.root / "local_site").rglob("*.html"))
    assert len(pages) >= 1 + 2 * len(ALL)  # the index, a suite page and a validation page per checkpoint
    assert {str(p): external_assets(p.read_text(encoding="utf-8")) for p in pages} == {str(p): [] for p in pages}


def _gx_pages(browser: Browser, index: str, allowed: tuple[str, ...], shots: str) -> None:
    browser.open(index)
    assert browser.errors() == []
    rows = browser.evaluate(f"Array.from(document.querySelectorAll('{ROWS}')).map(r => r.dataset.href)")
    assert rows, "the index lists no validations"
    assert {href.split("/")[1] for href in rows} == set(ALL)
    icon = browser.evaluate(VISIBLE + "('.ge-failed-icon')")
    assert icon["width"] > 0 and icon["height"] > 0 and icon["glyph"] not in ("none", "normal", ""), icon
    assert "Font Awesome 6 Free" in browser.evaluate(ICON_FONT)
    browser.screenshot(artifacts_dir() / f"gx-index-{shots}.png")
    assert all(url.startswith(allowed) for url in browser.requested()), browser.requested()

    page = next(href for href in rows if href.split("/")[1] == "prediction_gap")
    browser.open(index.rsplit("/", 1)[0] + "/" + page)
    assert browser.errors() == []
    text = browser.evaluate("document.body.innerText")
    assert "Data asset: prediction_gap_metrics" in text and "no_prediction_gap" in text  # named as the canary names it
    status = browser.evaluate(VISIBLE + "('i.fas.fa-times.text-danger')")
    assert status is not None and status["width"] > 0 and status["height"] > 0, status
    assert "Font Awesome" in status["font"]
    assert "Font Awesome 6 Free" in browser.evaluate(ICON_FONT)
    backlink = browser.evaluate(AT_CENTRE)
    assert backlink["ok"], f"the backlink is covered by {backlink['hit']}"
    browser.screenshot(artifacts_dir() / f"gx-validation-{shots}.png")
    assert all(url.startswith(allowed) for url in browser.requested()), browser.requested()


def test_gx_pages_from_disk_without_network(site: Site, offline: Browser) -> None:
    assert site.gx_index is not None
    _gx_pages(offline, site.gx_index.resolve().as_uri(), ("file://", "data:"), "file")


def test_gx_pages_served_without_network(site: Site, offline: Browser) -> None:
    server, url = serve_in_thread(site.root)
    try:
        _gx_pages(offline, url + "local_site/index.html", (url, "data:"), "http")
    finally:
        server.shutdown()
        server.server_close()
