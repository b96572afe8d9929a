"""``canary backtest``: what would have alerted over a range of game days (pipeline_canary.backtest)."""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from pipeline_canary.cli._output import print_json
from pipeline_canary.cli.exit_codes import ExitCode
from pipeline_canary.cli.run import config_option, parse_date, parse_now
from pipeline_canary.errors import ConfigError

if TYPE_CHECKING:
    from pipeline_canary.backtest import Backtest
    from pipeline_canary.config import CanaryConfig

_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_EVERY = re.compile(r"(\d+)\s*(m|min|h)")
PROGRESS_FROM_STEPS = 96  # more than two days at 30 minutes: show progress on stderr


def parse_every(ctx: click.Context, param: click.Parameter, value: str) -> dt.timedelta:
    match = _EVERY.fullmatch(value.strip().lower())
    if match is None:
        raise click.BadParameter(f"{value!r} is not a step like 30m or 1h")
    amount = int(match.group(1))
    step = dt.timedelta(hours=amount) if match.group(2) == "h" else dt.timedelta(minutes=amount)
    if not dt.timedelta(minutes=1) <= step <= dt.timedelta(days=1):
        raise click.BadParameter(f"{value!r} is out of range: give a step from 1m to 24h")
    return step


def parse_known(ctx: click.Context, param: click.Parameter, value: str) -> tuple[dt.date, dt.time | None]:
    """``2026-02-08`` or ``2026-02-08T10:00`` (local time in the pipeline's timezone)."""
    day, sep, clock = value.partition("T")
    parsed = parse_date(ctx, param, day)
    assert parsed is not None
    if not sep:
        return parsed, None
    try:
        return parsed, dt.time.fromisoformat(clock)
    except ValueError:
        raise click.BadParameter(f"{value!r}: the time of day is not HH:MM like 2026-02-08T10:00") from None


def parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` pairs (dotted keys as in the configuration file, e.g. checkpoints.X.fail_pct)."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise click.BadParameter(
                f"{item!r} is not KEY=VALUE with a dotted key like checkpoints.feature_contamination.fail_pct=12",
                param_hint="--set",
            )
        out[key] = value.strip()
    return out


def load_with_overrides(config_path: str | None, sets: dict[str, str]) -> CanaryConfig:
    """The configuration with ``sets`` applied on top (as the CANARY_* overlay applies variables).

    A bad key or value is the configuration's own message, naming the ``--set`` that made it.
    """
    from pipeline_canary.config import load_config

    variables = {"CANARY_" + "__".join(key.upper().split(".")): key for key in sets}
    env = {**os.environ, **{var: sets[key] for var, key in variables.items()}}
    try:
        return load_config(config_path, env)
    except ConfigError as exc:
        message, fix = str(exc), exc.fix
        for var, key in variables.items():
            shown = f"--set {key}={sets[key]}"
            message = message.replace(f"environment variable {var}", shown).replace(var, shown)
            fix = fix.replace(f"change or unset {var}", f"change or drop {shown}").replace(var, shown) if fix else fix
        message = message.replace("from the environment", "from the environment or --set")
        raise type(exc)(message, fix) from None


@click.command(
    epilog="\b\nExamples:\n  canary backtest --from 2026-01-10 --to 2026-02-08\n"
    "  canary backtest --from 2026-02-01 --to 2026-02-08 feature_contamination "
    "--set checkpoints.feature_contamination.fail_pct=30 --json\n"
    "\b\nExit codes: 0 no alert outside the --known-incident days · 1 an alert on another day · 2 usage"
)
@click.argument("checkpoints", nargs=-1)
@config_option
@click.option("--from", "start", callback=parse_date, required=True, help="First game date (pipeline timezone).")
@click.option("--to", "end", callback=parse_date, required=True, help="Last game date (inclusive).")
@click.option("--every", default="30m", callback=parse_every, show_default=True, help="Step of the replayed schedule.")
@click.option("--until", callback=parse_now, help="Replay no step after this time (default: now).")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a configuration value for the backtest only (repeatable).",
)
@click.option(
    "--known-incident",
    "known",
    multiple=True,
    callback=lambda ctx, param, values: tuple(parse_known(ctx, param, v) for v in values),
    metavar="DATE[THH:MM]",
    help="A game date with a known incident, and optionally when it began (pipeline timezone): alerts on "
    "other days are reported as unexplained, and the time to detect is measured from its start (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--page", is_flag=True, help="Also write backtest.html (a timeline per canary) next to the dashboard.")
def backtest(
    checkpoints: tuple[str, ...],
    config_path: str | None,
    start: dt.date,
    end: dt.date,
    every: dt.timedelta,
    until: dt.datetime | None,
    sets: tuple[str, ...],
    known: tuple[tuple[dt.date, dt.time | None], ...],
    as_json: bool,
    page: bool,
) -> int:
    """Replay the run schedule over past game days: which incidents would have opened, when, and what was posted.

    Every step runs the real canary SQL (as of the step's clock), GX validation and the incident
    logic against a sandbox: no live incidents, Slack messages or metrics are touched.
    """
    from pipeline_canary.backtest import run_backtest

    if end < start:
        raise click.BadParameter(f"--to {end} is before --from {start}", param_hint="--to")
    overrides = parse_sets(sets)
    config = load_with_overrides(config_path, overrides)
    names = tuple(dict.fromkeys(checkpoints))
    for name in names:
        config.catalogue.get(name)  # unknown names are a usage error before anything runs
    config.catalogue.compile(names or None)

    def progress(done: int, total: int, now: dt.datetime) -> None:
        if total >= PROGRESS_FROM_STEPS and (done == total or done % max(1, total // 10) == 0):
            click.echo(f"backtest: {done}/{total} steps ({now:%Y-%m-%d %H:%M} UTC)", err=True)

    zone = ZoneInfo(config.pipeline.timezone)
    started = {day: dt.datetime.combine(day, at, zone).astimezone(dt.UTC) for day, at in known if at is not None}
    result = run_backtest(
        config,
        start,
        end,
        every=every,
        names=names or None,
        until=until,
        known_days=[day for day, _ in known],
        known_started=started,
        on_step=progress,
    )
    result.overrides = overrides
    if page:
        from pipeline_canary.backtest.page import write_page
        from pipeline_canary.reports.dashboard import docs_root

        written = write_page(result, docs_root(config))
        click.echo(f"backtest page: {written}", err=True)
    if as_json:
        print_json(result.to_dict())
    else:
        print_backtest(result)
    return int(ExitCode.FAILED if result.unexplained else ExitCode.OK)


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def print_backtest(result: Backtest) -> None:
    click.echo(
        f"backtest {result.start} .. {result.end} every {int(result.every.total_seconds() // 60)} min: "
        f"{result.steps} steps x {len(result.checkpoints)} checkpoints, {result.evaluations} evaluations "
        f"({result.gx_validations if result.gx_validations is not None else result.evaluations} GX validations), "
        f"{result.duration_s:.1f} s"
    )
    for key, value in result.overrides.items():
        click.echo(f"  with {key} = {value}")
    header = ("checkpoint", "check", "as_of", "opened (UTC)", "resolved (UTC)", "msgs", "detected after")
    rows: list[tuple[Any, ...]] = [header]
    for name in result.checkpoints:
        mine = [i for i in result.incidents if i.checkpoint == name]
        failing = result.failing_steps.get(name, 0)
        if not mine:
            rows.append((name, f"(no incident; {failing} failing steps)", "", "", "", "", ""))
        for check, steps in sorted(result.failing_checks.get(name, {}).items()):
            if not any(i.check == check for i in mine):
                rows.append((name, f"{check}: failing or warning at {steps} steps, no incident", "", "", "", "", ""))
        for i in mine:
            resolved = _when(i.resolved_at) + (" (day over)" if i.status == "closed" else "")
            detect = result.time_to_detect(i)
            shown = f"{detect.total_seconds() / 3600:.1f} h" if detect is not None else "(no known incident)"
            rows.append((name, i.check, i.as_of, _when(i.opened_at), resolved, len(i.messages), shown))
    widths = [max(len(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    unexplained = result.unexplained
    where = "days with no known incident" if result.known_days else "any day (no --known-incident given)"
    click.echo(f"alerts on {where}: {len(unexplained)}")
    for i in unexplained:
        click.echo(f"  {i.as_of} {i.checkpoint}/{i.check} opened {_when(i.opened_at)}")
