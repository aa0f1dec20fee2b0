"""Local fakes of SaaS backends, served over real HTTP on 127.0.0.1, for connector tests.

A fake is an ASGI application written from the vendor's documented API: the same
paths, bodies, headers, status codes and limits, with state kept in memory. Tests
point a connector's ``base_url`` at it, so the whole HTTP stack (pooling, retries,
rate limiting, error mapping) runs as it does against the real service.

:class:`LocalServer` serves any ASGI application in a background thread, which
works the same from sync and async tests and across event loops. Each fake module
also exports pytest fixtures; import them in your ``conftest.py``::

    from plugbay_testing.fakes import copper_fake, copper_fake_server  # noqa: F401

    async def test_finds_people(copper_fake, plugbay_server):
        copper_fake.add_person(name="Ada Lovelace")
        async with plugbay_server(CopperConnector, settings=copper_fake.settings()) as h:
            ...

To fake another backend, follow the pattern of :mod:`plugbay_testing.fakes.copper`:
a class holding the state with an ``app`` property, a session-scoped fixture that
serves one instance with :class:`LocalServer`, and a function-scoped fixture that
resets it for each test.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Literal

import uvicorn

from plugbay_testing.fakes.copper import (
    CopperFake,
    RecordedRequest,
    copper_fake,
    copper_fake_server,
)
from plugbay_testing.fakes.faults import Fault, FaultProxy, ProxiedRequest
from plugbay_testing.fakes.odoo import OdooFake, odoo_fake, odoo_fake_server
from plugbay_testing.fakes.otlp import OtlpCollector

__all__ = [
    "CopperFake",
    "Fault",
    "FaultProxy",
    "LocalServer",
    "OdooFake",
    "OtlpCollector",
    "ProxiedRequest",
    "RecordedRequest",
    "copper_fake",
    "copper_fake_server",
    "free_port",
    "odoo_fake",
    "odoo_fake_server",
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
