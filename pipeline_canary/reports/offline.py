"""GX's Data Docs readable without the internet: its pages pointed at vendored copies of their assets.

GX 1.x renders every page with ``<link>`` and ``<script>`` tags to public CDNs (Bootstrap, jQuery,
bootstrap-table, Font Awesome, vega...): offline, or on a locked-down network, the index lists no
validations and the status icons are empty. ``localize(site)`` runs after each GX build. It copies
the vendored files (``gx_assets/``, written by ``scripts/vendor-gx-assets`` from the npm registry
and verified against its sha512 integrity; nothing is fetched at run time) into
``<site>/static/vendor/`` and rewrites each page to them with its own relative path. The copies are
byte for byte what the CDNs serve (the two tags GX gives an ``integrity`` hash match it), but the
hash and ``crossorigin`` go: a page opened from ``file://`` cannot make a CORS request. It also
points GX's logos (served from S3) at the copy GX ships in ``static/images`` and fixes the favicon
link that GX writes one folder too high on validation pages.

An external asset the manifest does not know (a GX upgrade) is left alone and logged once.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "gx_assets"
VENDOR = "static/vendor"  # inside GX's local_site, next to GX's own static files
LOGO = "static/images/logo-long.png"
FAVICON = "static/images/favicon.ico"
_GX_LOGOS = re.compile(
    r"https://great-expectations-web-assets\.s3[^'\")\s]*/(?:logo-long|full_logo_dark)\.png[^'\")\s]*"
)
_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
_URL_ATTR = re.compile(r"""\b(src|href)=(["'])(.*?)\2""", re.IGNORECASE)
_DROP_ATTRS = re.compile(r"""\s+(?:integrity|crossorigin)(?:=(["']).*?\1)?""", re.IGNORECASE)
_FAVICON = re.compile(r"""(<link\b[^>]*\bhref=["'])(?:\.\./|\./)*static/images/favicon\.ico(["'])""", re.IGNORECASE)
_warned: set[str] = set()


@functools.cache
def manifest() -> dict[str, str]:
    """CDN address -> vendored path (below ``gx_assets/`` and ``static/vendor/``)."""
    data = json.loads((ASSETS / "manifest.json").read_text(encoding="utf-8"))
    return dict(data["urls"])


@functools.cache
def vendored_files() -> tuple[str, ...]:
    data = json.loads((ASSETS / "manifest.json").read_text(encoding="utf-8"))
    return tuple(sorted(path for package in data["packages"].values() for path in package["files"]))


def localize(site: Path) -> int:
    """Copy the vendored assets into GX's ``site`` and rewrite its pages to them; returns pages changed."""
    if not site.is_dir():
        return 0
    copy_assets(site / VENDOR)
    changed = 0
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        up = Path(os.path.relpath(site, page.parent)).as_posix()
        new = rewrite(html, up)
        if new != html:
            _write(page, new)
            changed += 1
        _warn_external(page, new)
    return changed


def copy_assets(target: Path) -> None:
    """The vendored files under ``target``, copied only where missing or of another size."""
    for relative in vendored_files():
        source, dest = ASSETS / relative, target / relative
        if dest.is_file() and dest.stat().st_size == source.stat().st_size:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)


def rewrite(html: str, up: str) -> str:
    """``html`` of a page whose site root is ``up`` (``.``, ``..``, ``../../..``) with local assets."""
    urls = manifest()

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        found = _URL_ATTR.search(text)
        if found is None or found.group(3) not in urls:
            return text
        local = f"{up}/{VENDOR}/{urls[found.group(3)]}"
        text = text[: found.start(3)] + local + text[found.end(3) :]
        return _DROP_ATTRS.sub("", text)

    html = _TAG.sub(tag, html)
    html = _GX_LOGOS.sub(f"{up}/{LOGO}", html)
    return _FAVICON.sub(lambda m: f"{m.group(1)}{up}/{FAVICON}{m.group(2)}", html)


def external_assets(html: str) -> list[str]:
    """Addresses on the internet that ``html`` loads (scripts, styles, images, CSS ``url()``), not links."""
    found: list[str] = []
    for match in _TAG.finditer(html):
        attr = _URL_ATTR.search(match.group(0))
        if attr and attr.group(3).startswith(("http://", "https://")):
            found.append(attr.group(3))
    for style in re.finditer(r"<style\b[^>]*>(.*?)</style>", html, re.IGNORECASE | re.DOTALL):
        found += re.findall(r"""url\(\s*['"]?(https?://[^'")\s]+)""", style.group(1))
    return found


def _warn_external(page: Path, html: str) -> None:
    for url in external_assets(html):
        if url not in _warned:
            _warned.add(url)
            log.warning("GX page %s loads %s from the internet: add it to scripts/vendor-gx-assets", page, url)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
