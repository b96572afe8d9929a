"""A lock shared by every execution, as one Cloud Storage object (how Terraform's GCS backend locks).

Taking the lock creates ``<state object>.lock`` with ``if_generation_match=0``: Cloud Storage lets exactly
one creation succeed. The object says who holds it (owner id, host, pid) and until when. A holder
that was killed never deletes it; once its expiry has passed, the next execution takes it over by
rewriting it with a precondition on the generation it read, so two takers cannot both win. Release
deletes it with a precondition on our own generation, never someone else's lock.

Expiry is wall-clock time (the holder's clock when written, the reader's when checked): keep
``lock_ttl_s`` well above both the longest run and any clock skew.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pipeline_canary.state.lock import LockTimeoutError

log = logging.getLogger(__name__)
POLL_S = 1.0


class StateBusyError(LockTimeoutError):
    """Another execution holds the shared state lock; this run did not start."""


@dataclass(frozen=True)
class LockInfo:
    owner: str
    host: str
    pid: int
    acquired_at: float
    expires_at: float
    generation: int

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at

    def describe(self) -> str:
        def stamp(t: float) -> str:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

        return (
            f"held by {self.owner} (host {self.host}, pid {self.pid}) since {stamp(self.acquired_at)}, "
            f"expires {stamp(self.expires_at)}"
        )


def parse_lock(data: bytes, generation: int, created: float, ttl_s: float) -> LockInfo:
    """A lock object's content; one we cannot read counts as taken at its creation for ``ttl_s``."""
    try:
        doc = json.loads(data)
        return LockInfo(
            owner=str(doc["owner"]),
            host=str(doc.get("host", "?")),
            pid=int(doc.get("pid", 0)),
            acquired_at=float(doc["acquired_at"]),
            expires_at=float(doc["expires_at"]),
            generation=generation,
        )
    except (ValueError, KeyError, TypeError):
        return LockInfo("unreadable lock", "?", 0, created, created + ttl_s, generation)


class GCSLock:
    """``acquire()`` (waiting up to ``wait_s``) and ``release()`` of one lock object in ``bucket``."""

    def __init__(self, bucket: Any, name: str, *, ttl_s: float, wait_s: float, owner: str | None = None) -> None:
        self.bucket, self.name = bucket, name
        self.ttl_s, self.wait_s = ttl_s, wait_s
        self.owner = owner or f"canary-{uuid.uuid4().hex[:12]}"
        self.held: LockInfo | None = None

    @property
    def url(self) -> str:
        return f"gs://{self.bucket.name}/{self.name}"

    def inspect(self) -> LockInfo | None:
        """The lock as it is now, or None when nobody holds it."""
        blob = self.bucket.get_blob(self.name)
        if blob is None:
            return None
        from google.api_core import exceptions as gexc

        generation = int(blob.generation)  # read before the download, which refreshes the properties
        created = blob.time_created.timestamp() if blob.time_created else time.time()
        try:
            data = blob.download_as_bytes(if_generation_match=generation)
        except (gexc.NotFound, gexc.PreconditionFailed):
            return self.inspect()  # released or taken over while we looked: look again
        return parse_lock(data, generation, created, self.ttl_s)

    def acquire(self) -> LockInfo:
        """Take the lock, or take over an expired one; StateBusyError after ``wait_s``."""
        deadline = time.monotonic() + self.wait_s
        while True:
            taken = self._try(if_generation_match=0)
            if taken is not None:
                return taken
            current = self.inspect()
            if current is not None and current.owner == self.owner:  # our create went through, its answer did not
                self.held = current
                return current
            if current is not None and current.expired():
                log.warning("taking over the expired state lock %s (%s)", self.url, current.describe())
                taken = self._try(if_generation_match=current.generation)
                if taken is not None:
                    return taken
            if time.monotonic() >= deadline:
                holder = current.describe() if current else "released while we looked"
                raise StateBusyError(
                    f"another execution holds the state lock {self.url} ({holder}); waited {self.wait_s:g}s "
                    "([state] lock_wait_s). This run is skipped; the next scheduled one will run. If that "
                    "execution was killed, its lock expires by itself ([state] lock_ttl_s)."
                )
            time.sleep(min(POLL_S, max(deadline - time.monotonic(), 0.05)))

    def _try(self, *, if_generation_match: int) -> LockInfo | None:
        from google.api_core import exceptions as gexc

        now = time.time()
        host, pid = socket.gethostname(), os.getpid()
        doc = {"owner": self.owner, "host": host, "pid": pid, "acquired_at": now, "expires_at": now + self.ttl_s}
        blob = self.bucket.blob(self.name)
        try:
            blob.upload_from_string(
                json.dumps(doc), content_type="application/json", if_generation_match=if_generation_match
            )
        except gexc.PreconditionFailed:
            return None
        self.held = LockInfo(self.owner, host, pid, now, now + self.ttl_s, int(blob.generation))
        return self.held

    def release(self) -> None:
        """Delete our lock (only ours: a precondition on its generation)."""
        from google.api_core import exceptions as gexc

        if self.held is None:
            return
        try:
            self.bucket.blob(self.name).delete(if_generation_match=self.held.generation)
        except (gexc.NotFound, gexc.PreconditionFailed):
            log.warning(
                "the state lock %s was no longer ours when we released it: another execution took it over "
                "after it expired; raise [state] lock_ttl_s above the longest run",
                self.url,
            )
        finally:
            self.held = None
