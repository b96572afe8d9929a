"""The embedded state backend: one SQLite file, safe for the service and a manual run at once."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline_canary.errors import ConfigError

if TYPE_CHECKING:
    from pipeline_canary.config import CanaryConfig

# Every concern registers its DDL here (module import time); tables are created on first open.
SCHEMAS: dict[str, str] = {}
# Columns added after a table first shipped: (table, column, declaration), and DDL that needs them.
COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {}
AFTER_COLUMNS: dict[str, str] = {}


def register_schema(
    name: str, ddl: str, *, columns: tuple[tuple[str, str, str], ...] = (), after_columns: str = ""
) -> None:
    """``ddl`` (idempotent), then ``columns`` added to state files that predate them, then ``after_columns``."""
    SCHEMAS[name] = ddl
    COLUMNS[name] = columns
    AFTER_COLUMNS[name] = after_columns


def _add_missing_columns(conn: sqlite3.Connection, columns: tuple[tuple[str, str, str], ...]) -> None:
    for table, column, declaration in columns:
        present = {r[1] for r in conn.execute("SELECT * FROM pragma_table_info(?)", (table,)).fetchall()}
        if column not in present:  # identifiers come from our own registrations, never from input
            conn.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {declaration}')


class SQLiteState:
    """A SQLite file in WAL mode; one connection per thread, transactions via ``transaction()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._created: set[str] = set()
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
            except (OSError, sqlite3.Error) as exc:
                raise ConfigError(
                    f"cannot open the state store {self.path} ([state] path): {exc}; point it at a writable folder"
                ) from None
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        self._ensure_schema(conn)
        return conn

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        missing = [n for n in SCHEMAS if n not in self._created]
        if not missing:
            return
        with self._lock:
            for name in missing:
                conn.executescript(SCHEMAS[name])
                _add_missing_columns(conn, COLUMNS.get(name, ()))
                if AFTER_COLUMNS.get(name):
                    conn.executescript(AFTER_COLUMNS[name])
                self._created.add(name)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: writers serialise, nothing is half-written."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        return self._connection()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the database behind ``conn`` has the table ``name`` (a store written by an older version may not)."""
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


_OPEN: dict[str, SQLiteState] = {}


def open_state(config: CanaryConfig) -> SQLiteState:
    """The state store of ``config`` (one instance per file per process)."""
    import pipeline_canary.state.history  # noqa: F401 - registers its schema

    key = str(config.state.path)
    if key not in _OPEN:
        _OPEN[key] = SQLiteState(config.state.path)
    return _OPEN[key]


def forget_state(path: Path) -> None:
    """Close (this thread's connection) and drop the cached store of ``path``, before the file is replaced."""
    store = _OPEN.pop(str(path), None)
    if store is not None:
        store.close()
