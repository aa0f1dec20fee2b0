"""plugbay-auth: who may connect to a plugbay server over HTTP.

Install it next to ``plugbay`` and configure an ``[auth]`` table::

    [auth]
    resource = "https://mcp.example.com/mcp"

    [auth.jwt]
    jwks_url = "https://idp.example.com/jwks"
    issuer = "https://idp.example.com"

    [[auth.api_keys]]
    name = "ci-bot"
    hash = "sha256:..."        # from `plugbay keys new`

Everything goes through plugbay's public hooks: the plugin claims the ``[auth]`` table,
registers the backends it names (``tryfirst``, so they are asked before other plugins'),
serves the RFC 9728 metadata routes and adds ``plugbay keys`` to the command line. The
host enforces the backends and fails closed: an ``[auth]`` table with this plugin
missing or broken stops the server from starting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from plugbay import hookimpl
from plugbay_auth.api_keys import ApiKeyBackend, hash_api_key, new_api_key
from plugbay_auth.backends import auth_backends
from plugbay_auth.settings import ApiKeyConfig, AuthConfig, IntrospectionConfig, JwtConfig

if TYPE_CHECKING:
    from plugbay.auth import AuthBackend
    from plugbay.config import Config

__all__ = [
    "TABLE",
    "ApiKeyBackend",
    "ApiKeyConfig",
    "AuthConfig",
    "IntrospectionConfig",
    "JwtConfig",
    "auth_backends",
    "auth_table",
    "hash_api_key",
    "new_api_key",
    "register_auth",
    "register_commands",
    "register_config_tables",
    "register_routes",
]

TABLE = "auth"
"""The top-level table of ``plugbay.toml`` this plugin owns."""


def auth_table(config: Config) -> AuthConfig | None:
    """The validated ``[auth]`` table, or ``None`` when the configuration has none.

    Raises:
        TypeError: The table was validated by another model than :class:`AuthConfig`
            (another plugin claimed it); from ``register_auth`` this stops the server
            from starting rather than serving without the table's backends.
    """
    table = config.table(TABLE)
    if table is None or isinstance(table, AuthConfig):
        return table
    raise TypeError(
        f"[{TABLE}] was validated as {type(table).__name__}, not plugbay-auth's AuthConfig"
    )


@hookimpl
def register_config_tables(register: Callable[..., None]) -> None:
    """Claim ``[auth]``, validated by :class:`AuthConfig`."""
    register(AuthConfig, table=TABLE)


@hookimpl(tryfirst=True)
def register_auth(register: Callable[[AuthBackend], None], config: Config) -> None:
    """The ``[auth]`` backends: JWT bearer tokens, API keys, token introspection.

    ``tryfirst``, so they are asked before other plugins' backends. Nothing is
    registered without an ``[auth]`` table.

    Raises:
        ValueError: The table names no backend (:class:`AuthConfig` refuses such a
            table when it is read; this holds for one built another way). This is a
            security hook, so the server then refuses to start instead of letting
            everyone in.
    """
    auth = auth_table(config)
    if auth is None:
        return
    backends = auth_backends(auth)
    if not backends:
        raise ValueError("[auth] names no backend, so it would let every request in")
    for backend in backends:
        register(backend)


@hookimpl
def register_routes(register: Callable[..., None], config: Config) -> None:
    """The RFC 9728 protected-resource metadata, public (clients read it before a token).

    Registered when ``[auth]`` names a ``resource`` and authorization servers (given,
    or the ``[auth.jwt]`` issuer); see :func:`plugbay_auth.resource_metadata.metadata_paths`.
    """
    auth = auth_table(config)
    if auth is None:
        return
    from plugbay_auth.resource_metadata import METHODS, metadata_endpoint, metadata_paths

    paths = metadata_paths(auth, config.server.path)
    if not paths:
        return
    endpoint = metadata_endpoint(auth)
    for path in paths:
        register(endpoint, path=path, methods=list(METHODS), public=True)


@hookimpl
def register_commands(register: Callable[..., None]) -> None:
    """``plugbay keys new`` and ``plugbay keys hash``."""
    from plugbay_auth.commands import keys_group

    register(keys_group)
