"""The plugin contract: every hook a plugbay plugin may implement.

A plugin is a module listed under the ``plugbay`` entry-point group. It implements
any of the hooks below with the :data:`hookimpl` marker. Each hook receives a
``register`` callback: the plugin says *what* it adds, the host decides *how* to
keep it. Every hook may also take ``config``, the server configuration; as with any
pluggy hook, an implementation lists only the arguments it uses.

Hooks run once, when the server is assembled (``register_config_tables`` when the
configuration is read, ``register_commands`` when the command line needs them), never
while a request is being served. The host calls each plugin's implementation on its
own, so a plugin whose hook raises is reported and the others still load; except for
the security hooks (``register_auth``, ``register_middleware``,
``register_visibility``, ``register_asgi_wrappers``, ``register_message_middleware``):
when one of them fails the server refuses to start, naming the plugin and why (fail
closed, :mod:`plugbay.fail_closed`).

A hook that finds the configuration wrong raises :class:`plugbay.ConfigError`: that
stops the server with its problems, as any configuration error does.

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
    from mcp.server.streamable_http import EventStore

    from plugbay.auth import AuthBackend
    from plugbay.config import Config
    from plugbay.connector import Connector

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
    order (plugbay-auth's ``[auth]`` backends are ``tryfirst``) and, within a plugin,
    in the order it registers them; the first that returns a
    :class:`plugbay.Principal` wins. A request no backend accepts gets ``401``.
    stdio is local trust and never asks them.

    This is a security hook: if it raises, or registers something without an
    ``authenticate`` method, the server refuses to start (stdio too) rather than
    serve without the backend. (An ``[auth]`` table with plugbay-auth missing, blocked
    or broken is refused before this: no plugin claims it, see
    :func:`register_config_tables`; plugbay-auth refuses one that names no backend.)

    Args:
        register: Call it with each :class:`plugbay.AuthBackend` instance.
        config: The server configuration, read-only; a plugin's own settings are
            ``config.plugin_table("<plugin name>")`` (the ``[plugins.<name>]`` table).
    """


@hookspec
def register_middleware(register: Callable[..., None], config: Config) -> None:
    """Register middleware that wraps every tool call, resource read and prompt get.

    Called once at assembly; the chain is composed then, so a call pays only for
    the middleware that is registered. A middleware is ``async (call, call_next)``:
    it receives a :class:`plugbay.Call` and returns what ``await call_next(call)``
    returns, or raises :class:`plugbay.CallRefused` (a :class:`plugbay.ToolError`
    with an ``outcome``) to refuse the call.

    Each middleware belongs to a stage, and the stages nest in a fixed order:
    ``observe`` (outermost: sees every call and every outcome, refusals included;
    telemetry, audit logs), then ``admit`` (decides whether the call may run: policy,
    rate limits, concurrency caps), then ``run`` (innermost, the default: works on
    admitted calls only; the host's per-call timeout is its outermost layer). Within
    a stage, pluggy's call order holds and first is outermost: an implementation
    marked ``@hookimpl(tryfirst=True)`` wraps the others of its stage; within one
    implementation, what is registered first is outermost.

    This is a security hook: middleware is where calls are refused, and a hook that
    fails cannot say whether it would have refused any, so if it raises, registers
    something that is not callable, or names an unknown stage, the server refuses to
    start (stdio too).

    Args:
        register: Call it as ``register(middleware, stage="run")``; ``stage`` is
            ``"observe"``, ``"admit"`` or ``"run"`` (:data:`plugbay.STAGES`).
        config: The server configuration, read-only; a plugin's own settings are
            ``config.plugin_table("<plugin name>")`` (the ``[plugins.<name>]`` table).
    """


@hookspec
def register_config_tables(register: Callable[..., None]) -> None:
    """Claim top-level tables of ``plugbay.toml`` and give the model that validates each.

    Called once, when the configuration is read, before the other hooks (so it takes
    no ``config``). The host validates every claimed table with its model (``${VAR}``
    replaced; relative :data:`plugbay.ConfigPath` values start from the file's folder)
    and reports every problem of every table at once, each with its location. A table
    no loaded plugin claims is an error that names the distribution to install when
    the table is a known one (``[auth]`` is ``plugbay-auth``'s). Two plugins claiming
    one table is an error reported against the second.

    The validated table is ``config.table("<name>")`` in every other hook (``None``
    when the file has no such table).

    Args:
        register: Call it as ``register(Model, table="<name>")`` with a pydantic
            model class; the name is a bare TOML key (``auth``, ``my_cache``) and
            may not be ``server``, ``connectors`` or ``plugins``.
    """


@hookspec
def register_routes(register: Callable[..., None], config: Config) -> None:
    """Add HTTP routes to the server (``/metrics``, OAuth metadata, a webhook).

    Called once at assembly, for HTTP only. A route is authenticated like the MCP
    endpoint (the registered auth backends, the ASGI wrappers) unless registered
    ``public=True``. A path the host serves (``[server] path``, ``/healthz``,
    ``/readyz``, ``/sse``, ``/messages/``) or another plugin registered first is an
    error reported against the later plugin.

    Args:
        register: Call it as ``register(endpoint, path="/metrics", methods=["GET"],
            public=False)``; ``endpoint`` is ``async (starlette.requests.Request) ->
            starlette.responses.Response``. ``methods`` defaults to ``["GET"]``.
        config: The server configuration, read-only.
    """


