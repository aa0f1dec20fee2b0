"""Reset a pooled connection after a call, so that nothing a call did outlives it.

A read-only transaction stops writes to tables, but some session state is not
transactional and would stay on the connection for the next caller: PostgreSQL
session-level advisory locks, cursors ``WITH HOLD``, ``LISTEN``, prepared statements
made with SQL ``PREPARE``; MariaDB/MySQL ``GET_LOCK`` locks, ``LOCK TABLES``,
temporary tables, ``HANDLER``s, user and session variables (``SET`` is not undone by
``ROLLBACK`` there). :class:`~plugbay_sql.database.Database` runs these resets after
every call's rollback, whatever the statement was (they do not depend on parsing it),
and discards the connection when a reset fails or cannot tell that the session is clean.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

POSTGRES_RESET = (
    "SELECT pg_catalog.pg_advisory_unlock_all(); "
    "CLOSE ALL; "
    "UNLISTEN *; "
    "SET SESSION AUTHORIZATION DEFAULT; "
    "RESET ALL; "
    "DISCARD TEMP; "
    "DISCARD SEQUENCES; "
    "SELECT 1 FROM pg_catalog.pg_prepared_statements WHERE from_sql LIMIT 1"
)
"""``DISCARD ALL`` without its ``DEALLOCATE ALL``, which would drop the driver's own
prepared statements. ``RESET ALL`` returns settings to the values the connection
started with (``statement_timeout``, ``default_transaction_read_only``). The last
statement finds prepared statements made with SQL ``PREPARE``, which only a
``DEALLOCATE`` by name would remove: such a connection is discarded instead."""
_POSTGRES_CLEAN = "SELECT 0"
"""The command status of the last reset statement when no SQL prepared statement is left."""

COM_SET_OPTION = 0x1B
COM_RESET_CONNECTION = 0x1F
MULTI_STATEMENTS_OFF = b"\x01\x00"


async def reset_postgres(driver: Any) -> bool:
    """Reset an asyncpg connection (no transaction open) to its state at connect time.

    The batch runs as one simple query (one round trip, several statements), through
    asyncpg's public ``execute``.

    Args:
        driver: The ``asyncpg.Connection``.

    Returns:
        Whether the connection is clean and may go back to the pool.
    """
    status = await driver.execute(POSTGRES_RESET)
    if status != _POSTGRES_CLEAN:
        logger.info("sql: a connection kept a SQL prepared statement and was discarded")
        return False
    return True


async def mysql_command(driver: Any, command: int, payload: bytes = b"") -> bool:
    """Send one protocol command that has no SQL form and read its answer.

    aiomysql offers no public call for ``COM_RESET_CONNECTION`` or ``COM_SET_OPTION``;
    its connection's command methods are used when present.

    Args:
        driver: The driver's connection (aiomysql's).
        command: The command byte.
        payload: The command's arguments.

    Returns:
        ``False`` when this driver gives no way to send the command: the caller must
        then not rely on its effect.
    """
    execute_command = getattr(driver, "_execute_command", None)
    read_packet = getattr(driver, "_read_packet", None)
    if execute_command is None or read_packet is None:
        return False
    await execute_command(command, payload)
    await read_packet()
    return True


async def reset_mysql(driver: Any) -> bool:
    """``COM_RESET_CONNECTION``: what a new session would be, on the same connection.

    It releases ``GET_LOCK`` locks and ``LOCK TABLES``, drops temporary tables, closes
    ``HANDLER``s, forgets user variables and prepared statements, and returns session
    variables to their global values (the next call sets its own again). The
    connection's character set and the multi-statements option stay as they were.

    Args:
        driver: The driver's connection (aiomysql's).

    Returns:
        Whether the connection was reset and may go back to the pool.
    """
    if await mysql_command(driver, COM_RESET_CONNECTION):
        return True
    logger.info("sql: this driver cannot reset a connection; it is discarded after each call")
    return False
