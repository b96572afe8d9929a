"""GX's side of the evidence: kept in the stored validation result, shown on its Data Docs page.

The suite result's ``meta["canary_evidence"]`` holds every evidence table of the run (bounded like
the result: the first rows and the total). Each check that warned or failed also carries, in its
expectation result's ``meta["evidence"]``, the tables that explain it with one line per row; GX's
validation page renders those under the check (``ExpectCanaryMetricWithinThreshold`` asks
:func:`evidence_blocks` for them), so Data Docs name the game, the column or the table too.

GX renders strings of a content block as HTML, unescaped: every value is escaped here.
"""

from __future__ import annotations

import logging
from html import escape
from typing import TYPE_CHECKING, Any

from pipeline_canary.evidence import table_lines
from pipeline_canary.results import CheckpointResult, Outcome

if TYPE_CHECKING:
    from pipeline_canary.checkpoints.gx_project import GXProject

log = logging.getLogger(__name__)

META_KEY = "canary_evidence"
DOCS_LINES = 20  # lines per table on a validation page (the result keeps at most [evidence] rows)
DOCS_COLUMNS = 12  # columns of a table's full rows on the page
DOCS_CELL = 160  # characters of one cell on the page


def attach(project: GXProject, identifier: Any, validation: Any, result: CheckpointResult) -> None:
    """Put ``result``'s evidence into GX's validation result and store it again (under ``identifier``).

    GX stores a result while it validates, before the canary's evidence can be added; storing it
    again costs one file write per checkpoint. A failure is logged: the run's verdict stands.
    """
    if not result.evidence:
        return
    validation.meta[META_KEY] = result.evidence_dict()
    checks = {c.name: c for c in result.checks}
    shown: set[str] = set()  # a table explaining two checks (fail and warn levels) is shown under the first
    for evr in validation.results:
        config = evr.expectation_config
        check = checks.get(str((config.meta or {}).get("check"))) if config is not None else None
        if check is None or check.outcome not in (Outcome.WARNED, Outcome.FAILED):
            continue
        tables = []  # a list: GX stores results with sorted keys, and the canary's order matters
        for name in check.evidence_tables:
            table = result.evidence.get(name)
            if table is not None and table.total and name not in shown:
                lines = table_lines(result.name, name, table, DOCS_LINES).lines
                tables.append({"table": name, **table.to_dict(), "lines": list(lines)})
                shown.add(name)
        if tables:
            evr.meta = {**(evr.meta or {}), "evidence": tables}
    try:
        project.context.validation_results_store.set(identifier, validation)
    except Exception:  # the Data Docs page lacks the evidence; everything else has it
        log.warning("could not store the evidence of %s in its GX validation result", result.name, exc_info=True)


def evidence_blocks(result: Any) -> list[Any]:
    """Content blocks for one expectation result: per evidence table, its lines and (collapsed) its rows."""
    from great_expectations.render import CollapseContent, RenderedStringTemplateContent, RenderedTableContent

    meta = getattr(result, "meta", None) or {}
    evidence = meta.get("evidence") if isinstance(meta, dict) else None
    blocks: list[Any] = []
    for table in evidence if isinstance(evidence, list) else ():
        name = str(table.get("table", "evidence"))
        rows = [r for r in table.get("rows") or () if isinstance(r, dict)]
        lines = [str(line) for line in table.get("lines") or ()]
        total = int(table.get("total", len(rows)))
        shown = f"first {len(lines)} of {total}" if total > len(lines) else str(total)
        header = RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={"template": escape(f"Evidence: {name.replace('_', ' ')} ({shown})"), "tag": "strong"},
        )
        blocks.append(
            RenderedTableContent(
                content_block_type="table",
                header=header,
                header_row=[escape(name)],
                table=[[escape(line)] for line in lines],
                styling={"classes": ["canary-evidence"], "body": {"classes": ["table-bordered", "table-sm", "mt-2"]}},
            )
        )
        columns = list(dict.fromkeys(k for r in rows for k in r))[:DOCS_COLUMNS]
        if rows and columns:
            full = RenderedTableContent(
                content_block_type="table",
                header_row=[escape(c) for c in columns],
                table=[[_cell(r.get(c)) for c in columns] for r in rows],
                styling={"body": {"classes": ["table-bordered", "table-sm"]}},
            )
            blocks.append(CollapseContent(collapse_toggle_link=f"All columns of {escape(name)}...", collapse=[full]))
    return blocks


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return escape(text if len(text) <= DOCS_CELL else text[: DOCS_CELL - 1] + "…")
