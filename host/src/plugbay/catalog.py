"""The catalog: every tool, resource and prompt the server exposes, ready to call.

Entries are built once at assembly: names checked, schemas generated, validators and
result converters chosen, middleware composed. Serving a call is then a dict lookup,
a validation and a call.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import mcp_types as types
from mcp.shared.uri_template import InvalidUriTemplate, UriTemplate
from pydantic import BaseModel, PydanticUserError, ValidationError

from plugbay.canonical import naming, resource_resolver, tool_resolver
from plugbay.components import Completer, PromptSpec, ResourceSpec, ToolSpec
from plugbay.config import validation_messages
from plugbay.context import Context
from plugbay.describing import describe_schema, expand_tool_names, markdown, with_facts
from plugbay.errors import AssemblyError, ToolError, log_unexpected, unexpected_failure_text
from plugbay.middleware import Call, CallNext, Middleware, compose
from plugbay.results import ToolOutput, prompt_messages, resource_contents, text_result
from plugbay.signatures import (
    Parameters,
    function_parameters,
    parse_docstring,
    return_annotation,
)
from plugbay.threads import WorkerThreads

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""Tool and prompt names every major client accepts: 64 characters of ``[A-Za-z0-9_-]``."""
MAX_NAME_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Owner:
    """Where a component comes from: the plugin, and the connector instance if any.

    ``threads`` is the pool its sync functions run in (one per instance, one per
    plugin for freestanding components); without one, each gets a pool of its own.
    """

    plugin: str
    instance: str | None = None
    connector: Any = None
    threads: WorkerThreads | None = field(default=None, compare=False)
    facts: str | None = None
    """The instance's :meth:`~plugbay.Connector.instance_facts`, ending its tool descriptions."""

    def describe(self) -> str:
        """``plugin 'x'`` or ``plugin 'x', instance 'y'``, for error messages."""
        if self.instance is None:
            return f"plugin {self.plugin!r}"
        return f"plugin {self.plugin!r}, instance {self.instance!r}"


@dataclass(slots=True)
class ToolEntry:
    """One callable tool."""

    definition: types.Tool
    owner: Owner
    timeout: float | None
    annotations: Mapping[str, bool | None]
    handle: Callable[[Call], Awaitable[types.CallToolResult]]


@dataclass(slots=True)
class ResourceEntry:
    """One fixed resource or resource template."""

    definition: types.Resource | types.ResourceTemplate
    owner: Owner
    template: UriTemplate | None
    timeout: float | None
    handle: Callable[
        [Call], Awaitable[list[types.TextResourceContents | types.BlobResourceContents]]
    ]
    completers: dict[str, Completer] = field(default_factory=dict)


@dataclass(slots=True)
class PromptEntry:
    """One prompt."""

    definition: types.Prompt
    owner: Owner
    timeout: float | None
    handle: Callable[[Call], Awaitable[types.GetPromptResult]]
    completers: dict[str, Completer] = field(default_factory=dict)


def _validate(parameters: Parameters, arguments: Mapping[str, Any], what: str) -> dict[str, Any]:
    try:
        model: BaseModel = parameters.model.model_validate(arguments)
    except ValidationError as error:
        details = "; ".join(validation_messages(error))
        raise ToolError(f"Invalid arguments for {what}: {details}") from None
    return {name: getattr(model, name) for name in parameters.names}


def _invoker(
    function: Callable[..., Any], parameters: Parameters, owner: Owner
) -> Callable[[Call], Awaitable[Any]]:
    """Validate a call's arguments and run ``function`` with them (in a thread if it is sync)."""
    is_async = inspect.iscoroutinefunction(function)
    context_parameter = parameters.context_parameter
    threads = owner.threads
    if threads is None and not is_async:
        threads = WorkerThreads(owner.describe())

    async def invoke(call: Call) -> Any:
        kwargs = _validate(parameters, call.arguments, call.name)
        context = None
        if context_parameter is not None:
            context = kwargs[context_parameter] = Context(call.request, call.principal)
        try:
            if is_async:
                return await function(**kwargs)
            assert threads is not None
            # In the owner's own pool; a timed-out call answers at once and its thread
            # finishes on its own, counted until it does (see plugbay.threads).
            return await threads.run(call.name, partial(function, **kwargs))
        except anyio.get_cancelled_exc_class():
            # A thread cannot be stopped: the tool sees ctx.cancelled and stops itself.
            if context is not None:
                context.cancel()
            raise

    return invoke


