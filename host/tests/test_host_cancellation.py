"""A sync tool past its timeout sees ``ctx.cancelled`` and stops before its side effect."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.to_thread
import pytest

from plugbay import Call, CallCancelled, Context, tool

pytestmark = pytest.mark.anyio

WAIT_LIMIT = 10.0
"""Seconds a test waits for a state before it fails (a safety net, not a measure)."""


async def _call(assembly: Any, name: str) -> Any:
    entry = assembly.catalog.tools[name]
    return await entry.handle(Call(kind="tool", name=name, arguments={}, timeout=entry.timeout))


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content)


async def _wait(event: threading.Event) -> bool:
    return await anyio.to_thread.run_sync(event.wait, WAIT_LIMIT)


async def test_a_sync_tool_polling_cancelled_stops_after_its_timeout(build, bundle) -> None:
    saw_cancel = threading.Event()
    returned = threading.Event()
    written: list[str] = []

    @tool(timeout=0.1, read_only=False, idempotent=True)
    def write_report(ctx: Context) -> str:
        """Wait for the timeout, polling, then write unless cancelled."""
        try:
            pause = threading.Event()
            # Bounded, so a broken flag fails the test instead of hanging it.
            for _ in range(int(WAIT_LIMIT / 0.01)):
                if ctx.cancelled:
                    saw_cancel.set()
                    return "stopped"
                pause.wait(0.01)
            written.append("report")  # the side effect a cancelled call must not have
            return "written"
        finally:
            returned.set()

    result = await _call(build(bundle(tools=[write_report])), "write_report")
    assert result.is_error
    assert "write_report did not finish within 0.1 seconds" in _text(result)
    assert await _wait(saw_cancel)
    assert await _wait(returned)
    assert written == []


async def test_raise_if_cancelled_ends_a_sync_tool_between_steps(build, bundle) -> None:
    first_done = threading.Event()
    returned = threading.Event()
    steps: list[int] = []
    raised: list[BaseException] = []

    @tool(timeout=0.1, read_only=False, idempotent=True)
    def copy_files(ctx: Context) -> str:
        """Copy two files, checking for cancellation before each."""
        try:
            for step in range(2):
                ctx.raise_if_cancelled()
                steps.append(step)
                first_done.set()
                # Hold until the call is cancelled (or the safety net runs out).
                for _ in range(int(WAIT_LIMIT / 0.01)):
                    if ctx.cancelled:
                        break
                    threading.Event().wait(0.01)
            return "copied"
        except CallCancelled as error:
            raised.append(error)
            raise
        finally:
            returned.set()

    result = await _call(build(bundle(tools=[copy_files])), "copy_files")
    assert result.is_error
    assert await _wait(returned)
    assert first_done.is_set()
    assert steps == [0]  # the second copy never started
    assert len(raised) == 1


async def test_the_pool_counts_a_stopped_thread_as_returned(build, bundle) -> None:
    @tool(timeout=0.1, read_only=True)
    def scan(ctx: Context) -> str:
        """Poll until cancelled."""
        for _ in range(int(WAIT_LIMIT / 0.01)):
            if ctx.cancelled:
                return "stopped"
            threading.Event().wait(0.01)
        return "never cancelled"

    assembly = build(bundle(tools=[scan]))
    pool = assembly.catalog.tools["scan"].owner.threads
    assert pool is not None
    result = await _call(assembly, "scan")
    assert result.is_error
    with anyio.fail_after(WAIT_LIMIT):
        while pool.abandoned:
            await anyio.sleep(0.01)


def test_a_context_is_not_cancelled_until_cancel_is_called() -> None:
    ctx = Context()
    assert ctx.cancelled is False
    ctx.raise_if_cancelled()  # nothing to raise
    ctx.cancel()
    assert ctx.cancelled is True
    with pytest.raises(CallCancelled, match="cancelled or timed out"):
        ctx.raise_if_cancelled()
