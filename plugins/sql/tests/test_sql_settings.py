"""Settings: URLs and their drivers, the environment, and the PostgreSQL read-only role."""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from plugbay.setting_paths import settings_context
from plugbay_sql import SqlConnector, SqlSettings
from plugbay_sql.dialects import SqliteRules
from plugbay_testing import build_assembly

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://app@db/shop", "postgresql+asyncpg://app@db/shop"),
        ("postgres://app@db:5433/shop", "postgresql+asyncpg://app@db:5433/shop"),
        ("mysql://app@db/shop", "mysql+aiomysql://app@db/shop"),
        ("mariadb://app@db/shop", "mariadb+aiomysql://app@db/shop"),
        ("mariadb+asyncmy://app@db/shop", "mariadb+asyncmy://app@db/shop"),
        ("sqlite:////srv/data/shop.db", "sqlite+aiosqlite:////srv/data/shop.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite:///file:shop?mode=ro&uri=true", "sqlite+aiosqlite:///file:shop?mode=ro&uri=true"),
    ],
)
def test_urls_get_an_asyncio_driver(given: str, expected: str) -> None:
    assert SqlSettings(url=given).url == expected


def test_a_relative_sqlite_file_starts_from_the_configuration_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "conf"
    in_file = SqlSettings.model_validate(
        {"url": "sqlite:///data/shop.db?timeout=5"}, context=settings_context(folder)
    )
    assert in_file.url == f"sqlite+aiosqlite:///{folder}/data/shop.db?timeout=5"
    assert make_url(in_file.url).database == f"{folder}/data/shop.db"
    from_variable = SqlSettings.model_validate(
        {"url": "sqlite:///shop.db"}, context=settings_context(folder, ["url"])
    )
    assert from_variable.url == f"sqlite+aiosqlite:///{tmp_path}/shop.db"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = SqlSettings.model_validate(
        {"url": "sqlite:///~/shop.db"}, context=settings_context(folder)
    )
    assert home.url == f"sqlite+aiosqlite:///{tmp_path}/home/shop.db"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("postgresql+psycopg2://app@db/shop", "not an asyncio driver for postgresql"),
        ("oracle://app@db/shop", "unsupported database 'oracle'"),
        ("not a url", "not a database URL"),
        ("mysql://app:pw@db/shop", "contains a password"),
    ],
)
def test_unusable_urls_are_refused(given: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SqlSettings(url=given)


def test_limits_are_validated() -> None:
    for bad in ({"row_limit": 0}, {"statement_timeout": 0}, {"max_cell_bytes": 1}):
        with pytest.raises(ValidationError):
            SqlSettings(url="sqlite://", **bad)
    with pytest.raises(ValidationError, match="read_only_role is only supported with PostgreSQL"):
        SqlSettings(url="mariadb://app@db/shop", read_only_role="reader")


async def test_settings_come_from_the_environment() -> None:
    assembly = build_assembly(
        SqlConnector,
        settings={"url": "sqlite:///:memory:"},
        instance="notes",
        environ={
            "PLUGBAY_NOTES__SCHEMAS": "main, other",
            "PLUGBAY_NOTES__ROW_LIMIT": "25",
            "PLUGBAY_NOTES__PASSWORD": "s3cret",
        },
    )
    state = assembly.instances["notes"]
    assert state.obj is not None
    settings = state.obj.settings
    assert isinstance(settings, SqlSettings)
    assert settings.schemas == ["main", "other"]
    assert settings.row_limit == 25
    assert settings.password is not None
    assert settings.password.get_secret_value() == "s3cret"
    json_list = SqlSettings.model_validate({"url": "sqlite://", "schemas": '["a", "b"]'})
    assert json_list.schemas == ["a", "b"]


def test_a_missing_url_is_reported_with_what_to_set() -> None:
    assembly = build_assembly(SqlConnector, config={"connectors": {"shop": {"plugin": "sql"}}})
    state = assembly.instances["shop"]
    assert state.status == "not configured"
    assert any("PLUGBAY_SHOP__URL" in problem for problem in state.problems)


def test_sqlite_files_of_read_only_instances_open_read_only() -> None:
    read_only = SqliteRules(SqlSettings(url="sqlite:////srv/data/shop #1.db"), "x").engine_url()
    assert read_only.database == "file:/srv/data/shop%20%231.db"
    assert read_only.query == {"mode": "ro", "uri": "true"}
    writable = SqliteRules(
        SqlSettings(url="sqlite:////srv/data/shop.db", allow_writes=True), "x"
    ).engine_url()
    # mode=rw: SQLite itself does not create a missing file (create = true gives rwc)
    assert writable == make_url("sqlite+aiosqlite:///file:/srv/data/shop.db?mode=rw&uri=true")
    creating = SqliteRules(
        SqlSettings(url="sqlite:////srv/data/shop.db", allow_writes=True, create=True), "x"
    ).engine_url()
    assert creating.query == {"mode": "rwc", "uri": "true"}
    memory = SqliteRules(SqlSettings(url="sqlite://"), "x").engine_url()
    assert memory.query == {}


async def test_sqlite_read_only_instances_cannot_write_even_by_pragma(
    sqlite: TestDatabase,
) -> None:
    """SQLite's authorizer refuses the pragma; without it, the file is still opened read-only."""
    async with sqlite.serve() as sql:
        conn = await sql.connector.database.engine.connect()
        try:
            with pytest.raises(Exception, match="not authorized"):
                await conn.exec_driver_sql("PRAGMA query_only = OFF")
            raw = await conn.get_raw_connection()
            await raw.driver_connection.set_authorizer(None)  # type: ignore[union-attr]
            await conn.exec_driver_sql("PRAGMA query_only = OFF")
            with pytest.raises(Exception, match="readonly database"):
                await conn.exec_driver_sql("DELETE FROM orders")
        finally:
            await conn.rollback()
            await conn.invalidate()  # it has no authorizer any more
            await conn.close()
    assert await sqlite.count("orders") == 3


async def test_postgresql_reads_as_the_read_only_role(postgresql: TestDatabase) -> None:
    role = f"plugbay_reader_{uuid.uuid4().hex[:8]}"
    schema = f'"{postgresql.schema}"'
    await postgresql.admin(f"CREATE ROLE {role} NOLOGIN")
    try:
        await postgresql.admin(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        await postgresql.admin(f"GRANT SELECT ON {schema}.customers TO {role}")
        async with postgresql.serve(read_only_role=role) as sql:
            who = await sql.query("SELECT current_user AS who")
            assert who["rows"] == [[role]]
            names = await sql.query(f"SELECT name FROM {schema}.customers WHERE id = 1")
            assert names["rows"] == [["Ada"]]
            denied = await sql.error("query", sql=f"SELECT * FROM {schema}.orders")
            assert "permission denied" in denied
            assert sql.checked_out() == 0
    finally:
        await postgresql.admin(f"DROP OWNED BY {role}")
        await postgresql.admin(f"DROP ROLE {role}")


def test_assembling_the_connector_warns_of_nothing() -> None:
    """Arguments called ``schema`` shadow nothing that matters (a host fix keeps it quiet)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assembly = build_assembly(SqlConnector, settings={"url": "sqlite://"}, instance="x")
    assert "x_describe_table" in assembly.catalog.tools
