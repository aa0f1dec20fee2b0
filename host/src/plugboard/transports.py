"""Serving an assembly: stdio for desktop clients, HTTP (streamable and legacy SSE) for the rest."""

from __future__ import annotations

import ipaddress
import json
import logging
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

import anyio
from mcp.server.sse import SseServerTransport
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from plugboard.assembly import Assembly
from plugboard.auth import AuthBackend, AuthenticationFailed, HttpRequestInfo, Principal
from plugboard.server import PRINCIPAL_SCOPE_KEY, PlugboardServer

logger = logging.getLogger(__name__)

SSE_PATH = "/sse"
SSE_MESSAGES_PATH = "/messages/"


async def serve_stdio(assembly: Assembly) -> None:
    """Serve one client over standard input and output until it closes them."""
    server = PlugboardServer(assembly)
    await assembly.start()
    try:
        async with stdio_server() as (read_stream, write_stream):
            await server.sdk.run(
                read_stream, write_stream, server.sdk.create_initialization_options()
            )
    finally:
        await assembly.stop()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def transport_security(assembly: Assembly, host: str) -> TransportSecuritySettings | None:
    """DNS-rebinding protection: on a loopback address only loopback Host headers are served."""
    extra = list(assembly.config.server.allowed_hosts)
    if _is_loopback(host):
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


class AuthenticationMiddleware:
    """Asks the registered auth backends who is calling; refuses the request if none knows.

    With no backend registered every request passes as the local principal: that is
    the single-user default on a loopback address.
    """

    def __init__(self, app: ASGIApp, backends: list[AuthBackend]) -> None:
        self.app = app
        self.backends = backends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate an HTTP request, then pass it on with the principal in its scope."""
        if scope["type"] != "http" or not self.backends:
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope["headers"]
        }
        client = scope.get("client")
        request = HttpRequestInfo(
            method=scope["method"],
            path=scope["path"],
            headers=headers,
            client_host=client[0] if client else None,
        )
        principal: Principal | None = None
        message = "Authentication required"
        try:
            for backend in self.backends:
                principal = await backend.authenticate(request)
                if principal is not None:
                    break
        except AuthenticationFailed as error:
            message = str(error) or "Invalid credentials"
            principal = None
        if principal is None:
            challenges = [c for backend in self.backends if (c := backend.challenge())]
            response = JSONResponse(
                {"error": "unauthorized", "error_description": message},
                status_code=401,
                headers={"WWW-Authenticate": challenges[0]} if challenges else None,
            )
            await response(scope, receive, send)
            return
        scope[PRINCIPAL_SCOPE_KEY] = principal
        await self.app(scope, receive, send)


def http_app(
    assembly: Assembly,
    *,
    host: str = "127.0.0.1",
    stateless: bool | None = None,
    json_response: bool | None = None,
) -> Starlette:
    """The ASGI application: streamable HTTP at ``[server] path``, legacy SSE at ``/sse``.

    Connectors start when the application starts and stop when it stops. ``/healthz``
    answers without authentication.
    """
    settings = assembly.config.server
    server = PlugboardServer(assembly)
    security = transport_security(assembly, host)
    manager = StreamableHTTPSessionManager(
        app=server.sdk,
        json_response=settings.json_response if json_response is None else json_response,
        stateless=settings.stateless if stateless is None else stateless,
        security_settings=security,
        max_request_body_size=settings.max_request_body_bytes,
    )
    backends: list[AuthBackend] = list(assembly.auth_backends)
    streamable = AuthenticationMiddleware(StreamableHTTPASGIApp(manager), backends)
    routes: list[Route | Mount] = [
        Route(settings.path, endpoint=streamable, methods=["GET", "POST", "DELETE"]),
        Route("/healthz", endpoint=_healthz, methods=["GET"]),
    ]
    if settings.legacy_sse:
        sse = SseServerTransport(
            SSE_MESSAGES_PATH,
            security_settings=security,
            max_request_body_size=settings.max_request_body_bytes,
        )

        guard = TransportSecurityMiddleware(security)

        async def handle_sse(scope: Scope, receive: Receive, send: Send) -> None:
            # connect_sse answers a foreign Host or Origin itself but then raises, which
            # logs a traceback and resets the connection: refuse such requests here.
            refusal = await guard.validate_request(Request(scope, receive), is_post=False)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            async with sse.connect_sse(scope, receive, send) as (read_stream, write_stream):
                await server.sdk.run(
                    read_stream, write_stream, server.sdk.create_initialization_options()
                )

        routes.append(
            Route(
                SSE_PATH, endpoint=AuthenticationMiddleware(handle_sse, backends), methods=["GET"]
            )
        )
        routes.append(
            Mount(
                SSE_MESSAGES_PATH, app=AuthenticationMiddleware(sse.handle_post_message, backends)
            )
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await assembly.start()
        try:
            async with manager.run():
                yield
        finally:
            with anyio.CancelScope(shield=True):
                await assembly.stop()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.assembly = assembly
    return app


async def _healthz(request: Request) -> Response:
    return Response(json.dumps({"status": "ok"}), media_type="application/json")


def run_http(assembly: Assembly, *, host: str, port: int, **options: Any) -> None:
    """Serve the HTTP application with uvicorn until interrupted."""
    import uvicorn

    app = http_app(assembly, host=host, **options)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal with the handler
    # that was installed before it started: with the default one the process would die
    # with status 143 after a clean stop, which process managers report as a failure.
    # A handler that only exits turns the re-raised signal into a normal exit (status 0).
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_quietly) if in_main_thread else None
    try:
        uvicorn.run(
            app, host=host, port=port, log_level="info", lifespan="on", timeout_graceful_shutdown=10
        )
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
