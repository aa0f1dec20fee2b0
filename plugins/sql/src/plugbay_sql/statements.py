"""Checks on the SQL a caller sends, before it reaches the database.

These checks are one of three layers, and the read-only guarantee does not rest on
them. The database keeps a read-only call from writing (a read-only transaction per
call, read-only sessions, ``query_only``, files opened read-only; see
:mod:`plugbay_sql.dialects`), the account's privileges bound what any statement can
reach (:mod:`plugbay_sql.privileges` warns when they are too wide), and every
connection is reset before it is reused (:mod:`plugbay_sql.session_cleanup`).

What is checked here is what a database does *not* stop inside a read-only
transaction: statements that reach outside it (``COPY ... TO PROGRAM``, ``SELECT ...
INTO OUTFILE``, ``lo_export()``, ``pg_read_file()``), statements that end the
transaction or change the session (``COMMIT``, ``SET``, ``SET STATEMENT ... FOR``,
``PRAGMA``), and a clear message for several statements. The statement is read as the
database reads it where sqlparse might read it otherwise (:mod:`plugbay_sql.lexing`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from sqlparse import tokens as T
from sqlparse.engine import FilterStack
from sqlparse.exceptions import SQLParseError

from plugbay import ToolError
from plugbay_sql import lexing
from plugbay_sql.keywords import STATEMENT_KEYWORDS, check_known_keyword, check_placeholders
from plugbay_sql.pragmas import check_read_pragma

PARSE_CACHE_SIZE = 512
"""Statements kept parsed, by their text."""
READ_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC"})
"""Statements the read-only ``query`` tool runs: they read, or (``WITH``) the database
refuses the writes they contain inside a read-only transaction."""
EXPLAINABLE_KEYWORDS = frozenset(
    {"SELECT", "WITH", "VALUES", "TABLE", "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE"}
)
"""Statements ``explain`` plans (without running them)."""
WRITE_KEYWORDS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE"}
)
"""Statements ``execute`` is for, suggested first when a caller's first word is a typo."""
OUTSIDE_KEYWORDS = frozenset({"COPY", "LOAD", "ATTACH", "DETACH"})
"""Statements that read or write files or programs on the database server."""

_OUTSIDE_NAMES = {
    "postgresql": frozenset(
        {
            # server files and programs
            "lo_import",
            "lo_export",
            "pg_read_file",
            "pg_read_binary_file",
            "pg_stat_file",
            "pg_logdir_ls",
            "pg_current_logfile",
            # other sessions and the server itself
            "pg_terminate_backend",
            "pg_cancel_backend",
            "pg_reload_conf",
            "pg_rotate_logfile",
            "pg_promote",
            "pg_switch_wal",
            "pg_create_restore_point",
            "pg_logical_emit_message",
            "pg_backup_start",
            "pg_backup_stop",
            "pg_start_backup",
            "pg_stop_backup",
            "pg_wal_replay_pause",
            "pg_wal_replay_resume",
            "pg_log_backend_memory_contexts",
            "pg_import_system_collations",
            "pg_replication_slot_advance",
            "pg_create_physical_replication_slot",
            "pg_create_logical_replication_slot",
            "pg_drop_replication_slot",
            # functions that run SQL given as a string, which no check here reads
            "ts_stat",
            "ts_rewrite",
            # session settings (statement_timeout, role) that a committed write would keep
            "set_config",
        }
    ),
    "mysql": frozenset(
        {
            "outfile",
            "dumpfile",
            "load_file",
            "get_lock",
            "sys_exec",
            "sys_eval",
            "service_get_read_locks",
            "service_get_write_locks",
        }
    ),
    "sqlite": frozenset({"load_extension", "readfile", "writefile", "edit"}),
}
_OUTSIDE_PREFIXES = {
    "postgresql": (
        "pg_ls_",  # pg_ls_dir, pg_ls_logdir, pg_ls_waldir, pg_ls_tmpdir...
        "pg_file_",  # adminpack: pg_file_write, pg_file_rename, pg_file_unlink...
        "pg_stat_reset",
        # session-level locks outlive the transaction and stay on a pooled connection
        "pg_advisory_lock",
        "pg_try_advisory_lock",
        "pg_replication_origin_",
        "pg_logical_slot_",
        "pg_copy_",  # pg_copy_physical_replication_slot...
        "dblink",  # other connections
        "query_to_xml",
        "cursor_to_xml",
    ),
}
"""Families of names refused by their beginning, in lower case."""
_WORDS = re.compile(r"[\w$]+")
_NAME_TOKENS = (T.Name, T.Keyword, T.Literal.String.Symbol)


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement as a caller sent it.

    Attributes:
        text: The SQL to send, without a trailing semicolon.
        keyword: Its first keyword, upper case (``SELECT``, ``WITH``, ``INSERT``...).
        names: Every identifier and keyword in it, lower case and unquoted.
        placeholders: Its placeholders as written (``:id``, ``?``, ``$1``...), outside
            strings and comments.
    """

    text: str
    keyword: str
    names: frozenset[str]
    placeholders: frozenset[str] = frozenset()


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
        # sqlparse reads some phrases as one token (CREATE OR REPLACE): the first word
        # of it is what the database and the keyword sets go by.
        words = str(token.value).split()
        return words[0].upper() if words else ""
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
    placeholders = frozenset(
        str(token.value) for token in parsed.flatten() if token.ttype in T.Name.Placeholder
    )
    return Statement(
        text=_significant_text(parsed),
        keyword=_first_keyword(parsed),
        names=names,
        placeholders=placeholders,
    )


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

    For PostgreSQL and MariaDB/MySQL, the text is checked as the database reads it,
    not as sqlparse does: the first word is found by the database's rules for comments
    (:func:`~plugbay_sql.lexing.leading_keyword`) and must agree with sqlparse's;
    MariaDB/MySQL executable comments are refused; and refused names are looked for in
    every word of the text, strings and comments included, after decoding PostgreSQL
    Unicode escapes, in any letter case. A statement that merely mentions a refused
    name in a string is refused too: that is the price of not trusting a parser.

    Raises:
        ToolError: Naming what was refused.
    """
    kind = family(dialect_name)
    if kind in ("postgresql", "mysql"):
        _check_as_the_database_reads(statement, kind)
    if statement.keyword in OUTSIDE_KEYWORDS:
        raise ToolError(
            f"{statement.keyword} statements are refused: they read or write files on the "
            "database server, which this connector does not do. Use SELECT (and, where "
            "writes are enabled, INSERT ... SELECT) instead."
        )
    found = sorted(_refused_names(statement, kind))
    if found:
        raise ToolError(
            f"{', '.join(found)} is refused: it reaches outside the database (server files, "
            "programs, other sessions or session-wide locks), and is refused wherever it "
            "appears in the SQL, strings and comments included. Ask an operator to run it."
        )


