"""The canary dashboard: jinja2 pages next to the GX Data Docs, linked both ways.

Layout of a site (``<gx>/uncommitted/data_docs/`` unless ``--out`` says otherwise)::

    index.html               status of every checkpoint and check, incidents, 30-day trends
    checkpoints/<name>.html  history, thresholds, runbook, links to each run's GX validation page
    canary.css
    local_site/              GX's own Data Docs (each linked page gets a link back here)
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import shutil
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline_canary.results import Outcome, rollup

if TYPE_CHECKING:
    from jinja2 import Environment

    from pipeline_canary.config import CanaryConfig

log = logging.getLogger(__name__)

BACKLINK_MARK = "canary-backlink"
_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)
_BANNER = re.compile(rf'<div id="{BACKLINK_MARK}"[^>]*>.*?</div>', re.DOTALL)


@dataclass(frozen=True)
class Site:
    index: Path
    root: Path
    gx_index: Path | None
    checkpoints: dict[str, Path]
    pruned_runs: int


def docs_root(config: CanaryConfig) -> Path:
    """Where GX writes its Data Docs; the dashboard goes next to ``local_site/``."""
    return config.gx.project_dir / "uncommitted" / "data_docs"


def build_site(
    config: CanaryConfig,
    *,
    out: Path | None = None,
    now: dt.datetime | None = None,
    build_gx: bool = True,
) -> Site:
    """Apply retention, build GX's Data Docs (bounded), render the dashboard; return where it is.

    ``now`` anchors the 30-day window and retention; by default it is the newest run's time, so a
    replayed or paused history is never emptied by the wall clock.
    """
    from pipeline_canary.reports import _queries, data
    from pipeline_canary.state import open_state
    from pipeline_canary.state.history import apply_retention, latest_run_time

    state = open_state(config)
    anchor = now or latest_run_time(state) or dt.datetime.now(dt.UTC)
    pruned = apply_retention(state, config.state.retention_days, anchor=anchor)
    if build_gx:
        _build_gx(config)
    gx_site = docs_root(config) / "local_site"
    root = (out or docs_root(config)).resolve()
    if root != docs_root(config).resolve() and gx_site.is_dir():
        _sync_tree(gx_site, root / "local_site")
    views = [
        data.checkpoint_view(state, c, config.settings_for(c.name), anchor=anchor, gx_site=gx_site.resolve())
        for c in config.catalogue.all()
    ]
    incidents, incidents_note = data.incidents(state, config)
    episodes = sorted((e for v in views for e in v.episodes), key=lambda e: e.opened_at, reverse=True)
    ran = [Outcome(v.outcome) for v in views if v.outcome != "never run"]
    context: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC),
        "anchor": anchor,
        "window_days": data.WINDOW_DAYS,
        "window_start": anchor - dt.timedelta(days=data.WINDOW_DAYS),
        "overall": rollup(ran).value if ran else "never run",
        "checkpoints": views,
        "incidents": incidents,
        "open_incidents": [i for i in incidents or [] if i.status == "open"],
        "incidents_note": incidents_note,
        "episodes": episodes[:20],
        "runs": _queries.recent_runs(state, data.RUNS_SHOWN),
        "has_gx": (root / "local_site" / "index.html").is_file(),
        "retention_days": config.state.retention_days,
    }
    env = _environment()
    root.mkdir(parents=True, exist_ok=True)
    _write(root / "canary.css", (Path(__file__).parent / "templates" / "dashboard.css").read_text(encoding="utf-8"))
    _write(root / "index.html", env.get_template("index.j2").render(**context, base=""))
    pages: dict[str, Path] = {}
    for view in views:
        page = root / "checkpoints" / f"{view.name}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        _write(page, env.get_template("checkpoint.j2").render(**context, cp=view, base="../"))
        pages[view.name] = page
    _add_backlinks(root, views)
    gx_index = root / "local_site" / "index.html"
    return Site(root / "index.html", root, gx_index if gx_index.is_file() else None, pages, pruned)


def _build_gx(config: CanaryConfig) -> None:
    from pipeline_canary.checkpoints.runner import gx_project

    try:
        gx_project(config).build_docs()
    except Exception:  # the dashboard is still worth having without GX's pages
        log.exception("building GX Data Docs failed")


@functools.cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("pipeline_canary.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ts"] = lambda t: t.strftime("%Y-%m-%d %H:%M UTC") if t else "—"
    env.filters["num"] = _num
    env.filters["size"] = _size
    return env


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def _write(path: Path, text: str) -> None:
    """Write atomically, so a page being served is never half-written."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _sync_tree(src: Path, dst: Path) -> None:
    """Copy GX's site into ``dst``, skipping files that are already there unchanged."""
    for path in src.rglob("*"):
        if path.is_dir():
            continue
        target = dst / path.relative_to(src)
        stat = path.stat()
        if target.exists() and target.stat().st_size == stat.st_size and target.stat().st_mtime >= stat.st_mtime:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _add_backlinks(root: Path, views: list[Any]) -> None:
    """Give GX's index, suite pages and every validation page we link to a link back to the dashboard."""
    site = root / "local_site"
    if not site.is_dir():
        return
    pages: dict[Path, str | None] = {site / "index.html": None}
    for view in views:
        pages[site / "expectations" / f"{view.name}.html"] = view.name
        for row in view.history:
            if row.gx_href:
                pages[root / row.gx_href] = view.name
    for page, checkpoint in pages.items():
        if page.is_file():
            _inject(page, root, checkpoint)


def _inject(page: Path, root: Path, checkpoint: str | None) -> None:
    html = page.read_text(encoding="utf-8")
    match = _BODY.search(html)
    if match is None:
        return
    up = escape(Path(os.path.relpath(root, page.parent)).as_posix())
    links = [f'<a href="{up}/index.html">&larr; Canary dashboard</a>']
    if checkpoint:
        name = escape(checkpoint)
        links.append(f'<a href="{up}/checkpoints/{name}.html">{name} history</a>')
    # Above GX's fixed footer (32 px high, z-index 100000), which covered it at bottom:10px/z-index 5000.
    banner = (
        f'<div id="{BACKLINK_MARK}" style="position:fixed;bottom:42px;right:10px;z-index:2147483647;'
        'background:#fff;border:1px solid #8c959f;border-radius:6px;padding:6px 10px;font:14px sans-serif">'
        + " · ".join(links)
        + "</div>"
    )
    old = _BANNER.search(html)
    if old is not None:  # a page from an earlier build: bring its banner up to date
        if old.group(0) == banner:
            return
        _write(page, html[: old.start()] + banner + html[old.end() :])
        return
    _write(page, html[: match.end()] + banner + html[match.end() :])
