"""Database errors as messages a person can act on, with no secret in them.

Each message keeps what the database said (the syntax error and where, the unknown
table or column, the constraint that failed) and drops what SQLAlchemy adds around
it (the statement, its parameters, links). Every message passes through
:meth:`ErrorReporter.scrub`, which removes the password wherever it might appear.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError, StatementError

from plugbay import ToolError
from plugbay_sql.statements import parse_statement

MAX_MESSAGE = 1000
_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")
_MYSQL_NEAR = re.compile(r"near '(?P<snippet>.*)' at line (?P<line>\d+)", re.DOTALL)
_SQLITE_NEAR = re.compile(r'near "(?P<snippet>[^"]*)": syntax error')

TIMEOUT_SQLSTATES = frozenset({"57014"})  # PostgreSQL query_canceled
# PostgreSQL syntax_error, undefined_function (an operator with no such operands)
QUESTION_MARK_SQLSTATES = frozenset({"42601", "42883"})
# MariaDB max_statement_time, MySQL max_execution_time, KILL QUERY
TIMEOUT_MYSQL_CODES = frozenset({1969, 3024, 1317})


def _position(sql: str, offset: int) -> str:
    """``position N (line L, column C)`` for a 0-based character offset into ``sql``."""
    before = sql[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return f"position {offset + 1} (line {line}, column {column})"


class ErrorReporter:
    """Turns exceptions from one database into :class:`ToolError`.

    Args:
        family: ``postgresql``, ``mysql`` or ``sqlite``.
        secrets: Strings that must never appear in a message (the password).
        where: How to name the database in connection errors (its masked URL).
    """

    def __init__(self, family: str, secrets: Sequence[str], where: str) -> None:
        self.family = family
        self._secrets = [secret for secret in secrets if secret]
        self.where = where

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``, cut to a readable length."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        if len(text) > MAX_MESSAGE:
            text = text[:MAX_MESSAGE] + "…"
        return text

    def is_timeout(self, error: BaseException) -> bool:
        """Whether ``error`` is the database cancelling a statement that ran too long."""
        cause = _driver_error(error)
        if self.family == "postgresql":
            return getattr(cause, "sqlstate", None) in TIMEOUT_SQLSTATES
        if self.family == "mysql":
            return _mysql_code(cause) in TIMEOUT_MYSQL_CODES
        return "interrupted" in str(cause)

    def connection_error(self, error: BaseException) -> ToolError:
        """The database could not be reached: say where and why, never with the password."""
        reason = self._database_message(error, sql=None)
        return ToolError(self.scrub(f"could not connect to {self.where}: {reason}"))

    def tool_error(self, error: BaseException, sql: str | None = None) -> ToolError:
        """A :class:`ToolError` for a failed statement, pointing into ``sql`` where possible."""
        if isinstance(error, NoSuchTableError):
            return ToolError(self.scrub(f"no such table: {error}"))
        message = self._database_message(error, sql)
        return ToolError(self.scrub(message))

    def _database_message(self, error: BaseException, sql: str | None) -> str:
        if isinstance(error, DBAPIError):
            return self._driver_message(_driver_error(error), sql)
        if isinstance(error, StatementError) and error.orig is not None:
            # Raised before the database saw the statement, e.g. a missing parameter.
            text = _BACKGROUND.sub("", str(error.orig))
            if "bind parameter" in text:
                text += " (pass it in params; a colon that is not a parameter is written \\:)"
            return text
        if isinstance(error, SQLAlchemyError):
            return _BACKGROUND.sub("", str(error).split("\n", 1)[0])
        if isinstance(error, OSError | TimeoutError):
            return error.strerror or str(error) or type(error).__name__
        return self._driver_message(error, sql)

    def _driver_message(self, cause: BaseException, sql: str | None) -> str:
        if self.family == "postgresql":
            return _postgresql_message(cause, sql)
        if self.family == "mysql":
            return _mysql_message(cause, sql)
        return _sqlite_message(cause, sql)


def _driver_error(error: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's (and its asyncio adapter's) wrappers."""
    cause: BaseException = error
    if isinstance(cause, DBAPIError) and cause.orig is not None:
        cause = cause.orig
    # SQLAlchemy's asyncpg adapter raises its own exceptions "from" asyncpg's.
    if cause.__cause__ is not None and type(cause).__module__.startswith("sqlalchemy"):
        cause = cause.__cause__
    return cause


def _mysql_code(cause: BaseException) -> int | None:
    args: Sequence[Any] = getattr(cause, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _postgresql_message(cause: BaseException, sql: str | None) -> str:
    message = str(getattr(cause, "message", None) or cause).strip()
    parts = [message]
    position = getattr(cause, "position", None)
    if sql is not None and position:
        with contextlib.suppress(ValueError):
            parts[0] += f" at {_position(sql, int(position) - 1)}"
    detail = getattr(cause, "detail", None)
    if detail:
        parts.append(f"Detail: {detail}")
    hint = getattr(cause, "hint", None)
    if hint:
        parts.append(f"Hint: {hint}")
    if message.startswith("invalid input for query argument"):
        parts.append(
            "Hint: PostgreSQL types each parameter from where it is used; cast it in the "
            "SQL, e.g. CAST(:day AS date) with a string, or :n::integer with a number."
        )
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in QUESTION_MARK_SQLSTATES and sql is not None and _has_question_mark(sql):
        # ? is PostgreSQL's jsonb operator, so it is not refused before the statement runs.
        parts.append(
            "Hint: if ? is meant as a parameter, write a named one instead: :name in the "
            'SQL and its value in params, e.g. WHERE id = :id with params {"id": 42}'
        )
    if sqlstate:
        parts[0] += f" (SQLSTATE {sqlstate})"
    return ". ".join(part.rstrip(".") for part in parts)


def _has_question_mark(sql: str) -> bool:
    """Whether ``sql`` holds a ``?`` outside its strings and comments."""
    try:
        placeholders = parse_statement(sql).placeholders
    except ToolError:
        return False
    return any(mark.startswith("?") for mark in placeholders)


def _mysql_message(cause: BaseException, sql: str | None) -> str:
    code = _mysql_code(cause)
    args: Sequence[Any] = getattr(cause, "args", ())
    message = str(args[1]) if code is not None and len(args) > 1 else str(cause)
    if sql is not None and (near := _MYSQL_NEAR.search(message)):
        snippet = near.group("snippet")
        offset = sql.find(snippet) if snippet else len(sql.rstrip())
        if offset >= 0:
            message += f" ({_position(sql, offset)})"
    return f"{message} (error {code})" if code is not None else message


def _sqlite_message(cause: BaseException, sql: str | None) -> str:
    message = str(cause)
    if message == "interrupted":
        return "the statement was interrupted"
    if sql is not None and (near := _SQLITE_NEAR.search(message)):
        offset = sql.find(near.group("snippet"))
        if offset >= 0:
            message += f" at {_position(sql, offset)}"
    return message
