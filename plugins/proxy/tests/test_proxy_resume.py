"""Calls whose response stream the upstream ends early are resumed, not failed.

The upstream (tests/peer/resumable_upstream.py) is the MCP SDK's ``MCPServer`` with an
event store: its tools end their call's event stream after announcing an event id and
a ``retry``, as SDK servers do to make clients poll long calls. A client must come
back with ``GET`` and ``Last-Event-ID`` for the rest; a call that cannot be resumed
fails alone, and the upstream stays connected for every other call.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import mcp_types as types
import pytest

from plugbay_testing.fakes import free_port

if TYPE_CHECKING:
    from conftest import ServeGateway

UPSTREAM = Path(__file__).resolve().parent / "peer" / "resumable_upstream.py"
START_TIMEOUT = 30.0


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


@pytest.fixture
def resumable_url(tmp_path: Path) -> Iterator[str]:
    """The MCP endpoint of a resumable upstream, started for the test."""
    port = free_port()
    log = (tmp_path / "upstream.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, str(UPSTREAM), str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"the upstream exited:\n{(tmp_path / 'upstream.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the resumable upstream did not start")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.mark.parametrize("fast_calls", [True, False], ids=["fast-path", "sdk"])
async def test_a_call_whose_stream_ends_early_is_resumed(
    gateway: ServeGateway, resumable_url: str, fast_calls: bool
) -> None:
    progress: list[tuple[float, float | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total))

    logs: list[str] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(str(params.data))

    settings = {"url": resumable_url, "protocol": "legacy", "fast_calls": fast_calls}
    async with gateway({"up": settings}, logging_callback=on_log, log_level="info") as gw:
        upstream = gw.assembly.instances["up"].obj.upstream  # type: ignore[union-attr]
        assert (upstream._fast is not None) == fast_calls
        result = await gw.client.call_tool("up_steps", {"count": 3}, progress_callback=on_progress)
        assert not result.is_error, text_of(result)
        assert text_of(result) == "done in 3 steps"
        assert gw.state("up")["upstream"] == "ready"
        # Every event sent while the stream was away arrives once, in order.
        assert progress == [(1, 3), (2, 3), (3, 3)]
        assert logs == ["step 1 of 3", "step 2 of 3", "step 3 of 3"]
        # The fast path served the call itself (it did not fall back to the SDK).
        assert (upstream._fast is not None) == fast_calls
        assert text_of(await gw.call("up_echo", text="next")) == "next"


async def test_a_call_that_cannot_be_resumed_fails_alone(
    gateway: ServeGateway, resumable_url: str
) -> None:
    settings = {"url": resumable_url, "protocol": "legacy"}
    async with gateway({"up": settings}) as gw:
        failed = await gw.call("up_forgetful")
        assert failed.is_error
        message = text_of(failed)
        assert "upstream 'up'" in message
        assert "3 attempts to resume it failed" in message, message
        assert "still connected" in message, message
        # One lost call does not take the upstream down: its other tools still work.
        assert gw.state("up")["upstream"] == "ready"
        assert text_of(await gw.call("up_echo", text="still up")) == "still up"
