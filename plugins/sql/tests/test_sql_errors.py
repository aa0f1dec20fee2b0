"""Errors say what the database said, where, and never carry the password."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

from plugbay.assembly import assemble
from plugbay.config import parse_config
from plugbay.plugins import load_plugins
from plugbay_sql import SqlConnector, SqlSettings
from plugbay_testing import build_assembly, serve

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = pytest.mark.anyio

SECRET = "hunter2-Zq8-never-shown"


async def test_a_syntax_error_gives_its_position(db: TestDatabase) -> None:
    async with db.serve() as sql:
        message = await sql.error("query", sql="SELECT id,\n  FROM orders")
    if db.dialect == "postgresql":
        assert 'syntax error at or near "FROM"' in message
        assert "position 14 (line 2, column 3)" in message
        assert "SQLSTATE 42601" in message
    elif db.dialect == "mariadb":
        assert "You have an error in your SQL syntax" in message
        assert "position 14 (line 2, column 3)" in message
        assert "error 1064" in message
    else:
        assert 'near "FROM": syntax error at position 14 (line 2, column 3)' in message


async def test_unknown_tables_and_columns_are_named(db: TestDatabase) -> None:
    async with db.serve() as sql:
        table = await sql.error("query", sql=f"SELECT * FROM {db.table('nope')}")
        column = await sql.error("query", sql=f"SELECT missing_col FROM {db.table('orders')}")
        described = await sql.error("describe_table", table="Orders")
        unknown_schema = await sql.error("list_tables", schema="elsewhere")
    assert "nope" in table
    assert "missing_col" in column
    assert "no table or view 'Orders'" in described
    assert "did you mean 'orders'" in described
    assert f"no schema 'elsewhere' on this instance; the schemas are: '{db.schema}'" in (
        unknown_schema
    )


async def test_postgresql_hints_at_parameter_types(postgresql: TestDatabase) -> None:
    async with postgresql.serve() as sql:
        message = await sql.error("query", sql="SELECT :value AS v", params={"value": 5})
    assert "invalid input for query argument $1" in message
    assert "CAST" in message


async def test_the_url_may_not_carry_a_password() -> None:
    with pytest.raises(ValueError, match="contains a password") as caught:
        SqlSettings(url=f"postgresql://app:{SECRET}@127.0.0.1/test")
    assert SECRET not in str(caught.value)


def test_the_password_is_hidden_in_settings_and_engine_urls() -> None:
    settings = SqlSettings(url="postgresql://app@127.0.0.1/shop", password=SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())
    assert SECRET not in settings.model_dump_json()
    assert make_url(settings.url).password is None
    assert settings.engine_url().password == SECRET
    assert SECRET not in repr(settings.engine_url())
    assert SECRET not in str(settings.engine_url())


async def test_the_password_never_reaches_results_errors_or_logs(
    postgresql: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL here trusts local connections, so a password is sent and ignored."""
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []
    async with serve(
        SqlConnector,
        config={"server": {"list_unavailable_tools": True}},
        settings=postgresql.settings(password="${DB_PASSWORD}"),
        instance="db",
        environ={"DB_PASSWORD": SECRET},
    ) as harness:
        connector = harness.connector
        assert isinstance(connector, SqlConnector)
        assert connector.settings.password is not None
        assert connector.settings.password.get_secret_value() == SECRET
        for tool, arguments in [
            ("query", {"sql": "SELECT current_user, inet_server_port()"}),
            ("query", {"sql": "SELEC 1"}),
            ("query", {"sql": "SELECT * FROM pg_catalog.pg_user"}),
            ("describe_table", {"table": "customers"}),
            ("explain", {"sql": "SELECT 1"}),
            ("execute", {"sql": "DELETE FROM x"}),
        ]:
            result = await harness.call(tool, **arguments)
            outputs.append(result.model_dump_json())
        outputs.append(repr(connector.settings))
        outputs.append(repr(connector.database.engine))
        outputs.append(connector.database.where)
    outputs.extend(record.getMessage() for record in caplog.records)
    outputs.append(caplog.text)
    assert not [output for output in outputs if SECRET in output]


async def test_a_wrong_password_fails_the_start_without_showing_it(
    mariadb: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assembly = build_assembly(
        SqlConnector,
        settings={"url": mariadb.url, "password": SECRET},
        instance="legacy",
    )
    await assembly.start()
    state = assembly.instances["legacy"]
    try:
        assert state.status == "failed"
        (problem,) = state.problems
        assert "could not connect to mariadb+aiomysql://root:***@127.0.0.1:3306/" in problem
        assert "Access denied for user 'root'" in problem
        assert SECRET not in problem
        assert SECRET not in caplog.text
        assert "legacy_query" not in assembly.catalog.tools
    finally:
        await assembly.stop()


async def test_an_unreachable_database_fails_the_start_and_names_it() -> None:
    environ = {"PLUGBAY_SHOP__PASSWORD": SECRET}
    config = parse_config(
        {
            "connectors": {
                "shop": {"plugin": "sql", "url": "postgresql://app@127.0.0.1:9/shop"},
                "notes": {"plugin": "sql", "url": "sqlite:///:memory:"},
            }
        },
        environ=environ,
    )
    registry = load_plugins(environ, extra={"sql": _plugin()}, entry_points=False)
    assembly = assemble(registry, config)
    await assembly.start()
    try:
        shop = assembly.instances["shop"]
        assert shop.status == "failed"
        assert (
            "could not connect to postgresql+asyncpg://app:***@127.0.0.1:9/shop"
            in (shop.problems[0])
        )
        assert SECRET not in str(shop.problems)
        # the other instance serves
        assert assembly.instances["notes"].status == "ready"
        assert "notes_query" in assembly.catalog.tools
    finally:
        await assembly.stop()


def _plugin() -> object:
    import plugbay_sql

    return plugbay_sql


async def test_errors_never_repeat_the_sql_parameters(db: TestDatabase) -> None:
    """A failing statement's parameters (which may be personal data) are not echoed."""
    private = "4111-1111-1111-1111"
    async with db.serve() as sql:
        message = await sql.error(
            "query",
            sql=f"SELECT * FROM {db.table('nope')} WHERE card = :card",
            params={"card": private},
        )
    assert private not in message
