"""`FaultProxy`: a TCP front for a local fake that lets a request through, then spoils its answer.

A write whose outcome is unknown is one the backend carried out while the client
never heard so: the backend crashed while answering, a gateway gave up and said
502, the connection was reset, the answer never came or came malformed. An ASGI
fake cannot reset a connection or stay silent on purpose, so this proxy sits in
front of one, on real sockets on 127.0.0.1: every request reaches the fake (a
create really creates), and an armed fault then replaces the fake's answer::

    with FaultProxy(copper_fake.base_url) as proxy:
        proxy.spoil(502, method="POST", path="/developer_api/v1/people")
        ...  # point the connector at proxy.url; the person is created, the answer is a 502

The faults (:data:`Fault`): an HTTP status (answered with a gateway's HTML page),
``"reset"`` (the connection is reset, RST), ``"close"`` (closed without a byte),
``"hang"`` (no answer until the client gives up and disconnects), ``"garbage"``
(the fake's answer cut in half, as a complete 200 message) and ``"truncated"`` (the
fake's headers, then half the body it announces, then the connection closes).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import threading
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import BinaryIO, Literal
from urllib.parse import urlsplit

Fault = int | Literal["reset", "close", "hang", "garbage", "truncated"]
"""What becomes of the answer to a request that matches an armed fault."""

IO_TIMEOUT = 30.0
"""Seconds any one socket operation may take before the proxy drops the connection."""
HANG_LIMIT = 120.0
"""The longest a "hang" waits for the client to give up."""
_HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


@dataclass(slots=True)
class _Armed:
    fault: Fault
    remaining: int
    method: str | None
    path: str | None
    body_contains: bytes | None

    def matches(self, method: str, path: str, body: bytes) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method == method)
            and (self.path is None or self.path == path)
            and (self.body_contains is None or self.body_contains in body)
        )


@dataclass(frozen=True, slots=True)
class ProxiedRequest:
    """One request the proxy passed on, and the fault applied to its answer, if any."""

    method: str
    path: str
    fault: Fault | None


class FaultProxy:
    """An HTTP/1.1 proxy on 127.0.0.1 in front of ``upstream`` that spoils armed answers.

    Args:
        upstream: The server behind it, ``http://127.0.0.1:<port>``.

    Attributes:
        url: ``http://127.0.0.1:<port>`` of the proxy; the path of ``upstream`` is kept
            out of it, so give connectors ``proxy.url`` plus the API's path.
        requests: Every request passed on, in order.
    """

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError("upstream must be http://host:port")
        self._upstream = (parts.hostname, parts.port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[ProxiedRequest] = []
        self._armed: list[_Armed] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    # -- test controls ----------------------------------------------------------------

    def spoil(
        self,
        fault: Fault,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        body_contains: bytes | None = None,
    ) -> None:
        """Pass the next ``times`` matching requests on, then answer them with ``fault``.

        Args:
            fault: What the client gets instead of the upstream's answer.
            times: How many requests to spoil so.
            method: Only requests with this method.
            path: Only requests to this exact path (the query left out).
            body_contains: Only requests whose body contains these bytes (an RPC
                method's name, say).
        """
        with self._lock:
            self._armed.append(
                _Armed(fault, times, method.upper() if method else None, path, body_contains)
            )

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests matching ``method`` and ``path`` were passed on."""
        with self._lock:
            return sum(
                1
                for item in self.requests
                if (method is None or item.method == method.upper())
                and (path is None or item.path == path)
            )

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> str:
        """Start accepting connections; returns :attr:`url`."""
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop accepting, end hanging answers, and close the listening socket."""
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(IO_TIMEOUT)
        upstream = http.client.HTTPConnection(*self._upstream, timeout=IO_TIMEOUT)
        reader = client.makefile("rb")
        try:
            while not self._stop.is_set():
                request = _read_request(reader)
                if request is None:
                    return
                method, target, headers, body = request
                path = urlsplit(target).path
                with self._lock:
                    armed = next(
                        (item for item in self._armed if item.matches(method, path, body)), None
                    )
                    if armed is not None:
                        armed.remaining -= 1
                    fault = armed.fault if armed is not None else None
                    self.requests.append(ProxiedRequest(method, path, fault))
                upstream.request(method, target, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                if fault is None:
                    client.sendall(
                        _message(answer.status, answer.reason, answer.getheaders(), data)
                    )
                    continue
                self._spoil(client, fault, answer, data)
                return
        except (OSError, http.client.HTTPException):
            return
        finally:
            upstream.close()
            with contextlib.suppress(OSError):
                reader.close()
                client.close()

    def _spoil(
        self, client: socket.socket, fault: Fault, answer: http.client.HTTPResponse, data: bytes
    ) -> None:
        if isinstance(fault, int):
            phrase = _phrase(fault)
            page = f"<html><body><h1>{fault} {phrase}</h1></body></html>".encode()
            headers = [("Content-Type", "text/html")]
            client.sendall(_message(fault, phrase, headers, page, close=True))
        elif fault == "reset":
            # SO_LINGER with a zero timeout makes close() send RST, not FIN.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif fault == "hang":
            self._wait_for_hangup(client)
        elif fault == "garbage":
            cut = data[: len(data) // 2]
            client.sendall(_message(200, "OK", answer.getheaders(), cut, close=True))
        elif fault == "truncated":
            head = _message(answer.status, answer.reason, answer.getheaders(), data)
            client.sendall(head[: len(head) - max(len(data) // 2, 1)])
        # "close" and every fault above end with the connection closed by the caller.

    def _wait_for_hangup(self, client: socket.socket) -> None:
        client.settimeout(0.05)
        waited = 0.0
        while not self._stop.is_set() and waited < HANG_LIMIT:
            try:
                if not client.recv(4096):
                    return
            except TimeoutError:
                waited += 0.05
            except OSError:
                return


def _read_request(reader: BinaryIO) -> tuple[str, str, dict[str, str], bytes] | None:
    """The next request on a connection: method, target, headers, body; None at its end.

    Bodies must come with a Content-Length (as httpx sends them); chunked request
    bodies are not understood.
    """
    readline = reader.readline
    line = readline(65537)
    if not line:
        return None
    method, target, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        header = readline(65537).decode("latin-1").rstrip("\r\n")
        if not header:
            break
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
    body = reader.read(length) if length else b""
    forwarded = {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}
    if body:
        forwarded["Content-Length"] = str(len(body))
    return method.upper(), target, forwarded, body


def _message(
    status: int, reason: str, headers: list[tuple[str, str]], body: bytes, *, close: bool = False
) -> bytes:
    """An HTTP/1.1 answer with a Content-Length; ``close`` announces the connection's end."""
    kept = [(name, value) for name, value in headers if name.lower() not in _HOP_HEADERS]
    kept.append(("Content-Length", str(len(body))))
    if close:
        kept.append(("Connection", "close"))
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in kept)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
