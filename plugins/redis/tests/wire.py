"""A raw streamable-HTTP MCP client for the resumption tests: it picks the JSON-RPC ids.

SDK clients number requests themselves; these tests need two sessions to use the *same*
ids, and to cut a stream after a chosen event, so they speak the wire format directly
(httpx and a few lines of SSE parsing).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

PROTOCOL = "2025-11-25"
"""The first protocol version whose clients get priming events (and so can resume)."""
ACCEPT = "application/json, text/event-stream"


@dataclass
class Event:
    """One SSE event."""

    id: str | None = None
    data: str = ""

    @property
    def message(self) -> dict[str, Any] | None:
        """The JSON-RPC message it carries (``None`` for a priming event)."""
        return json.loads(self.data) if self.data else None


@dataclass
class Session:
    """An MCP session opened on ``url`` with ``http``."""

    http: httpx.AsyncClient
    url: str
    id: str = ""
    seen: list[Event] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        """The headers every request of the session carries."""
        return {"mcp-session-id": self.id, "mcp-protocol-version": PROTOCOL, "accept": ACCEPT}


async def events(response: httpx.Response) -> AsyncIterator[Event]:
    """The SSE events of ``response``, as they arrive."""
    event = Event()
    async for line in response.aiter_lines():
        if not line:
            if event.id is not None or event.data:
                yield event
            event = Event()
        elif line.startswith("id:"):
            event.id = line[3:].strip()
        elif line.startswith("data:"):
            event.data += line[5:].strip()


async def open_session(http: httpx.AsyncClient, url: str) -> Session:
    """Initialize a session (request id 1) and say it is initialized."""
    session = Session(http, url)
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": {"name": "resumption-test", "version": "0"},
        },
    }
    async with http.stream("POST", url, json=body, headers={"accept": ACCEPT}) as response:
        assert response.status_code == 200, await response.aread()
        session.id = response.headers["mcp-session-id"]
        async for event in events(response):
            if event.message is not None:
                break
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    answer = await http.post(url, json=note, headers=session.headers)
    assert answer.status_code == 202, answer.text
    return session


@asynccontextmanager
async def calling(
    session: Session, request_id: int, tool: str, arguments: dict[str, Any]
) -> AsyncIterator[AsyncIterator[Event]]:
    """POST a ``tools/call`` with progress; yields its events (leave the block to cut it)."""
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": {"progressToken": tool}},
    }
    async with session.http.stream(
        "POST", session.url, json=body, headers=session.headers
    ) as response:
        assert response.status_code == 200, await response.aread()
        yield events(response)


async def resume(session: Session, last_event_id: str) -> list[Event]:
    """GET with ``Last-Event-ID``: the events replayed, up to the response (or the end)."""
    headers = {**session.headers, "last-event-id": last_event_id}
    received: list[Event] = []
    async with session.http.stream("GET", session.url, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        async for event in events(response):
            received.append(event)
            message = event.message
            if message is not None and ("result" in message or "error" in message):
                break
    return received


def messages(received: list[Event]) -> list[dict[str, Any]]:
    """The JSON-RPC messages among ``received`` (priming events left out)."""
    return [event.message for event in received if event.message is not None]
