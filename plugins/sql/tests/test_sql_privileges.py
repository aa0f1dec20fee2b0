"""The account check at start, and the connection reset that keeps nothing between calls.

The README's least-privilege accounts start quietly; the default privileged accounts
(postgres, root) start with a warning naming the grants to drop, or do not start with
``refuse_privileged_account``. A grant added to a reader is named with the statement
that takes it away. A connection whose reset fails, or that keeps what the reset cannot
clear, is discarded rather than reused.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from sqlalchemy.engine import make_url

from plugbay import AssemblyError, ToolError
from plugbay_sql import privileges, session_cleanup
from plugbay_sql.privileges import Finding, _grant_findings, _role_grant, describe

if TYPE_CHECKING:
    from conftest import TestDatabase

pytestmark = pytest.mark.anyio

WARNING = "may do more than read"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "plugbay_sql.privileges" and record.levelno == logging.WARNING
    ]


@pytest.fixture(params=["postgresql", "mariadb"])
def server(request: pytest.FixtureRequest) -> TestDatabase:
    """PostgreSQL and MariaDB, through their privileged test accounts."""
    database: TestDatabase = request.getfixturevalue(request.param)
    return database


@pytest.fixture
def reader(server: TestDatabase, request: pytest.FixtureRequest) -> TestDatabase:
    """The same database through the README's least-privilege account."""
    database: TestDatabase = request.getfixturevalue(f"{server.dialect}_reader")
    return database


