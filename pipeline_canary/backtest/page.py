"""The backtest as a static HTML page: one timeline per canary (a cell per game day), written next to
the dashboard (``canary backtest --page``). No scripts, no external assets."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline_canary.backtest import Backtest

PAGE_NAME = "backtest.html"
_COLOURS = {"failed": "#d64545", "warned": "#e0a100", "errored": "#7a5ea8", "passed": "#3c9a5f", "skipped": "#c8c8c8"}
_STYLE = (
    "body{font-family:sans-serif;margin:2em}td.d{width:14px;height:22px;padding:0}"
    "td.d span{display:block;width:12px;height:22px}td.n{padding-right:1em;white-space:nowrap}"
    "table.i td,table.i th{padding:2px 8px;text-align:left;vertical-align:top}"
)


def render(result: Backtest) -> str:
    e = html.escape
    days = [result.start + dt.timedelta(days=i) for i in range((result.end - result.start).days + 1)]
    rows = []
    for name in result.checkpoints:
        outcomes = result.days.get(name, {})
        opened = {i.as_of for i in result.incidents if i.checkpoint == name}
        cells = []
        for day in days:
            outcome = outcomes.get(day, "skipped")
            mark = " ▲" if day in opened else ""
            cells.append(
                f'<td class="d" title="{e(day.isoformat())}: {e(outcome)}{mark}">'
                f'<span style="background:{_COLOURS.get(outcome, "#c8c8c8")}">{"▲" if mark else ""}</span></td>'
            )
        rows.append(f'<tr><td class="n">{e(name)}</td>{"".join(cells)}</tr>')
    incidents = "".join(
        f"<tr><td>{e(i.checkpoint)}</td><td>{e(i.check)}</td><td>{e(i.as_of.isoformat())}</td>"
        f"<td>{e(i.opened_at.strftime('%Y-%m-%d %H:%M UTC'))}</td>"
        f"<td>{e(i.resolved_at.strftime('%Y-%m-%d %H:%M UTC') if i.resolved_at else '-')}</td>"
        f"<td>{e(i.messages[0].text if i.messages else '')}</td></tr>"
        for i in result.incidents
    )
    overrides = "".join(f"<li><code>{e(k)} = {e(v)}</code></li>" for k, v in result.overrides.items())
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Backtest {e(str(result.start))} .. '
        f"{e(str(result.end))}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Backtest {e(str(result.start))} .. {e(str(result.end))}</h1>"
        f"<p>{result.steps} steps every {int(result.every.total_seconds() // 60)} min; "
        f"{len(result.incidents)} incidents would have opened (▲ on the day they opened); worst outcome per day.</p>"
        f"{'<ul>' + overrides + '</ul>' if overrides else ''}"
        f'<table>{"".join(rows)}</table><h2>Incidents</h2><table class="i"><tr><th>checkpoint</th><th>check</th>'
        f"<th>as of</th><th>opened</th><th>resolved</th><th>first message</th></tr>{incidents}</table></body></html>\n"
    )


def write_page(result: Backtest, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PAGE_NAME
    path.write_text(render(result), encoding="utf-8")
    return path
