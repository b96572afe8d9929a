"""The SQLite state file kept as one Cloud Storage object, copied down and up with generations.

``download`` records the generation it read (0: no object yet); ``upload`` writes with
``if_generation_match`` on it, so a state that changed in between (another execution took over an
expired lock) is never overwritten: the upload fails with :class:`StateConflictError` instead.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from pipeline_canary.errors import CanaryError, ConfigError

log = logging.getLogger(__name__)
UPLOAD_MARK = "canary-upload"  # object metadata: which upload wrote it (to recognise our own retried write)


class StateStorageError(CanaryError):
    """The state bucket could not be read or written."""


class StateConflictError(StateStorageError):
    """The state object changed while this run held the lock; this run's changes were not saved."""


def parse_object_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/prefix/state.sqlite`` -> ("bucket", "prefix/state.sqlite")."""
    if not uri.startswith("gs://"):
        raise ConfigError(f"{uri!r} is not a gs:// URI (expected gs://BUCKET/PREFIX/state.sqlite)")
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    if not bucket or not name or name.endswith("/"):
        raise ConfigError(f"{uri!r} must name a bucket and an object, e.g. gs://BUCKET/canary/state.sqlite")
    return bucket, name


class GCSStateFile:
    def __init__(self, bucket: Any, name: str) -> None:
        self.bucket, self.name = bucket, name

    @classmethod
    def from_uri(cls, uri: str, client: Any = None) -> GCSStateFile:
        from pipeline_canary.gcs_client import storage_client

        bucket, name = parse_object_uri(uri)
        return cls((client or storage_client()).bucket(bucket), name)

    @property
    def url(self) -> str:
        return f"gs://{self.bucket.name}/{self.name}"

    @property
    def lock_name(self) -> str:
        return f"{self.name}.lock"

    def download(self, local: Path) -> int:
        """Copy the object to ``local``; returns its generation (0 when there is none yet: a new store)."""
        from google.api_core import exceptions as gexc

        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            blob = self.bucket.get_blob(self.name)
            if blob is None:
                log.info("no state at %s yet: starting an empty state store", self.url)
                return 0
            generation = int(blob.generation)  # read before the download, which refreshes the properties
            blob.download_to_filename(str(local), if_generation_match=generation)
        except gexc.GoogleAPIError as exc:
            raise StateStorageError(f"cannot read the state {self.url}: {explain(exc)}") from None
        log.debug("downloaded %s generation %s", self.url, generation)
        return generation

    def upload(self, local: Path, generation: int) -> int:
        """Write a consistent snapshot of ``local`` if the object is still at ``generation``; the new one."""
        from google.api_core import exceptions as gexc

        snapshot = local.with_name(local.name + ".upload")
        _snapshot(local, snapshot)
        mark = uuid.uuid4().hex
        blob = self.bucket.blob(self.name)
        blob.metadata = {UPLOAD_MARK: mark}
        try:
            blob.upload_from_filename(
                str(snapshot), content_type="application/vnd.sqlite3", if_generation_match=generation
            )
        except gexc.PreconditionFailed:
            current = self.bucket.get_blob(self.name)
            if current is not None and (current.metadata or {}).get(UPLOAD_MARK) == mark:
                return int(current.generation)  # a retried upload whose first attempt had landed
            found = current.generation if current is not None else "none"
            raise StateConflictError(
                f"the state {self.url} changed while this run held the lock (expected generation {generation}, "
                f"found {found}): another execution took the lock over after it expired, and this run's "
                "incidents, outbox and history were not saved. Raise [state] lock_ttl_s above the job's task "
                "timeout."
            ) from None
        except gexc.GoogleAPIError as exc:
            raise StateStorageError(f"cannot write the state {self.url}: {explain(exc)}") from None
        finally:
            snapshot.unlink(missing_ok=True)
        log.debug("uploaded %s generation %s", self.url, blob.generation)
        return int(blob.generation)


def _snapshot(local: Path, target: Path) -> None:
    """One self-contained file (WAL folded in, rollback journal mode) via SQLite's backup API."""
    target.unlink(missing_ok=True)
    source = sqlite3.connect(str(local))
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")
    finally:
        dest.close()
        source.close()


def explain(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    hint = {
        403: "permission denied: grant the service account roles/storage.objectUser on the bucket",
        404: "bucket not found: create it or fix [state] uri",
    }.get(code if isinstance(code, int) else 0, "")
    return hint or f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