def _tool_handler(
    chain: CallNext, instance: str | None = None
) -> Callable[[Call], Awaitable[types.CallToolResult]]:
    """Turn every failure of a tool call into an ``isError`` result the caller can read.

    ``{tool:name}`` in a :class:`ToolError`'s message becomes the catalog name of the
    instance's tool, so code without the instance at hand can name a sibling tool.
    """

    async def handle(call: Call) -> types.CallToolResult:
        try:
            result: types.CallToolResult = await chain(call)
        except ToolError as error:
            return text_result(expand_tool_names(str(error), instance), is_error=True)
        except Exception as error:
            reference = log_unexpected(f"{call.kind} {call.name}", error)
            return text_result(unexpected_failure_text(call.name, error, reference), is_error=True)
        return result

    return handle


def _annotations(spec: ToolSpec, title: str | None) -> types.ToolAnnotations | None:
    values = {
        "read_only_hint": spec.read_only,
        "destructive_hint": spec.destructive,
        "idempotent_hint": spec.idempotent,
        "open_world_hint": spec.open_world,
    }
    if all(value is None for value in values.values()) and title is None:
        return None
    return types.ToolAnnotations(title=title, **values)


def _description(given: str | None, summary: str, owner: Owner) -> str | None:
    """The description of a resource or prompt: Markdown, sibling tools by catalog name."""
    return expand_tool_names(markdown(given) if given else summary, owner.instance) or None


def tool_available(spec: ToolSpec, owner: Owner) -> bool:
    """Whether the setting a tool ``requires`` is true on its instance (or it requires none).

    Raises:
        AssemblyError: The instance's settings have no such setting.
    """
    if spec.requires is None or owner.connector is None:
        return True
    settings = getattr(owner.connector, "settings", None)
    if not hasattr(settings, spec.requires):
        raise AssemblyError(
            f"{owner.describe()}: a tool requires the setting {spec.requires!r}, "
            "which the connector's settings do not have"
        )
    return bool(getattr(settings, spec.requires))


def check_name(name: str, kind: str, owner: Owner) -> None:
    """Raise :class:`AssemblyError` unless ``name`` is one clients accept."""
    if len(name) > MAX_NAME_LENGTH:
        raise AssemblyError(
            f"{owner.describe()}: {kind} name {name!r} has {len(name)} characters; clients "
            f"accept at most {MAX_NAME_LENGTH} (shorten the {kind} or the instance name)"
        )
    if not NAME_PATTERN.match(name):
        raise AssemblyError(
            f"{owner.describe()}: {kind} name {name!r} may use only letters, digits, '_' and '-'"
        )


def build_tool(
    function: Callable[..., Any],
    spec: ToolSpec,
    owner: Owner,
    *,
    middleware: Sequence[Middleware],
    default_timeout: float | None,
) -> ToolEntry:
    """Build the catalog entry of one tool; ``function`` is bound if it is a method."""
    base_name = spec.name or function.__name__
    name = f"{owner.instance}_{base_name}" if owner.instance else base_name
    check_name(name, "tool", owner)
    docstring = parse_docstring(function)
    description = expand_tool_names(
        markdown(spec.description) if spec.description else docstring.summary, owner.instance
    )
    try:
        parameters = function_parameters(
            function, model_name=f"{name}_arguments", descriptions=docstring.arguments
        )
        output = ToolOutput(return_annotation(function))
    except (TypeError, NameError, PydanticUserError) as error:
        raise AssemblyError(f"{owner.describe()}: tool {name!r}: {error}") from error
    annotations = _annotations(spec, spec.title)
    resolver = tool_resolver(spec, parameters, owner.connector, f"{owner.describe()}: {name}")
    definition = types.Tool(
        name=name,
        title=spec.title,
        description=with_facts(description or None, owner.facts),
        input_schema=describe_schema(parameters.schema, owner.instance),
        output_schema=describe_schema(output.schema, owner.instance),
        annotations=annotations,
    )
    invoke = _invoker(function, parameters, owner)

    async def endpoint(call: Call) -> types.CallToolResult:
        return output.convert(await invoke(call))

    return ToolEntry(
        definition=definition,
        owner=owner,
        timeout=spec.timeout if spec.timeout is not None else default_timeout,
        annotations={
            "read_only": spec.read_only,
            "destructive": spec.destructive,
            "idempotent": spec.idempotent,
            "open_world": spec.open_world,
        },
        handle=_tool_handler(naming(resolver, compose(middleware, endpoint)), owner.instance),
    )


