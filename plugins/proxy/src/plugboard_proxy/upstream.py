"""One upstream MCP server: a supervised client connection that comes back after outages.

A background task owns the ``mcp.Client``: it connects, lists what the upstream
offers, then watches the connection (end of the stdio stream, a transport failure, a
failed health probe, a call that finds the connection closed). When the connection
is lost it waits (exponential backoff with jitter) and connects again; meanwhile
calls fail at once with a message that names the upstream and says when the next
attempt is. The listing is kept across outages, so clients keep seeing the tools.

The backoff is a few lines of arithmetic rather than ``tenacity`` or ``stamina``:
those retry one function call, while this loop keeps a connection open for hours
between attempts, restarts its count after a stable connection, and must show the
next attempt's time in ``plugboard plugins`` and ``/readyz``.

The task is an asyncio task: plugboard serves on asyncio (uvicorn, ``anyio.run``),
and a connection that outlives ``start()`` cannot live in a task group that
``start()`` would have to leave open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any, Literal, TypeVar, cast

import anyio
import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import TypeAdapter, ValidationError

from plugboard import Context, ToolError
from plugboard.redaction import redact_text
from plugboard_proxy.fastpath import (
    FastPathUnsupported,
    HttpTarget,
    HttpToolCaller,
    UpstreamGone,
    tool_needs_sdk,
)
from plugboard_proxy.settings import ProxySettings

logger = logging.getLogger(__name__)

Phase = Literal["connecting", "ready", "down", "stopped"]
STABLE_AFTER = 10.0
"""Seconds a connection must last before the backoff starts again from the beginning."""
CLOSE_TIMEOUT = 5.0
"""Seconds to wind a lost connection down (stop the process, end the HTTP session)."""
MAX_PAGES = 100
"""The most pages of one list the proxy reads; a longer listing is cut off and logged."""
RELIST_DELAY = 0.05
"""Seconds to gather list-changed notifications that arrive together into one relisting."""

_CALL_RESULT: TypeAdapter[types.CallToolResult | types.InputRequiredResult] = TypeAdapter(
    types.CallToolResult | types.InputRequiredResult
)
_PYTHON_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL,
    "emergency": logging.CRITICAL,
}

try:
    _VERSION = version("plugboard-proxy")
except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
    _VERSION = "0.0.0"

T = TypeVar("T")


class UpstreamUnavailable(ToolError):
    """The upstream cannot take calls now; the message names it and says what happens next."""


def backoff_delay(
    attempt: int, *, initial: float, maximum: float, rng: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before reconnection attempt ``attempt`` (0 for the first).

    Exponential (``initial * 2**attempt``, capped at ``maximum``) with "equal jitter":
    a random point in the upper half of that range, so that many plugboards losing
    one upstream together do not return in step, while the wait still grows.
    """
    ceiling = min(maximum, initial * 2.0 ** min(attempt, 30))
    return ceiling / 2 + rng() * ceiling / 2


@dataclass(frozen=True, slots=True)
class Listing:
    """What the upstream offered the last time the proxy looked."""

    tools: tuple[types.Tool, ...] = ()
    resources: tuple[types.Resource, ...] = ()
    templates: tuple[types.ResourceTemplate, ...] = ()
    prompts: tuple[types.Prompt, ...] = ()
    completions: bool = False


def describe_error(error: BaseException) -> str:
    """A one-line reason from an exception, unwrapping exception groups.

    It reaches clients (tool results, ``/readyz``) as well as the log, and HTTP errors
    quote the URL, so credentials in it are taken out (:func:`plugboard.redaction.redact_text`).
    """
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, MCPError):
        return redact_text(f"{error.error.message} (MCP error {error.error.code})")
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    name = type(error).__name__
    return redact_text(f"{name}: {text}") if text else name


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


