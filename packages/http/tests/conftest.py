"""Servers that misbehave on purpose, on 127.0.0.1, for the fault-injection tests.

:class:`FaultServer` is an ASGI application (served by uvicorn in a thread) whose
answers tests script per path: statuses, ``Retry-After``, delays before the answer,
slow bodies, and a rolling-window rate limit. :class:`ResetServer` is a raw TCP
server that resets every connection once it has read the request, which no ASGI
application can do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from plugbay_http import RetryPolicy
from plugbay_testing.fakes import LocalServer

FAST = RetryPolicy(attempts=4, initial_backoff=0.01, max_backoff=0.05, jitter=0.01)
"""Retries without the waits, for tests."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One scripted answer.

    Attributes:
        status: The status code.
        body: The JSON body.
        headers: Extra headers (``Retry-After``...).
        delay: Seconds to wait before answering at all.
        chunk_delay: Send the body in chunks this many seconds apart (a slow body).
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0


class FaultServer:
    """An HTTP server whose answers the test scripts, path by path."""

    def __init__(self) -> None:
        self._scripts: dict[str, deque[Answer]] = {}
        self.hits: dict[str, list[str]] = defaultdict(list)
        self.headers: list[dict[str, str]] = []
        self.bodies: dict[str, list[bytes]] = defaultdict(list)
        self.rejected = 0
        self._limit: tuple[int, float] | None = None
        self._arrivals: deque[float] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/{path:path}", self._serve, methods=["GET", "POST", "PUT", "DELETE"])]
        )
        self.url = ""

    def reset(self) -> None:
        """Forget scripts, limits and hits."""
        with self._lock:
            self._scripts.clear()
            self.hits.clear()
            self.headers.clear()
            self.bodies.clear()
            self.rejected = 0
            self._limit = None
            self._arrivals.clear()

    def script(self, path: str, *answers: Answer) -> None:
        """Answer requests to ``path`` with ``answers`` in turn; the last one repeats."""
        with self._lock:
            self._scripts[path] = deque(answers)

    def limit(self, requests: int, per_seconds: float) -> None:
        """Answer 429 to requests past ``requests`` in any rolling ``per_seconds``."""
        with self._lock:
            self._limit = (requests, per_seconds)
            self._arrivals.clear()

    def count(self, path: str) -> int:
        """Requests received for ``path``."""
        with self._lock:
            return len(self.hits[path])

    def _next(self, path: str) -> Answer:
        with self._lock:
            script = self._scripts.get(path)
            if not script:
                return Answer(body={"path": path})
            return script.popleft() if len(script) > 1 else script[0]

    async def _serve(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        received = await request.body()
        with self._lock:
            self.hits[path].append(request.method)
            self.headers.append(dict(request.headers))
            self.bodies[path].append(received)
            if self._limit is not None:
                requests, window = self._limit
                now = time.monotonic()
                while self._arrivals and self._arrivals[0] <= now - window:
                    self._arrivals.popleft()
                if len(self._arrivals) >= requests:
                    self.rejected += 1
                    return JSONResponse({"message": "slow down"}, status_code=429)
                self._arrivals.append(now)
        answer = self._next(path)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        body = answer.body if answer.body is not None else {"path": path}
        if answer.chunk_delay:
            return StreamingResponse(
                self._slow(body, answer.chunk_delay),
                status_code=answer.status,
                headers=answer.headers,
                media_type="application/json",
            )
        return JSONResponse(body, status_code=answer.status, headers=answer.headers)

    @staticmethod
    async def _slow(body: Any, chunk_delay: float) -> AsyncIterator[bytes]:
        data = json.dumps(body).encode()
        for index in range(0, len(data), 4):
            yield data[index : index + 4]
            await asyncio.sleep(chunk_delay)


class ResetServer:
    """A TCP server that reads each request and then resets the connection (RST)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            with contextlib.suppress(OSError):
                conn.settimeout(2)
                conn.recv(65536)
                # SO_LINGER with a zero timeout makes close() send RST, not FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def __enter__(self) -> ResetServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture(scope="session")
def _fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    with LocalServer(server.app) as running:
        server.url = running.url
        yield server


@pytest.fixture
def fault_server(_fault_server: FaultServer) -> FaultServer:
    """The session's fault server, with no scripts, limits or hits left from other tests."""
    _fault_server.reset()
    return _fault_server


@pytest.fixture
def reset_server() -> Iterator[ResetServer]:
    """A server that resets every connection after reading the request."""
    with ResetServer() as server:
        yield server