def _completers(
    complete: Mapping[str, Completer | str], owner: Owner, names: Sequence[str], what: str
) -> dict[str, Completer]:
    resolved: dict[str, Completer] = {}
    for argument, completer in complete.items():
        if argument not in names:
            raise AssemblyError(f"{owner.describe()}: {what}: no argument {argument!r} to complete")
        if isinstance(completer, str):
            if owner.connector is None or not hasattr(owner.connector, completer):
                raise AssemblyError(
                    f"{owner.describe()}: {what}: no method {completer!r} to complete with"
                )
            completer = getattr(owner.connector, completer)
        resolved[argument] = completer
    return resolved


def resource_uri(spec: ResourceSpec, owner: Owner, scheme: str | None) -> str:
    """The full URI of a resource: relative ones go under ``<scheme>://<instance>/``."""
    if owner.instance is None or "://" in spec.uri:
        return spec.uri
    return f"{scheme}://{owner.instance}/{spec.uri.lstrip('/')}"


def build_resource(
    function: Callable[..., Any],
    spec: ResourceSpec,
    owner: Owner,
    *,
    scheme: str | None,
    middleware: Sequence[Middleware],
    default_timeout: float | None,
) -> ResourceEntry:
    """Build the catalog entry of one resource or resource template."""
    uri = resource_uri(spec, owner, scheme)
    docstring = parse_docstring(function)
    name = spec.name or function.__name__
    if owner.instance:
        name = f"{owner.instance}_{name}"
    try:
        is_template = UriTemplate.is_template(uri)
        template = UriTemplate.parse(uri) if is_template else None
        parameters = function_parameters(
            function, model_name=f"{name}_variables", descriptions=docstring.arguments
        )
    except (InvalidUriTemplate, TypeError, NameError, PydanticUserError) as error:
        raise AssemblyError(f"{owner.describe()}: resource {uri!r}: {error}") from error
    variables = set(template.variable_names) if template else set()
    if variables != set(parameters.names):
        raise AssemblyError(
            f"{owner.describe()}: resource {uri!r}: the URI's variables {sorted(variables)} must "
            f"match the function's parameters {sorted(parameters.names)}"
        )
    definition: types.Resource | types.ResourceTemplate
    description = _description(spec.description, docstring.summary, owner)
    if template is None:
        definition = types.Resource(
            uri=uri, name=name, title=spec.title, description=description, mime_type=spec.mime_type
        )
    else:
        definition = types.ResourceTemplate(
            uri_template=uri,
            name=name,
            title=spec.title,
            description=description,
            mime_type=spec.mime_type,
        )
    invoke = _invoker(function, parameters, owner)
    mime_type = spec.mime_type

    async def endpoint(call: Call) -> list[types.TextResourceContents | types.BlobResourceContents]:
        return resource_contents(await invoke(call), uri=call.name, mime_type=mime_type)

    return ResourceEntry(
        definition=definition,
        owner=owner,
        template=template,
        timeout=default_timeout,
        handle=naming(resource_resolver(owner.connector), compose(middleware, endpoint)),
        completers=_completers(spec.complete, owner, parameters.names, f"resource {uri!r}"),
    )


def build_prompt(
    function: Callable[..., Any],
    spec: PromptSpec,
    owner: Owner,
    *,
    middleware: Sequence[Middleware],
    default_timeout: float | None,
) -> PromptEntry:
    """Build the catalog entry of one prompt."""
    base_name = spec.name or function.__name__
    name = f"{owner.instance}_{base_name}" if owner.instance else base_name
    check_name(name, "prompt", owner)
    docstring = parse_docstring(function)
    try:
        parameters = function_parameters(
            function, model_name=f"{name}_arguments", descriptions=docstring.arguments
        )
    except (TypeError, NameError, PydanticUserError) as error:
        raise AssemblyError(f"{owner.describe()}: prompt {name!r}: {error}") from error
    required = set(parameters.schema.get("required", []))
    properties = parameters.schema.get("properties", {})
    arguments = [
        types.PromptArgument(
            name=argument,
            description=properties.get(argument, {}).get("description"),
            required=argument in required,
        )
        for argument in parameters.names
    ]
    description = _description(spec.description, docstring.summary, owner)
    definition = types.Prompt(
        name=name, title=spec.title, description=description, arguments=arguments or None
    )
    invoke = _invoker(function, parameters, owner)

    async def endpoint(call: Call) -> types.GetPromptResult:
        return types.GetPromptResult(
            description=description, messages=prompt_messages(await invoke(call))
        )

    return PromptEntry(
        definition=definition,
        owner=owner,
        timeout=default_timeout,
        handle=compose(middleware, endpoint),
        completers=_completers(spec.complete, owner, parameters.names, f"prompt {name!r}"),
    )