@hookspec
def register_asgi_wrappers(register: Callable[..., None], config: Config) -> None:
    """Wrap the MCP endpoints (and non-public routes) in ASGI middleware of the plugin's.

    Called once at assembly, on every transport (so a broken wrapper stops stdio too);
    the wrappers serve HTTP only. A wrapper is ``(app) -> app`` in ASGI
    terms; it runs for every request to the MCP endpoints and to routes registered
    without ``public=True``, after the Host and Origin checks and **before**
    authentication, so it can refuse a request before any credential is looked at
    (a client-address allow-list) or observe every one. First registered is
    outermost, in pluggy's order.

    This is a security hook: a wrapper may be what refuses requests, so if the hook
    raises or registers something that is not callable, the server refuses to start.

    Args:
        register: Call it with each wrapper, ``register(wrapper)``.
        config: The server configuration, read-only.
    """


@hookspec
def register_lifespan(register: Callable[..., None], config: Config) -> None:
    """Run code for as long as the server serves: set up at start, clean up at stop.

    Called once at assembly. Each registered factory is called when serving starts
    (HTTP, in each worker process; stdio; ``plugbay call``) and must return an async
    context manager; the host enters them in registration order before the connector
    instances start and exits them in reverse order after the instances stop. If
    entering one raises, the server does not start and says which plugin failed.

    Args:
        register: Call it with a factory, ``register(factory)``, where ``factory()``
            returns an async context manager (``contextlib.asynccontextmanager``).
        config: The server configuration, read-only.
    """


@hookspec
def register_readiness_checks(register: Callable[..., None], config: Config) -> None:
    """Add checks to ``/readyz``: the server is ready only when every check passes.

    Called once at assembly. A check is ``async () -> None`` that raises when what it
    checks is not ready; ``/readyz`` runs all of them (with the instances' own health
    checks) concurrently, each within a few seconds, and answers ``503`` when one
    fails. The error's text is shown only to authenticated or loopback callers.

    Args:
        register: Call it as ``register(check, name="redis")``; names are unique per
            server (a clash is reported against the later plugin).
        config: The server configuration, read-only.
    """


@hookspec(firstresult=True)
def provide_event_store(config: Config) -> EventStore | None:
    """Give the event store that lets clients resume dropped SSE streams (``Last-Event-ID``).

    Called once at assembly; the first plugin (in pluggy's order) that returns one
    wins, and ``None`` means "not mine". Used in stateful HTTP mode only (stateless
    requests cannot be resumed). The object is an ``mcp.server.streamable_http.EventStore``;
    a plugin that opens connections for it closes them in its own
    :func:`register_lifespan`.

    Args:
        config: The server configuration, read-only.

    Returns:
        The event store, or ``None``.
    """


@hookspec
def register_commands(register: Callable[..., None]) -> None:
    """Add commands to the ``plugbay`` command line (``plugbay keys``, ``plugbay cache``).

    Called when the command line needs the plugins' commands (``plugbay --help``, or a
    name that is not a core command), before any configuration is read (so it takes no
    ``config``; a command that needs it reads it itself); core commands never load
    plugins for it, so a broken plugin cannot stop ``plugbay uninstall``. A command whose name a
    core command or an earlier plugin has is left out with a warning naming the plugin;
    a plugin that fails to load does not stop the other commands.

    Args:
        register: Call it with a ``click.Command`` or ``click.Group``.
    """


@hookspec
def register_visibility(register: Callable[..., None], config: Config) -> None:
    """Decide which tools, resources and prompts a caller sees in the lists.

    Called once at assembly. A visibility check is ``(principal, kind, name, instance)
    -> bool``; the server leaves out of ``tools/list``, ``resources/list``,
    ``resources/templates/list``, ``prompts/list`` and completions whatever any check
    answers ``False`` for. It is asked for every item of every list, so it should
    answer from memory. Hiding is not refusing: pair it with an ``admit`` middleware
    that refuses the calls.

    This is a security hook: if it raises or registers something that is not
    callable, the server refuses to start.

    Args:
        register: Call it with each check, ``register(visible)``; see
            :data:`plugbay.Visibility`.
        config: The server configuration, read-only.
    """


@hookspec
def register_message_middleware(register: Callable[..., None], config: Config) -> None:
    """Wrap every MCP message the server receives (requests and notifications).

    Called once at assembly. Message middleware is ``async (message, call_next)``:
    it gets a :class:`plugbay.IncomingMessage` (method, params, session, principal) and
    returns what ``await call_next(message)`` returns, or raises
    :class:`plugbay.MessageRefused` to answer the request with an error. It sees
    ``initialize``, ``tools/list`` and every other method, where call middleware
    (:func:`register_middleware`) sees only tool calls, resource reads and prompt gets.
    First registered is outermost, in pluggy's order.

    This is a security hook: if it raises or registers something that is not
    callable, the server refuses to start.

    Args:
        register: Call it with each message middleware, ``register(middleware)``.
        config: The server configuration, read-only.
    """
