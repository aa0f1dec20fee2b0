"""The authentication backends an ``[auth]`` table turns on, in the order they are asked.

Several backends can be active at once. They are asked in this order: JWT bearer
tokens, API keys, then token introspection (which claims every bearer token left,
so it goes last). stdio never asks them: it is local trust.

The backends' modules are imported only when their table is configured, so a server
with API keys alone never imports PyJWT or the HTTP client.
"""

from __future__ import annotations

from plugbay.auth import AuthBackend
from plugbay_auth.resource_metadata import bearer_challenge
from plugbay_auth.settings import AuthConfig


def auth_backends(auth: AuthConfig) -> list[AuthBackend]:
    """The configured backends, in the order they are asked."""
    backends: list[AuthBackend] = []
    if auth.jwt is not None:
        from plugbay_auth.jwt_bearer import JwtBackend

        assert auth.resource is not None  # AuthConfig requires it with [auth.jwt]
        backends.append(
            JwtBackend(
                auth.jwt,
                audience=auth.jwt.audience or [auth.resource],
                challenge=bearer_challenge(auth, auth.jwt.required_scopes),
            )
        )
    if auth.api_keys:
        from plugbay_auth.api_keys import ApiKeyBackend

        backends.append(ApiKeyBackend(auth.api_keys))
    if auth.introspection is not None:
        from plugbay_auth.introspection import IntrospectionBackend

        assert auth.resource is not None  # AuthConfig requires it with [auth.introspection]
        backends.append(
            IntrospectionBackend(
                auth.introspection,
                audience=auth.introspection.audience or [auth.resource],
                challenge=bearer_challenge(auth, auth.introspection.required_scopes),
            )
        )
    return backends
