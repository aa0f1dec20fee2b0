"""The MCP server: the SDK's low-level ``Server`` serving an :class:`Assembly`.

This is the only module that knows the SDK's request handlers. Each handler is a
lookup in the catalog and a call; lists are paged with opaque cursors.
"""

from __future__ import annotations

import base64
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import mcp_types as types
from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS
from pydantic import ValidationError

from plugbay import __version__
from plugbay.asking import answer_or_question
from plugbay.assembly import Assembly
from plugbay.canonical import readable_values
from plugbay.catalog import Catalog, Owner, PromptEntry, ResourceEntry, ToolEntry
from plugbay.describing import expand_tool_names
from plugbay.errors import (
    ToolError,
    internal_error_text,
    log_unexpected,
    unexpected_failure_text,
)
from plugbay.fail_closed import refuse_if_insecure
from plugbay.messages import PRINCIPAL_SCOPE_KEY, MessageChain, principal_of
from plugbay.middleware import Call, CallKind
from plugbay.notifications import ListChanges, ListChangingServer, ListKind
from plugbay.sessions import Subscribers, set_logging_level, subscribe, unsubscribe

logger = logging.getLogger(__name__)

RESOURCE_NOT_FOUND = -32002
"""The MCP error code for a resource URI that no resource serves."""
MAX_COMPLETIONS = 100

__all__ = ["PRINCIPAL_SCOPE_KEY", "PlugbayServer", "principal_of"]

T = TypeVar("T")


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _page(items: Sequence[T], cursor: str | None, size: int) -> tuple[list[T], str | None]:
    """One page of ``items`` after ``cursor``, and the cursor of the next page."""
    offset = 0
    if cursor:
        try:
            kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
            offset = int(value)
            if kind != "o" or offset < 0:
                raise ValueError(cursor)
        except ValueError:
            raise MCPError(
                INVALID_PARAMS, "Invalid cursor: pass back a nextCursor from a previous page"
            ) from None
    end = offset + size
    return list(items[offset:end]), (_encode_cursor(end) if end < len(items) else None)


async def _run_guarded(entry: ResourceEntry | PromptEntry, call: Call) -> Any:
    """Run a resource or prompt; failures become JSON-RPC errors without internals."""
    try:
        return await entry.handle(call)
    except ToolError as error:
        # {tool:name} names a sibling tool, as for tool errors (see plugbay.describing).
        raise MCPError(
            INVALID_PARAMS, expand_tool_names(str(error), entry.owner.instance)
        ) from None
    except MCPError:
        raise
    except Exception as error:
        reference = log_unexpected(f"{call.kind} {call.name}", error)
        raise MCPError(
            INTERNAL_ERROR, unexpected_failure_text(call.name, error, reference)
        ) from None


async def _hide_internal_errors(
    ctx: ServerRequestContext[Any, Any], call_next: CallNext
) -> HandlerResult:
    """Keep exception text off the wire: the legacy era would send ``str(error)`` as the message."""
    try:
        return await call_next(ctx)
    except (MCPError, ValidationError):
        raise
    except Exception as error:
        reference = log_unexpected(ctx.method, error)
        raise MCPError(
            INTERNAL_ERROR,
            internal_error_text(reference),
        ) from None


def _call(
    ctx: ServerRequestContext[Any, Any],
    kind: CallKind,
    name: str,
    arguments: Mapping[str, Any],
    entry: ToolEntry | ResourceEntry | PromptEntry,
) -> Call:
    """The :class:`Call` that carries one request through the middleware chain."""
    return Call(
        kind=kind,
        name=name,
        arguments=arguments,
        principal=principal_of(ctx),
        instance=entry.owner.instance,
        plugin=entry.owner.plugin,
        annotations=entry.annotations if isinstance(entry, ToolEntry) else {},
        timeout=entry.timeout,
        request=ctx,
    )


