"""The vendored Data Docs assets: intact, complete for the installed GX, in the wheel, and the page rewrite."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline_canary.reports import offline

REPO = Path(__file__).resolve().parents[2]
GX_SPEC = importlib.util.find_spec("great_expectations")  # found, not imported (3 s)
assert GX_SPEC is not None and GX_SPEC.origin is not None
GX_TEMPLATES = Path(GX_SPEC.origin).parent / "render" / "view" / "templates"
PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js"
 integrity="sha384-x" crossorigin="anonymous"></script>
<link rel="shortcut icon" href="../../../static/images/favicon.ico" type="image/x-icon"/>
<style>.navbar-brand a {
  background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') }</style>
</head><body><img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=2">
<a href="https://greatexpectations.io">Great Expectations</a></body></html>"""


def test_vendored_files_match_the_manifest() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "vendor-gx-assets"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "11 packages" in done.stderr
    for package in json.loads((offline.ASSETS / "manifest.json").read_text())["packages"]:
        folder = offline.ASSETS / package.rsplit("@", 1)[0].split("/")[-1] / package.rsplit("@", 1)[1]
        assert [p.name for p in folder.iterdir() if p.name.upper().startswith("LICEN")], f"{package} has no licence"


def test_every_asset_gx_pages_load_is_vendored() -> None:
    """Each CDN address in the installed GX's page templates has a local copy (a GX upgrade shows here)."""
    manifest = offline.manifest()
    templates = sorted(GX_TEMPLATES.rglob("*.j2"))
    assert templates
    loaded = {url for t in templates for url in offline.external_assets(t.read_text(encoding="utf-8"))}
    missing = {url for url in loaded if url not in manifest and not offline._GX_LOGOS.match(url)}
    assert missing == set(), "run scripts/vendor-gx-assets with these added"
    assert len(loaded & manifest.keys()) >= 15
    # Where GX pins a file by its hash, the vendored copy is that very file.
    for template in templates:
        for tag in re.findall(r"<script\b[^>]*\bintegrity=[^>]*>", template.read_text(encoding="utf-8")):
            url = re.search(r'src="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
            pinned = re.search(r'integrity="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
            data = (offline.ASSETS / manifest[url]).read_bytes()
            assert "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode() == pinned, url


def test_rewrite_points_a_deep_page_at_the_local_copies() -> None:
    html = offline.rewrite(PAGE, "../../../..")
    assert offline.external_assets(html) == []
    assert 'href="../../../../static/vendor/bootstrap/4.3.1/css/bootstrap.min.css"' in html
    assert '<script src="../../../../static/vendor/bootstrap/4.3.1/js/bootstrap.min.js"></script>' in html  # no hash
    assert 'href="../../../../static/images/favicon.ico"' in html  # GX wrote one folder too few
    assert "url('../../../../static/images/logo-long.png')" in html
    assert '<img src="../../../../static/images/logo-long.png">' in html
    assert '<a href="https://greatexpectations.io">' in html  # links stay: following one is the reader's choice
    assert offline.rewrite(html, "../../../..") == html


def test_localize_copies_the_assets_once_and_rewrites_each_page_by_its_depth(tmp_path: Path) -> None:
    site = tmp_path / "local_site"
    deep = site / "validations" / "cp" / "run" / "time" / "batch.html"
    deep.parent.mkdir(parents=True)
    deep.write_text(PAGE, encoding="utf-8")
    (site / "index.html").write_text(PAGE.replace("../../../static", "./static"), encoding="utf-8")
    assert offline.localize(site) == 2
    assert 'href="./static/vendor/bootstrap/4.3.1/css/bootstrap.min.css"' in (site / "index.html").read_text()
    assert 'href="../../../../static/images/favicon.ico"' in deep.read_text()
    for relative in offline.vendored_files():
        assert (site / offline.VENDOR / relative).read_bytes() == (offline.ASSETS / relative).read_bytes()
    assert offline.localize(site) == 0


def test_the_wheel_ships_the_vendored_assets(tmp_path: Path) -> None:
    hatchling = pytest.importorskip("hatchling.builders.wheel")
    wheel = next(iter(hatchling.WheelBuilder(str(REPO)).build(directory=str(tmp_path), versions=["standard"])))
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"pipeline_canary/reports/gx_assets/{p}" for p in offline.vendored_files()}
    assert wanted - names == set()
    assert "pipeline_canary/reports/gx_assets/manifest.json" in names
