"""Map google-cloud errors to pipeline-canary's tree at the backend boundary, naming the fix."""

from __future__ import annotations

import concurrent.futures
import re

from pipeline_canary.errors import (
    PermissionDeniedError,
    TableNotFoundError,
    WarehouseError,
    WarehouseTimeoutError,
)

_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+")


def first_line(exc: BaseException) -> str:
    """The useful first line of a google error (drops the job id and location trailer)."""
    message = getattr(exc, "message", None) or str(exc)
    text = str(message).strip()
    errno = _ERRNO.search(text)  # urllib3's connection errors bury it under a page of repr
    if errno:
        return errno.group(0).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nested = getattr(exc, "cause", None) or exc.__cause__
        if not isinstance(nested, BaseException):
            break
        exc = nested
    return exc


def map_error(exc: BaseException, *, what: str, endpoint: str, permission: str) -> WarehouseError:
    """A WarehouseError for ``exc`` raised while doing ``what``; the caller raises it ``from exc``.

    ``permission`` names the IAM permission the operation needs, for PermissionDeniedError.
    """
    import requests
    from google.api_core import exceptions as gexc

    if isinstance(exc, WarehouseError):
        return exc
    cause = _root_cause(exc) if isinstance(exc, gexc.RetryError) else exc
    if isinstance(cause, gexc.NotFound):
        return TableNotFoundError(f"{what}: not found ({first_line(cause)})")
    if isinstance(cause, gexc.Forbidden):
        return PermissionDeniedError(
            f"{what}: permission denied ({first_line(cause)}); grant the service account "
            f"{permission} on the project or dataset"
        )
    if isinstance(cause, gexc.Unauthorized):
        return PermissionDeniedError(
            f"{what}: the credentials were rejected ({first_line(cause)}); check warehouse.credentials_file "
            "or run `gcloud auth application-default login`"
        )
    if isinstance(cause, requests.exceptions.ConnectionError) and not isinstance(cause, requests.exceptions.Timeout):
        return WarehouseError(
            f"{what}: cannot reach BigQuery at {endpoint} ({first_line(cause)}); check "
            "warehouse.api_endpoint, the network and that the server is running"
        )
    if isinstance(
        cause,
        gexc.DeadlineExceeded
        | gexc.RetryError
        | requests.exceptions.Timeout
        | concurrent.futures.TimeoutError
        | TimeoutError,
    ):
        return WarehouseTimeoutError(
            f"{what}: BigQuery at {endpoint} did not answer in time ({first_line(cause)}); check the "
            "network and the service status, or raise warehouse.timeout_s"
        )
    if isinstance(cause, gexc.BadRequest):
        return WarehouseError(f"{what}: {first_line(cause)}")
    return WarehouseError(f"{what}: {type(cause).__name__}: {first_line(cause)}")
