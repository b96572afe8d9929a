"""Publishing to a local GCS-compatible server, and serving the built site on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline_canary.config import CanaryConfig
from pipeline_canary.errors import InputError
from pipeline_canary.reports import build_site
from pipeline_canary.reports.publish import parse_gs_url, publish, storage_client
from pipeline_canary.reports.serve import serve_in_thread
from pipeline_canary.state import open_state
from pipeline_canary.state.history import record_run
from tests.reports.conftest import run_result

NOW = dt.datetime(2026, 2, 8, 23, 0, tzinfo=dt.UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A gcp-storage-emulator server on 127.0.0.1 with bucket 'canary-docs'; yields its host."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket="canary-docs")
    server.start()
    host = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", host)
    try:
        yield host
    finally:
        server.stop()


@pytest.fixture
def built(report_config: Callable[..., CanaryConfig]) -> Path:
    config = report_config()
    record_run(open_state(config), run_result(NOW, ("prediction_gap",)))
    return build_site(config, build_gx=False).root


@pytest.mark.parametrize(
    ("url", "expected"),
    [("gs://b", ("b", "")), ("gs://b/", ("b", "")), ("gs://b/x/y/", ("b", "x/y/")), ("gs://b/x", ("b", "x/"))],
)
def test_parse_gs_url(url: str, expected: tuple[str, str]) -> None:
    assert parse_gs_url(url) == expected


@pytest.mark.parametrize("url", ["s3://b/x", "gs://", "/tmp/x"])
def test_parse_gs_url_rejects(url: str) -> None:
    with pytest.raises(InputError, match="gs://"):
        parse_gs_url(url)


def test_publish_uploads_the_site_with_content_types(gcs: str, built: Path) -> None:
    result = publish(built, "gs://canary-docs/team/canary")
    names = {b.name: b for b in storage_client().list_blobs("canary-docs", prefix="team/canary/")}
    expected = {f"team/canary/{p.relative_to(built).as_posix()}" for p in built.rglob("*") if p.is_file()}
    assert set(names) == expected and result.files == len(expected)
    assert "team/canary/checkpoints/prediction_gap.html" in names
    index = names["team/canary/index.html"]
    assert index.content_type == "text/html"
    assert b"prediction_gap" in index.download_as_bytes()
    assert names["team/canary/canary.css"].content_type == "text/css"
    assert result.index_url == "gs://canary-docs/team/canary/index.html"


def test_publish_caches_the_vendored_gx_assets_and_serves_their_licences_as_text(gcs: str, built: Path) -> None:
    from pipeline_canary.reports.offline import VENDOR, copy_assets

    copy_assets(built / "local_site" / VENDOR)
    publish(built, "gs://canary-docs/docs")
    names = {b.name: b for b in storage_client().list_blobs("canary-docs", prefix="docs/local_site/static/vendor/")}
    font = names["docs/local_site/static/vendor/fontawesome-free/6.6.0/webfonts/fa-solid-900.woff2"]
    assert font.content_type == "font/woff2" and font.cache_control == "public, max-age=31536000, immutable"
    assert names["docs/local_site/static/vendor/bootstrap/4.3.1/LICENSE"].content_type == "text/plain"
    assert names["docs/local_site/static/vendor/jquery/3.7.1/jquery.min.js"].content_type == "text/javascript"


def test_publish_command(gcs: str, report_config: Callable[..., CanaryConfig]) -> None:
    from click.testing import CliRunner

    from pipeline_canary.cli import cli

    config = report_config()
    record_run(open_state(config), run_result(NOW))
    result = CliRunner().invoke(cli, ["docs", "publish", "gs://canary-docs/p", "--config", str(config.source)])
    assert result.exit_code == 0, result.output
    assert "gs://canary-docs/p/index.html" in result.output


def test_publish_refuses_an_unbuilt_site(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="canary docs build"):
        publish(tmp_path, "gs://canary-docs/x", client=object())


def test_serve_answers_on_loopback(built: Path) -> None:
    server, url = serve_in_thread(built)
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "index.html", timeout=10) as response:
            assert response.status == 200 and b"Canary dashboard" in response.read()
        with urllib.request.urlopen(url + "checkpoints/prediction_gap.html", timeout=10) as response:
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url + "nope.html", timeout=10)
        assert info.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
