"""The RFC 9728 protected-resource metadata: the document, its routes, the challenge."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from plugbay_auth import AuthConfig, register_routes
from plugbay_auth.resource_metadata import bearer_challenge, metadata_document, metadata_url

RESOURCE = "https://mcp.example.com/team/mcp"
TABLE: dict[str, Any] = {
    "resource": RESOURCE,
    "scopes_supported": ["crm:read"],
    "resource_name": "Team tools",
    "resource_documentation": "https://wiki.example.com/mcp",
    "jwt": {
        "jwks_url": "https://idp.example.com/jwks",
        "issuer": "https://idp.example.com",
        "algorithms": ["ES256"],
    },
}


def served(auth_config) -> TestClient:
    """The routes register_routes gives, mounted as the host mounts public routes."""
    routes: list[Route] = []

    def register(endpoint: Any, /, *, path: str, methods: list[str], public: bool) -> None:
        routes.append(Route(path, endpoint=endpoint, methods=methods))

    register_routes(register, auth_config(TABLE))
    return TestClient(Starlette(routes=routes))


def test_the_metadata_url_puts_the_well_known_path_first() -> None:
    assert metadata_url(RESOURCE) == (
        "https://mcp.example.com/.well-known/oauth-protected-resource/team/mcp"
    )
    assert metadata_url("https://mcp.example.com/") == (
        "https://mcp.example.com/.well-known/oauth-protected-resource"
    )


def test_the_document_names_the_issuer_scopes_and_algorithms() -> None:
    assert metadata_document(AuthConfig.model_validate(TABLE)) == {
        "resource": RESOURCE,
        "authorization_servers": ["https://idp.example.com"],
        "bearer_methods_supported": ["header"],
        "resource_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["crm:read"],
        "resource_name": "Team tools",
        "resource_documentation": "https://wiki.example.com/mcp",
    }


def test_every_route_serves_the_document_with_cors(auth_config) -> None:
    client = served(auth_config)
    for path in (
        "/.well-known/oauth-protected-resource/team/mcp",
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json()["resource"] == RESOURCE
        assert response.headers["content-type"] == "application/json"
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cache-control"] == "public, max-age=3600"


def test_a_cors_preflight_gets_204(auth_config) -> None:
    response = served(auth_config).options("/.well-known/oauth-protected-resource/team/mcp")
    assert response.status_code == 204
    assert response.headers["access-control-allow-methods"] == "GET, OPTIONS"
    assert response.content == b""


def test_the_challenge_points_at_the_metadata_and_names_required_scopes() -> None:
    auth = AuthConfig.model_validate(TABLE)
    url = "https://mcp.example.com/.well-known/oauth-protected-resource/team/mcp"
    assert bearer_challenge(auth, []) == f'Bearer resource_metadata="{url}"'
    assert bearer_challenge(auth, ["a", "b"]) == f'Bearer resource_metadata="{url}", scope="a b"'
