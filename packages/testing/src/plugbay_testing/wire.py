"""Streamable HTTP spoken by hand, for tests that must see exactly what crosses the wire.

An MCP client hides the HTTP exchange (status codes, content types, headers, how an
answer is framed); these helpers do not::

    with httpx.Client() as http:
        session = RawSession(http, url).open()
        response = session.call("notes_search", arguments={"text": "x"})
        assert response.headers["content-type"] == "application/json"
        assert answer_of(response)["result"]["isError"] is False
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

import httpx

HANDSHAKE_VERSION = "2025-11-25"
JSON_RPC_HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
}


class RawSession:
    """A handshake-era (2025-11-25) session over streamable HTTP, one request at a time.

    Args:
        http: The HTTP client to send with.
        url: The MCP endpoint (``http://127.0.0.1:8000/mcp``).
        headers: Extra headers for every request (credentials, for instance).
    """

    def __init__(self, http: httpx.Client, url: str, **headers: str) -> None:
        self.http = http
        self.url = url
        self.headers = {**JSON_RPC_HEADERS, **headers}
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        """A request id not used before in this session."""
        return next(self._ids)

    def open(self, *, initialized: bool = True) -> RawSession:
        """Run the handshake; with ``initialized``, also settle it on the server.

        The server answers ``notifications/initialized`` before it handles it; the
        ``ping`` sent after it is answered only once the handshake is done.
        """
        response = self.post(
            {
                "jsonrpc": "2.0",
                "id": self.next_id(),
                "method": "initialize",
                "params": {
                    "protocolVersion": HANDSHAKE_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "plugbay-testing", "version": "1"},
                },
            }
        )
        if response.status_code != 200:
            raise AssertionError(f"initialize failed: HTTP {response.status_code} {response.text}")
        self.headers["mcp-session-id"] = response.headers["mcp-session-id"]
        self.headers["mcp-protocol-version"] = HANDSHAKE_VERSION
        if initialized:
            self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
            ping = self.post({"jsonrpc": "2.0", "id": self.next_id(), "method": "ping"})
            if ping.status_code != 200:
                raise AssertionError(f"ping failed: HTTP {ping.status_code} {ping.text}")
        return self

    def post(self, message: Mapping[str, Any] | list[Any] | bytes) -> httpx.Response:
        """POST one JSON-RPC message (or a batch, or raw bytes) with the session's headers."""
        if isinstance(message, bytes):
            return self.http.post(self.url, content=message, headers=self.headers)
        return self.http.post(self.url, json=message, headers=self.headers)

    def call(self, tool: str, request_id: int | str | None = None, **params: Any) -> httpx.Response:
        """Send ``tools/call``; ``params`` are the request's (``arguments``, ``_meta``)."""
        message = {
            "jsonrpc": "2.0",
            "id": self.next_id() if request_id is None else request_id,
            "method": "tools/call",
            "params": {"name": tool, **params},
        }
        return self.post(message)

    def cancel(self, request_id: int | str, reason: str | None = None) -> httpx.Response:
        """Send ``notifications/cancelled`` for a request."""
        params: dict[str, Any] = {"requestId": request_id}
        if reason is not None:
            params["reason"] = reason
        return self.post({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params})


def events_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages of an SSE response, in order (priming events left out)."""
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("text/event-stream"):
        raise AssertionError(f"not an event stream: {content_type!r}")
    return [
        json.loads(line[5:])
        for line in response.text.splitlines()
        if line.startswith("data:") and line[5:].strip()
    ]


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC answer of a response: its JSON body, or its event stream's last message."""
    if response.headers.get("content-type", "").startswith("application/json"):
        answer: dict[str, Any] = response.json()
        return answer
    return events_of(response)[-1]
