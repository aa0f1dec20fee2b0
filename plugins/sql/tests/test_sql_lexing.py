"""The statement checks read SQL the way the database does, not the way sqlparse does.

Units of :mod:`plugbay_sql.lexing` and the checks built on it; the attack corpus
(``test_sql_attack_corpus``) shows what they add up to against real databases.
"""

from __future__ import annotations

import pytest

from plugbay import ToolError
from plugbay_sql.lexing import executable_comment, leading_keyword, spellings
from plugbay_sql.statements import check_explainable, check_read_only, parse_statement


@pytest.mark.parametrize(
    ("family", "sql", "word"),
    [
        ("postgresql", "SELECT 1", "SELECT"),
        ("postgresql", "  ((select 1))", "SELECT"),
        ("postgresql", "-- c\n/* c */ WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("postgresql", "/* /* nested */ SELECT 1 */ COPY t TO PROGRAM 'x'", "COPY"),
        ("postgresql", "/* never closed", ""),
        ("postgresql", "# SELECT\nDELETE FROM t", ""),
        ("mysql", "# comment\nSET STATEMENT tx_read_only = 0 FOR DELETE FROM t", "SET"),
        ("mysql", "-- comment\nSELECT 1", "SELECT"),
        ("mysql", "--not a comment\nSELECT 1", ""),
        ("mysql", "/* /* */ SELECT 1 */", "SELECT"),
        ("mysql", "\t(SELECT 1) UNION (SELECT 2)", "SELECT"),
    ],
)
def test_the_first_word_is_the_databases(family: str, sql: str, word: str) -> None:
    assert leading_keyword(sql, family) == word


@pytest.mark.parametrize(
    "sql",
    [
        "/*! SELECT 1 */",
        "/*!50100 DELETE FROM t */",
        "/*M!100500 SET STATEMENT tx_read_only=0 FOR*/ SELECT 1",
        "/*m! SELECT 1 */",
        "SELECT /*+ SET_VAR(sql_mode='') */ 1",
        "SELECT '/*!' AS inside_a_string",
    ],
)
def test_executable_comments_are_found_anywhere(sql: str) -> None:
    assert executable_comment(sql) is not None


def test_plain_comments_are_not_executable() -> None:
    assert executable_comment("/* a comment */ SELECT 1 -- /* ! */") is None


@pytest.mark.parametrize(
    "spelled",
    [
        'U&"\\0070\\0067\\005f\\0072\\0065\\0061\\0064\\005f\\0066\\0069\\006c\\0065"',
        'U&"\\0070g_read_file"',
        'u&"\\+000070g_read_file"',
        "U&\"!0070g_read_file\" UESCAPE '!'",
        "U&\"#0070g_read_fil#0065\" /* a comment */ UESCAPE /* another */ '#'",
        'U&"pg_read_file"',
        "U&'\\0070g_read_file'",
    ],
)
def test_unicode_escapes_are_decoded_with_any_escape(spelled: str) -> None:
    assert "pg_read_file" in spellings(f"SELECT {spelled}('x')")


@pytest.mark.parametrize(
    ("dialect", "sql", "refused"),
    [
        ("postgresql", "SELECT U&\"!0070g_ls_dir\" UESCAPE '!' ('.')", "pg_ls_dir"),
        ("postgresql", 'SELECT "PG_TERMINATE_BACKEND"(1)', "pg_terminate_backend"),
        ("postgresql", "SELECT pg_catalog . pg_advisory_lock_shared(1)", "pg_advisory_lock_shared"),
        ("postgresql", "SELECT * FROM dblink('', 'DELETE FROM t') AS x(n int)", "dblink"),
        ("postgresql", "SELECT ts_stat('SELECT 1')", "ts_stat"),
        ("postgresql", "SELECT pg_stat_statements_reset()", "pg_stat_statements_reset"),
        ("postgresql", "SELECT 'mentions set_config' AS text", "set_config"),
        ("postgresql", "/* /* */ SELECT 1 */ DELETE FROM t", "first word"),
        ("mariadb", "SELECT GET_LOCK('x', 0)", "get_lock"),
        ("mariadb", "select `get_lock`('x', 0)", "get_lock"),
        ("mariadb", "SELECT 1 INTO/**/OUTFILE '/tmp/x'", "outfile"),
        ("mariadb", "/*!SET STATEMENT tx_read_only=0 FOR*/ SELECT 1", "executable comments"),
        ("mariadb", "#x\nSET STATEMENT tx_read_only=0 FOR SELECT 1", "first word"),
        ("mariadb", "SET STATEMENT tx_read_only=0 FOR SELECT 1", "SET"),
    ],
)
def test_refused_however_written(dialect: str, sql: str, refused: str) -> None:
    with pytest.raises(ToolError, match=refused):
        check_read_only(parse_statement(sql), dialect)


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("postgresql", 'SELECT u&"x" FROM t'),
        ("postgresql", "SELECT 'a /* b' AS c -- d"),
        ("postgresql", "/* lead */ (SELECT 1) UNION (SELECT 2)"),
        ("mariadb", "-- lead\nSELECT 1 AS one # tail"),
        ("mariadb", "SELECT lockname, outfiles FROM t"),
        ("sqlite", "SELECT edit_count FROM t"),
    ],
)
def test_ordinary_queries_pass(dialect: str, sql: str) -> None:
    check_read_only(parse_statement(sql), dialect)


def test_explain_reads_the_statement_the_same_way() -> None:
    with pytest.raises(ToolError, match="executable comments"):
        check_explainable(parse_statement("/*!DELETE FROM t*/ SELECT 1"), "mariadb")
    check_explainable(parse_statement("DELETE FROM t WHERE id = 1"), "mariadb")


def test_a_literal_with_too_many_possible_escapes_is_refused() -> None:
    """Each possible UESCAPE character costs a pass: past a few, the check refuses."""
    body = "".join(f"{chr(0x100 + n)}0041" for n in range(20))
    with pytest.raises(ToolError, match="escape characters"):
        check_read_only(parse_statement(f"SELECT U&\"{body}\" UESCAPE '!'"), "postgresql")
