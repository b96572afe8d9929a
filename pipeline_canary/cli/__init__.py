"""``canary``: the command line. Commands load lazily so ``--help`` and ``list`` stay fast.

Exit codes (also in README):
  0  every checkpoint passed (warnings and skips allowed)
  1  at least one check failed
  2  usage or configuration error (bad option, unknown key or checkpoint, unreadable file)
  3  something could not run (errored) and nothing failed
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import logging
import sys
from typing import TYPE_CHECKING, Any

import click

from pipeline_canary import __version__
from pipeline_canary.cli.exit_codes import ExitCode
from pipeline_canary.errors import CanaryError, ConfigError, InputError
from pipeline_canary.redaction import install as install_redaction
from pipeline_canary.redaction import redact

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig

# Commands that do not get the config line from here: the service logs JSON lines, the gate prints
# CI annotations (and reads a configuration only for --table), and demo prints its own (the demo
# folder's configuration, which no lookup finds).
NO_CONFIG_LINE = frozenset({"serve", "schema-gate", "demo"})

# command name -> "module:attribute"; add a command by adding one line here.
COMMANDS: dict[str, str] = {
    "run": "pipeline_canary.cli.run:run",
    "list": "pipeline_canary.cli.run:list_checkpoints",
    "demo": "pipeline_canary.cli.demo:demo",
    "docs": "pipeline_canary.cli.docs:docs",
    "schema-gate": "pipeline_canary.cli.schema_gate:schema_gate",
    "doctor": "pipeline_canary.cli.doctor:doctor",
    "alerts": "pipeline_canary.cli.alerts:alerts",
    "serve": "pipeline_canary.cli.serve:serve",
    "staging": "pipeline_canary.cli.staging:staging",
    "canaries": "pipeline_canary.cli.canaries:canaries",
    "backtest": "pipeline_canary.cli.backtest:backtest",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("pipeline_canary"):
                return None
            raise
        command: click.Command = getattr(module, attr)
        if cmd_name not in NO_CONFIG_LINE:
            _announce_config(command)
        return command


def config_line(config: CanaryConfig) -> str:
    """``config: /path/canary.toml (warehouse: ..., state: ..., gx: ...)``: what a command works on."""
    wh, state = config.warehouse, config.state
    warehouse = f"bigquery {wh.project or '(no project)'}" if wh.backend == "bigquery" else f"duckdb {wh.path}"
    kept = state.uri if state.backend == "gcs" else state.path
    source = config.source.resolve() if config.source is not None else "built-in defaults"
    return f"config: {source} (warehouse: {warehouse}; state: {kept}; gx: {config.gx.project_dir})"


def _announce_config(command: click.Command) -> None:
    """Print :func:`config_line` at the top of the human output of every command taking ``--config``.

    The line goes first, before the command's own output; ``--json`` output stays one JSON object.
    A configuration that does not load prints nothing here: the command reports the error itself.
    """
    if isinstance(command, click.Group):  # docs, alerts, staging: their subcommands take --config
        for sub in command.commands.values():
            _announce_config(sub)
        return
    original = command.callback
    if original is None or getattr(original, "_announces_config", False):
        return
    if "config_path" not in {p.name for p in command.params}:
        return

    @functools.wraps(original)
    def callback(*args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("as_json"):
            from pipeline_canary.config import load_config

            with contextlib.suppress(CanaryError):  # the command reports it
                click.echo(config_line(load_config(kwargs.get("config_path"))))
        return original(*args, **kwargs)

    callback._announces_config = True  # type: ignore[attr-defined]
    command.callback = callback


EPILOG = """\b
Examples:
  canary demo                          seed the demo warehouse, run everything, build Data Docs
  canary run prediction_gap --as-of 2026-02-08
  canary run --json > result.json
  canary run --tier critical
  canary list
  canary canaries new games_final      write a canary file; `canary canaries check` lints them

\b
Exit codes: 0 passed (warnings allowed) · 1 a check failed · 2 usage or configuration error ·
3 something could not run and nothing failed.
Configuration: --config FILE, else $CANARY_CONFIG, else ./canary.toml.
"""


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="canary")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """pipeline-canary: data-quality canaries for the NBA player-props prediction pipeline."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    install_redaction()  # on the handlers: every logger's records, tracebacks included


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: maps our errors to the documented exit codes, no tracebacks.

    Every message printed here is redacted: no part of a Slack secret reaches the terminal.
    """
    try:
        code = cli.main(args=argv, prog_name="canary", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(int(ExitCode.USAGE))
    except click.ClickException as exc:
        shown = io.StringIO()
        exc.show(file=shown)
        sys.stderr.write(redact(shown.getvalue()))
        sys.exit(int(ExitCode.USAGE))
    except (ConfigError, InputError) as exc:
        click.echo(f"error: {redact(str(exc))}", err=True)
        sys.exit(int(ExitCode.USAGE))
    except CanaryError as exc:
        click.echo(f"error: {redact(str(exc))}", err=True)
        sys.exit(int(ExitCode.ERRORED))
    except Exception as exc:  # a bug or an environment problem: one line, the traceback only with -vv
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        click.echo(f"error: {type(exc).__name__}: {redact(str(exc))} (run with -vv for the traceback)", err=True)
        sys.exit(int(ExitCode.ERRORED))
    sys.exit(int(code or 0))
