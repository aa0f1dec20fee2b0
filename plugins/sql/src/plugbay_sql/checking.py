"""Statement checks that keep the event loop free, on statements of a bounded size.

Splitting and classifying SQL (:mod:`plugbay_sql.statements`) is pure Python work
that grows with the statement: a 100 kB statement holds a CPU for a second or more.
On the event loop that would stop every other call, ``/healthz`` and the call
timeouts, so statements longer than a few hundred characters are checked in a worker
thread, a few at a time per instance. Statements over ``max_statement_bytes`` are
refused before any of that work starts.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.to_thread

from plugbay import ToolError, setting_variable
from plugbay_sql.statements import Statement, parse_statement

INLINE_CHARS = 512
"""Statements up to this length are checked on the loop: about a millisecond of work,
less than handing them to a thread costs."""
CHECK_THREADS = 2
"""Statements one instance checks at once in worker threads; more wait their turn."""


class StatementChecker:
    """Parses and checks callers' statements within a size cap, off the event loop.

    Create it in a running event loop (it holds an anyio capacity limiter).

    Args:
        instance: The instance's name, for the messages.
        max_bytes: The longest statement accepted, in UTF-8 bytes.
    """

    def __init__(self, instance: str, max_bytes: int) -> None:
        self.instance = instance
        self.max_bytes = max_bytes
        self._limiter = anyio.CapacityLimiter(CHECK_THREADS)

    async def check(self, sql: str, check: Callable[[Statement], None]) -> Statement:
        """Parse ``sql`` as one statement and run ``check`` on it.

        A thread that started is waited for even if the call is cancelled, so that
        the instance never has more than :data:`CHECK_THREADS` of them busy; the size
        cap bounds how long that can take.

        Raises:
            ToolError: The statement is too long, or ``parse_statement`` or ``check``
                refused it.
        """
        # Characters first: a string of at most max_bytes/4 characters fits in any case.
        if len(sql) * 4 > self.max_bytes and len(sql.encode("utf-8")) > self.max_bytes:
            variable = setting_variable(self.instance, "max_statement_bytes")
            raise ToolError(
                f"the statement is longer than this instance accepts ({self.max_bytes} "
                f"bytes); shorten it (pass values in params, not pasted into the SQL), "
                f"or ask an operator to raise max_statement_bytes ({variable})"
            )
        if len(sql) <= INLINE_CHARS:
            return _parse_and_check(sql, check)
        return await anyio.to_thread.run_sync(_parse_and_check, sql, check, limiter=self._limiter)


def _parse_and_check(sql: str, check: Callable[[Statement], None]) -> Statement:
    statement = parse_statement(sql)
    check(statement)
    return statement
