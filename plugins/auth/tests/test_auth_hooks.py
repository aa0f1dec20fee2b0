"""plugbay-auth's hook implementations, called directly and through the real host."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

import plugbay_auth
from plugbay import AuthBackend, HttpRequestInfo, Principal, hookimpl
from plugbay.config import Config
from plugbay_auth import (
    AuthConfig,
    hash_api_key,
    register_auth,
    register_config_tables,
    register_routes,
)
from plugbay_auth.api_keys import ApiKeyBackend
from plugbay_auth.introspection import IntrospectionBackend
from plugbay_auth.jwt_bearer import JwtBackend

KEY = "pbk_" + "h" * 43
RESOURCE = "https://mcp.example.com/mcp"
ALL_THREE = {
    "resource": RESOURCE,
    "authorization_servers": ["https://idp.example.com"],
    "api_keys": [{"name": "ci", "hash": hash_api_key(KEY)}],
    "jwt": {"jwks_url": "https://idp.example.com/jwks", "issuer": "https://idp.example.com"},
    "introspection": {"endpoint": "https://idp.example.com/introspect"},
}


def collected(hook: Any, config: Config) -> list[tuple[Any, dict[str, Any]]]:
    found: list[tuple[Any, dict[str, Any]]] = []
    hook(lambda item, /, **options: found.append((item, options)), config)
    return found


def test_it_claims_the_auth_table_with_its_model() -> None:
    claims: list[tuple[Any, dict[str, Any]]] = []
    register_config_tables(lambda item, /, **options: claims.append((item, options)))
    assert claims == [(AuthConfig, {"table": "auth"})]


def test_without_an_auth_table_it_registers_nothing(auth_config) -> None:
    config = auth_config(None)
    assert collected(register_auth, config) == []
    assert collected(register_routes, config) == []


def test_backends_are_registered_jwt_then_keys_then_introspection(auth_config) -> None:
    backends = [item for item, _ in collected(register_auth, auth_config(ALL_THREE))]
    assert [type(backend) for backend in backends] == [
        JwtBackend,
        ApiKeyBackend,
        IntrospectionBackend,
    ]
    assert all(isinstance(backend, AuthBackend) for backend in backends)


def test_a_table_that_names_no_backend_stops_the_server_rather_than_let_everyone_in() -> None:
    # AuthConfig refuses such a table when it is read; one built without validation
    # still does not pass silently.
    config = Config(tables={"auth": AuthConfig.model_construct(resource=RESOURCE)})
    with pytest.raises(ValueError, match="names no backend"):
        collected(register_auth, config)


def test_a_table_validated_by_another_model_is_refused_not_ignored() -> None:
    class Impostor(BaseModel):
        api_keys: list[str] = []

    config = Config(tables={"auth": Impostor()})
    with pytest.raises(TypeError, match="not plugbay-auth's AuthConfig"):
        collected(register_auth, config)


class _Anyone:
    """Another plugin's backend that accepts every request."""

    name = "anyone"

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        return Principal(name="anyone")

    def challenge(self) -> str | None:
        return None


class _OtherPlugin:
    @staticmethod
    @hookimpl
    def register_auth(register: Any) -> None:
        register(_Anyone())


@pytest.mark.parametrize("auth_first", [True, False], ids=["auth-loaded-first", "auth-last"])
def test_its_backends_are_asked_before_other_plugins(auth_first: bool) -> None:
    """``tryfirst``: whatever order the plugins load in, a bad key is not let in by another."""
    import tomllib

    from plugbay.assembly import assemble
    from plugbay.config import parse_config
    from plugbay.plugins import load_plugins

    plugins: dict[str, object] = {"auth": plugbay_auth, "other": _OtherPlugin()}
    if not auth_first:
        plugins = dict(reversed(plugins.items()))
    registry = load_plugins({}, extra=plugins, entry_points=False)
    toml = f'[[auth.api_keys]]\nname = "ci"\nhash = "{hash_api_key(KEY)}"\n'
    assembly = assemble(registry, parse_config(tomllib.loads(toml), environ={}))
    assert [backend.name for backend in assembly.auth_backends] == ["api-keys", "anyone"]


def test_routes_are_public_and_answer_get_and_preflight(auth_config) -> None:
    routes = collected(register_routes, auth_config(ALL_THREE, path="/internal/mcp"))
    assert [options["path"] for _, options in routes] == [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource/internal/mcp",
        "/.well-known/oauth-protected-resource",
    ]
    for endpoint, options in routes:
        assert options["public"] is True
        assert options["methods"] == ["GET", "OPTIONS"]
        assert endpoint is routes[0][0]  # one endpoint, one document built once


def test_the_server_path_is_not_served_twice(auth_config) -> None:
    routes = collected(register_routes, auth_config(ALL_THREE, path="/mcp"))
    assert [options["path"] for _, options in routes] == [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ]


@pytest.mark.parametrize(
    "table",
    [
        {"api_keys": [{"name": "ci", "hash": hash_api_key(KEY)}]},
        {"resource": RESOURCE, "api_keys": [{"name": "ci", "hash": hash_api_key(KEY)}]},
    ],
    ids=["no-resource", "no-authorization-server"],
)
def test_no_metadata_without_a_resource_and_an_issuer(auth_config, table: dict[str, Any]) -> None:
    assert collected(register_routes, auth_config(table)) == []


def test_the_host_serves_the_routes_it_collected(assembled) -> None:
    toml = f"""
[auth]
resource = "{RESOURCE}"
[auth.jwt]
jwks_url = "https://idp.example.com/jwks"
issuer = "https://idp.example.com"
"""
    routes = assembled(toml).extensions.routes
    assert [(route.plugin, route.path, route.public) for route in routes] == [
        ("auth", "/.well-known/oauth-protected-resource/mcp", True),
        ("auth", "/.well-known/oauth-protected-resource", True),
    ]
