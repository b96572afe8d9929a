"""``canary serve``: the scheduler and its HTTP endpoints, until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from pipeline_canary.cli.run import config_option

log = logging.getLogger("pipeline_canary.serve")


@click.command(
    epilog="\b\nExamples:\n  canary serve\n  canary serve --config canary.toml --host 0.0.0.0 --port 8080\n"
    "\b\nEndpoints: /healthz /readyz /status /docs/"
)
@config_option
@click.option("--host", default=None, help="Address to listen on (default: [schedule] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default: [schedule] port, 8080).")
def serve(config_path: str | None, host: str | None, port: int | None) -> int:
    """Run the checkpoints on their schedules and serve health, status and the docs site.

    /docs/ is the canary dashboard, with GX's Data Docs under /docs/local_site/.

    Stops on SIGTERM or SIGINT: no new runs, the current one may finish within the shutdown grace,
    pending alerts are delivered, and the exit code is 0.
    """
    from pipeline_canary.config import load_config
    from pipeline_canary.scheduler.http import CanaryHTTPServer
    from pipeline_canary.scheduler.logging_json import configure
    from pipeline_canary.scheduler.service import Service

    root_level = logging.getLogger().level
    configure(logging.DEBUG if root_level == logging.DEBUG else logging.INFO)
    config = load_config(config_path)
    config.catalogue.compile()  # every canary file's SQL, before the first run (exit 2 naming file, line, key)
    settings = config.schedule.model_copy(
        update={k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    )
    service = Service(config, settings=settings)
    try:
        server = CanaryHTTPServer((settings.host, settings.port), service)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {settings.host}:{settings.port}: {exc}") from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    service.start()
    log.info("serving", extra={"url": server.url, "endpoints": ["/healthz", "/readyz", "/status", "/docs/"]})
    while not stop.wait(1.0):
        pass
    service.shutdown()
    server.stop()
    log.info("stopped")
    return 0
