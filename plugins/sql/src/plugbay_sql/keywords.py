"""Mistakes a caller makes often, answered before the database gives a terse error.

- A first word that starts no statement of the database (``SELEC``, ``SLECT``): the
  answer says so and suggests the closest statement keyword, instead of the database's
  "syntax error" or the ``query`` tool's "use execute for changes".
- Positional placeholders (``?``, ``%s``, ``$1``): this connector binds only named
  ones (``:name``, with ``params``); the answer shows how to rewrite the statement.

Neither check is a safety check: what they refuse, the database would refuse too.
"""

from __future__ import annotations

import difflib
import re

from plugbay import ToolError

_COMMON = frozenset(
    {
        "SELECT", "WITH", "VALUES", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER",
        "DROP", "EXPLAIN", "ANALYZE", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE",
    }
)  # fmt: skip
STATEMENT_KEYWORDS = {
    "sqlite": _COMMON
    | frozenset({"REPLACE", "END", "ATTACH", "DETACH", "VACUUM", "REINDEX", "PRAGMA"}),
    "postgresql": _COMMON
    | frozenset(
        {
            "TABLE", "MERGE", "TRUNCATE", "GRANT", "REVOKE", "START", "END", "ABORT", "SET",
            "RESET", "SHOW", "CALL", "DO", "LOCK", "PREPARE", "EXECUTE", "DEALLOCATE",
            "DECLARE", "FETCH", "CLOSE", "MOVE", "LISTEN", "NOTIFY", "UNLISTEN", "DISCARD",
            "COPY", "LOAD", "VACUUM", "REINDEX", "COMMENT", "CLUSTER", "CHECKPOINT", "ANALYSE",
            "REFRESH", "SECURITY", "IMPORT", "REASSIGN",
        }
    ),
    "mysql": _COMMON
    | frozenset(
        {
            "TABLE", "REPLACE", "TRUNCATE", "GRANT", "REVOKE", "START", "SET", "SHOW",
            "DESCRIBE", "DESC", "USE", "CALL", "DO", "LOCK", "UNLOCK", "HANDLER", "PREPARE",
            "EXECUTE", "DEALLOCATE", "LOAD", "RENAME", "OPTIMIZE", "REPAIR", "CHECK",
            "CHECKSUM", "FLUSH", "KILL", "INSTALL", "UNINSTALL", "HELP", "XA", "PURGE",
            "SIGNAL", "RESIGNAL", "GET", "BACKUP", "RESET", "CHANGE", "STOP", "BINLOG",
            "CACHE", "SHUTDOWN", "RESTART", "CLONE", "IMPORT",
        }
    ),
}  # fmt: skip
"""The words a statement of each database may start with."""
DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MariaDB/MySQL"}

NAMED_PLACEHOLDERS = (
    "write a named placeholder :name in the SQL and pass its value in the params "
    'argument, e.g. sql = "SELECT * FROM orders WHERE id = :id AND status = :status" '
    'with params = {"id": 42, "status": "open"} (write \\: for a colon that is not a '
    "placeholder)"
)
"""How to pass values, for the messages about other placeholders."""
_POSITIONAL = re.compile(r"\?\d*|%(?:\(\w+\))?s|\$\d+")
"""``?``, ``?1``, ``%s``, ``%(name)s``, ``$1``: positional or pyformat placeholders."""
_SQLITE_DOLLAR = re.compile(r"\$[A-Za-z_]\w*")
"""SQLite's own ``$name`` form, which SQLAlchemy does not bind."""


def check_known_keyword(keyword: str, kind: str, preferred: frozenset[str]) -> None:
    """Refuse a statement whose first word starts no statement of the database.

    Args:
        keyword: The statement's first word, upper case.
        kind: ``postgresql``, ``mysql`` or ``sqlite``.
        preferred: The keywords the calling tool runs, suggested before the others.

    Raises:
        ToolError: Saying the word is not a statement, with the closest keyword.
    """
    known = STATEMENT_KEYWORDS.get(kind)
    if known is None or keyword in known:
        return
    if keyword == "PRAGMA":
        raise ToolError(
            f"PRAGMA is SQLite's, not a {DATABASE_NAMES[kind]} statement: {{tool:describe_table}} "
            "shows a table's columns, keys and indexes, {tool:list_tables} the tables"
        )
    preferred = preferred & known
    shown = repr(keyword) if keyword else "the statement's first word"
    message = f"{shown} is not a {DATABASE_NAMES[kind]} statement"
    suggestion = _closest(keyword, sorted(preferred)) or _closest(keyword, sorted(known))
    if suggestion:
        message += f"; did you mean {suggestion}?"
    else:
        message += f": a statement starts with a keyword such as {', '.join(sorted(preferred))}"
    raise ToolError(message)


def _closest(word: str, candidates: list[str]) -> str | None:
    found = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6) if word else []
    return found[0] if found else None


def check_placeholders(placeholders: frozenset[str], kind: str) -> None:
    """Refuse positional placeholders, showing the ``:name`` form that works.

    PostgreSQL's ``?`` is left alone: it is also the jsonb operator (``data ? 'key'``).
    SQLite's ``$name`` is refused too.

    Args:
        placeholders: The statement's placeholders as written (``:id``, ``?``...).
        kind: ``postgresql``, ``mysql`` or ``sqlite``.

    Raises:
        ToolError: Naming the placeholders found and how to write them.
    """
    found = sorted(
        mark
        for mark in placeholders
        if (_POSITIONAL.fullmatch(mark) and not (kind == "postgresql" and mark.startswith("?")))
        or (kind == "sqlite" and _SQLITE_DOLLAR.fullmatch(mark))
    )
    if not found:
        return
    marks = " and ".join(dict.fromkeys(found))
    message = f"{marks} placeholders are not supported: {NAMED_PLACEHOLDERS}"
    if "%s" in found:
        message += "; for the % operator on a column named s, put a space after it (% s)"
    raise ToolError(message)
