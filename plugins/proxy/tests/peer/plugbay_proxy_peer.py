"""The upstream of the proxy's tests: a plugin that another plugbay serves.

A plugbay subprocess serves it over stdio or HTTP, and the proxy under test mounts
that plugbay. Its tools exercise what a gateway must carry: progress, log
messages, cancellation (a cancelled ``slow`` call leaves a mark file), structured
content, questions to the client (sampling, elicitation, roots), a tool name long
enough to need shortening, a caller's identity, and a catalog that grows at run time
(``grow``, through the host's dynamic components).
With ``PROXY_PEER_EVENT_STORE=memory`` in its environment it also provides an event
store kept in memory, so that its HTTP streams can be resumed.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from plugbay import (
    Components,
    Connector,
    Context,
    DynamicTool,
    Settings,
    hookimpl,
    prompt,
    resource,
    tool,
)

LONG_NAME = "summarise_every_document_in_the_shared_archive_by_topic"


class Sum(TypedDict):
    """The sum of two numbers."""

    total: int


class Visitor(BaseModel):
    """Who is there."""

    name: str = Field(description="Your name.")


class PeerSettings(Settings):
    """Where the peer leaves marks for the tests."""

    marks: str = Field(default=".", description="Directory for the marks tools leave.")


class PeerConnector(Connector[PeerSettings]):
    """Tools that exercise a gateway: progress, logs, cancellation and a growing catalog."""

    name = "peer"
    announces_updates = True

    def __init__(self, instance: str, settings: PeerSettings) -> None:
        super().__init__(instance, settings)
        self.extra: list[str] = []

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False)
    async def echo(self, text: str) -> str:
        """Send the text back.

        Args:
            text: The text to send back.
        """
        return text

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False)
    async def add(self, a: int, b: int) -> Sum:
        """Add two whole numbers.

        Args:
            a: The first number.
            b: The second number.
        """
        return {"total": a + b}

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False)
    async def slow(self, steps: int, ctx: Context, delay: float = 0.2, label: str = "slow") -> str:
        """Work in steps, reporting progress and logging each; leave a mark when cancelled.

        Args:
            steps: How many steps to take.
            delay: Seconds each step takes.
            label: The mark's name: ``<label>.cancelled`` in the marks directory.
        """
        try:
            for step in range(1, steps + 1):
                await ctx.log("info", f"step {step} of {steps}", logger="peer")
                await ctx.report_progress(step, steps, f"step {step}")
                await anyio.sleep(delay)
        except anyio.get_cancelled_exc_class():
            (Path(self.settings.marks) / f"{label}.cancelled").write_text("cancelled")
            raise
        return f"{steps} steps done"

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False)
    async def ask_model(self, prompt: str, ctx: Context) -> str:
        """Ask the client's model (sampling) and say what it answered.

        Args:
            prompt: What to ask.
        """
        sampled = await ctx.sample(prompt, max_tokens=50)
        return f"{sampled.model} said: {sampled.text}"

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False)
    async def ask_user(self, ctx: Context) -> str:
        """Ask the client's user for a name (elicitation) and greet it."""
        answer = await ctx.elicit("Who is there?", Visitor)
        if answer.data is None:
            return f"the user chose {answer.action}"
        return f"hello {answer.data.name}"

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False)
    async def client_roots(self, ctx: Context) -> str:
        """List the client's roots."""
        answer = await ctx.ask_client(types.ListRootsRequest())
        assert isinstance(answer, types.ListRootsResult)
        return ", ".join(f"{root.name}={root.uri}" for root in answer.roots)

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False)
    async def whoami(self, ctx: Context) -> str:
        """Name the caller as this server authenticated it."""
        return ctx.principal.name

    @tool(read_only=True, destructive=False, idempotent=True, open_world=False, name=LONG_NAME)
    async def long_named(self, topic: str) -> str:
        """A tool whose name only just fits under this server's own instance name.

        Args:
            topic: The topic.
        """
        return f"summary of {topic}"

    @tool(read_only=False, destructive=False, idempotent=True, open_world=False)
    async def grow(self, name: str) -> str:
        """Add a tool that echoes, called ``<name>``; clients hear that the list changed.

        Args:
            name: The new tool's name.
        """
        if name not in self.extra:
            self.extra.append(name)
            await self.components_changed()
        return f"added {name}"

    @tool(read_only=False, destructive=False, idempotent=True, open_world=False)
    async def touch_note(self, name: str) -> str:
        """Tell the clients that subscribed to a note that it changed.

        Args:
            name: The note's name.
        """
        await self.resource_updated(f"notes/{name}")
        return f"touched {name}"

    @resource("readme", mime_type="text/plain")
    def readme(self) -> str:
        """What this peer is."""
        return "a peer for the proxy tests"

    @resource("notes/{name}", mime_type="text/plain", complete={"name": "note_names"})
    def note(self, name: str) -> str:
        """A note by name.

        Args:
            name: The note's name.
        """
        return f"note {name}"

    def note_names(self, value: str, context: Mapping[str, str]) -> list[str]:
        """Complete note names."""
        return [name for name in ("alpha", "beta", "gamma") if name.startswith(value)]

    @prompt(complete={"name": "note_names"})
    def greet(self, name: str) -> str:
        """Greet someone.

        Args:
            name: Whom to greet.
        """
        return f"Hello, {name}!"

    async def components(self) -> Components:
        """The tools ``grow`` added."""
        return Components(tools=[_echo_tool(name) for name in self.extra])


def _echo_tool(name: str) -> DynamicTool:
    async def call(arguments: Mapping[str, Any], context: Context) -> types.CallToolResult:
        text = f"{name}: {arguments.get('text', '')}"
        return types.CallToolResult(content=[types.TextContent(text=text)])

    return DynamicTool(
        definition=types.Tool(
            name=name,
            description=f"Echo, added at run time as {name}.",
            input_schema={
                "type": "object",
                "properties": {"text": {"type": "string", "description": "Text to echo."}},
            },
            annotations=types.ToolAnnotations(read_only_hint=True, destructive_hint=False),
        ),
        call=call,
    )


@hookimpl
def register_connectors(register: Callable[[type[Connector[Any]]], None]) -> None:
    """Register the peer connector."""
    register(PeerConnector)


class MemoryEventStore(EventStore):
    """Every event of the server's streams, in memory (one client session at a time)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._events: list[tuple[str, str, types.JSONRPCMessage | None]] = []

    async def store_event(self, stream_id: str, message: types.JSONRPCMessage | None) -> str:
        """Keep an event; its id."""
        event_id = str(next(self._ids))
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(
        self, last_event_id: str, send_callback: EventCallback
    ) -> str | None:
        """Send the messages of ``last_event_id``'s stream that came after it."""
        stream = next((s for e, s, _ in self._events if e == last_event_id), None)
        if stream is None:
            return None
        position = next(i for i, (e, _, _) in enumerate(self._events) if e == last_event_id)
        for event_id, stream_id, message in self._events[position + 1 :]:
            if stream_id == stream and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream


@hookimpl
def provide_event_store(config: Any) -> EventStore | None:
    """An in-memory event store when ``PROXY_PEER_EVENT_STORE=memory``."""
    if os.environ.get("PROXY_PEER_EVENT_STORE") == "memory":
        return MemoryEventStore()
    return None
