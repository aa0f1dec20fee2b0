"""Serving an assembly: stdio for desktop clients, HTTP (streamable and legacy SSE) for the rest."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from types import FrameType
from typing import Any

import anyio
from mcp.server.sse import SseServerTransport
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from plugbay.answers import answering
from plugbay.assembly import Assembly, assemble
from plugbay.auth import AuthBackend
from plugbay.config import CONFIG_ENV, ServerConfig, load_config
from plugbay.errors import ConfigError
from plugbay.hosting.connections import (
    ConnectionGuard,
    ConnectionLimits,
    GuardedHttpProtocol,
    guard_connections,
)
from plugbay.hosting.host_check import HostCheck, HostCheckMiddleware
from plugbay.hosting.http_auth import AuthenticationMiddleware
from plugbay.hosting.readiness import DetailViewers, Readiness
from plugbay.hosting.request_ids import RequestIdGuard
from plugbay.hosting.shutdown import GracefulShutdown
from plugbay.logs import setup_logging_from_env
from plugbay.network import is_loopback
from plugbay.plugins import load_plugins
from plugbay.redaction import keep_secrets_out_of_logs
from plugbay.retrying import retrying
from plugbay.server import PlugbayServer
from plugbay.websocket import websocket_route

logger = logging.getLogger(__name__)

SSE_PATH = "/sse"
SSE_MESSAGES_PATH = "/messages/"
APP_FACTORY = "plugbay.transports:create_app"
HOST_ENV = "PLUGBAY_HOST"
"""For :func:`create_app`: the address served, which decides the Host-header checks."""
STATELESS_ENV = "PLUGBAY_STATELESS"
"""For :func:`create_app`: ``1`` or ``0`` overrides ``[server] stateless``."""
JSON_RESPONSE_ENV = "PLUGBAY_JSON_RESPONSE"
"""For :func:`create_app`: ``1`` or ``0`` overrides ``[server] json_response``."""


Started = Callable[[Assembly], None]
"""Called once the instances have started, before serving (``plugbay serve``'s banner)."""


async def serve_stdio(assembly: Assembly, on_started: Started | None = None) -> None:
    """Serve one client over standard input and output until it closes them."""
    keep_secrets_out_of_logs(assembly)
    server = PlugbayServer(assembly)
    async with assembly.extensions.lifespan():
        await assembly.start()
        try:
            if on_started is not None:
                on_started(assembly)
            async with stdio_server() as streams, retrying(assembly):
                # Unreadable lines and reused request ids get answers (plugbay.answers).
                read_stream, write_stream = answering(*streams)
                await server.sdk.run(
                    read_stream, write_stream, server.sdk.create_initialization_options()
                )
        finally:
            await assembly.stop()


def transport_security(assembly: Assembly, host: str) -> TransportSecuritySettings | None:
    """DNS-rebinding protection: on a loopback address only loopback Host headers are served.

    The settings are checked by :class:`~plugbay.hosting.host_check.HostCheck`, which
    compares exact values (the SDK's own check matches ``127.0.0.1:*`` as a prefix).
    """
    extra = list(assembly.config.server.allowed_hosts)
    if is_loopback(host):
        hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", *extra]
        origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
        )
    if extra:
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=extra, allowed_origins=[]
        )
    return None


