"""HTTP/1.1 responses and server-sent events, read as they arrive, for the fast path.

Only what :mod:`plugbay_proxy.fastpath` needs from a streamable HTTP server's answers:
the status line and headers, a body by length, chunked or to the end of the
connection, and the events of a ``text/event-stream`` body with the two fields that
resuming an interrupted stream depends on (the last event id and ``retry``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ClosedBeforeAnswer(Exception):
    """The connection closed before the first byte of a response."""


async def response_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """The status and headers (names in lower case) of an HTTP/1.1 response.

    Raises:
        ClosedBeforeAnswer: The connection ended before the response began.
        asyncio.IncompleteReadError: It ended in the middle of the head.
        ConnectionError: The head is too large.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")  # one read for all of it: lines cost
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            raise ClosedBeforeAnswer from None
        raise
    except asyncio.LimitOverrunError:
        raise ConnectionError("the upstream's response head is too large") from None
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return int(status_line.split(" ", 2)[1]), headers


class Body:
    """A response body read as it arrives: by length, chunked, or to the end of the stream."""

    def __init__(self, reader: asyncio.StreamReader, headers: Mapping[str, str]) -> None:
        self._reader = reader
        self._chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        length = headers.get("content-length")
        self._remaining = int(length) if length is not None and not self._chunked else None
        self.complete = False
        self._buffer = b""

    async def _chunk(self) -> bytes:
        """The next piece of the body; ``b""`` at its end."""
        reader = self._reader
        if self._chunked:
            size_line = (await reader.readline()).split(b";", 1)[0].strip()
            if not size_line:
                raise asyncio.IncompleteReadError(b"", None)  # the connection ended mid-body
            size = int(size_line, 16)
            if size == 0:
                while await reader.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                self.complete = True
                return b""
            piece = await reader.readexactly(size)
            await reader.readexactly(2)
            return piece
        if self._remaining is not None:
            if self._remaining == 0:
                self.complete = True
                return b""
            piece = await reader.read(min(self._remaining, 65536))
            if not piece:
                raise asyncio.IncompleteReadError(b"", self._remaining)
            self._remaining -= len(piece)
            return piece
        return await reader.read(65536)  # no length: the body ends with the connection

    async def read_all(self) -> bytes:
        """The rest of the body."""
        parts = [self._buffer]
        self._buffer = b""
        while piece := await self._chunk():
            parts.append(piece)
        return b"".join(parts)

    async def readline(self) -> str | None:
        """The body's next line (without its ending) as it arrives; ``None`` at the end."""
        while b"\n" not in self._buffer:
            piece = await self._chunk()
            if not piece:
                if not self._buffer:
                    return None
                line, self._buffer = self._buffer, b""
                return line.rstrip(b"\r").decode("utf-8")
            self._buffer += piece
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8")

    async def drain(self) -> None:
        """Read and drop the rest of the body, so that the connection can be reused."""
        self._buffer = b""
        while await self._chunk():
            pass


@dataclass
class Cursor:
    """Where an event stream stands, for resuming it after an interruption.

    ``last_event_id`` is the id of the last event the server sent (``None`` until one
    carries an id: such a stream cannot be resumed); ``retry`` is the server's latest
    ``retry`` field in seconds, how long to wait before reconnecting.
    """

    last_event_id: str | None = None
    retry: float | None = None
    id_buffer: str | None = None
    """The latest ``id`` field, which becomes ``last_event_id`` when its event is complete."""


async def next_message(body: Body, cursor: Cursor) -> dict[str, Any] | None:
    """The next JSON-RPC message of an event stream; ``None`` when the stream ends.

    Events without data (a priming event: an id to resume from, no message) and
    messages that are not JSON objects are skipped; ``id`` and ``retry`` fields update
    ``cursor`` as the SSE specification's parser does (an id once its event is complete).
    """
    data: list[str] = []
    while (line := await body.readline()) is not None:
        if not line:
            # An event is complete: only now does its id count (one cut off in the
            # middle was not received, and must come again on resumption).
            cursor.last_event_id = cursor.id_buffer
            if not data:
                continue  # an event with no data: nothing to dispatch
            text = "\n".join(data)
            data = []
            if not text.strip():
                continue  # a priming event
            message = json.loads(text)
            if isinstance(message, dict):
                return message
            continue
        if line.startswith(":"):
            continue  # a comment
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "id" and value.isascii() and value.isprintable():
            # It goes back in a header (Last-Event-ID): nothing that could break one.
            cursor.id_buffer = value or None  # an empty id: nothing to resume from
        elif field == "retry" and value.isascii() and value.isdigit():
            cursor.retry = int(value) / 1000
    return None