def _template_of(entry: ResourceEntry) -> str:
    definition = entry.definition
    assert isinstance(definition, types.ResourceTemplate)
    return definition.uri_template


class PlugbayServer:
    """Builds the SDK server for an assembly; one per process, shared by all sessions."""

    def __init__(self, assembly: Assembly) -> None:
        """Build the server, or refuse to when a security plugin is broken or missing.

        Raises:
            plugbay.fail_closed.SecurityHookFailed: See :mod:`plugbay.fail_closed`.
        """
        refuse_if_insecure(assembly.registry)
        self.assembly = assembly
        self.page_size = assembly.config.server.page_size
        self.list_changes = ListChanges()
        self.subscribers = Subscribers()
        self.sdk = ListChangingServer(
            assembly.config.server.name,
            version=__version__,
            instructions=assembly.config.server.instructions,
            on_list_tools=self.list_tools,
            on_list_resources=self.list_resources,
            on_list_resource_templates=self.list_resource_templates,
            on_read_resource=self.read_resource,
            on_list_prompts=self.list_prompts,
            on_get_prompt=self.get_prompt,
            on_completion=self.complete,
            on_subscriptions_listen=self.listen,
            get_tool_input_schema=self.tool_input_schema,
        )
        # The SDK's own list starts with its OpenTelemetry middleware, which costs about
        # 25 µs per message even when nothing records spans. It is replaced, not
        # filtered, so plugbay names no SDK internals: a telemetry plugin opens its
        # spans in its own message middleware (register_message_middleware).
        layers: list[Any] = [_hide_internal_errors]
        if assembly.message_middleware:
            # Inside the error hiding, so a middleware's unexpected exception is never
            # sent as text; outside the rest, so it sees every message and can refuse it.
            layers.append(MessageChain(assembly.message_middleware))
        layers.append(self.list_changes.track_sessions)
        self.sdk.middleware = layers
        assembly.listeners.append(self._catalog_replaced)
        # Registered directly so the handler may return the result without the SDK's
        # constructor-level typing getting in the way of the fast path.
        self.sdk.add_request_handler("tools/call", types.CallToolRequestParams, self.call_tool)
        # Serving logging/setLevel is what declares the logging capability. Added here,
        # not in the constructor, which warns that 2026-07-28 deprecates logging: the
        # 2025-11-25 era still has it, and 2026-07-28 requests choose their level in _meta.
        self.sdk.add_request_handler(
            "logging/setLevel", types.SetLevelRequestParams, set_logging_level
        )
        self._offer_subscriptions()

    def _offer_subscriptions(self) -> None:
        """Let clients subscribe to resources when a configured connector announces updates."""
        announcing = [
            state.obj
            for state in self.assembly.instances.values()
            if state.obj is not None and state.obj.announces_updates
        ]
        if not announcing:
            return
        self.sdk.resource_subscriptions = True
        for connector in announcing:
            connector._plugbay_updates_listener = self.list_changes.resource_updated
        self.sdk.add_request_handler(
            "resources/subscribe", types.SubscribeRequestParams, self.subscribe_resource
        )
        self.sdk.add_request_handler(
            "resources/unsubscribe", types.UnsubscribeRequestParams, self.unsubscribe_resource
        )

    async def _catalog_replaced(self, previous: Catalog, current: Catalog) -> None:
        def definitions(catalog: Catalog) -> dict[ListKind, list[Any]]:
            return {
                "tools": [entry.definition for entry in catalog.tools.values()],
                "resources": [entry.definition for entry in catalog.resources.values()]
                + [entry.definition for entry in catalog.templates],
                "prompts": [entry.definition for entry in catalog.prompts.values()],
            }

        before, after = definitions(previous), definitions(current)
        changed = [kind for kind in before if before[kind] != after[kind]]
        if changed:
            await self.list_changes.publish(changed)

    def _visible(
        self, ctx: ServerRequestContext[Any, Any]
    ) -> Callable[[CallKind, str, str | None], bool] | None:
        """What the caller may see, or ``None`` when no filter is registered (all of it)."""
        filters = self.assembly.visibility
        if not filters:
            return None
        principal = principal_of(ctx)

        def visible(kind: CallKind, name: str, instance: str | None) -> bool:
            return all(allows(principal, kind, name, instance) for allows in filters)

        return visible

    def _visible_page(
        self,
        ctx: ServerRequestContext[Any, Any],
        params: types.PaginatedRequestParams | None,
        kind: CallKind,
        entries: Iterable[tuple[str, ToolEntry | ResourceEntry | PromptEntry]],
    ) -> tuple[list[Any], str | None]:
        """One page of the definitions of ``entries`` (name, entry) the caller may see."""
        visible = self._visible(ctx)
        definitions = [
            entry.definition
            for name, entry in entries
            if visible is None or visible(kind, name, entry.owner.instance)
        ]
        return _page(definitions, params.cursor if params else None, self.page_size)

    def tool_input_schema(self, name: str) -> dict[str, Any] | None:
        """A tool's input schema, for the SDK's header validation; spares it a ``tools/list``."""
        entry = self.assembly.catalog.tools.get(name)
        return entry.definition.input_schema if entry is not None else None

    async def list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        """``tools/list``: the catalog's tools the caller may see, a page at a time."""
        catalog = self.assembly.catalog
        page, cursor = self._visible_page(
            ctx, params, "tool", ((e.definition.name, e) for e in catalog.tools.values())
        )
        return types.ListToolsResult(tools=page, next_cursor=cursor)

    async def call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        """``tools/call``: look the tool up and run it through the middleware chain.

        A 2026-07-28 call whose tool asks the client first is answered with the question.
        """
        entry = self.assembly.catalog.tools.get(params.name)
        if entry is None:
            raise MCPError(INVALID_PARAMS, f"Unknown tool: {params.name}")
        call = _call(ctx, "tool", params.name, params.arguments or {}, entry)
        return await answer_or_question(entry.handle(call))

    async def list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        """``resources/list``: the fixed resources the caller may see."""
        catalog = self.assembly.catalog
        page, cursor = self._visible_page(ctx, params, "resource", catalog.resources.items())
        return types.ListResourcesResult(resources=page, next_cursor=cursor)

    async def list_resource_templates(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        """``resources/templates/list``: the resource templates the caller may see."""
        catalog = self.assembly.catalog
        page, cursor = self._visible_page(
            ctx, params, "resource", ((_template_of(e), e) for e in catalog.templates)
        )
        return types.ListResourceTemplatesResult(resource_templates=page, next_cursor=cursor)

    async def read_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult | types.InputRequiredResult:
        """``resources/read``: find the resource or template serving the URI and read it."""
        uri = str(params.uri)
        found = self.assembly.catalog.find_resource(uri)
        if found is None:
            raise MCPError(RESOURCE_NOT_FOUND, f"Resource not found: {uri}", data={"uri": uri})
        entry, variables = found
        contents = await answer_or_question(
            _run_guarded(entry, _call(ctx, "resource", uri, variables, entry))
        )
        if isinstance(contents, types.InputRequiredResult):
            return contents
        return types.ReadResourceResult(contents=contents)

    def _watchable(self, ctx: ServerRequestContext[Any, Any], uri: str) -> Owner | None:
        """Who serves ``uri``, if anything does and the caller may see it, so may watch it."""
        if (found := self.assembly.catalog.find_resource(uri)) is None:
            return None
        visible, entry = self._visible(ctx), found[0]
        name = _template_of(entry) if entry.template is not None else uri
        allowed = visible is None or visible("resource", name, entry.owner.instance)
        return entry.owner if allowed else None

    async def subscribe_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        """``resources/subscribe`` (2025-11-25): hear when a readable resource changes."""
        uri = str(params.uri)
        if (owner := self._watchable(ctx, uri)) is None:
            raise MCPError(RESOURCE_NOT_FOUND, f"Resource not found: {uri}", data={"uri": uri})
        await subscribe(ctx.session, uri, owner.connector, self.subscribers)
        return types.EmptyResult()

    async def listen(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        """``subscriptions/listen`` (2026-07-28): the SDK's stream, for what the caller may see.

        A resource subscription the caller could not make in 2025-11-25 (nothing serves the
        URI, or it may not see it) is not honored; the stream subscribes to the others.
        """
        wanted = params.notifications.resource_subscriptions
        owners = {
            uri: owner.connector for uri in wanted or () if (owner := self._watchable(ctx, uri))
        }
        if wanted:
            notifications = params.notifications.model_copy(
                update={"resource_subscriptions": list(owners)}
            )
            params = params.model_copy(update={"notifications": notifications})
        try:
            await self.subscribers.add(owners)  # before the ack: the watch is in place
            return await self.list_changes.listen_handler(ctx, params)
        finally:
            # A client's disconnect cancels the stream; connectors get 10 s to hear of it.
            with anyio.move_on_after(10, shield=True):
                await self.subscribers.remove(owners)

    async def unsubscribe_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        """``resources/unsubscribe`` (2025-11-25)."""
        await unsubscribe(ctx.session, str(params.uri), self.subscribers)
        return types.EmptyResult()

    async def list_prompts(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        """``prompts/list``: the prompts the caller may see."""
        catalog = self.assembly.catalog
        page, cursor = self._visible_page(
            ctx, params, "prompt", ((e.definition.name, e) for e in catalog.prompts.values())
        )
        return types.ListPromptsResult(prompts=page, next_cursor=cursor)

    async def get_prompt(
        self, ctx: ServerRequestContext[Any, Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult | types.InputRequiredResult:
        """``prompts/get``."""
        entry = self.assembly.catalog.prompts.get(params.name)
        if entry is None:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt: {params.name}")
        call = _call(ctx, "prompt", params.name, params.arguments or {}, entry)
        result: types.GetPromptResult | types.InputRequiredResult = await answer_or_question(
            _run_guarded(entry, call)
        )
        return result

    async def complete(
        self, ctx: ServerRequestContext[Any, Any], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        """``completion/complete``: ask the completer the author declared for the argument."""
        ref = params.ref
        entry: ResourceEntry | PromptEntry | None
        kind: CallKind
        if isinstance(ref, types.PromptReference):
            kind, name = "prompt", ref.name
            entry = self.assembly.catalog.prompts.get(ref.name)
        else:
            kind, name = "resource", ref.uri
            entry = next(
                (
                    item
                    for item in self.assembly.catalog.templates
                    if isinstance(item.definition, types.ResourceTemplate)
                    and item.definition.uri_template == ref.uri
                ),
                None,
            )
        visible = self._visible(ctx)
        if (
            entry is not None
            and visible is not None
            and not visible(kind, name, entry.owner.instance)
        ):
            entry = None  # what the caller may not use, it gets no completions for either
        completer = entry.completers.get(params.argument.name) if entry else None
        if completer is None:
            return types.CompleteResult(completion=types.Completion(values=[]))
        context = dict(params.context.arguments or {}) if params.context else {}
        try:
            values = completer(params.argument.value, context)
            if inspect.isawaitable(values):
                values = await values
        except Exception:
            logger.exception("completer for %s failed", params.argument.name)
            return types.CompleteResult(completion=types.Completion(values=[]))
        values = [str(value) for value in values]
        if visible is not None and isinstance(entry, ResourceEntry):
            values = await readable_values(
                entry, params.argument.name, values, context, visible, MAX_COMPLETIONS + 1
            )
        return types.CompleteResult(
            completion=types.Completion(
                values=values[:MAX_COMPLETIONS],
                total=len(values),
                has_more=len(values) > MAX_COMPLETIONS,
            )
        )