def http_app(
    assembly: Assembly,
    *,
    host: str = "127.0.0.1",
    stateless: bool | None = None,
    json_response: bool | None = None,
    on_started: Started | None = None,
) -> Starlette:
    """The ASGI application: streamable HTTP at ``[server] path``, legacy SSE at ``/sse``.

    Connectors start when the application starts (then ``on_started`` is called) and
    stop when it stops. ``/healthz`` answers without authentication.
    """
    keep_secrets_out_of_logs(assembly)
    settings = assembly.config.server
    server = PlugbayServer(assembly)
    security = transport_security(assembly, host)
    # Host and Origin are checked in front of the MCP endpoints (exactly), not by the SDK.
    host_check = HostCheck.from_settings(security) if security is not None else None
    stateless = settings.stateless if stateless is None else stateless
    extensions = assembly.extensions
    # The SDK never uses an event store without sessions: each request is its own
    # stream and no later request could resume it.
    event_store = None if stateless else extensions.event_store
    manager = StreamableHTTPSessionManager(
        app=server.sdk,
        event_store=event_store,
        json_response=settings.json_response if json_response is None else json_response,
        stateless=stateless,
        security_settings=None,
        retry_interval=settings.sse_retry_ms,
        max_request_body_size=settings.max_request_body_bytes,
    )
    backends: list[AuthBackend] = list(assembly.auth_backends)
    readiness = Readiness(
        assembly,
        checks=dict(extensions.readiness_checks),
        viewers=DetailViewers(backends, host_check),
    )

    def guarded(app: ASGIApp) -> ASGIApp:
        # Outermost first: Host/Origin check, the plugins' ASGI wrappers (a client
        # allow-list refuses before any credential is read), then authentication.
        checked: ASGIApp = AuthenticationMiddleware(app, backends)
        for wrapper in reversed(extensions.asgi_wrappers):
            checked = wrapper(checked)
        if host_check is not None:
            return HostCheckMiddleware(checked, host_check)
        # Starlette takes a plain function as a request handler, not an ASGI app.
        return _AsgiEndpoint(checked)

    shutdown = GracefulShutdown(settings.shutdown_grace)
    server.sdk.middleware.append(shutdown.track)
    streamable = guarded(
        RequestIdGuard(StreamableHTTPASGIApp(manager), max_body=settings.max_request_body_bytes)
    )
    routes: list[BaseRoute] = [
        Route(settings.path, endpoint=streamable, methods=["GET", "POST", "DELETE"]),
        Route("/healthz", endpoint=_healthz, methods=["GET"]),
        Route("/readyz", endpoint=readiness.endpoint, methods=["GET"]),
    ]
    for route in extensions.routes:
        endpoint = route.endpoint if route.public else guarded(request_response(route.endpoint))
        routes.append(Route(route.path, endpoint=endpoint, methods=list(route.methods)))
    if settings.legacy_sse:
        sse = SseServerTransport(
            SSE_MESSAGES_PATH,
            security_settings=None,
            max_request_body_size=settings.max_request_body_bytes,
        )

        async def handle_sse(scope: Scope, receive: Receive, send: Send) -> None:
            async with sse.connect_sse(scope, receive, send) as streams:
                # A POST the transport cannot read gets its 400; reused ids are answered here.
                read_stream, write_stream = answering(*streams, unreadable=False)
                await server.sdk.run(
                    read_stream, write_stream, server.sdk.create_initialization_options()
                )

        routes.append(Route(SSE_PATH, endpoint=guarded(handle_sse), methods=["GET"]))
        routes.append(Mount(SSE_MESSAGES_PATH, app=guarded(sse.handle_post_message)))
    if settings.websocket:
        # MCP over WebSocket (subprotocol mcp): the handshake passes the guards as a GET
        # would; the guards themselves let non-HTTP scopes through, so they are not enough.
        routes.append(
            websocket_route(
                server, guard=guarded, max_message_bytes=settings.max_request_body_bytes
            )
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with extensions.lifespan():
            await assembly.start()
            try:
                if on_started is not None:
                    on_started(assembly)
                async with (
                    manager.run(),
                    retrying(assembly),
                    anyio.create_task_group() as background,
                ):
                    background.start_soon(shutdown.hold_streams_until_drained)
                    yield
                    background.cancel_scope.cancel()
            finally:
                with anyio.CancelScope(shield=True):
                    await assembly.stop()

    app = Starlette(routes=routes, lifespan=lifespan, middleware=_connection_middleware(settings))
    app.state.assembly = assembly
    app.state.readiness = readiness
    app.state.shutdown = shutdown
    return app


def _connection_middleware(settings: ServerConfig) -> list[Middleware]:
    """Slow-client guards first (they need the connection's own address), then proxies.

    See :mod:`plugbay.hosting.connections`. ``X-Forwarded-For`` is believed only from
    ``[server] trusted_proxies``; uvicorn's own handling (which trusts 127.0.0.1) is off.
    """
    guard_connections(ConnectionLimits(settings.header_timeout, settings.max_connections))
    layers = [
        Middleware(
            ConnectionGuard,
            body_timeout=settings.body_timeout,
            max_body_bytes=settings.max_request_body_bytes,
        )
    ]
    if settings.trusted_proxies:
        layers.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies))
    return layers


def uvicorn_options(assembly: Assembly) -> dict[str, Any]:
    """The uvicorn settings plugbay serves with, besides the application and address."""
    if os.environ.get("FORWARDED_ALLOW_IPS") and not assembly.config.server.trusted_proxies:
        logger.warning(
            "FORWARDED_ALLOW_IPS is ignored: list the proxies in [server] trusted_proxies"
        )
    return {
        "http": GuardedHttpProtocol,
        "proxy_headers": False,  # applied in the application, from trusted_proxies only
        # uvicorn's lines (the access log too) go through plugbay's handler and format.
        "log_config": None,
        "lifespan": "on",
        "timeout_graceful_shutdown": _shutdown_timeout(assembly),
        # Oversized WebSocket frames are refused before uvicorn buffers them.
        "ws_max_size": assembly.config.server.max_request_body_bytes,
    }