@dataclass(slots=True)
class Catalog:
    """Everything the server exposes, indexed for the per-call lookups."""

    tools: dict[str, ToolEntry] = field(default_factory=dict)
    resources: dict[str, ResourceEntry] = field(default_factory=dict)
    templates: list[ResourceEntry] = field(default_factory=list)
    prompts: dict[str, PromptEntry] = field(default_factory=dict)

    def add_tool(self, entry: ToolEntry) -> None:
        """Add a tool, refusing a name that is taken."""
        name = entry.definition.name
        if (existing := self.tools.get(name)) is not None:
            raise AssemblyError(
                f"tool name {name!r} is registered twice: by {existing.owner.describe()} and by "
                f"{entry.owner.describe()}"
            )
        self.tools[name] = entry

    def add_resource(self, entry: ResourceEntry) -> None:
        """Add a resource or template, refusing a URI that is taken."""
        if entry.template is None:
            assert isinstance(entry.definition, types.Resource)
            uri = entry.definition.uri
            if (existing := self.resources.get(uri)) is not None:
                raise AssemblyError(
                    f"resource {uri!r} is registered twice: by {existing.owner.describe()} and by "
                    f"{entry.owner.describe()}"
                )
            self.resources[uri] = entry
            return
        assert isinstance(entry.definition, types.ResourceTemplate)
        for existing in self.templates:
            assert isinstance(existing.definition, types.ResourceTemplate)
            if existing.definition.uri_template == entry.definition.uri_template:
                raise AssemblyError(
                    f"resource template {entry.definition.uri_template!r} is registered twice: by "
                    f"{existing.owner.describe()} and by {entry.owner.describe()}"
                )
        self.templates.append(entry)

    def add_prompt(self, entry: PromptEntry) -> None:
        """Add a prompt, refusing a name that is taken."""
        name = entry.definition.name
        if (existing := self.prompts.get(name)) is not None:
            raise AssemblyError(
                f"prompt name {name!r} is registered twice: by {existing.owner.describe()} and by "
                f"{entry.owner.describe()}"
            )
        self.prompts[name] = entry

    def find_resource(self, uri: str) -> tuple[ResourceEntry, dict[str, Any]] | None:
        """The resource serving ``uri`` and the template variables it matched."""
        if (entry := self.resources.get(uri)) is not None:
            return entry, {}
        for entry in self.templates:
            assert entry.template is not None
            variables = entry.template.match(uri)
            if variables is not None:
                return entry, variables
        return None

    def merged(self, other: Catalog) -> Catalog:
        """A new catalog with ``other``'s components added; on a clash, raise and change nothing."""
        result = Catalog(
            tools=dict(self.tools),
            resources=dict(self.resources),
            templates=list(self.templates),
            prompts=dict(self.prompts),
        )
        for tool_entry in other.tools.values():
            result.add_tool(tool_entry)
        for resource_entry in [*other.resources.values(), *other.templates]:
            result.add_resource(resource_entry)
        for prompt_entry in other.prompts.values():
            result.add_prompt(prompt_entry)
        return result

    def without_instances(self, instances: set[str]) -> Catalog:
        """A copy without the components of the given connector instances."""
        return Catalog(
            tools={k: v for k, v in self.tools.items() if v.owner.instance not in instances},
            resources={
                k: v for k, v in self.resources.items() if v.owner.instance not in instances
            },
            templates=[entry for entry in self.templates if entry.owner.instance not in instances],
            prompts={k: v for k, v in self.prompts.items() if v.owner.instance not in instances},
        )
