"""OAuth 2.1 bearer tokens that are JWTs, verified against the issuer's JWKS.

This is the resource-server half of the MCP authorization spec: the token's signature
(by a key the issuer publishes), issuer, audience (this server's resource URL),
expiry, not-before and scopes are all checked here, with PyJWT. The key set is
fetched on first use, refreshed when it is older than ``jwks_cache_seconds``, and
refetched at once (no more often than ``jwks_min_refresh_seconds``) when a token names
a key it does not have: that is how a rotated key is picked up.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import jwt
from jwt import PyJWK

from plugbay.auth import AuthenticationFailed, HttpRequestInfo, Principal
from plugbay_auth.bearer import (
    ClaimMapping,
    TokenCache,
    bearer_token,
    looks_like_jwt,
    require_scopes,
)
from plugbay_auth.settings import JwtConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One usable key of the set: the key object and the ``alg`` its JWK declares, if any."""

    key: Any
    algorithm: str | None


class JwksCache:
    """The issuer's signing keys, fetched over HTTP and refreshed as described above.

    Args:
        url: The JWKS URL.
        max_age: Seconds a fetched set is used before a refresh.
        min_refresh: Least seconds between two refreshes caused by an unknown key.
        timeout: Seconds a fetch may take.
        clock: A monotonic clock (tests pass a fake one).
    """

    def __init__(
        self,
        url: str,
        *,
        max_age: float,
        min_refresh: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.max_age = max_age
        self.min_refresh = min_refresh
        self.timeout = timeout
        self._clock = clock
        self._keys: dict[str | None, SigningKey] = {}
        self._raw: dict[str | None, str] = {}
        self._fetched_at: float | None = None
        self._lock: anyio.Lock | None = None
        self.generation = 0
        """Counts the changes of the key set; a change means removed keys may be gone."""
        self.fetched = False
        """Whether a key set was ever fetched."""

    async def refresh_if_stale(self) -> None:
        """Fetch the key set if it was never fetched or is older than ``max_age``."""
        if self._fetched_at is None or self._clock() - self._fetched_at >= self.max_age:
            await self._refresh(self._fetched_at)

    async def key(self, kid: str | None) -> SigningKey | None:
        """The key with this id (or the only key, when a token names none)."""
        await self.refresh_if_stale()
        found = self._lookup(kid)
        fetched_at = self._fetched_at
        if (
            found is None
            and fetched_at is not None
            and (self._clock() - fetched_at >= self.min_refresh)
        ):
            await self._refresh(fetched_at)
            found = self._lookup(kid)
        return found

    def _lookup(self, kid: str | None) -> SigningKey | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self, seen: float | None) -> None:
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._fetched_at != seen:
                return  # another request refreshed while this one waited
            try:
                document = await self._fetch()
            except (httpx2.HTTPError, ValueError) as error:
                logger.warning("could not fetch the signing keys from %s: %s", self.url, error)
                # Keep the keys there are; try again after the minimum interval.
                self._fetched_at = self._clock() - self.max_age + self.min_refresh
                return
            self._install(document)
            self._fetched_at = self._clock()
            self.fetched = True

    async def _fetch(self) -> Any:
        async with httpx2.AsyncClient(timeout=self.timeout) as client:
            response = await client.get(self.url, headers={"accept": "application/json"})
            response.raise_for_status()
            return response.json()

    def _install(self, document: Any) -> None:
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            logger.warning("the JWKS at %s has no 'keys' list; keeping the old keys", self.url)
            return
        keys: dict[str | None, SigningKey] = {}
        raw: dict[str | None, str] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                jwk = PyJWK(entry)
            except jwt.PyJWTError as error:
                logger.info("skipping a key in the JWKS at %s: %s", self.url, error)
                continue
            declared = entry.get("alg")
            keys[jwk.key_id] = SigningKey(jwk.key, declared if isinstance(declared, str) else None)
            raw[jwk.key_id] = json.dumps(entry, sort_keys=True)
        if raw != self._raw:
            if self._raw:
                logger.info("the signing keys at %s changed", self.url)
            self.generation += 1
        self._keys, self._raw = keys, raw


