"""Generic pieces for faking backends in connector tests, served on 127.0.0.1.

A backend fake is an ASGI application written from the vendor's documented API: the
same paths, bodies, headers, status codes and limits, with state kept in memory. It
lives with its plugin (``plugbay_copper.fake``, ``plugbay_odoo.fake``), so the plugin
can move to its own repository unchanged; this package keeps what every fake and test
needs:

* :class:`LocalServer` serves any ASGI application in a background thread, which works
  the same from sync and async tests and across event loops;
* :func:`free_port`, a port nothing listens on (for "connection refused" tests);
* :class:`FaultProxy`, a TCP front for a fake that lets a request through, then spoils
  its answer (the "unknown outcome" of a write);
* :class:`OtlpCollector`, an OTLP/HTTP endpoint that keeps what it receives.

To fake another backend, follow the pattern of ``plugbay_copper.fake``: a class holding
the state with an ``app`` property, a session-scoped fixture that serves one instance
with :class:`LocalServer`, a function-scoped fixture that resets it for each test, and a
``__main__`` that serves it with uvicorn.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Literal

import uvicorn

from plugbay_testing.fakes.faults import Fault, FaultProxy, ProxiedRequest
from plugbay_testing.fakes.otlp import OtlpCollector

__all__ = [
    "Fault",
    "FaultProxy",
    "LocalServer",
    "OtlpCollector",
    "ProxiedRequest",
    "free_port",
]

START_TIMEOUT = 10.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for "connection refused" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class LocalServer:
    """An ASGI application served by uvicorn on 127.0.0.1, in a background thread.

    ::

        with LocalServer(app) as server:
            httpx.get(f"{server.url}/health")

    Args:
        app: The ASGI application.
        host: The loopback address to bind; the port is chosen by the system.
        lifespan: Run the application's lifespan events ("on") or not ("off").
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        lifespan: Literal["auto", "on", "off"] = "off",
    ) -> None:
        self.app = app
        self.host = host
        self._config = uvicorn.Config(
            app, host=host, port=0, lifespan=lifespan, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``; available once started."""
        if self.port is None:
            raise RuntimeError("the server is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start serving and return :attr:`url`; raises if uvicorn does not come up."""
        self._thread = threading.Thread(
            target=self._server.run, name="plugbay-local-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local server did not start (see the log above)")
            time.sleep(0.01)
        sockets = [sock for server in self._server.servers for sock in server.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the thread to finish."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(START_TIMEOUT)
            self._thread = None

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
