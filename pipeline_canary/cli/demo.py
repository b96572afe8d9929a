"""``canary demo``: seed the embedded warehouse, run every checkpoint, build the docs."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline_canary.cli._output import print_json, print_run
from pipeline_canary.cli.exit_codes import ExitCode
from pipeline_canary.demo import SCENARIOS

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig

DEFAULT_DIR = "canary-demo"
TIMEZONE = "America/New_York"

CONFIG_TEMPLATE = """\
# Written by `canary demo`: the embedded demo warehouse. Edit freely; `canary run --config {config}`.
[warehouse]
backend = "duckdb"
path = "warehouse.duckdb"

[pipeline]
timezone = "{timezone}"
worker_contract = "worker_contract.json"

[gx]
project_dir = "gx"

[state]
path = "state.sqlite"

[canaries]
packs = ["nba"]                    # the pipeline's own checks (README: The NBA pack)
{baselines}"""

# Learned baselines for the metrics where this pipeline's outages hide under fixed thresholds (the
# demo's baseline scenarios, pipeline_canary/demo/caught.py CAUGHT_BY_BASELINE); README: Learned baselines.
BASELINES = """
# Learned baselines (README: Learned baselines): a metric's normal range, from its own history.
[checkpoints.prediction_gap.baseline.active_predictions]
direction = "down"                 # a drop that is not to zero (every game still covered)

[checkpoints.prediction_gap.baseline.models]
direction = "down"                 # one model stops while the others go on
min_change = 0.5                   # a count that never moved: one model less is a change

[checkpoints.feature_contamination.baseline.required_default_pct]
direction = "up"                   # a creep under the 5% warning line
min_change = 0.5                   # percentage points

[checkpoints.feature_store_volume.baseline.feature_rows]
per = "games"                      # per scheduled game: a four-game night is not an anomaly
direction = "down"
"""


@click.command(
    epilog=(
        "\b\nExamples:\n  canary demo\n  canary demo --scenario healthy\n"
        "  canary demo --dir /tmp/d --seasons 5 --json\n"
        "  canary demo --config canary.toml      the repository's own configuration (.canary/)"
    )
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=None,
    help="Where the demo warehouse, its canary.toml, GX project and docs go (default: canary-demo).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Seed the DuckDB warehouse this configuration names and run with it, instead of a demo folder.",
)
@click.option(
    "--scenario",
    type=click.Choice(SCENARIOS),
    default="incident",
    show_default=True,
    help=(
        "Which incident the demo data contains ('healthy' has none; README: Demo scenarios). "
        "predictions-drop, contamination-creep, features-thin and model-stops pass every fixed threshold: "
        "only a baseline learned from each metric's history sees them."
    ),
)
@click.option(
    "--seasons",
    type=click.IntRange(1, 50),
    default=1,
    show_default=True,
    help="Seasons of history (about 165 game days each).",
)
@click.option("--reseed", is_flag=True, help="Seed again even if a matching demo warehouse exists.")
@click.option(
    "--history-days",
    type=click.IntRange(0, 60),
    default=14,
    show_default=True,
    help="After seeding, replay this many past days of half-daily runs so the dashboard has trends.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def demo(
    directory: str | None,
    config_path: str | None,
    scenario: str,
    seasons: int,
    reseed: bool,
    history_days: int,
    as_json: bool,
) -> int:
    """Seed the demo warehouse (once), run all checkpoints and build the Data Docs.

    Everything one demo writes (warehouse, state, GX project, dashboard) belongs to one configuration:
    the demo folder's own canary.toml, or the file given with --config.
    """
    from pipeline_canary.cli import config_line
    from pipeline_canary.config import load_config
    from pipeline_canary.reports.dashboard import docs_root
    from pipeline_canary.session import execute

    config_file = _config_file(directory, config_path)
    config = load_config(config_file)
    if config.warehouse.backend != "duckdb":
        raise click.UsageError(
            f"{config_file} uses the {config.warehouse.backend} warehouse: the demo seeds an embedded DuckDB one "
            '(give a configuration with [warehouse] backend = "duckdb", or --dir for a demo folder)'
        )
    seeded_before = config.warehouse.path.with_suffix(".seed.json")
    if config_path is not None and config.warehouse.path.exists() and not seeded_before.exists():
        raise click.UsageError(
            f"{config.warehouse.path} is not a demo warehouse (no {seeded_before.name} beside it) and the demo "
            "replaces the file it seeds: give a configuration whose [warehouse] path is new or a demo's"
        )
    if not as_json:
        click.echo(config_line(config))
    root = config_file.parent
    info = _ensure_seeded(config.warehouse.path, scenario, seasons, config.pipeline.timezone, reseed, quiet=as_json)
    contract = config.pipeline.worker_contract
    if contract is not None and not contract.exists():
        from pipeline_canary.demo import write_contract

        write_contract(contract)
    config = sandboxed(config)
    demo_now = dt.datetime.fromisoformat(info["now"])  # the seed's clock: the evening of its game day
    if info.pop("fresh", False):
        # A demo folder's state starts over with its data; a configuration's own state is kept.
        _replay_history(config, history_days, quiet=as_json, now=demo_now, fresh_state=config_path is None)
    result = execute(config, now=demo_now)
    dashboard = docs_root(config) / "index.html"  # rendered by the run's reports sink
    if as_json:
        data = result.to_dict()
        data["demo"] = {"dir": str(root), "config": str(config_file), **info}
        data["dashboard"] = str(dashboard)
        print_json(data)
    else:
        print_run(result)
        if result.docs_index:
            click.echo(f"Data Docs: {result.docs_index}")
        click.echo(f"Dashboard: {dashboard}")
    return int(ExitCode.for_run(result))


def _config_file(directory: str | None, config_path: str | None) -> Path:
    """The configuration the demo works on: ``--config``, else the demo folder's canary.toml (written once)."""
    if config_path is not None:
        if directory is not None:
            raise click.UsageError("give --dir or --config, not both: a configuration names its own folders")
        return Path(config_path)
    root = Path(directory or DEFAULT_DIR)
    root.mkdir(parents=True, exist_ok=True)
    path = root / "canary.toml"
    if not path.exists():
        path.write_text(CONFIG_TEMPLATE.format(config=path, timezone=TIMEZONE, baselines=BASELINES), encoding="utf-8")
    return path


