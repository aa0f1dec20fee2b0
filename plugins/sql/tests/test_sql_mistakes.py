"""Common mistakes get an answer that says what to do, on the real databases.

A typo in the first word, SQLite's reading pragmas (which run) and its setting ones
(which do not), positional placeholders (``?``, ``%s``, ``$1``) where the connector
binds ``:name``, and a SQLite file that is not where the ``url`` says.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from plugbay import AssemblyError
from plugbay_sql import SqlConnector
from plugbay_sql.dialects import SqliteRules
from plugbay_sql.settings import SqlSettings
from plugbay_sql.sqlite_files import sqlite_file
from plugbay_testing import serve

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = pytest.mark.anyio

DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mariadb": "MariaDB/MySQL"}

# -- a first word that starts no statement ------------------------------------------------


async def test_a_typo_in_the_first_word_is_named_with_the_closest_keyword(
    db: TestDatabase,
) -> None:
    customers = db.table("customers")
    name = DATABASE_NAMES[db.dialect]
    async with db.serve(allow_writes=True) as sql:
        for tool, statement, meant in [
            ("query", f"SELEC * FROM {customers}", "SELECT"),
            ("query", f"slect name FROM {customers}", "SELECT"),
            ("explain", f"SELCT * FROM {customers}", "SELECT"),
            ("execute", f"INSRT INTO {customers} (id, name) VALUES (7, 'x')", "INSERT"),
            ("execute", f"UPDTE {customers} SET name = 'x'", "UPDATE"),
        ]:
            message = await sql.error(tool, sql=statement)
            word = statement.split()[0].upper()
            assert f"{word!r} is not a {name} statement; did you mean {meant}?" in message
            assert "execute" not in message
        nothing_close = await sql.error("query", sql="GIMME the table")
        assert f"'GIMME' is not a {name} statement" in nothing_close
        assert "SELECT" in nothing_close
        # a real statement that query does not run still says where it belongs
        changing = await sql.error("query", sql=f"DELETE FROM {customers}")
        assert "Use db_execute for changes" in changing
    assert await db.count("customers") == 3


async def test_create_or_replace_is_one_statement_keyword(db: TestDatabase) -> None:
    """sqlparse reads CREATE OR REPLACE as one token; the first word is CREATE."""
    if db.dialect == "sqlite":
        statement = "CREATE VIEW IF NOT EXISTS plugbay_replaced AS SELECT 1 AS one"
    else:
        view = db.table("plugbay_replaced")
        statement = f"CREATE OR REPLACE VIEW {view} AS SELECT 1 AS one"
    async with db.serve(allow_writes=True) as sql:
        await sql.ok("execute", sql=statement)
        message = await sql.error("query", sql=statement)
        assert "CREATE is not one" in message
    assert "plugbay_replaced" in await db.table_names()
    await db.admin(f"DROP VIEW {db.table('plugbay_replaced')}")


# -- SQLite's pragmas -----------------------------------------------------------------------


@pytest.mark.parametrize("allow_writes", [False, True], ids=["read-only", "writable"])
async def test_sqlite_reading_pragmas_run_in_query(
    sqlite: TestDatabase, allow_writes: bool
) -> None:
    async with sqlite.serve(allow_writes=allow_writes) as sql:
        columns = await sql.query("PRAGMA table_info(orders)")
        assert [row[1] for row in columns["rows"]] == ["id", "customer_id", "amount", "note"]
        xinfo = await sql.query('PRAGMA main.table_xinfo("orders");')
        assert len(xinfo["rows"]) == 4
        indexes = await sql.query("PRAGMA index_list('orders')")
        assert "orders_customer_idx" in [row[1] for row in indexes["rows"]]
        index = await sql.query("PRAGMA index_info(orders_customer_idx)")
        assert [row[2] for row in index["rows"]] == ["customer_id"]
        keys = await sql.query("pragma foreign_key_list(orders)")
        assert [(row[2], row[3], row[4]) for row in keys["rows"]] == [
            ("customers", "customer_id", "id")
        ]
        assert (await sql.query("PRAGMA user_version"))["rows"] == [[0]]
        assert (await sql.query("PRAGMA query_only"))["rows"] == [[1]]


@pytest.mark.parametrize("allow_writes", [False, True], ids=["read-only", "writable"])
async def test_sqlite_pragmas_that_set_or_change_are_refused(
    sqlite: TestDatabase, allow_writes: bool
) -> None:
    async with sqlite.serve(allow_writes=allow_writes) as sql:
        for attempt, expected in [
            ("PRAGMA user_version = 5", "setting a pragma is refused"),
            ("PRAGMA main.user_version=5", "setting a pragma is refused"),
            ("PRAGMA user_version(5)", "sets user_version"),
            ("PRAGMA query_only = OFF", "setting a pragma is refused"),
            ("PRAGMA query_only(0)", "sets query_only"),
            ("PRAGMA table_info = orders", "setting a pragma is refused"),
            ("PRAGMA writable_schema", "is not one that query runs"),
            ("PRAGMA optimize", "is not one that query runs"),
            ("PRAGMA wal_checkpoint(TRUNCATE)", "is not one that query runs"),
            ("PRAGMA /* c */ table_info(orders)", "shape"),
            ("PRAGMA table_info(orders) x", "shape"),
        ]:
            message = await sql.error("query", sql=attempt)
            assert expected in message, (attempt, message)
        # execute refuses every pragma
        if allow_writes:
            assert "refuses PRAGMA" in await sql.error("execute", sql="PRAGMA user_version = 5")
        assert (await sql.query("PRAGMA user_version"))["rows"] == [[0]]
        assert (await sql.query("PRAGMA query_only"))["rows"] == [[1]]
    assert await sqlite.admin("PRAGMA user_version") == [(0,)]


@pytest.mark.usefixtures("without_sql_checks")
async def test_sqlite_refuses_setting_pragmas_in_query_on_a_writable_instance(
    sqlite: TestDatabase,
) -> None:
    """Without the connector's checks, SQLite's authorizer refuses them during reads."""
    async with sqlite.serve(allow_writes=True) as sql:
        for attempt in ["PRAGMA query_only = OFF", "PRAGMA user_version = 5"]:
            assert "not authorized" in await sql.error("query", sql=attempt)
        assert (await sql.query("PRAGMA query_only"))["rows"] == [[1]]
        # the same connection still writes through execute, and reads again after it
        await sql.ok("execute", sql="UPDATE customers SET name = name WHERE id = 1")
        assert "not authorized" in await sql.error("query", sql="PRAGMA query_only = OFF")
    assert await sqlite.admin("PRAGMA user_version") == [(0,)]


@pytest.mark.usefixtures("without_sql_checks")
async def test_a_statement_prepared_during_a_write_is_authorized_again_in_a_read(
    sqlite: TestDatabase,
) -> None:
    """sqlite3 reuses prepared statements; the authorizer must see them in reads anyway."""
    refused = "SELECT fts3_tokenizer('simple')"  # a pointer: the authorizer refuses it
    async with sqlite.serve(allow_writes=True, pool_size=1) as sql:
        await sql.ok("execute", sql=refused)  # prepared and cached with the guard off
        assert "not authorized" in await sql.error("query", sql=refused)
        await sql.ok("execute", sql=refused)
        assert "not authorized" in await sql.error("query", sql=refused)


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
async def test_pragma_on_a_server_database_points_to_describe_table(
    dialect: str, request: pytest.FixtureRequest
) -> None:
    db: TestDatabase = request.getfixturevalue(dialect)
    async with db.serve() as sql:
        message = await sql.error("query", sql="PRAGMA table_info(orders)")
        assert "PRAGMA is SQLite's" in message
        assert "describe_table" in message


# -- placeholders -------------------------------------------------------------------------


async def test_positional_placeholders_are_answered_with_the_named_form(db: TestDatabase) -> None:
    customers = db.table("customers")
    marks = ["%s", "%(id)s", "$1"]
    if db.dialect != "postgresql":
        marks.append("?")
    if db.dialect == "sqlite":
        marks.append("$id")
    async with db.serve(allow_writes=True) as sql:
        for mark in marks:
            statement = f"SELECT name FROM {customers} WHERE id = {mark}"
            for tool in ("query", "explain"):
                message = await sql.error(tool, sql=statement, params={"id": 1})
                assert f"{mark} placeholders are not supported" in message, (mark, message)
                assert ":name" in message
                assert "params" in message
            update = f"UPDATE {customers} SET name = 'x' WHERE id = {mark}"
            message = await sql.error("execute", sql=update, params={"id": 1})
            assert f"{mark} placeholders are not supported" in message
        # the named form works, and a question mark in a string is a question mark
        named = await sql.query(f"SELECT name FROM {customers} WHERE id = :id", params={"id": 1})
        assert len(named["rows"]) == 1
        assert (await sql.query("SELECT '?' AS q"))["rows"] == [["?"]]
    assert await db.count("customers") == 3


async def test_postgresql_question_mark_is_the_jsonb_operator_or_a_hint(
    postgresql: TestDatabase,
) -> None:
    customers = postgresql.table("customers")
    async with postgresql.serve() as sql:
        contains = await sql.query("SELECT CAST('[\"a\"]' AS jsonb) ? 'a' AS has")
        assert contains["rows"] == [[True]]
        message = await sql.error("query", sql=f"SELECT name FROM {customers} WHERE id = ?")
        assert "syntax error" in message
        assert "if ? is meant as a parameter" in message
        assert ":name" in message


# -- a SQLite file that is not there ------------------------------------------------------


async def _refused_start(url: str, **settings: object) -> str:
    with pytest.raises(AssemblyError) as refused:
        async with serve(SqlConnector, settings={"url": url, **settings}, instance="shop"):
            pass  # pragma: no cover - the instance does not start
    return str(refused.value)


@pytest.mark.parametrize("allow_writes", [False, True], ids=["read-only", "writable"])
async def test_a_missing_sqlite_file_is_an_error_naming_the_path(
    tmp_path: Path, allow_writes: bool
) -> None:
    missing = tmp_path / "shpo.db"
    message = await _refused_start(f"sqlite:///{missing}", allow_writes=allow_writes)
    assert f"the SQLite database file {missing}" in message
    assert "the url setting of the sql instance 'shop'" in message
    assert ("create = true" in message) is allow_writes
    assert not missing.exists()
    # a file: URI names the same file
    uri = await _refused_start(f"sqlite:///file:{missing}?uri=true", allow_writes=allow_writes)
    assert str(missing) in uri
    assert not missing.exists()


async def test_a_missing_directory_is_an_error_even_with_create(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "shop.db"
    message = await _refused_start(f"sqlite:///{missing}", allow_writes=True, create=True)
    assert f"the directory of the SQLite database {missing}" in message
    assert not missing.parent.exists()


async def test_a_directory_where_the_file_should_be_is_an_error(tmp_path: Path) -> None:
    message = await _refused_start(f"sqlite:///{tmp_path}", allow_writes=True, create=True)
    assert f"the SQLite database {tmp_path} (the url setting" in message
    assert "is not a file" in message


async def test_create_starts_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    settings = {"url": f"sqlite:///{path}", "allow_writes": True, "create": True}
    async with serve(SqlConnector, settings=settings, instance="shop") as harness:
        await harness.call_ok("execute", sql="CREATE TABLE notes (body text)")
        await harness.call_ok("execute", sql="INSERT INTO notes VALUES (:b)", params={"b": "hi"})
        assert (await harness.call_ok("query", sql="SELECT body FROM notes"))["rows"] == [["hi"]]
    assert path.is_file()


def test_a_writable_instance_opens_its_file_so_that_sqlite_does_not_create_it(
    tmp_path: Path,
) -> None:
    """mode=rw: SQLite itself refuses to create the file, not only the check at start."""
    path = tmp_path / "gone.db"
    settings = SqlSettings(url=f"sqlite:///{path}", allow_writes=True)
    url = SqliteRules(settings, "shop").engine_url()
    uri = f"{url.database}?{urlencode(url.query)}"
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        sqlite3.connect(uri, uri=True)
    assert not path.exists()


def test_create_needs_sqlite_and_allow_writes() -> None:
    with pytest.raises(ValidationError, match="create needs allow_writes"):
        SqlSettings(url="sqlite:///shop.db", create=True)
    with pytest.raises(ValidationError, match="create is only supported with SQLite"):
        SqlSettings(url="postgresql://app@127.0.0.1/shop", allow_writes=True, create=True)
    assert SqlSettings(url="sqlite:///shop.db", allow_writes=True, create=True).create


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite+aiosqlite://", None),
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite:///file::memory:?cache=shared&uri=true", None),
        ("sqlite+aiosqlite:///file:shop?mode=memory&uri=true", None),
        ("sqlite+aiosqlite:///file:/srv/a%20b.db?uri=true", "/srv/a b.db"),
        ("sqlite+aiosqlite:///file:///srv/shop.db?uri=true", "/srv/shop.db"),
        ("sqlite+aiosqlite:////srv/shop.db", "/srv/shop.db"),
    ],
)
def test_the_sqlite_file_of_a_url(url: str, path: str | None) -> None:
    assert sqlite_file(make_url(url)) == path


def test_a_file_uri_keeps_the_instances_mode_whatever_it_asks() -> None:
    url = "sqlite:///file:/srv/shop.db?mode=rwc&uri=true"
    writable = SqliteRules(SqlSettings(url=url, allow_writes=True), "x").engine_url()
    assert writable.query == {"mode": "rw", "uri": "true"}
    read_only = SqliteRules(SqlSettings(url=url), "x").engine_url()
    assert read_only.query == {"mode": "ro", "uri": "true"}
