"""One connection to an upstream: open it, list what it offers, and watch it until it is lost.

A connection ends when the stdio stream ends, the transport fails, a health probe
fails or a call finds it closed; :meth:`UpstreamConnection._connection` then returns
(or raises why) and the supervisor in :mod:`plugbay_proxy.upstream` reconnects.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any, TypeVar, cast

import anyio
import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from plugbay_proxy.fastpath import HttpTarget, HttpToolCaller, tool_needs_sdk
from plugbay_proxy.forwarding import RequestForwarding
from plugbay_proxy.state import CLOSE_TIMEOUT

# The logger the upstream has always used, so that operators' logging settings still apply.
logger = logging.getLogger("plugbay_proxy.upstream")

try:
    _VERSION = version("plugbay-proxy")
except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
    _VERSION = "0.0.0"

T = TypeVar("T")


class _EndOfStreamWatch:
    """A transport's read stream that reports its end (the stdio process exited, say)."""

    def __init__(self, inner: Any, on_end: Callable[[], None]) -> None:
        self._inner = inner
        self._on_end = on_end

    async def receive(self) -> Any:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._on_end()
            raise

    def __aiter__(self) -> _EndOfStreamWatch:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _EndOfStreamWatch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        await self._inner.aclose()
        return None

    def __getattr__(self, name: str) -> Any:
        # ``last_context`` and whatever else the SDK's dispatcher duck-types on.
        return getattr(self._inner, name)


def _quietly(make: Callable[[], Awaitable[T]]) -> Awaitable[T]:
    """Make a coroutine of a method MCP deprecates for 2026-07-28 but the legacy era uses."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        return make()


class UpstreamConnection(RequestForwarding):
    """Opens, serves and watches one connection at a time."""

    async def _connection(self) -> None:
        """Connect, list, serve until the connection is lost; raise why it ended."""
        lost = anyio.Event()
        client = Client(
            cast(Any, self._transport(lost)),
            mode=self.settings.protocol,
            logging_callback=self._on_log,
            # An upstream's questions go to the caller whose call asked (asking.py).
            sampling_callback=self._on_sampling,
            elicitation_callback=self._on_elicitation,
            list_roots_callback=self._on_list_roots,
            log_level=self.settings.log_level,
            message_handler=self._on_message,
            client_info=types.Implementation(name="plugbay-proxy", version=_VERSION),
            cache=None,
        )
        # One scope with a deadline for the handshake and the first listing, lifted
        # once they are done: a scope around the client's entry alone would have to
        # close while the client's task group stays open, which anyio forbids.
        connected = False
        with anyio.CancelScope(
            deadline=anyio.current_time() + self.settings.connect_timeout
        ) as deadline:
            async with client:
                self.protocol_version = client.protocol_version
                self.server_info = client.server_info
                modern = client.protocol_version in MODERN_PROTOCOL_VERSIONS
                self._capabilities = await self._server_capabilities(client)
                if not modern and self._capabilities.logging is not None:
                    session = client.session
                    level = self.settings.log_level
                    await _quietly(lambda: session.set_logging_level(level))
                listing = await self._list(client)
                deadline.deadline = math.inf
                connected = True
                self.listing = listing
                self._fast = self._fast_caller(client)
                self._client = client
                self._lost = lost
                self.phase = "ready"
                self.reason = None
                logger.info(
                    "upstream %s (%s) is ready: %s, %d tools",
                    self.name,
                    self.settings.target,
                    client.protocol_version,
                    len(listing.tools),
                )
                await self._on_listing(listing)
                self._first_attempt.set()
                await self._resubscribe(client)
                await self._watch(client, lost, modern=modern)
                self._client = None
                await self._close_fast_caller()
                # Winding down a dead connection must not hang the reconnection.
                deadline.deadline = anyio.current_time() + CLOSE_TIMEOUT
        if deadline.cancelled_caught and not connected:
            raise TimeoutError(
                f"no answer within {self.settings.connect_timeout:g} s (connect_timeout)"
            )

    @asynccontextmanager
    async def _transport(self, lost: anyio.Event) -> AsyncIterator[tuple[Any, Any]]:
        settings = self.settings
        async with AsyncExitStack() as stack:
            if settings.command is not None:
                parameters = StdioServerParameters(
                    command=settings.command,
                    args=list(settings.args),
                    env={key: value.get_secret_value() for key, value in settings.env.items()},
                    cwd=settings.cwd,
                )
                read, write = await stack.enter_async_context(stdio_client(parameters))
            else:
                assert settings.url is not None
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(
                        headers=self._http_headers(),
                        timeout=httpx2.Timeout(
                            settings.connect_timeout, read=MCP_DEFAULT_SSE_READ_TIMEOUT
                        ),
                        event_hooks={"response": [self._observe_response]},
                    )
                )
                read, write = await stack.enter_async_context(
                    streamable_http_client(settings.url, http_client=http)
                )
            yield (
                _EndOfStreamWatch(read, lambda: self._connection_lost("the connection closed")),
                write,
            )

    async def _watch(self, client: Client, lost: anyio.Event, *, modern: bool) -> None:
        send, receive = anyio.create_memory_object_stream[None](1)
        self._relist = (send, receive)
        async with anyio.create_task_group() as group:
            group.start_soon(self._relister, client, receive, lost)
            if self.settings.ping_interval > 0:
                group.start_soon(self._pinger)
            if modern and self.listens():
                group.start_soon(self._listener, client, lost)
            await lost.wait()
            group.cancel_scope.cancel()
        send.close()
        receive.close()

    async def _observe_response(self, response: httpx2.Response) -> None:
        # The SDK reports any HTTP error as "Server returned an error response"; keep the
        # status (401, 403, 502...) so that the state says what the operator must fix.
        if response.status_code >= 400:
            self._http_refusal = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        # The handshake era's session, which the fast path's requests must name too.
        if (session_id := response.headers.get("mcp-session-id")) is not None:
            self._session_id = session_id

    def _http_headers(self) -> dict[str, str]:
        settings = self.settings
        headers = {key: value.get_secret_value() for key, value in settings.headers.items()}
        if settings.bearer_token is not None:
            headers["Authorization"] = f"Bearer {settings.bearer_token.get_secret_value()}"
        return headers

    def _fast_caller(self, client: Client) -> HttpToolCaller | None:
        """The lean path for this connection's tool calls, when it can serve them."""
        settings = self.settings
        if settings.url is None or not settings.fast_calls:
            return None
        target = HttpTarget.parse(settings.url)
        if target is None:
            return None
        modern = client.protocol_version in MODERN_PROTOCOL_VERSIONS
        self._sdk_tools = {tool.name for tool in self.listing.tools if tool_needs_sdk(tool)}
        return HttpToolCaller(
            target,
            self._http_headers(),
            protocol_version=client.protocol_version,
            session_id=None if modern else self._session_id,
            client_info={"name": "plugbay-proxy", "version": _VERSION},
            log_level=settings.log_level,
            connect_timeout=settings.connect_timeout,
        )

    async def _close_fast_caller(self) -> None:
        fast, self._fast = self._fast, None
        if fast is not None:
            await fast.aclose()

    async def _pinger(self) -> None:
        while True:
            await anyio.sleep(self.settings.ping_interval)
            if not await self.probe():
                return
