"""SQLite's own refusal of what a read-only instance must not do, whatever the SQL says.

A read-only SQLite instance opens its file with ``mode=ro`` and ``query_only``, which
stop writes to it. They do not stop ``ATTACH`` (or ``VACUUM INTO``, which attaches its
target) from creating a new, empty file anywhere the process may write, nor a
``PRAGMA`` from changing the connection (``query_only = OFF``). SQLite's authorizer is
asked about every action while a statement is prepared; this one refuses those, and
the functions that reach files, so that they fail in SQLite even when the connector's
checks are fooled.
"""

from __future__ import annotations

import sqlite3

READ_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
    }
)
"""Pragmas that take an argument and only read: the schema introspection uses them."""
REFUSED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})
"""Functions that load code or reach files (most are absent from Python's SQLite)."""


def read_only_authorizer(
    action: int, first: str | None, second: str | None, database: str | None, trigger: str | None
) -> int:
    """Refuse ``ATTACH``/``DETACH`` (and so ``VACUUM``), pragmas that set, file functions.

    Args:
        action: SQLite's action code.
        first: The action's first argument (a file name, a pragma, a function).
        second: Its second argument (a pragma's value).
        database: The database name.
        trigger: The trigger or view the action is inside, if any.

    Returns:
        ``SQLITE_DENY`` or ``SQLITE_OK``.
    """
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and second is not None:
        return sqlite3.SQLITE_OK if (first or "").lower() in READ_PRAGMAS else sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (second or "").lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class ReadGuard:
    """The read-only authorizer, on during the reads of an instance that may also write.

    SQLite asks the authorizer when it prepares a statement, and Python's sqlite3
    keeps prepared statements for reuse: one prepared during a write (the guard off)
    would run again in a read without being asked about. So after writes the guard is
    installed again before the next read (:attr:`stale`): installing an authorizer
    makes SQLite expire every prepared statement, and they are prepared again under it.
    (The ``PRAGMA query_only = ON`` that starts each read expires them too, as SQLite's
    flag pragmas do; the guard does not rely on that.)

    Attributes:
        reading: Whether the connection is in a read, so refuses what
            :func:`read_only_authorizer` refuses.
        stale: Whether statements may have been prepared with the guard off.
    """

    def __init__(self) -> None:
        self.reading = False
        self.stale = False

    def __call__(
        self,
        action: int,
        first: str | None,
        second: str | None,
        database: str | None,
        trigger: str | None,
    ) -> int:
        """:func:`read_only_authorizer` while reading, else ``SQLITE_OK``."""
        if self.reading:
            return read_only_authorizer(action, first, second, database, trigger)
        return sqlite3.SQLITE_OK
