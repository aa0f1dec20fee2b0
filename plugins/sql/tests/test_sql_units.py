"""The pure helpers: statement checks, JSON values, error messages, plan formatting."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest

from plugbay import ToolError
from plugbay_sql.dialects import SqliteRules
from plugbay_sql.errors import ErrorReporter
from plugbay_sql.settings import SqlSettings
from plugbay_sql.statements import (
    check_explainable,
    check_outside_effects,
    check_read_only,
    parse_statement,
)
from plugbay_sql.values import CellWriter, column_type


@pytest.mark.parametrize(
    ("sql", "keyword", "text"),
    [
        ("SELECT 1", "SELECT", "SELECT 1"),
        ("  select 1 ;  ", "SELECT", "select 1"),
        ("SELECT 1; -- the end", "SELECT", "SELECT 1"),
        (
            ";; /* first */ (SELECT 1) UNION (SELECT 2);",
            "SELECT",
            "/* first */ (SELECT 1) UNION (SELECT 2)",
        ),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH", "WITH x AS (SELECT 1) SELECT * FROM x"),
        ("SELECT 'a;b', $$c;d$$", "SELECT", "SELECT 'a;b', $$c;d$$"),
        ("values (1)", "VALUES", "values (1)"),
    ],
)
def test_one_statement_is_parsed(sql: str, keyword: str, text: str) -> None:
    statement = parse_statement(sql)
    assert (statement.keyword, statement.text) == (keyword, text)


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("", "empty"),
        ("  -- only a comment\n ;", "empty"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("SELECT 1;DELETE FROM t;UPDATE t SET a = 1", "3 statements"),
    ],
)
def test_empty_and_several_statements_are_refused(sql: str, problem: str) -> None:
    with pytest.raises(ToolError, match=problem):
        parse_statement(sql)


def test_names_are_unquoted_and_lower_case() -> None:
    names = parse_statement('SELECT "Lo_Export"(1), `x`, pg_catalog.Dblink(2) FROM t').names
    assert {"lo_export", "x", "pg_catalog", "dblink", "t", "select", "from"} <= names


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("SELECT lo_export(1, '/tmp/x')", "postgresql"),
        ("SELECT pg_catalog.pg_read_file('/etc/passwd')", "postgresql"),
        ("SELECT 1 INTO OUTFILE '/tmp/x'", "mariadb"),
        ("SELECT load_extension('evil')", "sqlite"),
        ("COPY t TO PROGRAM 'sh'", "postgresql"),
        ("LOAD DATA INFILE 'x' INTO TABLE t", "mysql"),
    ],
)
def test_what_reaches_outside_the_database_is_refused(sql: str, dialect: str) -> None:
    statement = parse_statement(sql)
    with pytest.raises(ToolError, match="refused"):
        check_outside_effects(statement, dialect)
    with pytest.raises(ToolError, match="refused"):
        check_read_only(statement, dialect)


def test_names_refused_in_one_dialect_are_columns_in_another() -> None:
    check_outside_effects(parse_statement("SELECT outfile FROM t"), "postgresql")
    check_outside_effects(parse_statement("SELECT lo_export FROM t"), "sqlite")


def test_query_and_explain_accept_their_statements() -> None:
    for sql in ("SELECT 1", "WITH a AS (SELECT 1) SELECT 2", "TABLE t", "SHOW TABLES", "DESC t"):
        check_read_only(parse_statement(sql), "mysql")
    for sql in ("INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "EXPLAIN SELECT 1"):
        with pytest.raises(ToolError, match="read-only statements"):
            check_read_only(parse_statement(sql), "postgresql")
    check_explainable(parse_statement("DELETE FROM t WHERE a = 1"), "postgresql")
    with pytest.raises(ToolError, match="explain plans"):
        check_explainable(parse_statement("ANALYZE SELECT 1"), "postgresql")


def test_cells_become_json() -> None:
    writer = CellWriter(64)
    moment = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert writer.row(
        [
            None,
            True,
            7,
            2**60,
            1.5,
            float("nan"),
            decimal.Decimal("12.50"),
            decimal.Decimal("0.1"),
            decimal.Decimal("12345678901234567890.123"),
            decimal.Decimal("1E+3"),
            decimal.Decimal("NaN"),
            datetime.date(2024, 1, 2),
            moment,
            datetime.time(3, 4),
            datetime.timedelta(hours=25),
            key,
            b"\x00\xff",
            memoryview(b"\x01"),
            [1, decimal.Decimal("2.5")],
            {"a": None},
            ("x", 1),
        ]
    ) == [
        None,
        True,
        7,
        str(2**60),
        1.5,
        "nan",
        12.5,
        0.1,
        "12345678901234567890.123",
        1000,
        "NaN",
        "2024-01-02",
        "2024-05-06T07:08:09+00:00",
        "03:04:00",
        "1 day, 1:00:00",
        str(key),
        "\\x00ff",
        "\\x01",
        [1, 2.5],
        {"a": None},
        ["x", 1],
    ]
    assert writer.cut == 0


def test_long_cells_are_cut_on_character_boundaries() -> None:
    writer = CellWriter(16)
    assert writer.cell("é" * 20) == "é" * 8 + "…"  # 2 bytes each
    assert writer.cell("€" * 20) == "€" * 5 + "…"  # 3 bytes each: 15 of 16
    assert writer.cell(b"\xab" * 20) == "\\x" + "ab" * 7 + "…"
    assert writer.cell(list(range(20))) == "[0,1,2,3,4,5,6,7…"
    assert writer.cell({"k": "v" * 30}) == '{"k":"vvvvvvvvvv…'
    assert writer.cell("short") == "short"
    assert writer.cut == 5


def test_column_types_are_named_where_the_driver_says() -> None:
    assert column_type("postgresql", 23) == "integer"
    assert column_type("postgresql", 3802) == "jsonb"
    assert column_type("mysql", 253) == "varchar"
    assert column_type("sqlite", None) is None
    assert column_type("postgresql", 999_999) is None


def test_error_messages_hide_secrets_and_point_into_the_sql() -> None:
    reporter = ErrorReporter("sqlite", ["pa55word"], "sqlite:///x")
    assert reporter.scrub("user app password pa55word failed") == "user app password *** failed"
    assert len(reporter.scrub("x" * 5000)) == 1001
    error = reporter.tool_error(Exception('near "FORM": syntax error'), "SELECT *\nFORM t")
    assert str(error) == 'near "FORM": syntax error at position 10 (line 2, column 1)'
    mysql = ErrorReporter("mysql", [], "x")
    message = str(
        mysql.tool_error(
            Exception(1064, "You have an error in your SQL syntax; ... near 'FORM t' at line 1"),
            "SELECT * FORM t",
        )
    )
    assert message.endswith("(position 10 (line 1, column 10)) (error 1064)")


def test_sqlite_plans_are_indented_trees() -> None:
    rules = SqliteRules(SqlSettings(url="sqlite://"), "x")
    rows = [
        (2, 0, 0, "SCAN orders"),
        (5, 0, 0, "SEARCH customers USING INTEGER PRIMARY KEY (rowid=?)"),
        (9, 5, 0, "CORRELATED SCALAR SUBQUERY 1"),
    ]
    assert rules.format_plan(rows) == (
        "SCAN orders\nSEARCH customers USING INTEGER PRIMARY KEY (rowid=?)\n"
        "  CORRELATED SCALAR SUBQUERY 1"
    )
