"""Middleware: code that wraps every tool call, resource read and prompt get."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from plugbay.auth import LOCAL_PRINCIPAL, Principal

if TYPE_CHECKING:
    from plugbay.uris import NamedResource

CallKind = Literal["tool", "resource", "prompt"]
CALL_KINDS: tuple[CallKind, ...] = get_args(CallKind)
Stage = Literal["observe", "admit", "run"]
STAGES: tuple[Stage, ...] = get_args(Stage)
"""The middleware stages, outermost first: ``observe`` sees every call and outcome
(telemetry, audit), ``admit`` decides whether a call runs (policy, limits), ``run``
works on admitted calls (the per-call timeout, a plugin's default)."""
TIMED_OUT = "plugbay.timed_out"
"""``Call.state`` key the built-in timeout sets when it cancels a call."""


@dataclass(slots=True)
class Call:
    """One call on its way to a tool, resource or prompt.

    Attributes:
        kind: What is being called.
        name: The exposed name (``crm_search_people``) or, for resources, the URI.
        arguments: The arguments as the client sent them (tool arguments, template
            variables, prompt arguments). Middleware may replace them.
        principal: The authenticated caller.
        instance: The connector instance that serves the call, or ``None`` for
            freestanding components.
        plugin: The plugin that registered the component.
        annotations: The tool's declared annotations (``read_only`` ...), empty for
            resources and prompts.
        timeout: Seconds the call may take, when one applies.
        state: Free space for middleware to pass facts to each other.
        request: The MCP SDK's request context, when the call arrived over MCP
            (``None`` for ``plugbay call`` and direct calls).
        resources: What the call opens, for a policy to decide on: for a resource
            read, the URI read; for a tool that declares ``paths``, each path it was
            given. Awaiting it asks the serving connector for the canonical forms
            (:class:`plugbay.uris.NamedResource`); it raises when a name cannot
            be put in canonical form, and whoever decides on it then refuses the call.
            ``None`` when the call names no resource.
    """

    kind: CallKind
    name: str
    arguments: Mapping[str, Any]
    principal: Principal = LOCAL_PRINCIPAL
    instance: str | None = None
    plugin: str | None = None
    annotations: Mapping[str, bool | None] = field(default_factory=dict)
    timeout: float | None = None
    state: dict[str, Any] = field(default_factory=dict)
    request: Any = None
    resources: Callable[[], Awaitable[Sequence[NamedResource]]] | None = None


CallNext = Callable[[Call], Awaitable[Any]]
"""Runs the rest of the chain and, at its end, the component itself."""

Middleware = Callable[[Call, CallNext], Awaitable[Any]]
"""``async (call, call_next) -> result``; see the ``register_middleware`` hook."""

Visibility = Callable[[Principal, CallKind, str, str | None], bool]
"""``visible(principal, kind, name, instance) -> bool``: may this caller see a component?

A middleware object that refuses calls may also have a ``visible`` method with this
signature; the server then leaves out of ``tools/list``, ``resources/list``,
``resources/templates/list`` and ``prompts/list`` whatever it returns ``False`` for,
so a caller does not see what it may not call. ``name`` is the tool or prompt name,
the resource URI, or the resource template's URI template. It is asked for every
item of every list, so it should answer from memory.
"""


def visibility_filters(middleware: Sequence[object]) -> list[Visibility]:
    """The ``visible`` methods of the middleware that have one, in chain order."""
    filters: list[Visibility] = []
    for layer in middleware:
        visible = getattr(layer, "visible", None)
        if callable(visible):
            filters.append(visible)
    return filters


def compose(middleware: Sequence[Middleware], endpoint: CallNext) -> CallNext:
    """Wrap ``endpoint`` in ``middleware``, the first one outermost.

    Composed once at assembly, so an empty chain costs nothing per call.
    """
    call_next = endpoint
    for layer in reversed(middleware):
        call_next = _bind(layer, call_next)
    return call_next


def _bind(layer: Middleware, call_next: CallNext) -> CallNext:
    async def run(call: Call) -> Any:
        return await layer(call, call_next)

    return run
