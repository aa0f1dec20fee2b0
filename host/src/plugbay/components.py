"""The decorators that mark functions and methods as tools, resources and prompts.

The decorators only attach a small spec to the function and return it unchanged, so
a decorated method stays an ordinary method that tests can call directly. The host
reads the specs at assembly time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

Completer = Callable[..., Any]
"""Returns completion values for one argument: ``(value, context) -> list[str]``.

``value`` is what the user has typed so far; ``context`` maps the other arguments
already filled in. It may be a coroutine function. On a connector, pass the name of a
method instead of a function.
"""

_TOOL_ATTR = "__plugbay_tool__"
_RESOURCE_ATTR = "__plugbay_resource__"
_PROMPT_ATTR = "__plugbay_prompt__"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What :func:`tool` records about a function.

    The annotation flags are ``None`` when the author did not declare them; the
    conformance suite asks authors to declare at least ``read_only``.
    """

    name: str | None = None
    title: str | None = None
    description: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None
    timeout: float | None = None
    paths: tuple[str, ...] = ()
    trees: tuple[str, ...] = ()
    requires: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """What :func:`resource` records about a function."""

    uri: str
    name: str | None = None
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    complete: Mapping[str, Completer | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PromptSpec:
    """What :func:`prompt` records about a function."""

    name: str | None = None
    title: str | None = None
    description: str | None = None
    complete: Mapping[str, Completer | str] = field(default_factory=dict)


@overload
def tool(fn: F, /) -> F: ...
@overload
def tool(
    *,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    read_only: bool | None = None,
    destructive: bool | None = None,
    idempotent: bool | None = None,
    open_world: bool | None = None,
    timeout: float | None = None,
    paths: Sequence[str] = (),
    trees: Sequence[str] = (),
    requires: str | None = None,
) -> Callable[[F], F]: ...
def tool(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    read_only: bool | None = None,
    destructive: bool | None = None,
    idempotent: bool | None = None,
    open_world: bool | None = None,
    timeout: float | None = None,
    paths: Sequence[str] = (),
    trees: Sequence[str] = (),
    requires: str | None = None,
) -> F | Callable[[F], F]:
    """Mark a function or connector method as an MCP tool.

    The input schema comes from the parameters' type hints (with descriptions from
    the docstring's ``Args:`` section), the output schema from the return type, and
    the description from the docstring. A parameter typed :class:`plugbay.Context`
    is filled in by the host and hidden from the schema. In descriptions (the
    docstring, ``description=``, argument descriptions), ``{tool:list_tables}`` becomes
    the catalog name of the instance's sibling tool (``<instance>_list_tables``), and
    reStructuredText markup becomes Markdown (see :func:`plugbay.signatures.markdown`).

    Args:
        fn: The function, when used as a bare ``@tool``.
        name: Tool name; defaults to the function's name. On a connector the host
            prefixes it with the instance name.
        title: Human-readable title for clients' UIs.
        description: Overrides the docstring.
        read_only: The tool does not change its environment.
        destructive: The tool may destroy or overwrite data (meaningful when not
            read-only).
        idempotent: Calling again with the same arguments has no further effect.
        open_world: The tool reaches an open world (the web, a third party).
        timeout: Seconds after which the call is cancelled and reported as failed;
            overrides the server's default.
        paths: The arguments that name resources the tool opens, each a string or a
            list of strings (``paths=("path",)``). A policy decides on each as on a
            ``resources/read`` of the resource it names, in the canonical form the
            connector gives (:meth:`plugbay.Connector.canonical_paths`).
        trees: The arguments that name a directory the tool walks, reading what lies
            beneath it (a search, a tree): a policy allows the call only when everything
            beneath is allowed. They are paths too; no need to list them twice.
        requires: On a connector, the name of a boolean setting without which the
            tool cannot work (``requires="allow_writes"``). Where the instance's
            setting is false the tool is not listed, unless ``[server]
            list_unavailable_tools`` is true; keep the tool's own refusal for that case.

    Returns:
        The function, unchanged but for the recorded spec.
    """
    spec = ToolSpec(
        name=name,
        title=title,
        description=description,
        read_only=read_only,
        destructive=destructive,
        idempotent=idempotent,
        open_world=open_world,
        timeout=timeout,
        paths=(paths,) if isinstance(paths, str) else tuple(paths),
        trees=(trees,) if isinstance(trees, str) else tuple(trees),
        requires=requires,
    )

    def mark(function: F) -> F:
        setattr(function, _TOOL_ATTR, spec)
        return function

    return mark(fn) if fn is not None else mark


def resource(
    uri: str,
    *,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    mime_type: str | None = None,
    complete: Mapping[str, Completer | str] | None = None,
) -> Callable[[F], F]:
    """Mark a function or connector method as an MCP resource or resource template.

    A URI with RFC 6570 variables (``people/{id}``) makes a resource template: each
    variable is passed to the function as the argument of the same name. On a
    connector the URI is relative: the host places it under the instance, as
    ``<scheme>://<instance>/<uri>`` (the scheme is ``Connector.uri_scheme``).

    The function returns ``str`` (text), ``bytes`` (a blob), a pydantic model or
    other JSON-able value (served as JSON), or a list of
    :class:`mcp_types.TextResourceContents` / :class:`mcp_types.BlobResourceContents`.

    Args:
        uri: The resource URI or URI template.
        name: Short name; defaults to the function's name.
        title: Human-readable title.
        description: Overrides the docstring.
        mime_type: MIME type of the content; guessed from the return value otherwise.
        complete: Completers for template variables, by variable name.

    Returns:
        A decorator that records the spec and returns the function unchanged.
    """
    spec = ResourceSpec(
        uri=uri,
        name=name,
        title=title,
        description=description,
        mime_type=mime_type,
        complete=dict(complete or {}),
    )

    def mark(function: F) -> F:
        setattr(function, _RESOURCE_ATTR, spec)
        return function

    return mark


@overload
def prompt(fn: F, /) -> F: ...
@overload
def prompt(
    *,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    complete: Mapping[str, Completer | str] | None = None,
) -> Callable[[F], F]: ...
def prompt(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    complete: Mapping[str, Completer | str] | None = None,
) -> F | Callable[[F], F]:
    """Mark a function or connector method as an MCP prompt.

    The prompt's arguments are the function's parameters (prompt arguments are
    strings on the wire). The function returns a string, sent as one user message,
    or a list of :class:`plugbay.Message` (or ``mcp_types.PromptMessage``).

    Args:
        fn: The function, when used as a bare ``@prompt``.
        name: Prompt name; defaults to the function's name.
        title: Human-readable title.
        description: Overrides the docstring.
        complete: Completers for arguments, by argument name.

    Returns:
        The function, unchanged but for the recorded spec.
    """
    spec = PromptSpec(
        name=name, title=title, description=description, complete=dict(complete or {})
    )

    def mark(function: F) -> F:
        setattr(function, _PROMPT_ATTR, spec)
        return function

    return mark(fn) if fn is not None else mark


def tool_spec(function: Callable[..., Any]) -> ToolSpec | None:
    """Return the :class:`ToolSpec` recorded on ``function``, if any."""
    return getattr(function, _TOOL_ATTR, None)


def resource_spec(function: Callable[..., Any]) -> ResourceSpec | None:
    """Return the :class:`ResourceSpec` recorded on ``function``, if any."""
    return getattr(function, _RESOURCE_ATTR, None)


def prompt_spec(function: Callable[..., Any]) -> PromptSpec | None:
    """Return the :class:`PromptSpec` recorded on ``function``, if any."""
    return getattr(function, _PROMPT_ATTR, None)
