"""Calls whose response stream the upstream ends early are resumed, not failed.

One upstream (tests/peer/resumable_upstream.py) is the MCP SDK's ``MCPServer`` with an
event store: its tools end their call's event stream after announcing an event id and
a ``retry``, as SDK servers do to make clients poll long calls. A client must come
back with ``GET`` and ``Last-Event-ID`` for the rest; a call that cannot be resumed
fails alone, and the upstream stays connected for every other call. The other is
plugbay itself with an event store, behind a relay that drops a call's connection in
the middle of its event stream, as a network would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import mcp_types as types
import pytest

from plugbay_testing.fakes import free_port

if TYPE_CHECKING:
    from conftest import PeerServer, ServeGateway

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


class DroppingRelay:
    """A TCP relay to ``port`` that drops the first connection carrying a call of ``tool``.

    The connection is cut right after the first progress notification of the call's
    event stream has passed; every other connection is relayed as it is.
    """

    def __init__(self, port: int, tool: str) -> None:
        self.port = port
        self.tool = tool.encode()
        self.dropped = False
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        marked: list[bool] = [False]

        async def upward() -> None:
            while data := await reader.read(65536):
                self.requests.append(data)
                if not self.dropped and b"tools/call" in data and self.tool in data:
                    marked[0] = True
                up_writer.write(data)
                await up_writer.drain()

        async def downward() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()
                if marked[0] and b"notifications/progress" in data:
                    self.dropped = True
                    return

        tasks = [asyncio.ensure_future(upward()), asyncio.ensure_future(downward())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for end in (writer, up_writer):
            with contextlib.suppress(Exception):
                end.close()


@asynccontextmanager
async def dropping_relay(port: int, tool: str) -> AsyncIterator[tuple[DroppingRelay, int]]:
    relay = DroppingRelay(port, tool)
    server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
    try:
        yield relay, server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_plugbay_as_the_upstream_resumes_a_dropped_stream(
    gateway: ServeGateway, peer_server: Callable[..., PeerServer]
) -> None:
    upstream = peer_server("[server]\nsse_retry_ms = 100\n", PROXY_PEER_EVENT_STORE="memory")
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with dropping_relay(upstream.port, "peer_slow") as (relay, port):
        settings = {"url": f"http://127.0.0.1:{port}/mcp", "protocol": "legacy"}
        async with gateway({"up": settings}) as gw:
            result = await gw.client.call_tool(
                "up_peer_slow", {"steps": 4, "delay": 0.1}, progress_callback=on_progress
            )
            assert not result.is_error, text_of(result)
            assert text_of(result) == "4 steps done"
            assert gw.state("up")["upstream"] == "ready"
    assert relay.dropped
    assert any(
        request.startswith(b"GET /mcp") and b"last-event-id:" in request.lower()
        for request in relay.requests
    )
    # What the upstream sent while the connection was down came on the resumed stream.
    assert progress == [1, 2, 3, 4]
