"""An upstream whose tools end their response streams early, for the resumption tests.

Run as ``python resumable_upstream.py <port>``: the MCP SDK's own ``MCPServer`` over
streamable HTTP on 127.0.0.1, with an in-memory event store and a ``retry`` of
100 ms, so that a tool can close its call's event stream (``close_sse_stream``, the
SDK's way to make clients poll a long call) and the client must come back with
``Last-Event-ID`` to get the rest, as the 2025-11-25 transport specifies.

- ``steps(count)``: for each step, a progress and a log message, then the stream is
  closed and the tool waits until the client has come back for the events after it.
- ``forgetful()``: closes its stream after the store has forgotten the call, so the
  stream cannot be resumed and the call fails, while the server stays up.
- ``echo(text)``: an ordinary tool, to show the connection is still good.
"""

from __future__ import annotations

import itertools
import sys

import anyio
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage

RETRY_MS = 100
SETTLE = 0.2
"""Seconds a tool waits after the client came back, before it sends more: the SDK's
transport switches a resumed stream from replay to live events in several steps, and
an event sent in between would only be seen on the next resumption."""
WAIT_LIMIT = 30.0


class MemoryEventStore(EventStore):
    """Every event of every stream, kept in memory; tells tools when a stream is resumed."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._events: list[tuple[EventId, StreamId, JSONRPCMessage | None]] = []
        self._forgotten: set[StreamId] = set()
        self._replayed: dict[StreamId, anyio.Event] = {}

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = str(next(self._ids))
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        stream = next((s for e, s, _ in self._events if e == last_event_id), None)
        if stream is None or stream in self._forgotten:
            return None
        after = False
        for event_id, stream_id, message in list(self._events):
            if after and stream_id == stream and message is not None:
                await send_callback(EventMessage(message, event_id))
            after = after or event_id == last_event_id
        self._replayed.setdefault(stream, anyio.Event()).set()
        return stream

    def forget(self, stream: StreamId) -> None:
        """Replay nothing of ``stream`` from now on."""
        self._forgotten.add(stream)

    async def wait_for_replay(self, stream: StreamId) -> None:
        """Wait until a client asks for the events of ``stream`` again."""
        self._replayed[stream] = event = anyio.Event()
        with anyio.fail_after(WAIT_LIMIT):
            await event.wait()


store = MemoryEventStore()
server = MCPServer("resumable-upstream")


@server.tool()
async def steps(count: int, ctx: Context) -> str:
    """Work in ``count`` steps, ending the response stream after each one."""
    stream = str(ctx.request_id)
    for step in range(1, count + 1):
        await ctx.report_progress(step, count)
        await ctx.info(f"step {step} of {count}")
        await ctx.close_sse_stream()
        await store.wait_for_replay(stream)
        await anyio.sleep(SETTLE)
    return f"done in {count} steps"


@server.tool()
async def forgetful(ctx: Context) -> str:
    """End the response stream after forgetting the call: it cannot be resumed."""
    store.forget(str(ctx.request_id))
    await ctx.close_sse_stream()
    return "this answer is never delivered"


@server.tool()
def echo(text: str) -> str:
    """Send the text back."""
    return text


if __name__ == "__main__":
    app = server.streamable_http_app(event_store=store, retry_interval=RETRY_MS)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
