"""The exception tree, grouped by who has to act.

    CanaryError                      base of everything this package raises on purpose
    ├── ConfigError                  the user's configuration or command line is wrong (exit 2)
    │   └── UnknownCheckpointError   a checkpoint name that no canary defines
    ├── WarehouseError               the warehouse could not answer (the check is ``errored``)
    │   ├── TableNotFoundError       a table or dataset does not exist
    │   ├── PermissionDeniedError    the credentials lack a permission
    │   ├── NoCreationTimesError     the warehouse cannot tell when tables were created (says how to fix)
    │   └── WarehouseTimeoutError    the warehouse did not answer in time
    ├── DeliveryError                an alert or metric could not be delivered (retried later)
    ├── MissingDependencyError       a Python package or DuckDB extension is not installed (says which)
    └── InputError                   a file given on the command line is unreadable (exit 2)

Driver exceptions are wrapped at the backend boundary with ``raise ... from exc``; every message
names the cause and what to do next.
"""

from __future__ import annotations


class CanaryError(Exception):
    """Base class of every error pipeline-canary raises on purpose."""


class ConfigError(CanaryError):
    """The configuration (file, environment or command line) is invalid; ``fix`` (if known) says what to change."""

    def __init__(self, message: str = "", fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class UnknownCheckpointError(ConfigError):
    """A checkpoint name was given that no canary defines."""


class InputError(CanaryError):
    """A file given on the command line cannot be read or parsed."""


class WarehouseError(CanaryError):
    """The warehouse could not run a query or describe an object."""


class TableNotFoundError(WarehouseError):
    """A table or dataset the check needs does not exist."""


class PermissionDeniedError(WarehouseError):
    """The credentials lack a permission the check needs."""


class NoCreationTimesError(WarehouseError):
    """The warehouse has no (working) source of table creation times; ``fix`` says how to configure one."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(f"{message}: {fix}")
        self.fix = fix


class WarehouseTimeoutError(WarehouseError):
    """The warehouse did not answer within the configured timeout."""


class DeliveryError(CanaryError):
    """An alert or metric could not be delivered; it stays queued for a later attempt."""


class MissingDependencyError(CanaryError):
    """A Python package or DuckDB extension the code needs is not installed; ``fix`` says what to install."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(f"{message}: {fix}")
        self.fix = fix
