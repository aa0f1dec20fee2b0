"""Checks on the SQL a caller sends, before it reaches the database.

These checks are the first of two layers. The database itself keeps a read-only call
from writing (read-only transactions and sessions, ``query_only``, files opened
read-only) and the drivers refuse several statements in one call; see
:mod:`plugboard_sql.dialects`. What is checked here is what a database does *not*
stop inside a read-only transaction: statements that reach outside it (``COPY ... TO
PROGRAM``, ``SELECT ... INTO OUTFILE``, ``lo_export()``), statements that would end
the transaction or change the session (``COMMIT``, ``SET``, ``PRAGMA``, DDL that
commits implicitly in MariaDB), and a clear message for several statements.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlparse import tokens as T
from sqlparse.engine import FilterStack
from sqlparse.exceptions import SQLParseError

from plugboard import ToolError

PARSE_CACHE_SIZE = 512
"""Statements kept parsed, by their text."""
READ_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC"})
"""Statements the read-only ``query`` tool runs: they read, or (``WITH``) the database
refuses the writes they contain inside a read-only transaction."""
EXPLAINABLE_KEYWORDS = frozenset(
    {"SELECT", "WITH", "VALUES", "TABLE", "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE"}
)
"""Statements ``explain`` plans (without running them)."""
OUTSIDE_KEYWORDS = frozenset({"COPY", "LOAD", "ATTACH", "DETACH"})
"""Statements that read or write files or programs on the database server."""

_OUTSIDE_NAMES = {
    "postgresql": frozenset(
        {
            # server files, large objects and programs
            "lo_import",
            "lo_export",
            "pg_read_file",
            "pg_read_binary_file",
            "pg_ls_dir",
            "pg_stat_file",
            "pg_file_write",
            "pg_file_rename",
            "pg_file_unlink",
            "pg_file_sync",
            # other sessions and the server itself
            "pg_terminate_backend",
            "pg_cancel_backend",
            "pg_reload_conf",
            "pg_rotate_logfile",
            "pg_promote",
            "pg_switch_wal",
            "pg_create_restore_point",
            "pg_logical_emit_message",
            # session-level locks outlive the transaction and stay on a pooled connection
            "pg_advisory_lock",
            "pg_advisory_lock_shared",
            "pg_try_advisory_lock",
            "pg_try_advisory_lock_shared",
            # other connections, and functions that run SQL given as a string
            "dblink",
            "dblink_exec",
            "dblink_connect",
            "dblink_connect_u",
            "dblink_send_query",
            "query_to_xml",
            "query_to_xmlschema",
            "query_to_xml_and_xmlschema",
            # session settings (statement_timeout, role) that a committed write would keep
            "set_config",
        }
    ),
    "mysql": frozenset({"outfile", "dumpfile", "load_file", "get_lock", "sys_exec", "sys_eval"}),
    "sqlite": frozenset({"load_extension", "readfile", "writefile", "edit"}),
}
_NAME_TOKENS = (T.Name, T.Keyword, T.Literal.String.Symbol)


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement as a caller sent it.

    Attributes:
        text: The SQL to send, without a trailing semicolon.
        keyword: Its first keyword, upper case (``SELECT``, ``WITH``, ``INSERT``...).
        names: Every identifier and keyword in it, lower case and unquoted.
    """

    text: str
    keyword: str
    names: frozenset[str]


# sqlparse is untyped: its tokens and statements travel as Any here.


def _is_filler(token: Any) -> bool:
    """Whitespace, a comment or a semicolon: what may surround a statement."""
    return bool(token.is_whitespace or token.ttype in T.Comment or token.match(T.Punctuation, ";"))


def _is_blank(statement: Any) -> bool:
    return all(_is_filler(token) for token in statement.flatten())


