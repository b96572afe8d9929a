"""Error mapping and credential resolution: pure, no server (real google exception and key types)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from google.api_core import exceptions as gexc

from pipeline_canary.config import WarehouseConfig
from pipeline_canary.errors import (
    ConfigError,
    PermissionDeniedError,
    TableNotFoundError,
    WarehouseError,
    WarehouseTimeoutError,
)
from pipeline_canary.warehouse._bq_errors import map_error
from pipeline_canary.warehouse.bigquery import resolve_credentials

ENDPOINT = "http://127.0.0.1:9"


def mapped(exc: BaseException, permission: str = "bigquery.jobs.create") -> WarehouseError:
    return map_error(exc, what="query", endpoint=ENDPOINT, permission=permission)


def test_forbidden_names_the_permission() -> None:
    err = mapped(gexc.Forbidden("Access Denied: User lacks bigquery.jobs.create"), "bigquery.jobs.create")
    assert isinstance(err, PermissionDeniedError)
    assert "grant the service account bigquery.jobs.create" in str(err)


def test_not_found_bad_request_and_timeouts() -> None:
    assert isinstance(mapped(gexc.NotFound("Not found: Table p:d.t")), TableNotFoundError)
    bad = mapped(gexc.BadRequest("Syntax error at [1:7]\n\nLocation: US\nJob ID: abc"))
    assert type(bad) is WarehouseError and str(bad) == "query: Syntax error at [1:7]"
    for slow in (gexc.DeadlineExceeded("late"), requests.exceptions.ReadTimeout("read timed out"), TimeoutError()):
        err = mapped(slow)
        assert isinstance(err, WarehouseTimeoutError) and ENDPOINT in str(err) and "timeout_s" in str(err)


def test_retry_error_is_mapped_by_its_cause() -> None:
    refused = requests.exceptions.ConnectionError("... [Errno 111] Connection refused')")
    err = mapped(gexc.RetryError("Timeout of 5.0s exceeded", cause=refused))
    assert type(err) is WarehouseError
    assert f"cannot reach BigQuery at {ENDPOINT} ([Errno 111] Connection refused)" in str(err)
    assert isinstance(mapped(gexc.RetryError("Timeout of 5.0s exceeded", cause=None)), WarehouseTimeoutError)
    assert isinstance(mapped(gexc.RetryError("x", cause=gexc.Forbidden("no"))), PermissionDeniedError)


def test_local_endpoint_uses_anonymous_credentials() -> None:
    creds, how = resolve_credentials(WarehouseConfig(backend="bigquery", project="p-local", api_endpoint=ENDPOINT))
    assert type(creds).__name__ == "AnonymousCredentials" and "anonymous" in how


def test_service_account_file(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    key = tmp_path / "key.json"
    key.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "nba-props-platform",
                "private_key_id": "abc",
                "private_key": pem,
                "client_email": "canary@nba-props-platform.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    creds, how = resolve_credentials(WarehouseConfig(backend="bigquery", project="p-local", credentials_file=key))
    assert creds.service_account_email == "canary@nba-props-platform.iam.gserviceaccount.com"
    assert str(key) in how
    key.write_text("{}")
    with pytest.raises(ConfigError, match=r"warehouse\.credentials_file"):
        resolve_credentials(WarehouseConfig(backend="bigquery", project="p-local", credentials_file=key))


def test_missing_application_default_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="gcloud auth application-default login"):
        resolve_credentials(WarehouseConfig(backend="bigquery", project="p-local"))
