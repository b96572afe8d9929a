"""``canary schema-gate``: fail a deploy when the worker would write rows the table rejects.

Exit codes: 0 pass, 1 a difference would break writes, 2 bad input (unreadable or invalid file,
unknown format, missing or conflicting options, table not reachable) with a one-line message.

Module-level imports stay light (click, stdlib, the pure schema package): the warehouse backend,
its drivers and the configuration (pydantic) are imported only for ``--table``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from pipeline_canary.errors import CanaryError
from pipeline_canary.schema.compare import SchemaComparison, compare_worker
from pipeline_canary.schema.model import Field, WorkerSchema
from pipeline_canary.schema.report import FORMATS, render, summary

EXIT_PASS, EXIT_BREAKS, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str) -> NoReturn:
    click.echo(f"schema-gate: error: {message}", err=True)
    raise click.exceptions.Exit(EXIT_BAD_INPUT)


def _one_of(options: dict[str, str | None]) -> tuple[str, str]:
    given = [(name, value) for name, value in options.items() if value]
    if len(given) != 1:
        names = " | ".join(options)
        got = ", ".join(name for name, _ in given) or "none"
        _fail(f"give exactly one of {names} (got {got})")
    return given[0]


def load_worker(option: str, value: str) -> WorkerSchema:
    from pipeline_canary.schema import loaders

    if option == "--contract":
        return loaders.contract_schema(value)
    if option == "--records":
        return loaders.load_records(value)
    return loaders.load_builder(value)


def load_table(option: str, value: str, config: str | None, table_name: str | None) -> tuple[list[Field], str]:
    if option == "--schema-file":
        from pipeline_canary.schema.loaders import load_schema_file

        return load_schema_file(value), table_name or Path(value).stem
    from pipeline_canary.config import load_config
    from pipeline_canary.warehouse import TableRef, connect

    settings = load_config(config)
    ref = TableRef.parse(value)
    if ref.project is None and settings.warehouse.backend == "bigquery" and settings.warehouse.project:
        ref = TableRef(project=settings.warehouse.project, dataset=ref.dataset, name=ref.name)
    with connect(settings.warehouse) as warehouse:
        return warehouse.columns(ref), table_name or str(ref)


@click.command(
    "schema-gate",
    epilog=(
        "\b\nExamples:\n"
        "  canary schema-gate --contract worker.json --schema-file table.json\n"
        "  canary schema-gate --records sample.jsonl --table proj.nba_predictions.player_prop_predictions\n"
        "  canary schema-gate --builder ci.gate:contract --schema-file table.json --format github\n"
        "\b\nExit codes: 0 pass · 1 the deploy would break writes · 2 bad input."
    ),
)
@click.option("--contract", metavar="FILE", help="Worker contract: BigQuery schema JSON or YAML.")
@click.option("--records", metavar="FILE", help="Sample worker records, JSON lines; types inferred.")
@click.option("--builder", metavar="MODULE:FUNCTION", help="Callable returning fields or sample records.")
@click.option("--table", metavar="PROJECT.DATASET.TABLE", help="Read the table's columns via the backend.")
@click.option("--schema-file", metavar="FILE", help="Output of `bq show --schema --format=prettyjson`.")
@click.option("--table-name", metavar="NAME", help="Table name used in fixes (default: --table or file stem).")
@click.option("--config", "config_path", metavar="FILE", help="canary.toml for --table (default lookup).")
@click.option("--format", "fmt", default="human", metavar="|".join(FORMATS), help="Report format.")
@click.option("--output", metavar="FILE", help="Write the report here; the summary line still goes to stdout.")
def schema_gate(
    contract: str | None,
    records: str | None,
    builder: str | None,
    table: str | None,
    schema_file: str | None,
    table_name: str | None,
    config_path: str | None,
    fmt: str,
    output: str | None,
) -> None:
    """Compare what the worker writes with what the table accepts, before a deploy.

    Exit 0 when every write would load, 1 when a difference would break writes, 2 on bad input.
    """
    if fmt not in FORMATS:
        _fail(f"unknown --format {fmt!r} (choose from {', '.join(FORMATS)})")
    worker_option, worker_value = _one_of({"--contract": contract, "--records": records, "--builder": builder})
    table_option, table_value = _one_of({"--table": table, "--schema-file": schema_file})
    try:
        worker = load_worker(worker_option, worker_value)
        columns, name = load_table(table_option, table_value, config_path, table_name)
    except CanaryError as exc:
        _fail(str(exc).replace("\n", " "))
    comparison = compare_worker(worker, columns, table_name=name)
    _emit(comparison, fmt, worker, output)
    raise click.exceptions.Exit(EXIT_PASS if comparison.ok else EXIT_BREAKS)


def _emit(comparison: SchemaComparison, fmt: str, worker: WorkerSchema, output: str | None) -> None:
    text = render(comparison, fmt, worker)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{output}: cannot write the report: {exc.strerror or exc}")
    click.echo(summary(comparison))


if __name__ == "__main__":
    schema_gate()
