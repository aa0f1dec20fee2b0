r"""What the database's own lexer sees in a statement, where sqlparse's view may differ.

sqlparse splits statements and finds their first keyword, but it is not the database's
lexer: it does not nest PostgreSQL comments, it reads ``--x`` as a comment where MariaDB
does not, it takes MariaDB's executable comments (``/*! ... */``) for comments where the
server runs them, and it does not decode PostgreSQL's Unicode-escaped identifiers
(``U&"\\0070g_read_file"``). The functions here answer the few questions the checks ask
by the database's rules, and answer conservatively (a refusal) when unsure:

- :func:`leading_keyword`: the statement's first word, skipping whitespace, comments
  and opening parentheses as the database does;
- :func:`executable_comment`: whether a MariaDB/MySQL statement holds code in a comment;
- :func:`spellings`: the statement's text plus every decoding of its Unicode escapes,
  for name checks that look at every word, wherever it is (strings and comments too).

Everything here runs in linear time in the length of the statement.
"""

from __future__ import annotations

import functools
import re

_SPACE = " \t\n\r\f\v"
_WORD = re.compile(r"[A-Za-z_]+")
_EXECUTABLE_COMMENT = re.compile(r"/\*(?:!|\+|M!)", re.IGNORECASE)
"""MariaDB/MySQL run the text of ``/*!``, ``/*!50700``, ``/*M!``, ``/*M!100500``
comments as SQL, and MySQL reads ``/*+`` optimizer hints (``SET_VAR`` sets variables)."""
_UNICODE_LITERAL = re.compile(r"""[Uu]&(?:"((?:[^"]|"")*)"|'((?:[^']|'')*)')""")
_HEX4 = "[0-9A-Fa-f]{4}"
_HEX6 = "[0-9A-Fa-f]{6}"
_ESCAPE_CANDIDATE = re.compile(rf"([^0-9A-Fa-f+'\"\s])(?=\+{_HEX6}|{_HEX4})")
"""Characters that are followed by what an escape needs: the possible UESCAPE characters."""
MAX_ESCAPES = 16
"""Possible escape characters tried in one ``U&`` literal; more is refused, not tried:
each costs a pass over the literal."""


def leading_keyword(sql: str, family: str) -> str:
    """The first word of ``sql`` (upper case) as ``family``'s lexer reads it.

    Whitespace, comments and opening parentheses before it are skipped by the rules of
    the database: PostgreSQL nests ``/* */`` comments; MariaDB/MySQL need a space or a
    control character after ``--`` and also end lines with ``#`` comments.

    Args:
        sql: The statement.
        family: ``postgresql`` or ``mysql``.

    Returns:
        The word, or ``""`` when the statement does not start with one (an unclosed
        comment, a symbol).
    """
    mysql = family == "mysql"
    index, end = 0, len(sql)
    while index < end:
        char = sql[index]
        if char in _SPACE or char == "(":
            index += 1
        elif sql.startswith("/*", index):
            index = _mysql_comment_end(sql, index) if mysql else _pg_comment_end(sql, index)
            if index < 0:
                return ""
        elif _line_comment(sql, index, mysql=mysql):
            index = _line_end(sql, index)
        else:
            break
    word = _WORD.match(sql, index)
    return word.group(0).upper() if word else ""


def _line_comment(sql: str, index: int, *, mysql: bool) -> bool:
    """Whether a ``--`` (or, in MariaDB/MySQL, ``#``) comment starts at ``index``."""
    if mysql and sql[index] == "#":
        return True
    return sql.startswith("--", index) and (not mysql or _mysql_dashes(sql, index))


def _line_end(sql: str, index: int) -> int:
    newline = sql.find("\n", index)
    return len(sql) if newline < 0 else newline + 1


def _mysql_dashes(sql: str, index: int) -> bool:
    """``--`` starts a MariaDB/MySQL comment only when a space or control char follows."""
    after = sql[index + 2 : index + 3]
    return after != "" and (after.isspace() or ord(after) < 32)


def _mysql_comment_end(sql: str, index: int) -> int:
    close = sql.find("*/", index + 2)
    return -1 if close < 0 else close + 2


def _pg_comment_end(sql: str, index: int) -> int:
    """Past the ``*/`` that closes the comment at ``index``, counting nested ones."""
    depth, position, end = 0, index, len(sql)
    while position < end:
        if sql.startswith("/*", position):
            depth += 1
            position += 2
        elif sql.startswith("*/", position):
            depth -= 1
            position += 2
            if depth == 0:
                return position
        else:
            position += 1
    return -1


def executable_comment(sql: str) -> str | None:
    """The first MariaDB/MySQL executable comment or optimizer hint marker, if any.

    Looked for everywhere, string literals included: deciding what is inside a
    string needs the server's lexer (backslash escapes, ``ANSI_QUOTES``), and a
    refusal is the safe answer when that reading might differ.
    """
    found = _EXECUTABLE_COMMENT.search(sql)
    return found.group(0) if found else None


def spellings(sql: str) -> str:
    """``sql`` followed by every decoding of its PostgreSQL Unicode escapes (``U&"..."``).

    A ``U&`` identifier or string may name its escape character with ``UESCAPE 'c'``
    (with comments in between); rather than parse that, each ``U&`` body is decoded
    with the backslash and, when ``UESCAPE`` appears at all, with every character that
    could be its escape. Name checks on the result see a name however it is spelled.

    Raises:
        ValueError: A literal could use more than :data:`MAX_ESCAPES` escape characters.
    """
    decoded = [sql]
    other_escapes = "uescape" in sql.lower()
    for match in _UNICODE_LITERAL.finditer(sql):
        body = match.group(1) if match.group(1) is not None else match.group(2)
        escapes = {"\\"}
        if other_escapes:
            escapes.update(_ESCAPE_CANDIDATE.findall(body))
            if len(escapes) > MAX_ESCAPES:
                raise ValueError("too many possible UESCAPE characters")
        decoded.extend(_decode(body, escape) for escape in sorted(escapes))
    return "\n".join(decoded)


@functools.lru_cache(maxsize=MAX_ESCAPES * 4)
def _escape_pattern(escape: str) -> re.Pattern[str]:
    mark = re.escape(escape)
    return re.compile(rf"{mark}(?:\+({_HEX6})|({_HEX4})|{mark})")


def _decode(body: str, escape: str) -> str:
    """``body`` with ``<escape>XXXX``, ``<escape>+XXXXXX`` and a doubled escape decoded."""
    pattern = _escape_pattern(escape)

    def replace(match: re.Match[str]) -> str:
        digits = match.group(1) or match.group(2)
        if digits is None:
            return escape
        code = int(digits, 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return pattern.sub(replace, body)
