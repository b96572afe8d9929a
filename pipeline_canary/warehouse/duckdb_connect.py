"""Every DuckDB connection the package opens: extensions are never installed or loaded on their own.

By default DuckDB installs a known extension over plain HTTP (extensions.duckdb.org) and loads it
the moment a statement needs it: a view in a file someone handed us that reads an ``https://`` URL
would make the canary fetch and run code. Here both are off; a statement that needs an extension
fails with DuckDB's message naming it (our MissingDependencyError says how to install it). Nothing
else in the package calls ``duckdb.connect`` (tests/test_duckdb_connect.py checks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Settings fixed when the database starts (DuckDB refuses some of them later, e.g. community extensions).
SAFE_CONFIG: dict[str, bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


def connect_duckdb(path: str | Path = ":memory:", *, read_only: bool = False) -> Any:
    """``duckdb.connect(path, read_only=...)`` with :data:`SAFE_CONFIG`; the caller maps ``duckdb.Error``."""
    import duckdb

    return duckdb.connect(str(path), read_only=read_only, config=dict(SAFE_CONFIG))
