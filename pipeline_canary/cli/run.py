"""``canary run`` and ``canary list``."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import click

from pipeline_canary.cli._output import print_json, print_run
from pipeline_canary.cli.exit_codes import ExitCode

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Configuration file (default: $CANARY_CONFIG, else ./canary.toml).",
)


# Dates and clocks a run may use: the windows and cutoffs computed from them (days, years back or
# ahead) must stay inside what datetime can represent (0001-01-01 crashed every canary).
EARLIEST_DATE = dt.date(1970, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)
_RANGE = f"between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"


def parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_no_such_day(value) or f"{value!r} is not a date like 2026-02-08") from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise click.BadParameter(f"{value!r} is out of range: give a date {_RANGE}")
    return parsed


def _no_such_day(value: str, given: str | None = None) -> str | None:
    """Why a well-formed YYYY-MM-DD is no day of the calendar (None: it is not of that form)."""
    import calendar
    import re

    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        return f"{given or value!r} does not exist: there is no month {month} (months are 01 to 12)"
    days = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if not 1 <= day <= days:
        return f"{given or value!r} does not exist: {calendar.month_name[month]} {year} has {days} days"
    return None


def parse_now(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        why = _no_such_day(value[:10], value) if len(value) == 10 or value[10:11] in ("T", " ") else None
        raise click.BadParameter(why or f"{value!r} is not a timestamp like 2026-02-08T18:00:00Z") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    try:
        in_range = EARLIEST_DATE <= parsed.astimezone(dt.UTC).date() <= LATEST_DATE
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the last representable UTC time
        in_range = False
    if not in_range:
        raise click.BadParameter(f"{value!r} is out of range: give a timestamp {_RANGE}")
    return parsed


@click.command(
    epilog="\b\nExamples:\n  canary run\n  canary run prediction_gap schema_parity --as-of 2026-02-08 --json\n"
    "  canary run --tier critical"
)
@click.argument("checkpoints", nargs=-1)
@config_option
@click.option("--tier", default=None, help="Run the checkpoints of one tier ([schedule.tiers], `canary list`).")
@click.option("--as-of", callback=parse_date, help="Game date to check (default: today in the pipeline's timezone).")
@click.option("--now", callback=parse_now, help="Override the run's clock (ISO timestamp; for replays).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--no-docs", is_flag=True, help="Do not rebuild the Data Docs after the run.")
@click.option("--no-alert", is_flag=True, help="Record the run but send no alerts or metrics.")
@click.option(
    "--alert",
    "force_alert",
    is_flag=True,
    help="Alert and write metrics for a replay too (an --as-of other than today); live incidents stay untouched.",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the bytes each checkpoint would scan (BigQuery dry runs); run nothing."
)
def run(
    checkpoints: tuple[str, ...],
    config_path: str | None,
    tier: str | None,
    as_of: dt.date | None,
    now: dt.datetime | None,
    as_json: bool,
    no_docs: bool,
    no_alert: bool,
    force_alert: bool,
    dry_run: bool,
) -> int:
    """Run checkpoints (all of them when none are named, or those of one --tier) and report the results."""
    from pipeline_canary.config import load_config
    from pipeline_canary.session import execute

    if no_alert and force_alert:
        raise click.UsageError("--alert and --no-alert contradict each other; pass one of them")
    if tier is not None and checkpoints:
        raise click.UsageError("name checkpoints or give --tier, not both")
    config = load_config(config_path)

    checkpoints = tuple(dict.fromkeys(checkpoints))  # a name given twice runs once
    for name in checkpoints:
        config.catalogue.get(name)  # unknown names are a usage error before anything runs
    if tier is not None:
        if tier not in config.schedule.tier_names():
            raise click.BadParameter(
                f"unknown tier {tier!r}; known tiers: {', '.join(config.schedule.tier_names())}", param_hint="--tier"
            )
        checkpoints = tuple(config.names_in_tier(tier))
        if not checkpoints:
            click.echo(f"no checkpoints in tier {tier!r}: nothing to run", err=True)
            if as_json:
                print_json({"outcome": "skipped", "reason": f"no checkpoints in tier {tier!r}"})
            return int(ExitCode.OK)
    config.catalogue.compile(checkpoints or None)  # canary files' SQL: bad SQL is exit 2 before anything runs
    if dry_run:
        return _dry_run(config, list(checkpoints) or None, as_of, now, as_json)
    from pipeline_canary.state.gcs_lock import StateBusyError

    try:
        result = execute(
            config,
            list(checkpoints) or None,
            as_of=as_of,
            now=now,
            alert=False if no_alert else (True if force_alert else None),
            build_docs=False if no_docs else None,
        )
    except StateBusyError as exc:  # another execution is running: skipping is the safe outcome, not an error
        logging.getLogger(__name__).warning("run skipped: %s", exc)
        if as_json:
            print_json({"outcome": "skipped", "reason": str(exc)})
        else:
            click.echo(f"skipped: {exc}", err=True)
        return int(ExitCode.OK)
    if as_json:
        print_json(result.to_dict())
    else:
        print_run(result)
        if result.docs_index:
            from pipeline_canary.reports.dashboard import docs_root

            click.echo(f"Data Docs: {result.docs_index}")
            click.echo(f"Dashboard: {docs_root(config) / 'index.html'}")
    return int(ExitCode.for_run(result))


def _dry_run(
    config: Any, names: list[str] | None, as_of: dt.date | None, now: dt.datetime | None, as_json: bool
) -> int:
    from pipeline_canary.checkpoints.runner import estimate

    estimates = estimate(config, names, as_of=as_of, now=now)
    if as_json:
        print_json([e.__dict__ for e in estimates])
    else:
        for e in estimates:
            size = "n/a (no estimates on this backend)" if e.bytes is None else f"{e.bytes:,} bytes"
            click.echo(f"{e.checkpoint:<26} {e.statements} statement(s)  {e.error or size}")
    return int(ExitCode.ERRORED) if any(e.error for e in estimates) else int(ExitCode.OK)


@click.command("list", epilog="\b\nExamples:\n  canary list\n  canary list --config prod.toml --json")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_checkpoints(config_path: str | None, as_json: bool) -> int:
    """List the checkpoints: tier, calendar rule, checks and thresholds (as configured), and where each is defined."""
    from pipeline_canary.config import load_config

    config = load_config(config_path)
    rows: list[dict[str, Any]] = []
    for canary in config.catalogue.all():
        settings = config.settings_for(canary.name)
        rows.append(
            {
                "name": canary.name,
                "title": canary.title,
                "severity": canary.severity,
                "tier": canary.tier_for(settings),
                "calendar": {"run_on": list(canary.run_on), "skip_on": list(canary.skip_on)},
                "source": canary.source,
                "description": canary.description,
                "checks": [
                    {
                        "name": c.name,
                        "metric": c.metric,
                        "threshold": c.threshold.to_dict(),
                        **({"baseline": c.baseline.model_dump()} if c.baseline is not None else {}),
                    }
                    for c in canary.all_checks(settings)
                ],
            }
        )
    if as_json:
        print_json(rows)
        return 0
    for row, canary in zip(rows, config.catalogue.all(), strict=True):
        calendar = canary.calendar_rule()
        click.echo(f"{row['name']}  [{row['severity']} · tier {row['tier']} · {calendar}]  {row['title']}")
        click.echo(f"    {row['description']}")
        if row["source"] != "built-in":
            click.echo(f"    defined in {row['source']}")
        for check in canary_checks(row):
            click.echo(f"    · {check}")
    return 0


def canary_checks(row: dict[str, Any]) -> list[str]:
    from pipeline_canary.baselines import Baseline
    from pipeline_canary.results import Threshold

    out = []
    for check in row["checks"]:
        t = Threshold(**check["threshold"])
        bounds = Baseline(**check["baseline"]).describe() if check.get("baseline") else t.describe()
        out.append(f"{check['name']}: {check['metric']} {bounds} ({t.level})")
    return out