def _check_as_the_database_reads(statement: Statement, kind: str) -> None:
    if kind == "mysql" and (marker := lexing.executable_comment(statement.text)):
        raise ToolError(
            f"{marker!r} is refused: MariaDB and MySQL run the text of executable "
            "comments (/*! ... */, /*M! ... */) and optimizer hints (/*+ ... */) as SQL. "
            "Write the SQL without them (a string containing these characters is refused "
            "too: build it with CONCAT)."
        )
    leading = lexing.leading_keyword(statement.text, kind)
    if leading != statement.keyword:
        raise ToolError(
            "the statement's first word is unclear: the database reads it as "
            f"{leading or 'no word'!r}, the connector's parser as "
            f"{statement.keyword or 'no word'!r}. Remove the comments in front of it."
        )


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def _refused_names(statement: Statement, kind: str) -> frozenset[str]:
    names = _OUTSIDE_NAMES.get(kind, frozenset())
    prefixes = _OUTSIDE_PREFIXES.get(kind)
    if prefixes is None and kind != "mysql":
        # SQLite: its lexer is sqlparse's, and its names are common words (edit).
        return statement.names & names
    text = statement.text
    if kind == "postgresql":
        try:
            text = lexing.spellings(statement.text)
        except ValueError:
            raise ToolError(
                "a U& identifier or string here could use too many escape characters to "
                "check; write the name without Unicode escapes"
            ) from None
    words = {word.lower() for word in _WORDS.findall(text)}
    found = words & names
    if prefixes:
        found |= {word for word in words if word.startswith(prefixes)}
    if kind == "postgresql":
        # Statistics resets of extensions too (pg_stat_statements_reset...): they act at
        # once, outside the transaction.
        found |= {word for word in words if word.startswith("pg_") and "reset" in word}
    return frozenset(found)


def check_read_only(statement: Statement, dialect_name: str) -> None:
    """Refuse what the ``query`` tool must not run.

    SQLite's reading pragmas (``PRAGMA table_info(orders)``) are queries too
    (:mod:`plugbay_sql.pragmas`).

    Raises:
        ToolError: The statement is not a query, or reaches outside the database.
    """
    check_outside_effects(statement, dialect_name)
    kind = family(dialect_name)
    if kind == "sqlite" and statement.keyword == "PRAGMA":
        check_read_pragma(statement.text)
        check_placeholders(statement.placeholders, kind)
        return
    if statement.keyword not in READ_KEYWORDS:
        check_known_keyword(statement.keyword, kind, READ_KEYWORDS)
        readable = READ_KEYWORDS & STATEMENT_KEYWORDS[kind]
        allowed = ", ".join(sorted(readable | {"PRAGMA"} if kind == "sqlite" else readable))
        instead = (
            "Use {tool:explain} for a plan"
            if statement.keyword == "EXPLAIN"
            else "Use {tool:execute} for changes, on an instance that allows writes"
        )
        raise ToolError(
            f"{{tool:query}} runs read-only statements ({allowed}); {statement.keyword} "
            f"is not one. {instead}."
        )
    check_placeholders(statement.placeholders, kind)


def check_explainable(statement: Statement, dialect_name: str) -> None:
    """Refuse what the ``explain`` tool cannot plan.

    Raises:
        ToolError: The statement is not one a database explains.
    """
    check_outside_effects(statement, dialect_name)
    kind = family(dialect_name)
    if statement.keyword not in EXPLAINABLE_KEYWORDS:
        check_known_keyword(statement.keyword, kind, EXPLAINABLE_KEYWORDS)
        allowed = ", ".join(sorted(EXPLAINABLE_KEYWORDS))
        raise ToolError(
            f"explain plans {allowed} statements; {statement.keyword or 'this'} is not one "
            "(send the statement itself, without EXPLAIN)"
        )
    check_placeholders(statement.placeholders, kind)


def check_written(statement: Statement, dialect_name: str) -> None:
    """The checks ``execute`` shares with the other tools: a known statement, named placeholders.

    Raises:
        ToolError: The first word starts no statement, or placeholders are positional.
    """
    kind = family(dialect_name)
    check_known_keyword(statement.keyword, kind, WRITE_KEYWORDS)
    check_placeholders(statement.placeholders, kind)
