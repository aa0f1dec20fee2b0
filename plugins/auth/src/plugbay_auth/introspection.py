"""OAuth 2.0 token introspection (RFC 7662): ask the authorization server about a token.

For opaque tokens, or when revocation must take effect at once. The verdict for an
active token is remembered (under the token's SHA-256 digest) for ``cache_seconds`` at
most, so a revoked token may work that long; set it to 0 to ask on every request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx2

from plugbay.auth import AuthenticationFailed, HttpRequestInfo, Principal
from plugbay_auth.bearer import ClaimMapping, TokenCache, bearer_token, require_scopes
from plugbay_auth.settings import IntrospectionConfig

logger = logging.getLogger(__name__)


def _audiences(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {str(item) for item in value}
    return set()


class IntrospectionBackend:
    """Authenticates bearer tokens by asking the authorization server (RFC 7662).

    Register it after the other bearer backends: it claims every bearer token, so
    the JWT and API-key backends get theirs first.

    Args:
        settings: The ``[auth.introspection]`` table.
        audience: The accepted audiences.
        challenge: The ``WWW-Authenticate`` value for a 401.
        clock: Seconds since the epoch (tests pass a fake one).
    """

    name = "introspection"

    def __init__(
        self,
        settings: IntrospectionConfig,
        *,
        audience: list[str],
        challenge: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.audience = set(audience)
        self._challenge = challenge
        self._clock = clock
        self.cache = TokenCache(settings.cache_size if settings.cache_seconds > 0 else 0)
        self._claims = ClaimMapping(
            principal=settings.principal_claim,
            scopes=settings.scope_claim,
            roles=settings.roles_claim or None,
        )
        self.requests = 0

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        """The token's principal; refused when the server says it is not active."""
        token = bearer_token(request.headers)
        if token is None:
            return None
        key = TokenCache.key(token)
        principal = self.cache.get(key, self._clock())
        if principal is not None:
            return principal
        verdict = await self._introspect(token)
        principal = self._check(verdict)
        now = self._clock()
        expires = verdict.get("exp")
        expires_at = now + self.settings.cache_seconds
        if isinstance(expires, int | float):
            expires_at = min(expires_at, float(expires) + self.settings.leeway)
        self.cache.put(key, principal, now, expires_at)
        return principal

    async def _introspect(self, token: str) -> dict[str, Any]:
        settings = self.settings
        auth = None
        if settings.client_id is not None:
            secret = settings.client_secret.get_secret_value() if settings.client_secret else ""
            auth = httpx2.BasicAuth(settings.client_id, secret)
        self.requests += 1
        try:
            async with httpx2.AsyncClient(timeout=settings.http_timeout, auth=auth) as client:
                response = await client.post(
                    settings.endpoint,
                    data={"token": token, "token_type_hint": "access_token"},
                    headers={"accept": "application/json"},
                )
            response.raise_for_status()
            verdict = response.json()
        except (httpx2.HTTPError, ValueError) as error:
            # The error names the endpoint and status, never the token or the secret.
            logger.warning("token introspection at %s failed: %s", settings.endpoint, error)
            raise AuthenticationFailed(
                "the token could not be checked right now; try again shortly",
                error="temporarily_unavailable",
                status=503,
            ) from None
        if not isinstance(verdict, dict):
            raise AuthenticationFailed(
                "the token could not be checked right now; try again shortly",
                error="temporarily_unavailable",
                status=503,
            )
        return verdict

    def _check(self, verdict: dict[str, Any]) -> Principal:
        settings = self.settings
        if verdict.get("active") is not True:
            raise AuthenticationFailed("the token is not active (expired, revoked or unknown)")
        now = self._clock()
        expires, not_before = verdict.get("exp"), verdict.get("nbf")
        if isinstance(expires, int | float) and now > expires + settings.leeway:
            raise AuthenticationFailed("the token has expired")
        if isinstance(not_before, int | float) and now < not_before - settings.leeway:
            raise AuthenticationFailed("the token is not valid yet")
        issuer = verdict.get("iss")
        if settings.issuer is not None and issuer is not None and issuer != settings.issuer:
            raise AuthenticationFailed("the token's issuer is not accepted here")
        audiences = _audiences(verdict.get("aud"))
        if audiences and not audiences & self.audience:
            raise AuthenticationFailed("the token was not issued for this server (wrong audience)")
        if not audiences and settings.audience_required:
            raise AuthenticationFailed(
                "the token names no audience, so it may not be for this server"
            )
        claims = dict(verdict)
        if settings.principal_claim not in claims and "username" in claims:
            claims[settings.principal_claim] = claims["username"]
        principal = self._claims.principal_of(claims)
        require_scopes(principal, settings.required_scopes)
        return principal

    def challenge(self) -> str | None:
        """``Bearer resource_metadata="..."``: where clients learn how to get a token."""
        return self._challenge