class _AsgiEndpoint:
    """An ASGI app as a route endpoint, whatever shape the plugins' wrappers gave it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def _healthz(request: Request) -> Response:
    return Response(json.dumps({"status": "ok"}), media_type="application/json")


def run_http(
    assembly: Assembly,
    *,
    host: str,
    port: int,
    sock: socket.socket | None = None,
    ssl: Mapping[str, Any] | None = None,
    **options: Any,
) -> None:
    """Serve the HTTP application with uvicorn until interrupted.

    Args:
        assembly: What to serve.
        host: The address served (it decides the Host-header checks).
        port: The port.
        sock: A socket already bound to ``host:port`` (see
            :func:`plugbay.startup.bind_socket`) to serve on; else uvicorn binds.
        ssl: uvicorn's ``ssl_*`` options, to serve HTTPS (see :mod:`plugbay.tls`).
        **options: For :func:`http_app`.
    """
    import uvicorn

    app = http_app(assembly, host=host, **options)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler
    # that was installed before it started: with the default one the process would die
    # with status 143 after a clean stop, which process managers report as a failure.
    # A handler that only exits turns the re-raised signal into a normal exit (status 0).
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_quietly) if in_main_thread else None
    try:
        if sock is None:
            uvicorn.run(app, host=host, port=port, **uvicorn_options(assembly), **(ssl or {}))
        else:
            server = uvicorn.Server(
                uvicorn.Config(
                    app, host=host, port=port, **uvicorn_options(assembly), **(ssl or {})
                )
            )
            with suppress(KeyboardInterrupt):  # Ctrl-C stops it, as uvicorn.run
                server.run(sockets=[sock])
            if not server.started:
                raise SystemExit(3)  # as uvicorn.run does when the application cannot start
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _shutdown_timeout(assembly: Assembly) -> int:
    """How long uvicorn waits for connections at shutdown: the calls' grace, and a margin.

    Calls in flight get ``[server] shutdown_grace`` (see
    :mod:`plugbay.hosting.shutdown`); the margin lets their answers go out.
    """
    return math.ceil(assembly.config.server.shutdown_grace) + 5


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _flag(name: str) -> bool | None:
    value = os.environ.get(name, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


def create_app() -> Starlette:
    """Build the HTTP application from the environment: the factory for worker processes.

    ``plugbay serve --workers N`` has uvicorn call it once in each worker; it can
    also be named to any ASGI server (``uvicorn --factory plugbay.transports:create_app
    --workers 4``). Each worker loads the plugins and configuration itself, the way
    ``plugbay serve`` does: ``PLUGBAY_CONFIG`` (else ``./plugbay.toml``), the
    ``.env`` file and the environment, then :data:`HOST_ENV`, :data:`STATELESS_ENV`
    and :data:`JSON_RESPONSE_ENV` override ``[server]``.
    """
    if not logging.getLogger().handlers:
        # A spawned worker starts with bare logging: it takes the level and format the
        # command line chose (PLUGBAY_LOG_LEVEL, PLUGBAY_LOG_FORMAT).
        setup_logging_from_env()
    try:
        config = load_config()
        assembly = assemble(load_plugins(config.environ), config)
    except ConfigError as error:
        for problem in error.problems:
            logger.error("configuration: %s", problem)
        raise
    for problem in assembly.problems:
        logger.warning("%s", problem)
    return http_app(
        assembly,
        host=os.environ.get(HOST_ENV) or config.server.host,
        stateless=_flag(STATELESS_ENV),
        json_response=_flag(JSON_RESPONSE_ENV),
    )


def run_http_workers(
    assembly: Assembly,
    *,
    host: str,
    port: int,
    workers: int,
    json_response: bool | None = None,
    ssl: Mapping[str, Any] | None = None,
) -> None:
    """Serve with ``workers`` uvicorn processes sharing one socket, until interrupted.

    Sessions live in one process, so several workers serve statelessly. Each worker
    assembles the configuration ``assembly`` was built from (passed on through the
    environment); ``assembly`` itself is not served.
    """
    import uvicorn

    if assembly.config.source is not None:
        os.environ[CONFIG_ENV] = str(assembly.config.source.resolve())
    os.environ[HOST_ENV] = host
    os.environ[STATELESS_ENV] = "1"
    if json_response is not None:
        os.environ[JSON_RESPONSE_ENV] = "1" if json_response else "0"
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(assembly),
        **(ssl or {}),
    )
