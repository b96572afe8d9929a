"""``canary docs build | serve | publish``: the dashboard next to GX's Data Docs, served or published.

The dashboard is built from the configured state: with ``[state] backend = "gcs"`` a snapshot of the
shared store (no lock taken, nothing uploaded), as ``canary alerts status`` reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline_canary.cli._output import print_json
from pipeline_canary.cli.run import config_option

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig
    from pipeline_canary.reports.dashboard import Site

out_option = click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write the site here (default: next to GX's Data Docs, <gx>/uncommitted/data_docs).",
)


@click.group(
    epilog=(
        "\b\nExamples:\n  canary docs build\n  canary docs serve --port 8080\n"
        "  canary docs publish gs://my-bucket/canary"
    )
)
def docs() -> None:
    """Build, serve or publish the canary dashboard and GX Data Docs."""


@docs.command(epilog="\b\nExamples:\n  canary docs build\n  canary docs build --out /tmp/site --json")
@config_option
@out_option
@click.option("--no-gx", is_flag=True, help="Do not rebuild GX's Data Docs first (dashboard only).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def build(config_path: str | None, out: str | None, no_gx: bool, as_json: bool) -> int:
    """Apply history retention, build GX's Data Docs and render the dashboard; print its path."""
    from pipeline_canary.config import load_config

    site = _build(load_config(config_path), out=Path(out) if out else None, build_gx=not no_gx)
    if as_json:
        print_json(
            {
                "dashboard": str(site.index),
                "gx_index": str(site.gx_index) if site.gx_index else None,
                "checkpoints": {k: str(v) for k, v in site.checkpoints.items()},
                "pruned_runs": site.pruned_runs,
            }
        )
    else:
        click.echo(f"Dashboard: {site.index}")
        if site.gx_index:
            click.echo(f"Data Docs: {site.gx_index}")
    return 0


@docs.command(epilog="\b\nExamples:\n  canary docs serve\n  canary docs serve --port 0   # any free port")
@config_option
@out_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 picks a free port.")
@click.option("--no-build", is_flag=True, help="Serve what is there; do not build first.")
def serve(config_path: str | None, out: str | None, host: str, port: int, no_build: bool) -> int:
    """Build (unless --no-build) and serve the site over HTTP until interrupted."""
    from pipeline_canary.config import load_config
    from pipeline_canary.reports import docs_root
    from pipeline_canary.reports.serve import base_url, make_server

    config = load_config(config_path)
    root = Path(out) if out else docs_root(config)
    if not no_build:
        root = _build(config, out=root if out else None).root
    server = make_server(root, host, port)
    click.echo(f"Serving {root} at {base_url(server)} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


@docs.command(
    epilog=(
        "\b\nExamples:\n  canary docs publish gs://nba-canary-docs/canary\n"
        "  canary docs publish gs://bucket/prefix --no-build"
    )
)
@click.argument("url")
@config_option
@out_option
@click.option("--no-build", is_flag=True, help="Publish what is there; do not build first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def publish(url: str, config_path: str | None, out: str | None, no_build: bool, as_json: bool) -> int:
    """Upload the site to gs://BUCKET/PREFIX (STORAGE_EMULATOR_HOST for a local server)."""
    from pipeline_canary.config import load_config
    from pipeline_canary.reports import docs_root
    from pipeline_canary.reports.publish import parse_gs_url
    from pipeline_canary.reports.publish import publish as upload

    parse_gs_url(url)  # a bad URL is a usage error before anything is built
    config = load_config(config_path)
    root = Path(out) if out else docs_root(config)
    if not no_build:
        root = _build(config, out=root if out else None).root
    result = upload(root, url)
    if as_json:
        print_json({"url": result.index_url, "files": result.files, "bytes": result.bytes})
    else:
        click.echo(f"Published {result.files} files ({result.bytes:,} bytes): {result.index_url}")
    return 0


def _build(config: CanaryConfig, *, out: Path | None, build_gx: bool = True) -> Site:
    """``build_site`` over the configured state (a snapshot of a shared one: retention there is not kept)."""
    from pipeline_canary.reports import build_site
    from pipeline_canary.state.sync import state_session

    with state_session(config, write=False) as snapshot:
        return build_site(snapshot, out=out, build_gx=build_gx)
