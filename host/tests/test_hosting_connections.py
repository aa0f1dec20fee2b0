"""Slow and numerous clients over real sockets: uvicorn as ``plugbay serve`` runs it.

Every wait here is for a state (the server closed the socket, a count came down), with a
generous upper bound; nothing asserts how long anything took.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.responses import PlainTextResponse

from plugbay import Context
from plugbay.hosting.connections import open_connections
from plugbay.startup import bind_socket
from plugbay.transports import http_app, uvicorn_options

WAIT_LIMIT = 30.0
"""The most any wait for a state may take before the test fails."""
LIMITS = "[server]\nheader_timeout = 0.5\nbody_timeout = 0.5\nmax_connections = 40\n"
ROOMY = "[server]\nheader_timeout = 3\nbody_timeout = 3\n"
"""Deadlines long enough for a test's first bytes to arrive before them on a busy machine."""


async def whoami(ctx: Context) -> str:
    """Who is calling."""
    return ctx.principal.name


@contextmanager
def serving(
    build: Any, bundle: Any, toml: str, wrappers: Any = (), sock: socket.socket | None = None
) -> Iterator[int]:
    """The assembly served by uvicorn with plugbay's options, on a free loopback port.

    With ``sock``, uvicorn serves on that bound socket (as ``plugbay serve`` has it do);
    else it binds one itself.
    """
    assembly = build(bundle(tools=[whoami], wrappers=wrappers), toml=toml)
    options = {**uvicorn_options(assembly), "log_level": "warning"}
    server = uvicorn.Server(
        uvicorn.Config(http_app(assembly, stateless=True), host="127.0.0.1", port=0, **options)
    )
    sockets = [sock] if sock is not None else None
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_LIMIT
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(WAIT_LIMIT)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=WAIT_LIMIT)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails at WAIT_LIMIT).

    A server that closes a connection the client is still writing to resets it (RST):
    that is a close too, and what arrived before it is kept.
    """
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while not predicate():
        assert time.monotonic() < deadline, f"still waiting: {what}"
        time.sleep(0.02)


def healthz(port: int) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=WAIT_LIMIT).status_code


def served_end(client: socket.socket) -> socket.socket:
    """The server's end of ``client``'s connection: the server runs in this process.

    Found among this process's open descriptors as the socket whose peer is ``client``;
    the one returned is a duplicate, to close, sharing the server's socket options.
    """
    wanted = client.getsockname()
    for name in os.listdir("/dev/fd"):
        try:
            duplicate = os.dup(int(name))
        except OSError:
            continue  # the listing's own descriptor, closed by now
        try:
            candidate = socket.socket(fileno=duplicate)
        except OSError:
            os.close(duplicate)  # not a socket
            continue
        with suppress(OSError):  # a listening or an unconnected socket has no peer
            if candidate.getpeername() == wanted:
                return candidate
        candidate.close()
    raise AssertionError(f"no socket in this process is connected to {wanted}")


def nodelay(sock: socket.socket) -> bool:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.skipif(not os.path.isdir("/dev/fd"), reason="needs /dev/fd to list descriptors")
@pytest.mark.parametrize("binder", ["plugbay serve", "uvicorn"])
def test_served_connections_send_without_waiting_for_acks(build, bundle, binder: str) -> None:
    # plugbay serve binds its socket with protocol 0, where asyncio leaves Nagle on; a
    # response written in pieces then waited for the client's delayed ACK at every request.
    sock = bind_socket("127.0.0.1", 0) if binder == "plugbay serve" else None
    with serving(build, bundle, ROOMY, sock=sock) as port, closing(connect(port)) as client:
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while not answer.endswith(b'{"status": "ok"}'):
            answer += client.recv(4096)  # served: the server has accepted the connection
        with closing(served_end(client)) as server_end:
            assert nodelay(server_end)
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_headers_sent_a_byte_at_a_time_get_408_and_the_connection_closes(build, bundle) -> None:
    with serving(build, bundle, LIMITS) as port:
        slow = [connect(port) for _ in range(20)]
        stop = threading.Event()

        def trickle() -> None:
            # Keep every connection busy the way a slow-loris client does.
            head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 10_000
            for index in range(len(head)):
                for sock in slow:
                    with suppress(OSError):
                        sock.send(head[index : index + 1])
                if stop.wait(0.05):
                    return

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        try:
            # A normal client is served while they trickle.
            assert healthz(port) == 200
            answers = [read_until_closed(sock) for sock in slow]
        finally:
            stop.set()
            sender.join(WAIT_LIMIT)
            for sock in slow:
                sock.close()
        for answer in answers:
            # Closed either way; with part of a request in, the server says why first.
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
        wait_for(lambda: open_connections() == 0, "the slow connections to be forgotten")
        assert healthz(port) == 200


def test_silent_connections_are_closed(build, bundle) -> None:
    with serving(build, bundle, LIMITS) as port:
        silent = [connect(port) for _ in range(10)]
        for sock in silent:
            with closing(sock):
                assert read_until_closed(sock) == b""
        assert healthz(port) == 200


def test_headers_that_stop_coming_between_requests_get_408(build, bundle) -> None:
    with serving(build, bundle, ROOMY) as port:
        partial = connect(port)
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0")
        kept_alive = connect(port)
        kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while not first.endswith(b'{"status": "ok"}'):
            first += kept_alive.recv(4096)
        # The next request starts but never finishes its headers.
        kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0")
        with closing(kept_alive), closing(partial):
            rest = read_until_closed(kept_alive)
            at_once = read_until_closed(partial)
    assert first.startswith(b"HTTP/1.1 200 ")
    assert rest.startswith(b"HTTP/1.1 408 ")
    assert at_once.startswith(b"HTTP/1.1 408 ")


def test_a_body_that_does_not_arrive_gets_408(build, bundle) -> None:
    head = (
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json, text/event-stream\r\nContent-Length: 400\r\n\r\n"
    )
    with serving(build, bundle, ROOMY) as port, closing(connect(port)) as sock:
        sock.sendall(head + b'{"jsonrpc": "2.0", ')
        answer = read_until_closed(sock)
        assert healthz(port) == 200
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"request_timeout" in answer


def test_connections_over_the_cap_are_refused_as_they_arrive(build, bundle) -> None:
    toml = "[server]\nheader_timeout = 60\nmax_connections = 5\n"
    with serving(build, bundle, toml) as port:
        held = [connect(port) for _ in range(5)]
        wait_for(lambda: open_connections() == 5, "the five connections to be counted")
        with closing(connect(port)) as extra:
            refused = read_until_closed(extra)
        for sock in held:
            sock.close()
        wait_for(lambda: open_connections() == 0, "the held connections to close")
        assert healthz(port) == 200
    assert refused.startswith(b"HTTP/1.1 503 ")


@pytest.mark.parametrize(
    ("toml", "status"),
    [("", 403), ('[server]\ntrusted_proxies = ["127.0.0.1"]\n', 200)],
)
def test_a_forged_forwarded_for_from_loopback_does_not_pass_an_allow_list(
    build, bundle, toml: str, status: int
) -> None:
    # uvicorn on its own trusts X-Forwarded-For from 127.0.0.1; plugbay only from its list.
    def only_from_ten(app: Any) -> Any:
        async def checked(scope: Any, receive: Any, send: Any) -> None:
            if not scope["client"][0].startswith("10."):
                await PlainTextResponse("not from there", status_code=403)(scope, receive, send)
                return
            await app(scope, receive, send)

        return checked

    with serving(build, bundle, toml, wrappers=[only_from_ten]) as port:
        answer = httpx.post(
            f"http://127.0.0.1:{port}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={
                "accept": "application/json, text/event-stream",
                "x-forwarded-for": "10.1.2.3",
            },
            timeout=WAIT_LIMIT,
        )
    assert answer.status_code == status
