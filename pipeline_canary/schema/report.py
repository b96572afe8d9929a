"""Render a :class:`SchemaComparison` as text for people, JSON, GitHub annotations or JUnit XML.

Pure functions returning strings; the CLI decides where they go.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from pipeline_canary.schema.acceptance import describe
from pipeline_canary.schema.compare import Difference, SchemaComparison
from pipeline_canary.schema.model import Field, WorkerSchema

FORMATS = ("human", "json", "github", "junit")


def summary(comparison: SchemaComparison) -> str:
    """One line: PASS/FAIL, counts and the table."""
    broken, info = len(comparison.breaking), len(comparison.informational)
    verdict = "PASS" if comparison.ok else "FAIL"
    what = (
        f"{broken} difference{'s' if broken != 1 else ''} would break writes"
        if broken
        else "no difference would break writes"
    )
    return (
        f"schema-gate {verdict}: {what}, {info} informational "
        f"({comparison.worker_field_count} worker fields vs {comparison.table_field_count} "
        f"columns of {comparison.table_name})"
    )


def render(comparison: SchemaComparison, fmt: str, worker: WorkerSchema | None = None) -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`); ValueError for an unknown format."""
    renderers: dict[str, Callable[[SchemaComparison, WorkerSchema | None], str]] = {
        "human": render_human,
        "json": render_json,
        "github": render_github,
        "junit": render_junit,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return renderers[fmt](comparison, worker)


def _label(field: Field | None) -> str:
    return describe(field) if field is not None else "-"


def render_human(comparison: SchemaComparison, worker: WorkerSchema | None = None) -> str:
    lines: list[str] = []
    if worker is not None and worker.source:
        origin = f"{worker.record_count} sample records" if worker.sampled else "contract"
        lines.append(f"worker: {worker.source} ({origin})")
    lines.append(f"table:  {comparison.table_name}")
    lines.append("")
    problems = comparison.breaking
    shown = [d for d in comparison.informational if d.kind != "extra_in_table"]
    extras = [d.path for d in comparison.informational if d.kind == "extra_in_table"]
    rows = [(d, "BREAKS") for d in problems] + [(d, "info") for d in shown]
    if rows:
        head = ("", "KIND", "FIELD", "WORKER", "TABLE")
        table = [head] + [(tag, d.kind, d.path, _label(d.worker), _label(d.table)) for d, tag in rows]
        widths = [min(max(len(r[i]) for r in table), 48) for i in range(len(head))]
        for index, row in enumerate(table):
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index:
                diff = rows[index - 1][0]
                lines.append(f"      {diff.message}")
                if diff.fix:
                    lines.append(f"      fix: {diff.fix}")
        lines.append("")
    if extras:
        lines.append(f"{len(extras)} table column(s) the worker does not write: {', '.join(extras)}")
        lines.append("")
    statements = comparison.alter_statements()
    if statements:
        lines.append("DDL to apply before deploying the worker:")
        lines.extend(f"  {s};" for s in statements)
        lines.append("")
    lines.append(summary(comparison))
    return "\n".join(lines) + "\n"


def render_json(comparison: SchemaComparison, worker: WorkerSchema | None = None) -> str:
    data: dict[str, Any] = comparison.to_dict()
    data["summary"] = summary(comparison)
    if worker is not None:
        data["worker"] = {
            "source": worker.source,
            "sampled": worker.sampled,
            "record_count": worker.record_count,
            "untyped": sorted(worker.untyped),
            "fields": [f.to_dict() for f in worker.fields],
        }
    return json.dumps(data, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(comparison: SchemaComparison, worker: WorkerSchema | None = None) -> str:
    """GitHub Actions workflow commands: ``::error`` per breaking difference, ``::warning`` for
    informational type/mode notes, one ``::notice`` for the unwritten columns and the summary."""
    lines: list[str] = []
    for diff in comparison.differences:
        if diff.kind == "extra_in_table":
            continue
        level = "error" if diff.breaks_writes else "warning"
        title = _escape_property(f"schema-gate {diff.kind}: {diff.path}")
        body = diff.message + (f" Fix: {diff.fix}" if diff.fix else "")
        lines.append(f"::{level} title={title}::{_escape_data(body)}")
    extras = [d.path for d in comparison.informational if d.kind == "extra_in_table"]
    if extras:
        title = _escape_property("schema-gate: columns the worker does not write")
        lines.append(f"::notice title={title}::{_escape_data(', '.join(extras))}")
    lines.append(summary(comparison))
    return "\n".join(lines) + "\n"


def _walk(fields: tuple[Field, ...], prefix: str = "") -> Iterator[str]:
    for field in fields:
        path = prefix + field.name
        yield path
        yield from _walk(field.fields, path + ".")


def render_junit(comparison: SchemaComparison, worker: WorkerSchema | None = None) -> str:
    """JUnit XML: one testcase per worker field (failed when a breaking difference names it), plus
    one per breaking problem that no worker field owns (REQUIRED columns never written)."""
    from xml.etree import ElementTree as ET

    by_path: dict[str, list[Difference]] = {}
    for diff in comparison.differences:
        by_path.setdefault(diff.path.lower(), []).append(diff)
    cases: list[tuple[str, list[Difference]]] = []
    worker_paths = list(_walk(worker.fields)) if worker is not None else []
    if not worker_paths:
        worker_paths = [d.path for d in comparison.differences if d.worker is not None]
    seen: set[str] = set()
    for path in worker_paths:
        if path.lower() not in seen:
            seen.add(path.lower())
            cases.append((path, by_path.get(path.lower(), [])))
    for diff in comparison.breaking:
        if diff.path.lower() not in seen:
            seen.add(diff.path.lower())
            cases.append((diff.path, by_path.get(diff.path.lower(), [])))
    suite = ET.Element(
        "testsuite",
        name=f"schema-gate {comparison.table_name}",
        tests=str(len(cases)),
        failures=str(sum(1 for _, diffs in cases if any(d.breaks_writes for d in diffs))),
        errors="0",
        skipped="0",
    )
    for path, diffs in cases:
        case = ET.SubElement(suite, "testcase", classname=f"schema.{comparison.table_name}", name=path)
        for diff in diffs:
            if diff.breaks_writes:
                failure = ET.SubElement(case, "failure", type=diff.kind, message=diff.message)
                failure.text = diff.message + (f"\nfix: {diff.fix}" if diff.fix else "")
        notes = [d.message for d in diffs if not d.breaks_writes]
        if notes:
            ET.SubElement(case, "system-out").text = "\n".join(notes)
    root = ET.Element("testsuites", name="schema-gate")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
