"""``canary canaries new NAME`` and ``canary canaries check``: write and lint canary files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline_canary.cli._output import print_json
from pipeline_canary.cli.exit_codes import ExitCode
from pipeline_canary.cli.run import config_option

if TYPE_CHECKING:
    from pipeline_canary.canary_files import FileCanary
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.warehouse import Warehouse


@click.group(epilog="\b\nExamples:\n  canary canaries new games_final\n  canary canaries check")
def canaries() -> None:
    """Canary files: one TOML file per canary in the folders of [canaries] paths."""


@canaries.command(
    epilog="\b\nExamples:\n  canary canaries new games_final\n  canary canaries new games_final --dir checks/"
)
@click.argument("name")
@config_option
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder to write to (default: the first of [canaries] paths, else ./canaries beside the config).",
)
def new(name: str, config_path: str | None, folder: str | None) -> int:
    """Write NAME.toml: a valid canary file to edit, every key explained."""
    from pipeline_canary.canary_files import load_file
    from pipeline_canary.canary_files.scaffold import render
    from pipeline_canary.canary_files.spec import NAME
    from pipeline_canary.config import load_config

    if not NAME.fullmatch(name):
        raise click.BadParameter(f"{name!r}: lowercase letters, digits and _, a letter first", param_hint="NAME")
    config = load_config(config_path)
    if name in config.catalogue:
        raise click.UsageError(f"a canary named {name!r} exists already ({config.catalogue.get(name).source})")
    base = config.source.resolve().parent if config.source else Path.cwd()
    target_dir = Path(folder) if folder else (config.canaries.paths[0] if config.canaries.paths else base / "canaries")
    target = target_dir / f"{name}.toml"
    if target.exists():
        raise click.UsageError(f"{target} exists already; choose another name or edit it")
    target_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(render(name), encoding="utf-8")
    load_file(target).compiled()  # the scaffold is valid as written
    click.echo(f"wrote {target}")
    configured = {p.resolve() for p in config.canaries.paths}
    if target_dir.resolve() not in configured:
        where = config.source or "canary.toml"
        click.echo(f'add it to {where}:\n\n[canaries]\npaths = ["{_relative(target_dir, base)}"]\n')
    click.echo(f"then: canary canaries check && canary run {name}")
    return int(ExitCode.OK)


@dataclass
class Lint:
    """What ``check`` found for one canary file."""

    name: str
    path: str
    problems: list[str] = field(default_factory=list)  # the file is wrong: exit 2
    unchecked: list[str] = field(default_factory=list)  # could not be checked (warehouse): exit 3
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unchecked


@canaries.command(epilog="\b\nExamples:\n  canary canaries check\n  canary canaries check games_final --no-warehouse")
@click.argument("names", nargs=-1)
@config_option
@click.option("--no-warehouse", is_flag=True, help="Check the files only: no table lookups, no dry runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(names: tuple[str, ...], config_path: str | None, no_warehouse: bool, as_json: bool) -> int:
    """Lint canary files: format, SQL (sqlglot), parameters, partition filters, tables and columns,
    and on BigQuery a dry run of every statement. Exit 2 if a file is wrong, 3 if the warehouse
    could not be asked."""
    from pipeline_canary.config import load_config

    config = load_config(config_path)  # the format: a bad file is exit 2 here, naming file, line and key
    files = config.catalogue.files()
    if names:
        for name in names:
            config.catalogue.get(name)
        files = [c for c in files if c.name in names]
    lints = [_static(config, canary) for canary in files]
    if not no_warehouse and lints:
        _against_warehouse(config, files, lints)
    if as_json:
        print_json([lint.__dict__ | {"ok": lint.ok} for lint in lints])
    else:
        if not lints:
            click.echo("no canary files (set [canaries] paths; `canary canaries new NAME` writes one)")
        for lint in lints:
            mark = click.style("ok  ", fg="green") if lint.ok else click.style("FAIL", fg="red", bold=True)
            click.echo(f"{mark} {lint.name}  ({lint.path})")
            for line in [*lint.problems, *lint.unchecked]:
                click.echo(f"     {line}")
            for note in lint.notes:
                click.echo(f"     · {note}")
    if any(lint.problems for lint in lints):
        return int(ExitCode.USAGE)
    return int(ExitCode.ERRORED) if any(lint.unchecked for lint in lints) else int(ExitCode.OK)


def _static(config: CanaryConfig, canary: FileCanary) -> Lint:
    """The file alone: its SQL compiles, and every statement filters the partitioned tables it reads."""
    from pipeline_canary.errors import ConfigError
    from pipeline_canary.warehouse._bq_guard import PartitionGuard

    lint = Lint(canary.name, str(canary.path))
    try:
        compiled = canary.compiled()
    except ConfigError as exc:
        lint.problems += str(exc).splitlines()
        return lint
    settings = config.settings_for(canary.name)
    refs = canary.table_refs(config.pipeline, settings)
    quoted = {p: ".".join(f"`{part}`" for part in (r.project, r.dataset, r.name) if part) for p, r in refs.items()}
    guard = PartitionGuard.of(config.guarded_tables())
    entries: list[tuple[tuple[str | int, ...], str]] = [
        (("statements", i, "sql"), c.template) for i, (_, c) in enumerate(compiled.statements)
    ]
    entries += [(("evidence", i, "sql"), c.template) for i, (_, c) in enumerate(compiled.evidence)]
    for key, template in entries:
        for violation in guard.violations(template.format_map(quoted)):
            lint.problems.append(canary.problem(key, f"{violation}: add a game_date condition"))
    lint.notes.append(
        f"{len(compiled.statements)} statement(s), {len(canary.spec.checks)} check(s) on "
        f"{', '.join(compiled.metrics)}; tier {canary.tier_for(settings)}, {canary.calendar_rule()}"
    )
    return lint


def _against_warehouse(config: CanaryConfig, files: list[FileCanary], lints: list[Lint]) -> None:
    """Tables and columns exist; on BigQuery every statement dry-runs (nothing is billed)."""
    from pipeline_canary.canaries.base import CheckContext
    from pipeline_canary.checkpoints.runner import resolve_clock
    from pipeline_canary.errors import CanaryError
    from pipeline_canary.warehouse import connect_pipeline

    try:
        warehouse = connect_pipeline(config)
        warehouse.ping()
    except CanaryError as exc:
        for lint in lints:
            lint.unchecked.append(f"warehouse not checked: {exc}")
        return
    clock = resolve_clock(config.pipeline.timezone)
    with warehouse:
        for canary, lint in zip(files, lints, strict=True):
            if lint.problems:
                continue
            settings = config.settings_for(canary.name)
            _tables(warehouse, canary, config, settings, lint)
            if lint.problems or lint.unchecked:
                continue
            ctx = CheckContext(warehouse=warehouse, pipeline=config.pipeline, as_of=clock.as_of, now=clock.now)
            _dry_runs(warehouse, canary, ctx, settings, lint, clock.as_of)


def _tables(warehouse: Warehouse, canary: FileCanary, config: CanaryConfig, settings: Any, lint: Lint) -> None:
    from pipeline_canary.errors import TableNotFoundError, WarehouseError

    for placeholder, ref in canary.table_refs(config.pipeline, settings).items():
        key = ("tables", placeholder)
        try:
            have = {f.name for f in warehouse.columns(ref)}
        except TableNotFoundError as exc:
            lint.problems.append(canary.problem(key, f"{ref} does not exist ({exc})"))
            continue
        except WarehouseError as exc:
            lint.unchecked.append(canary.problem(key, f"{ref} could not be described: {exc}"))
            continue
        missing = [c for c in canary.table_specs[placeholder].columns if c not in have]
        if missing:
            lint.problems.append(canary.problem((*key, "columns"), f"{ref} has no column(s) {', '.join(missing)}"))


def _dry_runs(warehouse: Warehouse, canary: FileCanary, ctx: Any, settings: Any, lint: Lint, day: dt.date) -> None:
    from pipeline_canary.errors import PermissionDeniedError, WarehouseError, WarehouseTimeoutError
    from pipeline_canary.warehouse.sql import translate

    compiled = canary.compiled()
    params = canary.run_params(ctx, settings)
    entries = [(("statements", i, "sql"), c) for i, (_, c) in enumerate(compiled.statements)]
    entries += [(("evidence", i, "sql"), c) for i, (_, c) in enumerate(compiled.evidence)]
    total: int | None = 0
    for key, statement in entries:
        sql = canary.statement_sql(ctx, settings, statement.template)
        try:
            if warehouse.sqlglot_dialect != "bigquery":  # the backend runs it translated (DuckDB)
                translate(sql, warehouse.sqlglot_dialect)
            scanned = warehouse.dry_run(sql, {p: params[p] for p in statement.params})
        except (PermissionDeniedError, WarehouseTimeoutError) as exc:
            lint.unchecked.append(canary.problem(key, f"dry run not possible: {exc}"))
            return
        except WarehouseError as exc:
            lint.problems.append(canary.problem(key, f"the warehouse rejects it: {exc}"))
            return
        total = None if scanned is None or total is None else total + scanned
    if total is not None:
        lint.notes.append(f"dry run as of {day}: {total:,} bytes")


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())
