"""``canary staging list | cleanup | audit``: orphaned staging tables, removed safely, and the record of it.

Exit codes: 0 ok (including dry runs) · 1 some tables could not be dropped · 2 usage error or a
guard refused the sweep (--max-tables, --expire on DuckDB, a cutoff under 1h) · 3 the warehouse or
state store could not be reached (``audit``: half-done entries could not be reconciled).

Every command first reconciles half-done audit entries (a sweep killed between writing ``dropping``
and confirming) with the warehouse and says so; ``list``, ``audit`` and dry runs only when no sweep
or run holds the lock at that moment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from pipeline_canary.cli._output import print_json
from pipeline_canary.cli.exit_codes import ExitCode
from pipeline_canary.cli.run import config_option, parse_now
from pipeline_canary.staging.plan import DEFAULT_MAX_TABLES, Plan, format_duration, parse_duration

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.staging._state import Settlement
    from pipeline_canary.staging.sweep import TableOutcome
    from pipeline_canary.warehouse.base import Warehouse

PROGRESS_FROM = 20  # show a progress bar on stderr for sweeps of at least this many tables


# twenty years, as max_age_hours: cutoffs and expirations far past that overflowed the clock
MAX_DURATION = dt.timedelta(days=20 * 365)


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.timedelta | None:
    if value is None:
        return None
    from pipeline_canary.errors import ConfigError

    try:
        parsed = parse_duration(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    except OverflowError:  # timedelta refuses more than 999999999 days
        parsed = None
    if parsed is None or parsed > MAX_DURATION:
        raise click.BadParameter(f"{value!r} is too long: at most {format_duration(MAX_DURATION)} (like 24h or 7d)")
    return parsed


older_than_option = click.option(
    "--older-than",
    callback=_duration,
    help="Age cutoff like 24h, 90m or 7d (default: the checkpoint's max_age_hours, 24h).",
)
now_option = click.option("--now", callback=parse_now, help="Override the clock (ISO timestamp; for replays).")


def _setup(config_path: str | None, older_than: dt.timedelta | None) -> tuple[Any, dt.timedelta]:
    from pipeline_canary.config import load_config

    config = load_config(config_path)
    if older_than is None:
        older_than = dt.timedelta(hours=config.settings_for("orphaned_staging_tables").max_age_hours)
    return config, older_than


def _size(rows: int | None, size: int | None) -> str:
    parts = [f"{rows} rows" if rows is not None else "", f"{size} B" if size is not None else ""]
    return ", ".join(p for p in parts if p) or "size unknown"


@click.group(
    "staging",
    epilog="\b\nExamples:\n  canary staging list\n  canary staging cleanup --older-than 24h\n  canary staging audit\n"
    "\b\nAutomatic cleanup after each run of the orphaned_staging_tables checkpoint (off by default):\n"
    "  [checkpoints.orphaned_staging_tables]\n  auto_cleanup = true   # drops, with these same guards",
)
def staging() -> None:
    """Orphaned ``_staging_*`` tables: list them, clean them up (dry run unless --execute).

    Only tables in the configured staging dataset whose whole name is a pipeline staging name
    (prefix, batch id, worker id) and that are older than the cutoff are ever touched; every
    action is recorded in the state store.
    """


@staging.command(
    "list", epilog="\b\nExamples:\n  canary staging list --older-than 7d\n  canary staging list --json | jq length"
)
@older_than_option
@now_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of the table.")
@config_option
def list_tables(
    older_than: dt.timedelta | None, now: dt.datetime | None, as_json: bool, config_path: str | None
) -> int:
    """Staging tables older than the cutoff, with age, size, batch id and whether cleanup may drop them."""
    from pipeline_canary.staging.cleanup import plan_cleanup
    from pipeline_canary.warehouse import connect

    config, cutoff = _setup(config_path, older_than)
    with connect(config.warehouse) as warehouse:
        plan = plan_cleanup(config, warehouse, older_than=cutoff, now=now, max_tables=sys.maxsize, read_only=True)
        _report_settlement(_settle(config, warehouse), err=as_json)
    rows = [{**c.to_row(), "cleanup": "eligible"} for c in plan.candidates]
    rows += [
        {"dataset": s.dataset, "table": s.name, "age_hours": s.to_row()["age_hours"], "cleanup": f"kept: {s.reason}"}
        for s in plan.skipped
        if s.age_hours is None or s.age_hours * 3600 > cutoff.total_seconds()
    ]
    if as_json:
        print_json(rows)
        return int(ExitCode.OK)
    for row in rows:
        age = "age unknown" if row["age_hours"] is None else f"{row['age_hours']:.1f} h"
        batch = row.get("batch_id") or "-"
        size = _size(row.get("rows"), row.get("bytes"))
        click.echo(f"{row['table']}  {age}  {size}  batch {batch}  [{row['cleanup']}]")
    click.echo(
        f"{len(rows)} of {plan.found} staging tables in {plan.dataset} are older than "
        f"{format_duration(cutoff)} ({len(plan.candidates)} eligible for cleanup)"
    )
    return int(ExitCode.OK)


@staging.command(
    "cleanup",
    epilog="\b\nExamples:\n  canary staging cleanup --older-than 24h            # dry run: what would go\n"
    "  canary staging cleanup --older-than 24h --execute  # drop them (recorded in the state store)\n"
    "  canary staging cleanup --older-than 7d --expire --execute  # BigQuery: let them expire\n"
    "\b\nExit codes: 0 ok · 1 some tables failed · 2 usage error or guard refusal · 3 warehouse unreachable.",
)
@older_than_option
@click.option("--execute", is_flag=True, help="Really act. Without it nothing is changed (dry run).")
@click.option("--expire", is_flag=True, help="Set a table expiration instead of dropping (BigQuery only).")
@click.option(
    "--expire-in", callback=_duration, default="24h", show_default=True, help="With --expire: when tables expire."
)
@click.option(
    "--max-tables",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_TABLES,
    show_default=True,
    help="Refuse sweeps larger than this.",
)
@now_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@config_option
def cleanup(
    older_than: dt.timedelta | None,
    execute: bool,
    expire: bool,
    expire_in: dt.timedelta,
    max_tables: int,
    now: dt.datetime | None,
    as_json: bool,
    config_path: str | None,
) -> int:
    """Drop (or expire) orphaned staging tables; only well-formed staging names in the staging dataset."""
    from pipeline_canary.staging._state import cleanup_state
    from pipeline_canary.staging.cleanup import plan_cleanup, run_cleanup
    from pipeline_canary.staging.sweep import Mode, check_mode
    from pipeline_canary.warehouse import connect

    config, cutoff = _setup(config_path, older_than)
    with connect(config.warehouse) as warehouse:
        check_mode(warehouse, "expire" if expire else "drop")
        plan = plan_cleanup(config, warehouse, older_than=cutoff, now=now, max_tables=max_tables)
        if plan.refused:
            _report_plan(plan, as_json, refused=True)
            return int(ExitCode.USAGE)
        mode: Mode = "expire" if expire else "drop"
        if not execute:
            settled = _settle(config, warehouse)
            _report_settlement(settled, err=True, reconciled=False)
            result, actor = run_cleanup(config, warehouse, plan, mode=mode)
            result.reconciled = [item.to_dict() for item in settled.reconciled]
            where = _state_where(config)
        else:
            with contextlib.ExitStack() as stack:
                # the lock every run and sweep takes; with [state] backend = "gcs" the shared store, uploaded
                working = stack.enter_context(cleanup_state(config, write=True))
                callbacks: list[Callable[[TableOutcome], None]] = []
                if len(plan.candidates) >= PROGRESS_FROM:
                    label = "expiring" if expire else "dropping"
                    bar = stack.enter_context(
                        click.progressbar(length=len(plan.candidates), label=label, file=sys.stderr)
                    )
                    callbacks.append(lambda outcome: bar.update(1))
                result, actor = run_cleanup(
                    working, warehouse, plan, execute=True, mode=mode, expire_in=expire_in, on_outcome=callbacks
                )
            where = _state_where(config)
    if as_json:
        print_json({**result.to_dict(), "actor": actor, "state": where})
    else:
        _report_sweep(result, actor, where)
    return int(ExitCode.FAILED if result.failed else ExitCode.OK)


@staging.command(
    "audit",
    epilog="\b\nExamples:\n  canary staging audit\n  canary staging audit --sweep 3f2a9c1e0b7d --json\n"
    "\b\nStatus: dropping (written before the drop) · dropped · failed · dropped (reconciled) · "
    "not dropped (reconciled), and the same for expiring.",
)
@click.option("--sweep", "sweep_id", default=None, help="Only the entries of this sweep id.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Show the latest this many entries."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@config_option
def audit(sweep_id: str | None, limit: int, as_json: bool, config_path: str | None) -> int:
    """What each sweep dropped, expired or failed to touch, by whom and when.

    Half-done entries (a sweep killed between writing and confirming) are first reconciled with the
    warehouse, when no sweep or run holds the lock.
    """
    from pipeline_canary.config import load_config
    from pipeline_canary.staging._state import cleanup_state, settle
    from pipeline_canary.staging.audit import audit_rows
    from pipeline_canary.state import open_state
    from pipeline_canary.warehouse import connect

    config = load_config(config_path)
    settled = settle(config, lambda: connect(config.warehouse))
    with cleanup_state(config, write=False) as snapshot:
        rows = audit_rows(open_state(snapshot), sweep_id=sweep_id, limit=limit, latest=True)
    if as_json:
        print_json(
            {
                "entries": [r.to_dict() for r in rows],
                "reconciled": [item.to_dict() for item in settled.reconciled],
                "not_reconciled": settled.left,
                "state": _state_where(config),
            }
        )
    else:
        _report_settlement(settled, err=False)
        for r in rows:
            age = "" if r.age_hours is None else f"  {r.age_hours:.1f} h"
            line = f"{r.at.isoformat(timespec='seconds')}  {r.status:<24} {r.dataset}.{r.table_name}{age}"
            line += f"  sweep {r.sweep_id} by {r.actor}" + (f"  ({r.detail})" if r.detail else "")
            click.echo(click.style(line, fg="red") if r.action == "failed" else line)
        click.echo(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'} in {_state_where(config)}")
    return int(ExitCode.ERRORED if settled.errored else ExitCode.OK)


def _settle(config: CanaryConfig, warehouse: Warehouse) -> Settlement:
    from pipeline_canary.staging._state import settle

    return settle(config, lambda: contextlib.nullcontext(warehouse))


def _report_settlement(settled: Settlement, *, err: bool, reconciled: bool = True) -> None:
    """Reconciled entries on stdout (stderr beside --json); entries left unsettled as a warning on stderr."""
    if reconciled:
        for item in settled.reconciled:
            click.echo(item.line(), err=err)
    if settled.left:
        click.echo(f"warning: {settled.left}", err=True)


def _state_where(config: CanaryConfig) -> str:
    return config.state.uri if config.state.backend == "gcs" and config.state.uri else str(config.state.path)


def _report_plan(plan: Plan, as_json: bool, *, refused: bool = False) -> None:
    if as_json:
        print_json({"plan": plan.to_dict(), "refusal": plan.refusal})
    else:
        for c in plan.candidates:
            click.echo(f"would drop  {c.table}  {c.age_hours:.1f} h  {_size(c.rows, c.bytes)}  batch {c.batch_id}")
    if refused:
        click.echo(f"error: {plan.refusal}", err=True)


def _report_sweep(result: Any, actor: str, state: str) -> None:
    from pipeline_canary.staging.reconcile import line as reconciled_line

    plan = result.plan
    verb = "expire" if result.mode == "expire" else "drop"
    for item in result.reconciled:
        click.echo(reconciled_line(item))
    if not result.executed:
        for c in plan.candidates:
            click.echo(f"would {verb}  {c.table}  {c.age_hours:.1f} h  {_size(c.rows, c.bytes)}  batch {c.batch_id}")
    for o in result.outcomes:
        line = f"{o.action:<8} {o.table}  {o.age_hours:.1f} h"
        if o.detail:
            line += f"  ({o.detail})"
        click.echo(click.style(line, fg="red") if o.action == "failed" else line)
    for s in plan.skipped:
        age = "age unknown" if s.age_hours is None else f"{s.age_hours:.1f} h"
        click.echo(f"kept     {s.dataset}.{s.name}  {age}  ({s.reason})")
    counts = " · ".join(f"{k} {v}" for k, v in result.summary().items())
    click.echo(f"{plan.dataset}, older than {format_duration(plan.older_than)}: {counts}")
    if result.executed:
        click.echo(f"recorded as sweep {result.sweep_id} by {actor} in {state}")
    else:
        click.echo(f"dry run: nothing was changed; add --execute to {verb} these {len(plan.candidates)} tables")
