"""An OTLP/HTTP receiver on 127.0.0.1: keeps what exporters post to it, for telemetry tests.

::

    with OtlpCollector() as collector:
        settings = TelemetryConfig(otlp_endpoint=collector.endpoint, ...)
        ...
        (body,) = collector.bodies("/v1/traces")  # protobuf, as the exporter sent it

It answers every POST with ``200`` and an empty protobuf body, as a collector does, and
decodes nothing: parse the bodies with ``opentelemetry-proto`` where a test needs to.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Received = tuple[str, dict[str, str], bytes]
"""One POST: its path, its headers (names in lower case) and its body."""


class OtlpCollector:
    """A collector's OTLP/HTTP endpoint in a background thread, on a free loopback port."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._server = _Server(self.received)
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>``: what ``otlp_endpoint`` should be."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def bodies(self, path: str) -> list[bytes]:
        """The bodies posted to ``path`` (``/v1/traces``, ``/v1/metrics``), in order."""
        return [body for seen, _, body in self.received if seen == path]

    def start(self) -> OtlpCollector:
        """Start serving."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OtlpCollector:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    def __init__(self, received: list[Received]) -> None:
        self.received = received
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.server.received.append((self.path, headers, body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no request lines on the test's output
