"""The one way we build a Cloud Storage client (Data Docs publishing, the shared state backend).

``STORAGE_EMULATOR_HOST`` (honoured like the Google client libraries do) points the client at a local
GCS-compatible server with anonymous credentials; otherwise Application Default Credentials are used.
"""

from __future__ import annotations

import os
from typing import Any


def storage_client(project: str | None = None) -> Any:
    from google.cloud import storage

    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator:
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(
            project=project or "local",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emulator},
        )
    return storage.Client(project=project)
