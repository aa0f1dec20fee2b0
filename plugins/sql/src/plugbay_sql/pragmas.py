"""The SQLite pragmas the ``query`` tool runs: the ones that only read, in their reading form.

``PRAGMA table_info(orders)`` or ``PRAGMA index_list(orders)`` is how SQLite users look
at a schema, and reads only. Other pragmas change the connection (``query_only``,
``writable_schema``) or the file (``journal_mode = DELETE``, ``optimize``), and any
pragma given a value (``PRAGMA user_version = 5``, or ``PRAGMA user_version(5)``,
which is the same) sets it. So a pragma runs only when the whole statement has the
plain shape ``PRAGMA [schema.]name`` or ``PRAGMA [schema.]name(argument)``, with no
comment or anything else in it, and its name is on one of the two lists below; every
other pragma is refused. SQLite's authorizer
(:mod:`plugbay_sql.sqlite_authorizer`) refuses pragmas that set on its own, whatever
this check decides.
"""

from __future__ import annotations

import re

from plugbay import ToolError
from plugbay_sql.sqlite_authorizer import READ_PRAGMAS

ARGUMENT_PRAGMAS = READ_PRAGMAS
"""Pragmas that take a table or index name (or a count) and only read it."""
PLAIN_PRAGMAS = frozenset(
    {
        "application_id",
        "collation_list",
        "compile_options",
        "data_version",
        "database_list",
        "encoding",
        "foreign_keys",
        "freelist_count",
        "function_list",
        "module_list",
        "page_count",
        "page_size",
        "pragma_list",
        "query_only",
        "schema_version",
        "user_version",
    }
)
"""Pragmas that, without a value, only report a setting or a list."""

_IDENTIFIER = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")*"|\[[^\]]*\]|`(?:[^`]|``)*`)'
_ARGUMENT = rf"(?:{_IDENTIFIER}|'(?:[^']|'')*'|\d+)"
_READING_FORM = re.compile(
    rf"PRAGMA\s+(?:{_IDENTIFIER}\s*\.\s*)?(?P<name>[A-Za-z_]+)\s*(?P<argument>\(\s*{_ARGUMENT}\s*\))?",
    re.IGNORECASE,
)


def check_read_pragma(sql: str) -> None:
    """Refuse a pragma statement unless it is a reading pragma in its reading form.

    Args:
        sql: The whole statement, without a trailing semicolon.

    Raises:
        ToolError: Saying which pragmas run, and why this one does not.
    """
    form = _READING_FORM.fullmatch(sql.strip())
    if form is None:
        if "=" in sql:
            raise ToolError(
                "setting a pragma is refused: query only reads. A reading pragma runs "
                "without a value, e.g. PRAGMA table_info(orders)"
            )
        raise ToolError(
            "this PRAGMA has a shape query does not run: write PRAGMA name or PRAGMA "
            "name(table), without comments, e.g. PRAGMA table_info(orders)"
        )
    name = form.group("name").lower()
    if form.group("argument") is not None and name not in ARGUMENT_PRAGMAS:
        if name in PLAIN_PRAGMAS:
            raise ToolError(
                f"PRAGMA {name}(...) sets {name}, and query only reads: write PRAGMA {name}"
            )
        _refuse(name)
    if name not in ARGUMENT_PRAGMAS and name not in PLAIN_PRAGMAS:
        _refuse(name)


def _refuse(name: str) -> None:
    shown = ", ".join(sorted(ARGUMENT_PRAGMAS | PLAIN_PRAGMAS))
    raise ToolError(
        f"PRAGMA {name} is not one that query runs: it may change the connection or the "
        f"file. query runs these pragmas, which only read: {shown}"
    )
