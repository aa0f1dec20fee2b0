"""Which resources a call opens, in the canonical form the serving connector gives.

The catalog wraps every resource read, and every tool that declares ``paths``, so
that its :class:`~plugbay.Call` carries ``resources``: awaiting it asks the
connector (:meth:`plugbay.Connector.canonical_uri` and
:meth:`plugbay.Connector.canonical_paths`) for the canonical URIs, once per call
and only when a middleware asks, so a server without a policy pays nothing for it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from plugbay.components import ToolSpec
from plugbay.config import validation_messages
from plugbay.errors import AssemblyError, ToolError
from plugbay.middleware import Call, CallKind, CallNext
from plugbay.signatures import Parameters
from plugbay.uris import NamedResource, canonical_uri

if TYPE_CHECKING:
    from plugbay.catalog import ResourceEntry

logger = logging.getLogger(__name__)

__all__ = [
    "NamedResource",
    "Resolver",
    "naming",
    "readable_values",
    "resource_resolver",
    "tool_resolver",
]


Resolver = Callable[[Call], Awaitable[Sequence[NamedResource]]]
"""Works out the resources one call opens."""


def naming(resolver: Resolver | None, chain: CallNext) -> CallNext:
    """Run ``chain`` with ``call.resources`` set to ask ``resolver``, at most once per call."""
    if resolver is None:
        return chain

    async def run(call: Call) -> Any:
        answer: list[Sequence[NamedResource]] = []

        async def resources() -> Sequence[NamedResource]:
            if not answer:
                answer.append(tuple(await resolver(call)))
            return answer[0]

        call.resources = resources
        return await chain(call)

    return run


def resource_resolver(connector: Any) -> Resolver:
    """The resolver of a resource read: the URI read, as ``connector`` canonicalises it.

    Freestanding resources (no connector) get the generic rules of :mod:`plugbay.uris`.
    """

    async def resolve(call: Call) -> Sequence[NamedResource]:
        uri = (
            canonical_uri(call.name)
            if connector is None
            else await connector.canonical_uri(call.name)
        )
        return [NamedResource(sent=call.name, uri=uri)]

    return resolve


def tool_resolver(
    spec: ToolSpec, parameters: Parameters, connector: Any, what: str
) -> Resolver | None:
    """The resolver of a tool that declares ``paths`` or ``trees``, else ``None``.

    The arguments are validated first (defaults filled in, aliases applied), so the
    paths are the very values the tool will get.

    Raises:
        AssemblyError: A declared path is not one of the tool's parameters.
    """
    paths = [*spec.paths, *(name for name in spec.trees if name not in spec.paths)]
    if not paths:
        return None
    unknown = [name for name in paths if name not in parameters.names]
    if unknown:
        raise AssemblyError(f"{what}: paths names {unknown}, which are not its parameters")
    model = parameters.model

    def values(call: Call) -> dict[str, Any]:
        try:
            validated = model.model_validate(call.arguments)
        except ValidationError as error:
            details = "; ".join(validation_messages(error))
            raise ToolError(f"Invalid arguments for {call.name}: {details}") from None
        return {path: getattr(validated, path) for path in paths}

    return _path_resolver(paths, frozenset(spec.trees), connector, values)


def raw_tool_resolver(
    paths: Sequence[str], trees: Sequence[str], connector: Any
) -> Resolver | None:
    """The resolver of a dynamic tool that declares paths, whose arguments are not validated.

    A declared path the client left out stands for the top of the instance
    (``<scheme>://<instance>/``): the backend's default is not known, so the policy
    decides on all of it.
    """
    names = [*paths, *(name for name in trees if name not in paths)]
    if not names:
        return None

    def values(call: Call) -> dict[str, Any]:
        return {path: call.arguments.get(path, "") for path in names}

    return _path_resolver(names, frozenset(trees), connector, values)


def _path_resolver(
    paths: Sequence[str],
    trees: frozenset[str],
    connector: Any,
    values_of: Callable[[Call], Mapping[str, Any]],
) -> Resolver:
    async def resolve(call: Call) -> Sequence[NamedResource]:
        named = _path_values(values_of(call), paths, call.name)
        values = [value for value, _ in named]
        if connector is None:
            uris = [canonical_uri(value) for value in values]
        else:
            uris = list(await connector.canonical_paths(call.name, values))
        if len(uris) != len(values):
            raise RuntimeError(f"canonical_paths gave {len(uris)} URIs for {len(values)} paths")
        return [
            NamedResource(sent=value, uri=uri, tree=argument in trees)
            for (value, argument), uri in zip(named, uris, strict=True)
        ]

    return resolve


def _path_values(
    arguments: Mapping[str, Any], paths: Sequence[str], name: str
) -> list[tuple[str, str]]:
    """The path values of a call, each with the argument it came from."""
    values: list[tuple[str, str]] = []
    for path in paths:
        value = arguments.get(path)
        if value is None:
            continue
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(item, str) for item in items):
            raise ToolError(f"Invalid arguments for {name}: {path} must be a path or paths")
        values.extend((item, path) for item in items)
    return values


async def readable_values(
    entry: ResourceEntry,
    argument: str,
    values: Sequence[str],
    context: Mapping[str, str],
    visible: Callable[[CallKind, str, str | None], bool],
    limit: int,
) -> list[str]:
    """The completions of a template variable that name a resource the caller may read.

    Each value is put into the template, canonicalised as a read would be and kept only
    when ``visible`` allows that URI, so completions never show names beneath what the
    caller may not read. A value that cannot be canonicalised is left out. Stops after
    ``limit`` values are kept.
    """
    template = entry.template
    connector = entry.owner.connector
    if template is None:
        return list(values[:limit])
    kept: list[str] = []
    for value in values:
        try:
            uri = template.expand({**context, argument: value})
        except (TypeError, ValueError):  # the client's other arguments do not fit
            continue
        try:
            canonical = (
                canonical_uri(uri) if connector is None else await connector.canonical_uri(uri)
            )
        except ToolError:  # no canonical form, no completion: the read would be refused
            continue
        except Exception:
            logger.exception("canonical form of a completion for %s failed", argument)
            continue
        if visible("resource", canonical, entry.owner.instance):
            kept.append(value)
            if len(kept) >= limit:
                break
    return kept