def _ensure_seeded(path: Path, scenario: str, seasons: int, timezone: str, reseed: bool, quiet: bool) -> dict[str, Any]:
    """Seed unless a warehouse with this scenario and size was already seeded today."""
    from pipeline_canary import demo as demo_data

    marker = path.with_suffix(".seed.json")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    wanted = {"scenario": scenario, "seasons": seasons, "seeded_on": today}
    if not reseed and path.exists() and marker.exists():
        try:
            if {k: v for k, v in json.loads(marker.read_text()).items() if k in wanted} == wanted:
                return json.loads(marker.read_text())
        except (OSError, ValueError):
            pass
    now = demo_data.demo_clock(timezone)
    if quiet:
        info = demo_data.seed(path, scenario=scenario, seasons=seasons, now=now, timezone=timezone)
    else:
        with click.progressbar(
            length=100,
            label=f"Seeding {scenario} demo ({seasons} season(s))",
            file=sys.stderr,
        ) as bar:
            state = {"done": 0}

            def progress(stage: str, done: int, total: int) -> None:
                pct = int(100 * done / max(total, 1))
                bar.label = f"Seeding {scenario} demo: {stage}"
                bar.update(max(pct - state["done"], 0))
                state["done"] = max(state["done"], pct)

            info = demo_data.seed(
                path, scenario=scenario, seasons=seasons, now=now, timezone=timezone, progress=progress
            )
    record = {**wanted, "as_of": info.as_of.isoformat(), "now": info.now.isoformat(), "rows": info.rows}
    marker.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return {**record, "fresh": True}


def sandboxed(config: CanaryConfig) -> CanaryConfig:
    """``config`` with Slack and Cloud Monitoring off: the demo records incidents and sends nothing.

    The demo's data is made up; a Slack secret or a metrics project in the environment must not
    turn it into real alerts or time series. ``canary run --config`` on the demo folder uses them.
    """
    return config.model_copy(
        update={
            "alerting": config.alerting.model_copy(update={"slack": "off"}),
            "metrics": config.metrics.model_copy(update={"project": None}),
        }
    )


def _replay_history(
    config: CanaryConfig, days: int, *, quiet: bool, now: dt.datetime | None = None, fresh_state: bool = True
) -> None:
    """Run the checkpoints as they would have run twice a day over the past ``days`` (no docs).

    A freshly seeded demo has data for every past day but no run history; replaying it gives the
    dashboard its trends. A demo folder's state store starts over (``fresh_state``), so history
    matches the new data; ``canary demo --config`` keeps the configuration's own. Each run is live
    at its own "now" (its as-of is that moment's game day), so it goes through the same sinks as a
    live run, incidents included: the dashboard's streaks, the incident list and a later
    ``canary run`` all continue from one state. ``config`` is :func:`sandboxed`.
    """
    from pipeline_canary.session import execute

    for stale in (config.state.path, config.state.path.with_suffix(".lock")) if fresh_state else ():
        stale.unlink(missing_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    moments = [now - dt.timedelta(hours=12 * step) for step in range(2 * days, 0, -1)]
    stream = sys.stderr
    with click.progressbar(moments, label="Replaying past runs for the dashboard", file=stream) as bar:
        for moment in bar if not quiet else moments:
            execute(config, now=moment, build_docs=False)