def _first_keyword(statement: Any) -> str:
    for token in statement.flatten():
        if token.is_whitespace or token.ttype in T.Comment or token.match(T.Punctuation, "("):
            continue
        return str(token.value).upper()
    return ""


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in '"`[':
        return name[1:-1]
    if name.startswith("[") and name.endswith("]"):
        return name[1:-1]
    return name


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_statement(sql: str) -> Statement:
    """Parse ``sql`` as exactly one statement.

    Only sqlparse's lexer and statement splitter run (its grouping pass would cost
    milliseconds and is not needed to split and classify), and results are cached:
    callers often send the same SQL with other parameters.

    Raises:
        ToolError: ``sql`` is empty, or holds several statements.
    """
    splitter: Any = FilterStack()  # type: ignore[no-untyped-call]  # sqlparse is untyped
    try:
        parsed_all: list[Any] = list(splitter.run(sql))
    except SQLParseError:
        raise ToolError("the SQL is too deeply nested to check; simplify it") from None
    statements = [part for part in parsed_all if not _is_blank(part)]
    if not statements:
        raise ToolError("the SQL is empty: send one statement, e.g. SELECT * FROM customers")
    if len(statements) > 1:
        raise ToolError(
            f"the SQL holds {len(statements)} statements; send one statement per call "
            "(remove the ';' between them)"
        )
    (parsed,) = statements
    names = frozenset(
        _unquote(token.value).lower()
        for token in parsed.flatten()
        if token.ttype is not None and any(token.ttype in kind for kind in _NAME_TOKENS)
    )
    return Statement(text=_significant_text(parsed), keyword=_first_keyword(parsed), names=names)


def _significant_text(statement: Any) -> str:
    """The statement without the whitespace, comments and semicolons around it."""
    tokens = list(statement.flatten())
    while tokens and _is_filler(tokens[-1]):
        tokens.pop()
    return "".join(token.value for token in tokens).strip()


def family(dialect_name: str) -> str:
    """``postgresql``, ``mysql`` (also for MariaDB) or ``sqlite``."""
    return "mysql" if dialect_name == "mariadb" else dialect_name


def check_outside_effects(statement: Statement, dialect_name: str) -> None:
    """Refuse statements and functions that reach outside the database.

    Raises:
        ToolError: Naming what was refused.
    """
    if statement.keyword in OUTSIDE_KEYWORDS:
        raise ToolError(
            f"{statement.keyword} statements are refused: they read or write files on the "
            "database server, which this connector does not do. Use SELECT (and, where "
            "writes are enabled, INSERT ... SELECT) instead."
        )
    found = sorted(statement.names & _OUTSIDE_NAMES.get(family(dialect_name), frozenset()))
    if found:
        raise ToolError(
            f"{', '.join(found)} is refused: it reaches outside the database (server files, "
            "programs, other sessions or session-wide locks). Ask an operator to run it."
        )


def check_read_only(statement: Statement, dialect_name: str) -> None:
    """Refuse what the ``query`` tool must not run.

    Raises:
        ToolError: The statement is not a query, or reaches outside the database.
    """
    check_outside_effects(statement, dialect_name)
    if statement.keyword not in READ_KEYWORDS:
        allowed = ", ".join(sorted(READ_KEYWORDS))
        raise ToolError(
            f"query runs read-only statements ({allowed}); {statement.keyword or 'this'} "
            "is not one. Use execute for changes, on an instance that allows writes."
        )


def check_explainable(statement: Statement, dialect_name: str) -> None:
    """Refuse what the ``explain`` tool cannot plan.

    Raises:
        ToolError: The statement is not one a database explains.
    """
    check_outside_effects(statement, dialect_name)
    if statement.keyword not in EXPLAINABLE_KEYWORDS:
        allowed = ", ".join(sorted(EXPLAINABLE_KEYWORDS))
        raise ToolError(
            f"explain plans {allowed} statements; {statement.keyword or 'this'} is not one "
            "(send the statement itself, without EXPLAIN)"
        )
