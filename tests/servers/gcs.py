"""A local Cloud Storage server for the real google-cloud-storage client: gcp-storage-emulator, plus
generation preconditions.

The emulator ignores ``ifGenerationMatch``; Cloud Storage enforces it (412 conditionNotMet), and the
shared state backend's lock and uploads rely on it. This server checks it on uploads (media,
multipart, resumable start), downloads and deletes, then hands the request to the emulator. It
serves one request at a time (like the emulator), so check and write are atomic, as on GCS.
"""

from __future__ import annotations

import io
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import HTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import buckets
from gcp_storage_emulator.server import RequestHandler
from gcp_storage_emulator.storage import Storage

_OBJECT = re.compile(r"^(?:/download)?(?:/storage/v1)?/b/(?P<bucket>[-.\w]+)/o/(?P<name>[^?]+)$")
_UPLOAD = re.compile(r"^/upload/storage/v1/b/(?P<bucket>[-.\w]+)/o$")
_NAME_IN_BODY = re.compile(rb'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')


class _PreconditionHandler(RequestHandler):
    storage: Any

    def _precondition_met(self) -> bool:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        wanted = query.get("ifGenerationMatch", [None])[0]
        if wanted is None:
            return True
        bucket, name = self._target(url.path, query)
        if bucket is None or name is None:
            return True
        try:
            current = str(self.storage.get_file_obj(bucket, name)["generation"])
        except NotFound:
            current = "0"
        if current == str(wanted):
            return True
        body = json.dumps({"error": {"code": 412, "message": "conditionNotMet", "errors": [
            {"reason": "conditionNotMet", "message": "At least one of the pre-conditions you specified did not hold."}
        ]}}).encode()  # fmt: skip
        self.send_response(412)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return False

    def _target(self, path: str, query: dict[str, list[str]]) -> tuple[str | None, str | None]:
        found = _OBJECT.match(path)
        if found:
            return found["bucket"], unquote(found["name"])
        found = _UPLOAD.match(path)
        if not found or "upload_id" in query:
            return None, None
        if "name" in query:
            return found["bucket"], query["name"][0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        self.rfile = io.BytesIO(raw)  # the emulator reads the body again
        named = _NAME_IN_BODY.search(raw)
        return found["bucket"], json.loads(b'"' + named.group(1) + b'"') if named else None

    def do_GET(self) -> None:
        if self._precondition_met():
            super().do_GET()

    def do_POST(self) -> None:
        if self._precondition_met():
            super().do_POST()

    def do_DELETE(self) -> None:
        if self._precondition_met():
            super().do_DELETE()


class GCSServer:
    def __init__(self, bucket: str = "canary-state") -> None:
        self.bucket = bucket
        self.storage = Storage(use_memory_fs=True)
        buckets.create_bucket(bucket, self.storage)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        self._httpd = HTTPServer(("127.0.0.1", port), partial(_PreconditionHandler, self.storage))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self.host = f"http://127.0.0.1:{port}"

    def client(self) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="local", credentials=AnonymousCredentials(), client_options={"api_endpoint": self.host}
        )


@contextmanager
def running(bucket: str = "canary-state") -> Iterator[GCSServer]:
    server = GCSServer(bucket)
    server._thread.start()
    try:
        yield server
    finally:
        server._httpd.shutdown()
        server._httpd.server_close()
