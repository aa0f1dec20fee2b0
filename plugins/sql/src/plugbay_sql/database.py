"""One database: its connection pool, and the way every call runs on it.

:meth:`Database.run` is the only way the tools reach the database. It checks a
connection out, starts a read-only (or, for ``execute``, a read-write) transaction with
the statement timeout, runs the call's work, and always rolls back or commits and
returns the connection to the pool, whatever happened: a database error, a timeout, or
the call being cancelled.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, StaticPool

from plugbay import ToolError
from plugbay_sql.dialects import CONNECT_TIMEOUT, DialectRules, rules_for
from plugbay_sql.errors import ErrorReporter
from plugbay_sql.settings import SqlSettings

T = TypeVar("T")
logger = logging.getLogger(__name__)

CLIENT_GRACE = 2.0
"""Seconds past the statement timeout before the client gives up on the database and
cancels the statement itself (the database's own timeout should fire first)."""
POOL_RECYCLE = 1800
"""Seconds after which a pooled connection is replaced, before servers drop idle ones."""
DESCRIPTION = "plugbay_sql.description"
"""``conn.info`` key of the last statement's cursor description (column names and types)."""


def _remember_description(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    conn.info[DESCRIPTION] = cursor.description


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """On checkout: a connection its driver knows to be closed is replaced by the pool.

    asyncpg notices at once when the server ends a connection (a restart,
    ``pg_terminate_backend``): its ``is_closed()`` costs no round trip, unlike a ping.
    ``DisconnectionError`` is SQLAlchemy's way to make the pool connect again.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    is_closed = getattr(driver, "is_closed", None)
    if callable(is_closed) and is_closed():
        raise DisconnectionError("the database closed this pooled connection")


def _is_disconnect(conn: AsyncConnection, driver: Any, error: BaseException) -> bool:
    """Whether ``error`` means the connection is gone (not that the statement failed).

    SQLAlchemy marks the disconnects it recognises; a driver error it let through
    unwrapped (asyncpg's, from a server-side cursor) is judged by the driver
    connection, which knows whether it is still open (asyncpg ``is_closed()``,
    aiomysql ``closed``).
    """
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if conn.invalidated:
        return True
    is_closed = getattr(driver, "is_closed", None)
    if callable(is_closed):
        return bool(is_closed())
    return getattr(driver, "closed", False) is True


class _Disconnected(Exception):
    """A call lost its connection; ``error`` is what to report if it is not retried."""

    def __init__(self, error: ToolError) -> None:
        super().__init__(str(error))
        self.error = error


class Database:
    """The engine of one connector instance and the transaction around every call.

    Args:
        settings: The instance's settings.
        instance: The instance's name (for ``application_name`` and messages).
    """

    def __init__(self, settings: SqlSettings, instance: str) -> None:
        self.settings = settings
        self.rules: DialectRules = rules_for(settings, instance)
        self.family = self.rules.family
        self._url = self.rules.engine_url()
        self.where = self._url.render_as_string(hide_password=True)
        secret = settings.password.get_secret_value() if settings.password else ""
        self.errors = ErrorReporter(self.family, [secret], self.where)
        # What a failed statement raises: SQLAlchemy's errors, and the driver's own
        # where SQLAlchemy lets them through.
        self._failures: tuple[type[Exception], ...] = (
            SQLAlchemyError,
            *self.rules.driver_errors,
        )
        self._broken: tuple[type[Exception], ...] = (*self._failures, OSError)
        self._engine: AsyncEngine | None = None
        self._canceller: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        """The engine; available between :meth:`open` and :meth:`close`."""
        if self._engine is None:
            raise ToolError("the database connection is closed (the instance has stopped)")
        return self._engine

    @property
    def failures(self) -> tuple[type[Exception], ...]:
        """What a failed statement raises: SQLAlchemy's errors and the driver's own."""
        return self._failures

    @property
    def dialect_name(self) -> str:
        """SQLAlchemy's name of the dialect: ``postgresql``, ``mysql``, ``mariadb``, ``sqlite``."""
        return self.engine.dialect.name

    async def open(self) -> None:
        """Create the pool and connect once, so that a wrong URL or password shows at start.

        Raises:
            ToolError: The database cannot be reached; the message names it (masked).
        """
        self.rules.check_target()
        options = self.rules.engine_options()
        database = self._url.database or ""
        memory = self.family == "sqlite" and database in ("", ":memory:")
        if memory:
            # One shared connection, or every checkout would see a new empty database.
            options["poolclass"] = StaticPool
        else:
            options.update(pool_size=self.settings.pool_size, max_overflow=0)
            options.update(pool_recycle=POOL_RECYCLE, pool_timeout=CONNECT_TIMEOUT)
        if self.family != "sqlite" and self.settings.allow_writes:
            # A driver learns that the server closed a connection only once it reads the
            # server's goodbye (aiomysql: when it next uses it; asyncpg: when its event
            # loop gets to it, which may be after the checkout). A write cannot be run
            # again, so its connection is pinged first (one round trip; reads run again
            # instead, see run()).
            options["pool_pre_ping"] = True
        engine = create_async_engine(self._url, **options)
        event.listen(engine.sync_engine, "after_cursor_execute", _remember_description)
        event.listen(engine.sync_engine, "checkout", _refuse_closed)
        self._engine = engine
        try:
            await self.run(_ping)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close every pooled connection."""
        engine, self._engine = self._engine, None
        canceller, self._canceller = self._canceller, None
        for each in (engine, canceller):
            if each is not None:
                await each.dispose()

    async def run(
        self,
        work: Callable[[AsyncConnection], Awaitable[T]],
        *,
        write: bool = False,
        select_limit: int | None = None,
        sql: str | None = None,
    ) -> T:
        """Run ``work`` on a pooled connection inside one transaction.

        A call that does not write and loses its connection (the database restarted or
        ended it) runs once more on a fresh connection: it changed nothing, so running
        it again is safe. A write is never run twice: whether it was applied is unknown.

        Args:
            work: The call's statements; it gets the connection with the transaction
                begun (read-only unless ``write``) and the statement timeout set.
            write: Commit at the end instead of rolling back, and allow writes.
            select_limit: Where the database supports it, the most rows a query returns.
            sql: The caller's SQL, so that error positions can point into it.

        Returns:
            What ``work`` returned.

        Raises:
            ToolError: For every database failure, with the database's message.
        """
        try:
            return await self._run_once(work, write, select_limit, sql)
        except _Disconnected as lost:
            if write:
                raise ToolError(
                    f"{lost.error}. The connection was lost while the change ran, so whether "
                    "it was committed is unknown: check before running it again"
                ) from None
            logger.info("sql: a connection was lost; the read runs again on a fresh one")
        try:
            return await self._run_once(work, write, select_limit, sql)
        except _Disconnected as lost:
            raise lost.error from None

    async def _run_once(
        self,
        work: Callable[[AsyncConnection], Awaitable[T]],
        write: bool,
        select_limit: int | None,
        sql: str | None,
    ) -> T:
        timeout = self.settings.statement_timeout
        try:
            conn = await self.engine.connect().start()
        except SQLAlchemyError as error:
            raise self.errors.connection_error(error) from None
        except (OSError, TimeoutError) as error:
            raise self.errors.connection_error(error) from None
        finished = False
        info = conn.info  # kept: a connection that failed may no longer give it
        driver = None
        try:
            driver = (await conn.get_raw_connection()).driver_connection
            await self.rules.prepare(conn)
            with anyio.move_on_after(timeout + CLIENT_GRACE):
                await self.rules.begin(
                    conn, write=write, seconds=timeout, select_limit=select_limit
                )
                result = await work(conn)
                if write:
                    await conn.commit()
                finished = True
                return result
            # The database did not stop the statement in time: stop it from outside and
            # drop the connection, whose state is unknown.
            await self._cancel(info)
            await conn.invalidate()
            raise self._timeout_error()
        except self._failures as error:
            if self.errors.is_timeout(error):
                raise self._timeout_error() from None
            reported = self.errors.tool_error(error, sql)
            if _is_disconnect(conn, driver, error):
                raise _Disconnected(reported) from None
            raise reported from None
        except anyio.get_cancelled_exc_class():
            # The call itself was cancelled (its timeout, or the client): the statement
            # may still run on the server, so cancel it there too.
            with anyio.CancelScope(shield=True):
                self.rules.finish(info, interrupt=True)
                await self._cancel(info)
            raise
        finally:
            self.rules.finish(info, interrupt=not finished)
            # Shielded: a cancelled call still rolls back and returns its connection.
            with anyio.CancelScope(shield=True):
                await self._release(conn, reuse=not (write and self.rules.discard_after_write))

    async def _release(self, conn: AsyncConnection, *, reuse: bool) -> None:
        """Roll back and return the connection to the pool, or discard it.

        Connections that ran a caller's writes are discarded: whatever session state
        the statement left (a setting changed by a procedure, a temporary table, a
        lock) leaves with them, and the next call starts from a clean session. Others
        are rolled back and reset (:meth:`DialectRules.reset`: locks, temporary tables,
        settings) before they go back; one that cannot be reset is discarded.
        """
        try:
            if reuse and not conn.invalidated:
                await conn.rollback()
                with anyio.fail_after(CONNECT_TIMEOUT):
                    reuse = await self.rules.reset(conn)
            if not reuse:
                await conn.invalidate()
            await conn.close()
        except (*self._broken, TimeoutError):
            # The rollback failed: the connection is unusable, so the pool drops it.
            logger.info("sql: a connection failed to roll back and was discarded")
            with contextlib.suppress(*self._broken):
                await conn.invalidate()

    def _timeout_error(self) -> ToolError:
        seconds = f"{self.settings.statement_timeout:g}"
        return ToolError(
            f"the statement ran longer than the statement timeout ({seconds} s) and was "
            "cancelled; narrow it (WHERE, LIMIT, an index; see {tool:explain}) or ask an operator "
            "to raise statement_timeout"
        )

    async def _cancel(self, info: dict[Any, Any]) -> None:
        """Cancel the statement running on a connection (given by its ``info``) from another."""
        statement = self.rules.cancel_statement(info)
        if statement is None:
            return
        if self._canceller is None:
            self._canceller = create_async_engine(
                self._url, poolclass=NullPool, **self.rules.engine_options()
            )
        try:
            with anyio.fail_after(CONNECT_TIMEOUT):
                async with self._canceller.connect() as other:
                    await other.exec_driver_sql(statement)
        except (SQLAlchemyError, OSError, TimeoutError):
            pass  # The connection is dropped anyway; the server ends the statement on its own.


async def _ping(conn: AsyncConnection) -> None:
    await conn.exec_driver_sql("SELECT 1")