class Upstream:
    """A supervised connection to one upstream MCP server.

    Args:
        name: The proxy instance's name, used in every message.
        settings: How to reach the upstream.
        on_listing: Called (in the supervising task) whenever the listing changes,
            including after each reconnection.
    """

    def __init__(
        self,
        name: str,
        settings: ProxySettings,
        on_listing: Callable[[Listing], Awaitable[None]],
    ) -> None:
        self.name = name
        self.settings = settings
        self.listing = Listing()
        self.phase: Phase = "connecting"
        self.reason: str | None = None
        self.retry_at: float | None = None
        self.failures = 0
        self.protocol_version: str | None = None
        self.server_info: types.Implementation | None = None
        self._on_listing = on_listing
        self._client: Client | None = None
        self._capabilities = types.ServerCapabilities()
        self._lost: anyio.Event | None = None
        self._loss_reason: str | None = None
        self._http_refusal: str | None = None
        self._session_id: str | None = None
        self._fast: HttpToolCaller | None = None
        self._sdk_tools: set[str] = set()
        self._relist: tuple[Any, Any] | None = None
        self._first_attempt = anyio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[Context] = set()
        self._log = logging.getLogger(f"plugboard_proxy.upstream.{name}")

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Start supervising; wait up to ``start_wait`` seconds for the first attempt."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("plugboard-proxy runs on an asyncio event loop") from None
        self._task = loop.create_task(self._supervise(), name=f"plugboard-proxy:{self.name}")
        with anyio.move_on_after(self.settings.start_wait):
            await self._first_attempt.wait()

    async def stop(self) -> None:
        """Close the connection (stopping a stdio upstream's process) and stop supervising."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with anyio.move_on_after(CLOSE_TIMEOUT + 1):
                await asyncio.wait({task})
        self.phase = "stopped"
        self.retry_at = None

    def state(self) -> dict[str, Any]:
        """The connection's state for operators, JSON-ready and free of secrets."""
        document: dict[str, Any] = {
            "upstream": self.phase,
            "target": self.settings.target,
            "transport": "stdio" if self.settings.command is not None else "http",
        }
        if self.reason is not None and self.phase != "ready":
            document["reason"] = self.reason
        if self.retry_at is not None and self.phase == "down":
            document["retry_in"] = round(max(self.retry_at - time.monotonic(), 0.0), 1)
        if self.failures and self.phase != "ready":
            document["failed_attempts"] = self.failures
        if self.protocol_version is not None:
            document["protocol"] = self.protocol_version
        if self.server_info is not None:
            document["server"] = f"{self.server_info.name} {self.server_info.version}"
        listing = self.listing
        document["components"] = {
            "tools": len(listing.tools),
            "resources": len(listing.resources),
            "resource_templates": len(listing.templates),
            "prompts": len(listing.prompts),
        }
        return document

    def unavailable(self) -> str:
        """Why calls cannot be served now, naming the upstream (``""`` when they can)."""
        if self.phase == "ready" and self._client is not None:
            return ""
        where = f"upstream {self.name!r} ({self.settings.target})"
        if self.phase == "connecting":
            if self.reason is not None:  # a reconnection, after this
                return f"{where} is unavailable: {self.reason}; plugboard is reconnecting now"
            return f"{where} is connecting; try again in a moment"
        if self.phase == "stopped":
            return f"{where} is stopped"
        reason = self.reason or "not connected"
        if self.retry_at is None:
            return f"{where} is unavailable: {reason}; plugboard is reconnecting"
        wait = max(self.retry_at - time.monotonic(), 0.0)
        return f"{where} is unavailable: {reason}; plugboard reconnects in {wait:.1f} s"

    # -- supervision ---------------------------------------------------------------

    async def _supervise(self) -> None:
        while True:
            self._begin_attempt()
            started = time.monotonic()
            try:
                await self._connection()
                reason = "the connection closed"
            except Exception as error:
                reason = describe_error(error)
                if self._http_refusal is not None:
                    reason = f"{reason}; the upstream answered {self._http_refusal}"
            finally:
                self._client = None
                self._lost = None
                self._relist = None
                self._first_attempt.set()
                await self._close_fast_caller()
            reason = self._loss_reason or reason
            if self._loss_reason is not None and time.monotonic() - started >= STABLE_AFTER:
                self.failures = 0  # it was up for a while: start the backoff over
            delay = backoff_delay(
                self.failures,
                initial=self.settings.reconnect_initial,
                maximum=self.settings.reconnect_max,
            )
            self.failures += 1
            self.phase = "down"
            self.reason = reason
            self.retry_at = time.monotonic() + delay
            logger.warning(
                "upstream %s (%s) is down: %s; reconnecting in %.1f s",
                self.name,
                self.settings.target,
                reason,
                delay,
            )
            await anyio.sleep(delay)

    def _begin_attempt(self) -> None:
        self.phase = "connecting"
        self.retry_at = None
        self._loss_reason = None
        self._http_refusal = None
        self._session_id = None

    async def _connection(self) -> None:
        """Connect, list, serve until the connection is lost; raise why it ended."""
        lost = anyio.Event()
        client = Client(
            cast(Any, self._transport(lost)),
            mode=self.settings.protocol,
            logging_callback=self._on_log,
            log_level=self.settings.log_level,
            message_handler=self._on_message,
            client_info=types.Implementation(name="plugboard-proxy", version=_VERSION),
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
                group.start_soon(self._pinger, client, lost, modern)
            capabilities = self._capabilities
            if modern and any(
                getattr(capability, "list_changed", False)
                for capability in (capabilities.tools, capabilities.resources, capabilities.prompts)
            ):
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
            client_info={"name": "plugboard-proxy", "version": _VERSION},
            log_level=settings.log_level,
            connect_timeout=settings.connect_timeout,
        )

    async def _close_fast_caller(self) -> None:
        fast, self._fast = self._fast, None
        if fast is not None:
            await fast.aclose()

    def _connection_lost(self, reason: str) -> None:
        """Give up on the current connection: calls fail at once, the supervisor reconnects."""
        lost = self._lost
        if lost is None or lost.is_set():
            return
        self._loss_reason = reason
        self._client = None
        self.phase = "down"
        self.reason = reason
        lost.set()

    async def _pinger(self, client: Client, lost: anyio.Event, modern: bool) -> None:
        session = client.session
        while True:
            await anyio.sleep(self.settings.ping_interval)
            try:
                with anyio.fail_after(self.settings.connect_timeout):
                    if modern:
                        await session.send_discover(client.protocol_version)
                    else:
                        await session.send_ping()
            except Exception as error:
                self._connection_lost(f"failed a health probe: {describe_error(error)}")
                return

    async def _listener(self, client: Client, lost: anyio.Event) -> None:
        """Hear 2026-07-28 list changes on a ``subscriptions/listen`` stream."""
        capabilities = self._capabilities
        try:
            async with client.listen(
                tools_list_changed=bool(capabilities.tools and capabilities.tools.list_changed),
                resources_list_changed=bool(
                    capabilities.resources and capabilities.resources.list_changed
                ),
                prompts_list_changed=bool(
                    capabilities.prompts and capabilities.prompts.list_changed
                ),
            ) as subscription:
                async for _event in subscription:
                    self._request_relisting()
        except Exception as error:
            # The stream ends with the connection; an upstream that cannot listen at all
            # is not lost, its lists just will not refresh by themselves.
            logger.info("upstream %s: list-change stream ended: %s", self.name, error)

    def _request_relisting(self) -> None:
        if self._relist is None:
            return
        # WouldBlock: a relisting is already pending; the others: the connection is going.
        with contextlib.suppress(
            anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError
        ):
            self._relist[0].send_nowait(None)

    async def _relister(self, client: Client, receive: Any, lost: anyio.Event) -> None:
        async for _ in receive:
            await anyio.sleep(RELIST_DELAY)
            try:
                with anyio.fail_after(self.settings.connect_timeout):
                    listing = await self._list(client)
            except MCPError as error:
                logger.warning("upstream %s: relisting failed: %s", self.name, error)
                continue
            except Exception as error:
                self._connection_lost(f"could not list its components: {describe_error(error)}")
                return
            if listing != self.listing:
                self.listing = listing
                await self._on_listing(listing)

    async def _server_capabilities(self, client: Client) -> types.ServerCapabilities:
        """What the upstream can do; asked for when the era was pinned without a probe."""
        if self.settings.protocol not in MODERN_PROTOCOL_VERSIONS:
            return client.server_capabilities
        # A pinned modern client adopts a synthesized, empty discovery result.
        raw = await client.session.send_discover(client.protocol_version)
        return types.DiscoverResult.model_validate(raw).capabilities

    async def _list(self, client: Client) -> Listing:
        capabilities = self._capabilities
        session = client.session
        tools: list[types.Tool] = []
        resources: list[types.Resource] = []
        templates: list[types.ResourceTemplate] = []
        prompts: list[types.Prompt] = []
        if capabilities.tools is not None:
            tools = await self._pages(
                lambda cursor: session.list_tools(
                    params=types.PaginatedRequestParams(cursor=cursor)
                ),
                lambda page: page.tools,
            )
        if capabilities.resources is not None:
            resources = await self._pages(
                lambda cursor: session.list_resources(
                    params=types.PaginatedRequestParams(cursor=cursor)
                ),
                lambda page: page.resources,
            )
            templates = await self._pages(
                lambda cursor: session.list_resource_templates(
                    params=types.PaginatedRequestParams(cursor=cursor)
                ),
                lambda page: page.resource_templates,
            )
        if capabilities.prompts is not None:
            prompts = await self._pages(
                lambda cursor: session.list_prompts(
                    params=types.PaginatedRequestParams(cursor=cursor)
                ),
                lambda page: page.prompts,
            )
        return Listing(
            tools=tuple(tools),
            resources=tuple(resources),
            templates=tuple(templates),
            prompts=tuple(prompts),
            completions=capabilities.completions is not None,
        )

    async def _pages(
        self, fetch: Callable[[str | None], Awaitable[Any]], items: Callable[[Any], list[T]]
    ) -> list[T]:
        found: list[T] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await fetch(cursor)
            found.extend(items(page))
            cursor = page.next_cursor
            if cursor is None:
                return found
        logger.warning(
            "upstream %s lists more than %d pages; the rest is left out", self.name, MAX_PAGES
        )
        return found

    # -- notifications from the upstream -------------------------------------------

    async def _on_message(self, message: Any) -> None:
        if isinstance(
            message,
            types.ToolListChangedNotification
            | types.ResourceListChangedNotification
            | types.PromptListChangedNotification,
        ):
            self._request_relisting()
        elif isinstance(message, Exception):
            logger.warning("upstream %s: transport error: %s", self.name, describe_error(message))

    async def _on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        await self._deliver_log(params, list(self._in_flight))

    async def _deliver_log(
        self, params: types.LoggingMessageNotificationParams, callers: list[Context]
    ) -> None:
        """Write an upstream log message to plugboard's log, and pass it on to ``callers``."""
        self._log.log(
            _PYTHON_LEVELS.get(params.level, logging.INFO),
            "%s%s",
            f"[{params.logger}] " if params.logger else "",
            params.data,
        )
        if not self.settings.forward_logs:
            return
        for context in callers:
            try:
                await context.log(params.level, params.data, logger=params.logger or self.name)
            except Exception:
                logger.debug("could not forward a log message of %s", self.name, exc_info=True)

    # -- requests ------------------------------------------------------------------

    def _ready_client(self) -> Client:
        client = self._client
        if client is None or self.phase != "ready":
            raise UpstreamUnavailable(self.unavailable())
        return client

    async def _request(self, request: Any, result_type: Any, context: Context | None) -> Any:
        """Send one request upstream, translating connection failures."""
        client = self._ready_client()
        progress = context.report_progress if context is not None else None
        if context is not None:
            self._in_flight.add(context)
        try:
            return await client.session.send_request(
                request, result_type, progress_callback=progress
            )
        except MCPError as error:
            if error.error.code == types.CONNECTION_CLOSED:
                self._connection_lost("the connection closed")
                raise UpstreamUnavailable(
                    f"upstream {self.name!r} ({self.settings.target}) closed the connection "
                    "during the request; plugboard is reconnecting, try again shortly"
                ) from None
            raise
        except ValidationError:
            raise UpstreamUnavailable(
                f"upstream {self.name!r} answered with a result that is not valid MCP"
            ) from None
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as error:
            self._connection_lost(describe_error(error))
            raise UpstreamUnavailable(
                f"upstream {self.name!r} ({self.settings.target}) could not be reached: "
                f"{describe_error(error)}; plugboard is reconnecting"
            ) from None
        finally:
            if context is not None:
                self._in_flight.discard(context)

    async def call_tool(
        self, name: str, arguments: Mapping[str, Any], context: Context
    ) -> types.CallToolResult:
        """Call an upstream tool; its progress and log messages go to ``context``.

        Raises:
            UpstreamUnavailable: The upstream is down or went away during the call.
            MCPError: The upstream answered with a JSON-RPC error.
        """
        fast = self._fast
        if fast is not None and self.phase == "ready" and name not in self._sdk_tools:
            try:
                return await self._fast_call(fast, name, arguments, context)
            except FastPathUnsupported as error:
                logger.warning(
                    "upstream %s: %s; its tool calls go through the MCP SDK from now on",
                    self.name,
                    error,
                )
                self._fast = None
        request = types.CallToolRequest(
            params=types.CallToolRequestParams(name=name, arguments=dict(arguments))
        )
        result = await self._request(request, _CALL_RESULT, context)
        return self._tool_result(result)

    def _tool_result(self, result: Any) -> types.CallToolResult:
        if isinstance(result, types.InputRequiredResult):
            raise ToolError(
                f"upstream {self.name!r} asked for input from the user (elicitation or "
                "sampling) during the call, which plugboard does not relay"
            )
        return cast(types.CallToolResult, result)

    async def _fast_call(
        self,
        fast: HttpToolCaller,
        name: str,
        arguments: Mapping[str, Any],
        context: Context,
    ) -> types.CallToolResult:
        request_id = fast.request_id()

        async def on_notification(method: str, params: Mapping[str, Any]) -> None:
            # What the upstream sends on this call's own stream belongs to this call.
            if method == "notifications/progress":
                if params.get("progressToken") == request_id:
                    await context.report_progress(
                        params.get("progress", 0), params.get("total"), params.get("message")
                    )
            elif method == "notifications/message":
                try:
                    log = types.LoggingMessageNotificationParams.model_validate(params)
                except ValidationError:
                    return
                await self._deliver_log(log, [context])
            elif method.endswith("/list_changed"):
                self._request_relisting()

        try:
            raw = await fast.call_tool(request_id, name, arguments, on_notification)
        except UpstreamGone as error:
            reason = redact_text(str(error))
            self._connection_lost(reason)
            raise UpstreamUnavailable(
                f"upstream {self.name!r} ({self.settings.target}) could not be reached: "
                f"{reason}; plugboard is reconnecting"
            ) from None
        except anyio.get_cancelled_exc_class():
            if not fast.modern:
                await self._cancel_upstream(request_id)
            raise
        try:
            result = _CALL_RESULT.validate_python(raw, by_name=False)
        except ValidationError:
            raise UpstreamUnavailable(
                f"upstream {self.name!r} answered with a result that is not valid MCP"
            ) from None
        return self._tool_result(result)

    async def _cancel_upstream(self, request_id: str) -> None:
        """Tell a handshake-era upstream that a fast-path call was abandoned."""
        client = self._client
        if client is None:
            return
        notification = types.CancelledNotification(
            params=types.CancelledNotificationParams(
                request_id=request_id, reason="the caller cancelled"
            )
        )
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_TIMEOUT):
            try:
                await client.session.send_notification(notification)
            except Exception:
                logger.debug("could not send a cancellation to %s", self.name, exc_info=True)

    async def read_resource(self, uri: str, context: Context) -> types.ReadResourceResult:
        """Read an upstream resource."""
        request = types.ReadResourceRequest(params=types.ReadResourceRequestParams(uri=uri))
        result: types.ReadResourceResult = await self._request(
            request, types.ReadResourceResult, context
        )
        return result

    async def get_prompt(
        self, name: str, arguments: Mapping[str, str], context: Context
    ) -> types.GetPromptResult:
        """Render an upstream prompt."""
        request = types.GetPromptRequest(
            params=types.GetPromptRequestParams(name=name, arguments=dict(arguments) or None)
        )
        result: types.GetPromptResult = await self._request(request, types.GetPromptResult, context)
        return result

    async def complete(
        self,
        ref: types.PromptReference | types.ResourceTemplateReference,
        argument: str,
        value: str,
        other_arguments: Mapping[str, str],
    ) -> list[str]:
        """Ask the upstream to complete an argument; nothing when it cannot."""
        if not self.listing.completions or self.unavailable():
            return []
        request = types.CompleteRequest(
            params=types.CompleteRequestParams(
                ref=ref,
                argument=types.CompletionArgument(name=argument, value=value),
                context=types.CompletionContext(arguments=dict(other_arguments))
                if other_arguments
                else None,
            )
        )
        with anyio.fail_after(self.settings.connect_timeout):
            result: types.CompleteResult = await self._request(request, types.CompleteResult, None)
        return list(result.completion.values)