async def test_a_least_privilege_account_starts_quietly(
    reader: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with reader.serve(refuse_privileged_account=True) as sql:
        rows = (await sql.query(f"SELECT count(*) AS n FROM {reader.table('customers')}"))["rows"]
        assert rows == [[3]]
    assert _warnings(caplog) == []


async def test_a_privileged_account_is_a_warning_naming_what_to_drop(
    server: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with server.serve() as sql:
        assert (await sql.query("SELECT 1 AS one"))["rows"] == [[1]]
    (message,) = _warnings(caplog)
    assert WARNING in message
    assert "refuse_privileged_account" in message
    if server.dialect == "postgresql":
        assert "SUPERUSER" in message
    else:
        assert "ALL PRIVILEGES on *.*" in message
        assert "REVOKE ALL PRIVILEGES ON *.* FROM" in message


async def test_a_privileged_account_is_refused_when_asked(server: TestDatabase) -> None:
    with pytest.raises(AssemblyError) as refused:
        async with server.serve(refuse_privileged_account=True):
            pass  # pragma: no cover - the instance does not start
    assert "refuses to start" in str(refused.value)
    assert WARNING in str(refused.value)


async def test_a_grant_beyond_reading_is_named_with_its_revoke(
    server: TestDatabase, reader: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    user = _user(reader)
    table = server.table("audit")
    if server.dialect == "postgresql":
        grant, revoke = (
            f'GRANT INSERT ON {table} TO "{user}"',
            f'REVOKE INSERT ON {table} FROM "{user}"',
        )
        expected = f'REVOKE INSERT ON "{server.schema}"."audit" FROM "{user}"'
        extra = [f'GRANT pg_read_server_files TO "{user}"']
        extra_revoke = [f'REVOKE pg_read_server_files FROM "{user}"']
    else:
        grant, revoke = (
            f"GRANT INSERT ON {table} TO '{user}'@'%'",
            f"REVOKE INSERT ON {table} FROM '{user}'@'%'",
        )
        expected = f"REVOKE INSERT ON `{server.schema}`.`audit` FROM `{user}`@`%`"
        extra = [f"GRANT FILE ON *.* TO '{user}'@'%'"]
        extra_revoke = [f"REVOKE FILE ON *.* FROM '{user}'@'%'"]
    caplog.set_level(logging.WARNING)
    for statement in [grant, *extra]:
        await server.admin(statement)
    try:
        async with reader.serve():
            pass
        (message,) = _warnings(caplog)
        assert expected in message
        assert ("pg_read_server_files" if server.dialect == "postgresql" else "FILE on *.*") in (
            message
        )
        # with writes allowed, only what reaches the server is said
        caplog.clear()
        async with reader.serve(allow_writes=True):
            pass
        (message,) = _warnings(caplog)
        assert expected not in message
    finally:
        for statement in [revoke, *extra_revoke]:
            await server.admin(statement)


def _user(reader: TestDatabase) -> str:
    return str(make_url(reader.url).username)


# -- SHOW GRANTS, line by line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GRANT USAGE ON *.* TO `r`@`%`", []),
        ("GRANT SELECT, SHOW VIEW ON `shop`.* TO `r`@`%`", []),
        ("GRANT SELECT (`id`, `name`) ON `shop`.`t` TO `r`@`%`", []),
        ("GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION", []),
        (
            "GRANT SELECT, INSERT (`a`, `b`), DELETE ON `shop`.* TO `r`@`%`",
            ["REVOKE INSERT ON `shop`.* FROM `r`@`%`", "REVOKE DELETE ON `shop`.* FROM `r`@`%`"],
        ),
        (
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED VIA unix_socket "
            "WITH GRANT OPTION",
            [
                "REVOKE ALL PRIVILEGES ON *.* FROM `root`@`localhost`",
                "REVOKE GRANT OPTION ON *.* FROM `root`@`localhost`",
            ],
        ),
        ("GRANT FILE, CREATE TEMPORARY TABLES ON *.* TO `r`@`%`", None),
    ],
)
def test_grant_lines_become_revokes(line: str, expected: list[str] | None) -> None:
    findings = _grant_findings(line)
    if expected is None:
        assert [finding.what for finding in findings] == [
            "FILE on *.*",
            "CREATE TEMPORARY TABLES on *.*",
        ]
        assert [finding.server for finding in findings] == [True, False]
    else:
        assert [finding.fix for finding in findings] == expected


def test_role_grants_are_followed() -> None:
    assert _role_grant("GRANT `reporting` TO `r`@`%`") == "`reporting`"
    assert _role_grant("GRANT SELECT ON *.* TO `r`@`%`") is None


def test_the_message_lists_a_few_and_counts_the_rest() -> None:
    findings = [
        Finding(f"INSERT on t{n}", f"REVOKE INSERT ON t{n} FROM r", False) for n in range(12)
    ]
    message = describe("shop", findings, writes=False)
    assert "(and 4 more)" in message
    assert "REVOKE INSERT ON t7 FROM r" in message
    assert "t8" not in message


# -- the reset between calls fails closed --------------------------------------------------


async def _backend(sql: Any, db: TestDatabase) -> Any:
    pid = "pg_backend_pid()" if db.dialect == "postgresql" else "CONNECTION_ID()"
    return (await sql.query(f"SELECT {pid} AS pid"))["rows"][0][0]


async def test_a_connection_is_reused_after_a_clean_reset(server: TestDatabase) -> None:
    async with server.serve(pool_size=1) as sql:
        assert await _backend(sql, server) == await _backend(sql, server)


@pytest.mark.parametrize("failure", ["unclean", "error"])
async def test_a_connection_whose_reset_fails_is_discarded(
    server: TestDatabase, failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def reset(driver: Any) -> bool:
        if failure == "error":
            raise OSError("the reset broke")
        return False

    name = "reset_postgres" if server.dialect == "postgresql" else "reset_mysql"
    monkeypatch.setattr(session_cleanup, name, reset)
    async with server.serve(pool_size=1) as sql:
        first = await _backend(sql, server)
        assert await _backend(sql, server) != first
        assert sql.checked_out() == 0


@pytest.mark.usefixtures("without_sql_checks")
async def test_a_sql_prepared_statement_gets_its_connection_discarded(
    postgresql: TestDatabase,
) -> None:
    """DEALLOCATE ALL would drop the driver's own statements: the connection goes instead."""
    async with postgresql.serve(pool_size=1) as sql:
        first = await _backend(sql, postgresql)
        await sql.harness.call("query", sql="PREPARE plugbay_left AS SELECT 1")
        assert await _backend(sql, postgresql) != first
        probe = "SELECT count(*) AS n FROM pg_catalog.pg_prepared_statements WHERE from_sql"
        assert (await sql.query(probe))["rows"] == [[0]]


def test_the_mysql_reset_needs_the_driver_command() -> None:
    """Without a way to send COM_RESET_CONNECTION the connection is not reused."""

    class NoCommands:
        pass

    assert anyio.run(session_cleanup.reset_mysql, NoCommands()) is False


async def test_privileges_that_cannot_be_read_fail_closed_when_asked(
    server: TestDatabase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def unreadable(conn: Any) -> list[Finding]:
        raise ToolError("permission denied to read the grants")

    name = "_postgres_findings" if server.dialect == "postgresql" else "_mysql_findings"
    monkeypatch.setattr(privileges, name, unreadable)
    caplog.set_level(logging.WARNING)
    async with server.serve() as sql:
        assert (await sql.query("SELECT 1 AS one"))["rows"] == [[1]]
    (message,) = _warnings(caplog)
    assert "could not read the account's privileges" in message
    with pytest.raises(AssemblyError, match="refuses to start"):
        async with server.serve(refuse_privileged_account=True):
            pass  # pragma: no cover - the instance does not start
