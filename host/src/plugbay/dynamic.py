"""Components a connector knows only at run time, such as a gateway's upstream tools.

Most connectors declare their tools, resources and prompts with decorators, and the
host builds them once at assembly. A connector whose components come from elsewhere
(another MCP server, a remote schema registry) overrides
:meth:`plugbay.Connector.components` instead: the host asks it after ``start()``
and again whenever the connector calls :meth:`plugbay.Connector.components_changed`.

Dynamic components go through the same middleware, timeouts, visibility filters and
list-changed notifications as declared ones. Unlike declared tools, their arguments
are not validated by the host: the definition's input schema is published as given
and the arguments reach :attr:`DynamicTool.call` as the client sent them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.shared.uri_template import InvalidUriTemplate, UriTemplate

from plugbay.canonical import naming, raw_tool_resolver, resource_resolver
from plugbay.catalog import (
    Catalog,
    Owner,
    PromptEntry,
    ResourceEntry,
    ToolEntry,
    _tool_handler,
    check_name,
)
from plugbay.components import Completer
from plugbay.context import Context
from plugbay.describing import with_facts
from plugbay.errors import AssemblyError
from plugbay.middleware import Call, Middleware, compose

logger = logging.getLogger(__name__)

ToolCall = Callable[[Mapping[str, Any], Context], Awaitable[types.CallToolResult]]
"""``async (arguments, context) -> CallToolResult``: runs one call of a dynamic tool."""
ResourceRead = Callable[
    [str, Context], Awaitable[Sequence[types.TextResourceContents | types.BlobResourceContents]]
]
"""``async (uri, context) -> contents``: reads a dynamic resource, or a URI its template matches."""
PromptRender = Callable[[Mapping[str, str], Context], Awaitable[types.GetPromptResult]]
"""``async (arguments, context) -> GetPromptResult``: renders a dynamic prompt."""
ArgumentCompleter = Callable[[str, str, Mapping[str, str]], Awaitable[Sequence[str]]]
"""``async (argument, value, other_arguments) -> values``: completes one argument."""


@dataclass(frozen=True, slots=True)
class DynamicTool:
    """A tool defined at run time.

    Attributes:
        definition: The tool as clients should see it, with its name relative to the
            instance (the host publishes it as ``<instance>_<name>``, which must fit
            in 64 characters of ``[A-Za-z0-9_-]``). Everything else (schemas,
            annotations, title, icons, ``_meta``) is published unchanged.
        call: Runs a call. Raise :class:`plugbay.ToolError` for a failure the caller
            should read; return an ``isError`` result to pass one through.
        timeout: Seconds a call may take; defaults to the instance's ``call_timeout``.
        paths: Arguments that name resources the tool opens, as ``@tool(paths=...)``:
            a policy decides on each (a string or a list of strings), canonicalised by
            :meth:`plugbay.Connector.canonical_paths`. One the client leaves out
            stands for the whole instance.
        trees: Arguments that name a directory the tool walks, as ``@tool(trees=...)``.
    """

    definition: types.Tool
    call: ToolCall
    timeout: float | None = None
    paths: Sequence[str] = ()
    trees: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class DynamicResource:
    """A resource or resource template defined at run time.

    Attributes:
        definition: The resource (or template) with its full URI; the connector
            chooses URIs that are unique to its instance (``<scheme>://<instance>/...``).
            Its name is published as ``<instance>_<name>``.
        read: Reads the resource; for a template, any URI it matches.
        complete: Completes a template variable, when the backend can.
        timeout: Seconds a read may take; defaults to the instance's ``call_timeout``.
    """

    definition: types.Resource | types.ResourceTemplate
    read: ResourceRead
    complete: ArgumentCompleter | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class DynamicPrompt:
    """A prompt defined at run time.

    Attributes:
        definition: The prompt, with its name relative to the instance (published
            as ``<instance>_<name>``, within 64 characters).
        render: Renders the prompt with the client's arguments.
        complete: Completes an argument, when the backend can.
        timeout: Seconds rendering may take; defaults to the instance's ``call_timeout``.
    """

    definition: types.Prompt
    render: PromptRender
    complete: ArgumentCompleter | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Components:
    """What :meth:`plugbay.Connector.components` returns: the instance's dynamic components."""

    tools: Sequence[DynamicTool] = ()
    resources: Sequence[DynamicResource] = ()
    prompts: Sequence[DynamicPrompt] = ()


def _annotation_flags(definition: types.Tool) -> dict[str, bool | None]:
    hints = definition.annotations
    if hints is None:
        return {}
    return {
        "read_only": hints.read_only_hint,
        "destructive": hints.destructive_hint,
        "idempotent": hints.idempotent_hint,
        "open_world": hints.open_world_hint,
    }


def _completers(complete: ArgumentCompleter | None, names: Sequence[str]) -> dict[str, Completer]:
    if complete is None:
        return {}

    def for_argument(argument: str) -> Completer:
        async def completer(value: str, context: Mapping[str, str]) -> Sequence[str]:
            return await complete(argument, value, context)

        return completer

    return {name: for_argument(name) for name in names}


def _build_tool(
    tool: DynamicTool, owner: Owner, middleware: Sequence[Middleware], timeout: float | None
) -> ToolEntry:
    name = f"{owner.instance}_{tool.definition.name}"
    check_name(name, "tool", owner)
    run = tool.call

    async def endpoint(call: Call) -> types.CallToolResult:
        return await run(call.arguments, Context(call.request, call.principal))

    return ToolEntry(
        definition=tool.definition.model_copy(
            update={
                "name": name,
                "description": with_facts(tool.definition.description, owner.facts),
            }
        ),
        owner=owner,
        timeout=tool.timeout if tool.timeout is not None else timeout,
        annotations=_annotation_flags(tool.definition),
        handle=_tool_handler(
            naming(
                raw_tool_resolver(tool.paths, tool.trees, owner.connector),
                compose(middleware, endpoint),
            )
        ),
    )


def _build_resource(
    resource: DynamicResource,
    owner: Owner,
    middleware: Sequence[Middleware],
    timeout: float | None,
) -> ResourceEntry:
    definition = resource.definition
    template: UriTemplate | None = None
    if isinstance(definition, types.ResourceTemplate):
        try:
            template = UriTemplate.parse(definition.uri_template)
        except InvalidUriTemplate as error:
            raise AssemblyError(
                f"{owner.describe()}: resource template {definition.uri_template!r}: {error}"
            ) from error
    read = resource.read

    async def endpoint(call: Call) -> list[types.TextResourceContents | types.BlobResourceContents]:
        return list(await read(call.name, Context(call.request, call.principal)))

    return ResourceEntry(
        definition=definition.model_copy(update={"name": f"{owner.instance}_{definition.name}"}),
        owner=owner,
        template=template,
        timeout=resource.timeout if resource.timeout is not None else timeout,
        handle=naming(resource_resolver(owner.connector), compose(middleware, endpoint)),
        completers=_completers(resource.complete, template.variable_names if template else ()),
    )


def _build_prompt(
    prompt: DynamicPrompt, owner: Owner, middleware: Sequence[Middleware], timeout: float | None
) -> PromptEntry:
    name = f"{owner.instance}_{prompt.definition.name}"
    check_name(name, "prompt", owner)
    render = prompt.render

    async def endpoint(call: Call) -> types.GetPromptResult:
        arguments = {key: str(value) for key, value in call.arguments.items()}
        return await render(arguments, Context(call.request, call.principal))

    names = [argument.name for argument in prompt.definition.arguments or ()]
    return PromptEntry(
        definition=prompt.definition.model_copy(update={"name": name}),
        owner=owner,
        timeout=prompt.timeout if prompt.timeout is not None else timeout,
        handle=compose(middleware, endpoint),
        completers=_completers(prompt.complete, names),
    )


def build_dynamic(
    components: Components,
    owner: Owner,
    *,
    middleware: Sequence[Middleware],
    default_timeout: float | None,
) -> tuple[Catalog, list[str]]:
    """Build catalog entries for an instance's dynamic components.

    A component that cannot be served (a name clients would reject, two with one
    name, a malformed URI template) is left out and described in the returned
    problems; the others are built.

    Returns:
        The entries, as a catalog of their own, and the problems found.
    """
    staged = Catalog()
    problems: list[str] = []
    for tool in components.tools:
        try:
            staged.add_tool(_build_tool(tool, owner, middleware, default_timeout))
        except AssemblyError as error:
            problems.append(str(error))
    for resource in components.resources:
        try:
            staged.add_resource(_build_resource(resource, owner, middleware, default_timeout))
        except AssemblyError as error:
            problems.append(str(error))
    for prompt in components.prompts:
        try:
            staged.add_prompt(_build_prompt(prompt, owner, middleware, default_timeout))
        except AssemblyError as error:
            problems.append(str(error))
    return staged, problems


def merge_leniently(catalog: Catalog, extra: Catalog) -> tuple[Catalog, Catalog, list[str]]:
    """Add ``extra``'s entries to a copy of ``catalog``, skipping those whose name is taken.

    Returns:
        The merged catalog, the entries of ``extra`` that were added, and a problem
        for each that was not.
    """
    merged = catalog.merged(Catalog())
    added = Catalog()
    problems: list[str] = []
    entries: list[tuple[Any, Callable[[Any], None], Callable[[Any], None]]] = [
        *((entry, merged.add_tool, added.add_tool) for entry in extra.tools.values()),
        *(
            (entry, merged.add_resource, added.add_resource)
            for entry in [*extra.resources.values(), *extra.templates]
        ),
        *((entry, merged.add_prompt, added.add_prompt) for entry in extra.prompts.values()),
    ]
    for entry, add, record in entries:
        try:
            add(entry)
        except AssemblyError as error:
            problems.append(str(error))
            continue
        record(entry)
    return merged, added, problems


def without(catalog: Catalog, entries: Catalog) -> Catalog:
    """A copy of ``catalog`` without the very entries (by identity) held in ``entries``."""
    tool_ids = {id(entry) for entry in entries.tools.values()}
    resource_ids = {id(entry) for entry in [*entries.resources.values(), *entries.templates]}
    prompt_ids = {id(entry) for entry in entries.prompts.values()}
    return Catalog(
        tools={k: v for k, v in catalog.tools.items() if id(v) not in tool_ids},
        resources={k: v for k, v in catalog.resources.items() if id(v) not in resource_ids},
        templates=[entry for entry in catalog.templates if id(entry) not in resource_ids],
        prompts={k: v for k, v in catalog.prompts.items() if id(v) not in prompt_ids},
    )
