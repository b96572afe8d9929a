"""GX's side of the evidence: kept in the stored validation result, shown on its Data Docs page.

The suite result's ``meta["canary_evidence"]`` holds every evidence table of the run (bounded like
the result: the first rows and the total). Each check that warned or failed also carries, in its
expectation result's ``meta["evidence"]``, the tables that explain it with one line per row; GX's
validation page renders those under the check (``ExpectCanaryMetricWithinThreshold`` asks
:func:`evidence_blocks` for them), so Data Docs name the game, the column or the table too.

GX renders strings of a content block as HTML, unescaped: every value is escaped here.
"""

from __future__ import annotations

import json
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


def attach(project: GXProject, identifier: Any, result: CheckpointResult) -> None:
    """Put ``result``'s evidence into GX's stored validation result (under ``identifier``).

    GX stores a result while it validates, before the canary's evidence can be added. Storing the
    object again costs GX's serializer (deep copies of every value) twice over; the stored JSON is
    patched through the store's backend instead (parse, add plain JSON, write: one file write). A
    failure is logged: the run's verdict stands, only the Data Docs page lacks the evidence.
    """
    if not result.evidence:
        return
    store = project.context.validation_results_store
    try:
        if store.cloud_mode:  # pragma: no cover - GX Cloud keeps results behind its API
            return
        key = store.key_to_tuple(identifier)
        stored = json.loads(store.store_backend.get(key))
        stored.setdefault("meta", {})[META_KEY] = result.evidence_dict()
        for evr in stored.get("results") or ():
            check = str(((evr.get("expectation_config") or {}).get("meta") or {}).get("check"))
            tables = explained(result, check)
            if tables:
                evr["meta"] = {**(evr.get("meta") or {}), "evidence": tables}
        store.store_backend.set(key, json.dumps(stored, sort_keys=True, default=str))
    except Exception:  # the Data Docs page lacks the evidence; everything else has it
        log.warning("could not store the evidence of %s in its GX validation result", result.name, exc_info=True)


def explained(result: CheckpointResult, check_name: str) -> list[dict[str, Any]]:
    """The evidence tables (with their lines) under ``check_name`` on the page: only if it warned or failed.

    A list, in the canary's order (GX stores results with sorted keys). A table that explains two
    checks (a fail and a warn level of one metric) is shown under the first that did not pass.
    """
    broke = [c for c in result.checks if c.outcome in (Outcome.WARNED, Outcome.FAILED)]
    earlier: set[str] = set()
    for check in broke:
        if check.name == check_name:
            tables = []
            for name in check.evidence_tables:
                table = result.evidence.get(name)
                if table is not None and table.total and name not in earlier:
                    lines = table_lines(result.name, name, table, DOCS_LINES).lines
                    tables.append({"table": name, **table.to_dict(), "lines": list(lines)})
            return tables
        earlier.update(check.evidence_tables)
    return []


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
