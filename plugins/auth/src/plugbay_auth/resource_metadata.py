"""OAuth 2.0 Protected Resource Metadata (RFC 9728): how clients learn where to get a token.

An MCP client that gets a ``401`` reads ``resource_metadata`` from the
``WWW-Authenticate`` header, fetches that document, and finds there the authorization
servers that issue tokens for this server and the scopes it knows.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from plugbay_auth.settings import AuthConfig

WELL_KNOWN = "/.well-known/oauth-protected-resource"
_CORS = {
    # Browser-based clients (the MCP Inspector) fetch this from another origin.
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, OPTIONS",
    "access-control-allow-headers": "mcp-protocol-version",
}


def metadata_url(resource: str) -> str:
    """Where the metadata of ``resource`` lives: the well-known path before its own path."""
    parts = urlsplit(resource)
    path = "" if parts.path in ("", "/") else parts.path
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


def metadata_document(auth: AuthConfig) -> dict[str, Any]:
    """The metadata document (RFC 9728 section 2)."""
    assert auth.resource is not None
    document: dict[str, Any] = {
        "resource": auth.resource,
        "authorization_servers": auth.authorization_servers,
        "bearer_methods_supported": ["header"],
    }
    if auth.jwt is not None:
        document["resource_signing_alg_values_supported"] = auth.jwt.algorithms
    if auth.scopes_supported is not None:
        document["scopes_supported"] = auth.scopes_supported
    if auth.resource_name is not None:
        document["resource_name"] = auth.resource_name
    if auth.resource_documentation is not None:
        document["resource_documentation"] = auth.resource_documentation
    return document


def bearer_challenge(auth: AuthConfig, required_scopes: list[str]) -> str:
    """The ``WWW-Authenticate`` value that points clients at the metadata."""
    assert auth.resource is not None
    challenge = f'Bearer resource_metadata="{metadata_url(auth.resource)}"'
    if required_scopes:
        challenge += f', scope="{" ".join(required_scopes)}"'
    return challenge


METHODS = ["GET", "OPTIONS"]
"""What the metadata routes answer: the document, and CORS preflights."""


def metadata_paths(auth: AuthConfig, server_path: str) -> list[str]:
    """Where the document is served; none when no resource URL or issuer is configured.

    At the well-known path plus the resource URL's path (what RFC 9728 and the MCP
    spec ask), plus the server's own ``path`` (when a proxy maps the public path to
    another one) and the bare well-known path (what older clients try).
    """
    if auth.resource is None or not auth.authorization_servers:
        return []
    resource_path = urlsplit(auth.resource).path.rstrip("/")
    return list(dict.fromkeys([WELL_KNOWN + resource_path, WELL_KNOWN + server_path, WELL_KNOWN]))


def metadata_endpoint(auth: AuthConfig) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint that serves the document (built once) and answers CORS preflights."""
    body = json.dumps(metadata_document(auth)).encode()

    async def endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_CORS)
        return Response(
            body,
            media_type="application/json",
            headers={**_CORS, "cache-control": "public, max-age=3600"},
        )

    return endpoint
