"""Publish a built site to Google Cloud Storage: ``gs://BUCKET/PREFIX``, keeping relative links working.

``STORAGE_EMULATOR_HOST`` (honoured like the Google client libraries do) points the client at a local
GCS-compatible server with anonymous credentials; otherwise Application Default Credentials are used.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_canary.errors import CanaryError, InputError
from pipeline_canary.gcs_client import storage_client

__all__ = ["PublishError", "Published", "parse_gs_url", "publish", "storage_client"]

VENDORED = "/static/vendor/"  # GX's site: the CSS, JS and fonts its pages load (reports/offline.py)


class PublishError(CanaryError):
    """The bucket could not be written: check the bucket name, credentials and permissions."""


@dataclass(frozen=True)
class Published:
    bucket: str
    prefix: str
    files: int
    bytes: int

    @property
    def index_url(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}index.html"


def parse_gs_url(url: str) -> tuple[str, str]:
    """``gs://bucket/some/prefix`` -> ("bucket", "some/prefix/")."""
    if not url.startswith("gs://"):
        raise InputError(f"{url!r} is not a gs:// URL (expected gs://BUCKET/PREFIX)")
    bucket, _, prefix = url.removeprefix("gs://").partition("/")
    if not bucket:
        raise InputError(f"{url!r} names no bucket (expected gs://BUCKET/PREFIX)")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def publish(
    root: Path,
    url: str,
    *,
    client: Any = None,
    on_file: Callable[[str], None] | None = None,
) -> Published:
    """Upload every file under ``root`` (dashboard, checkpoint pages, GX's site) below the prefix."""
    from google.api_core import exceptions as gexc

    bucket_name, prefix = parse_gs_url(url)
    if not (root / "index.html").is_file():
        raise InputError(f"{root} has no index.html: run `canary docs build` first")
    client = client or storage_client()
    bucket = client.bucket(bucket_name)
    count = total = 0
    try:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
            name = prefix + path.relative_to(root).as_posix()
            blob = bucket.blob(name)
            content_type = mimetypes.guess_type(path.name)[0] or (
                "text/plain" if path.name.upper().startswith(("LICEN", "COPYING")) else "application/octet-stream"
            )
            if path.suffix == ".html":
                blob.cache_control = "no-cache"  # status pages must not be stale
            elif VENDORED in name:  # a vendored asset's path names its version: it never changes
                blob.cache_control = "public, max-age=31536000, immutable"
            blob.upload_from_filename(str(path), content_type=content_type, timeout=60)
            count += 1
            total += path.stat().st_size
            if on_file is not None:
                on_file(name)
    except gexc.GoogleAPIError as exc:
        raise PublishError(f"uploading to gs://{bucket_name}/{prefix} failed: {exc}") from exc
    return Published(bucket_name, prefix, count, total)
