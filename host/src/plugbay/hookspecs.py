"""The plugin contract: every hook a plugbay plugin may implement.

A plugin is a module listed under the ``plugbay`` entry-point group. It implements
any of the hooks below with the :data:`hookimpl` marker. Each hook receives a
``register`` callback: the plugin says *what* it adds, the host decides *how* to
keep it. Every hook may also take ``config``, the server configuration; as with any
pluggy hook, an implementation lists only the arguments it uses.

Hooks run once, when the server is assembled, never while a request is being served.
The host calls each plugin's implementation on its own, so a plugin whose hook raises
is reported and the others still load; except for the security hooks,
``register_auth`` and ``register_middleware``: when one of them fails the server
refuses to start, naming the plugin and why (fail closed, :mod:`plugbay.fail_closed`).

Implementations are called in pluggy's order: ``@hookimpl(tryfirst=True)`` ones
first, ``trylast`` ones last, and otherwise the plugin registered last first. What
they register keeps that order; for middleware, first means outermost.

Example::

    from plugbay import hookimpl

    @hookimpl
    def register_connectors(register):
        register(CopperConnector)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from plugbay.auth import AuthBackend
    from plugbay.config import Config
    from plugbay.connector import Connector
    from plugbay.middleware import Middleware

PROJECT_NAME = "plugbay"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_connectors(register: Callable[[type[Connector[Any]]], None], config: Config) -> None:
    """Register connector classes: configurable backends with tools, resources and prompts.

    Called once at assembly. A connector class carries a settings model and methods
    marked with :func:`plugbay.tool`, :func:`plugbay.resource` and
    :func:`plugbay.prompt`. The user configures one or more *instances* of it in
    ``plugbay.toml``; each instance gets its own namespace (``<instance>_<tool>``).
    A server's policy decides on the connector's resources, and on the paths its tools
    declare (``@tool(paths=...)``), in the canonical form the connector gives
    (:meth:`plugbay.Connector.canonical_uri`, :meth:`plugbay.Connector.canonical_paths`).

    Args:
        register: Call it with each :class:`plugbay.Connector` subclass the plugin
            provides. Connector names (``Connector.name``) must be unique across plugins.
        config: The server configuration, read-only; a plugin's own settings are
            ``config.plugin_table("<plugin name>")`` (the ``[plugins.<name>]`` table).
    """


@hookspec
def register_tools(register: Callable[..., None], config: Config) -> None:
    """Register freestanding tools that need no configuration.

    Called once at assembly. The tool keeps the name it was given (no instance
    prefix), so pick a distinctive one; a clash with another tool is an assembly error
    that names both plugins.

    Args:
        register: Call it with a function, plain or decorated with
            :func:`plugbay.tool`. Keyword arguments are passed on to
            :func:`plugbay.tool` (``register(fn, name="x", read_only=True)``).
        config: The server configuration, read-only; a plugin's own settings are
            ``config.plugin_table("<plugin name>")`` (the ``[plugins.<name>]`` table).
    """


@hookspec
def register_resources(register: Callable[..., None], config: Config) -> None:
    """Register freestanding resources and resource templates.

    Called once at assembly. The URI is used as given: a fixed URI makes a resource,
    a URI with RFC 6570 variables (``notes://{name}``) makes a resource template whose
    variables become the function's arguments.

    Args:
        register: Call it with a function decorated with :func:`plugbay.resource`,
            or as ``register(fn, uri="notes://{name}", mime_type="text/plain")``.
        config: The server configuration, read-only; a plugin's own settings are
            ``config.plugin_table("<plugin name>")`` (the ``[plugins.<name>]`` table).
    """


@hookspec
def register_prompts(register: Callable[..., None], config: Config) -> None:
    """Register freestanding prompts.

    Called once at assembly. The prompt's arguments come from the function's
    parameters; it returns a string (one user message) or a list of messages.

    Args:
        register: Call it with a function, plain or decorated with
            :func:`plugbay.prompt`.
        config: The server configuration, read-only; a plugin's own settings are
            ``config.plugin_table("<plugin name>")`` (the ``[plugins.<name>]`` table).
    """


@hookspec
def register_auth(register: Callable[[AuthBackend], None], config: Config) -> None:
    """Register authentication backends for the HTTP transports.

    Called once at assembly. When at least one backend is registered, every HTTP
    request must be accepted by one of them: backends are asked in pluggy's call
    order (the built-in ``[auth]`` backends are ``tryfirst``) and, within a plugin,
    in the order it registers them; the first that returns a
    :class:`plugbay.Principal` wins. A request no backend accepts gets ``401``.
    stdio is local trust and never asks them.

    This is a security hook: if it raises, or registers something without an
    ``authenticate`` method, the server refuses to start (stdio too) rather than
    serve without the backend. So does an ``[auth]`` table for which no backend
    was registered.

    Args:
        register: Call it with each :class:`plugbay.AuthBackend` instance.
        config: The server configuration, read-only; a plugin's own settings are
            ``config.plugin_table("<plugin name>")`` (the ``[plugins.<name>]`` table).
    """


@hookspec
def register_middleware(register: Callable[[Middleware], None], config: Config) -> None:
    """Register middleware that wraps every tool call, resource read and prompt get.

    Called once at assembly; the chain is composed then, so a call pays only for
    the middleware that is registered. A middleware is ``async (call, call_next)``:
    it receives a :class:`plugbay.Call` and returns what ``await call_next(call)``
    returns, or raises :class:`plugbay.CallRefused` (a :class:`plugbay.ToolError`
    with an ``outcome``) to refuse the call.

    Order is pluggy's call order, and first is outermost: an implementation marked
    ``@hookimpl(tryfirst=True)`` wraps the others, one marked ``trylast`` sits
    innermost, next to the component; within one implementation, what is registered
    first is outermost. The built-in layers (telemetry, audit, policy, limits,
    timeout) are ``tryfirst``, so a plain plugin middleware runs inside them, on
    admitted calls only; a plugin that must see calls before the policy does marks
    itself ``tryfirst`` (and, registered after the built-ins, it is then outermost).

    This is a security hook: middleware is where calls are refused, and a hook that
    fails cannot say whether it would have refused any, so if it raises, or registers
    something that is not callable, the server refuses to start (stdio too).

    Args:
        register: Call it with each middleware callable.
        config: The server configuration, read-only; a plugin's own settings are
            ``config.plugin_table("<plugin name>")`` (the ``[plugins.<name>]`` table).
    """
