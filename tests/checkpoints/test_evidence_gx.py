"""GX's stored validation result carries the canary's evidence, and its Data Docs page shows it under the check."""

from __future__ import annotations

import json
from collections.abc import Callable
from html import unescape
from pathlib import Path
from types import SimpleNamespace

from pipeline_canary.checkpoints.evidence_docs import META_KEY, evidence_blocks
from pipeline_canary.checkpoints.runner import run_checkpoints
from pipeline_canary.config import CanaryConfig
from tests.conftest import AS_OF, NOW


def stored_result(config: CanaryConfig, suite: str) -> dict[str, object]:
    [path] = (config.gx.project_dir / "uncommitted" / "validations" / suite).rglob("*.json")
    return dict(json.loads(path.read_text()))


def test_validation_results_and_pages_carry_the_evidence(
    seeded: Callable[[str], Path], make_config: Callable[..., CanaryConfig]
) -> None:
    config = make_config(seeded("incident"))
    result = run_checkpoints(
        config, ["schema_parity", "orphaned_staging_tables"], as_of=AS_OF, now=NOW, build_docs=True
    )

    stored = stored_result(config, "orphaned_staging_tables")
    meta = stored["meta"]
    assert isinstance(meta, dict)
    orphans = meta[META_KEY]["orphaned_tables"]
    assert (orphans["total"], len(orphans["rows"]), orphans["truncated"]) == (668, 20, True)
    by_check = {r["expectation_config"]["meta"]["check"]: r for r in stored["results"]}  # type: ignore[attr-defined]
    assert "evidence" not in (by_check["no_unknown_age_tables"].get("meta") or {})  # it passed: nothing broke
    [table] = by_check["no_orphaned_tables"]["meta"]["evidence"]
    assert table["table"] == "orphaned_tables" and table["total"] == 668 and len(table["lines"]) == 20
    assert table["lines"][0].startswith("orphaned: nba_predictions._staging_")

    page = unescape(Path(result.get("orphaned_staging_tables").docs_path or "").read_text())
    assert "Evidence: orphaned tables (first 20 of 668)" in page
    assert table["lines"][0] in page and table["lines"][19] in page
    schema = unescape(Path(result.get("schema_parity").docs_path or "").read_text())
    assert "missing column: vegas_line_source (STRING)" in schema
    assert "missing column: required_default_count (INT64)" in schema
    assert schema.index("Evidence: differences (2)") < schema.index("Evidence: alter statements (2)")  # canary order


def test_evidence_on_the_page_is_escaped() -> None:
    evil = "<script>alert(1)</script> ARRAY<STRING>"
    evr = SimpleNamespace(meta={"evidence": [{"table": "t", "rows": [{"v": evil}], "total": 1, "lines": [evil]}]})
    rendered = json.dumps([b.to_json_dict() for b in evidence_blocks(evr)])
    assert "<script>" not in rendered and "ARRAY&lt;STRING&gt;" in rendered
    assert evidence_blocks(SimpleNamespace(meta={})) == []