_FAILURES: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token was not issued for this server (wrong audience)"),
    (jwt.InvalidIssuerError, "the token's issuer is not accepted here"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "the token's signing algorithm is not accepted"),
)


class JwtBackend:
    """Authenticates ``Authorization: Bearer <JWT>`` requests.

    Tokens that are not JWTs are left to the next backend (``None``); a JWT that fails
    any check is refused with a message saying which check, never the token.

    Args:
        settings: The ``[auth.jwt]`` table.
        audience: The accepted audiences (the table's, else the resource URL).
        challenge: The ``WWW-Authenticate`` value for a 401.
        clock: Seconds since the epoch (tests pass a fake one).
    """

    name = "jwt"

    def __init__(
        self,
        settings: JwtConfig,
        *,
        audience: list[str],
        challenge: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.audience = audience
        self._challenge = challenge
        self._clock = clock
        self.keys = JwksCache(
            settings.jwks_url,
            max_age=settings.jwks_cache_seconds,
            min_refresh=settings.jwks_min_refresh_seconds,
            timeout=settings.http_timeout,
        )
        self.cache = TokenCache(settings.token_cache_size)
        self._cache_generation = 0
        self._algorithms = frozenset(settings.algorithms)
        self._claims = ClaimMapping(
            principal=settings.principal_claim,
            scopes=settings.scope_claim,
            roles=settings.roles_claim or None,
        )

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        """The token's principal, ``None`` when there is no JWT; refused when it is invalid."""
        token = bearer_token(request.headers)
        if token is None or not looks_like_jwt(token):
            return None
        # A withdrawn signing key must stop working within jwks_cache_seconds, even for
        # tokens verified before: a changed key set empties the cache.
        await self.keys.refresh_if_stale()
        self._forget_if_keys_changed()
        key = TokenCache.key(token)
        principal = self.cache.get(key, self._clock())
        if principal is not None:
            return principal
        return await self._verify(token, key)

    def _forget_if_keys_changed(self) -> None:
        if self.keys.generation != self._cache_generation:
            self.cache.clear()
            self._cache_generation = self.keys.generation

    async def _verify(self, token: str, cache_key: bytes) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationFailed("the bearer token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in self._algorithms:
            raise AuthenticationFailed("the token's signing algorithm is not accepted")
        kid = header.get("kid")
        key = await self.keys.key(kid if isinstance(kid, str) else None)
        self._forget_if_keys_changed()
        if key is None and not self.keys.fetched:
            raise AuthenticationFailed(
                "the issuer's signing keys cannot be fetched right now; try again shortly",
                error="temporarily_unavailable",
                status=503,
            )
        if key is None:
            raise AuthenticationFailed("the token is signed with a key the issuer does not publish")
        if key.algorithm is not None and key.algorithm != algorithm:
            raise AuthenticationFailed("the token's signing algorithm does not match its key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.MissingRequiredClaimError as error:
            raise AuthenticationFailed(f"the token has no {error.claim!r} claim") from None
        except jwt.PyJWTError as error:
            message = next(
                (text for kind, text in _FAILURES if isinstance(error, kind)),
                "the token is not valid",
            )
            raise AuthenticationFailed(message) from None
        principal = self._claims.principal_of(claims)
        require_scopes(principal, self.settings.required_scopes)
        now = self._clock()
        leeway = self.settings.leeway
        not_before = float(claims.get("nbf", now)) - leeway
        expires_at = min(float(claims["exp"]) + leeway, now + self.settings.token_cache_seconds)
        self.cache.put(cache_key, principal, not_before, expires_at)
        return principal

    def challenge(self) -> str | None:
        """``Bearer resource_metadata="..."``: where clients learn how to get a token."""
        return self._challenge
