"""What the bearer-token backends share: reading the token, claims to principal, a cache.

Verifying a token costs far more than a tool call (an RSA signature check is about a
tenth of a millisecond); clients send the same token until it expires, so a verified
token is remembered, under its SHA-256 digest (never the token itself), until it
expires or the cache's own time limit passes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from plugbay.auth import AuthenticationFailed, Principal
from plugbay.network import is_loopback


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (header names lower-case)."""
    authorization = headers.get("authorization")
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def looks_like_jwt(token: str) -> bool:
    """Whether ``token`` has the shape of a JWS compact serialization (three parts)."""
    return token.count(".") == 2 and token.startswith("eyJ")


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim at a dotted ``path`` (``realm_access.roles``), or ``None``."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _strings(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple):
        return frozenset(str(item) for item in value)
    return frozenset()


@dataclass(frozen=True, slots=True)
class ClaimMapping:
    """Which claims name the principal and carry its scopes and roles.

    Attributes:
        principal: The claim that names the caller; ``client_id`` and ``azp`` are
            used when it is absent (tokens issued to a client, not a person).
        scopes: The claim with the scopes: a space-separated string (``scope``) or
            a list (``scp``); ``scp`` is tried when ``scope`` is absent.
        roles: A dotted path to the roles (a list or a space-separated string), or
            ``None`` for no roles.
    """

    principal: str = "sub"
    scopes: str = "scope"
    roles: str | None = "roles"

    def principal_of(self, claims: Mapping[str, Any]) -> Principal:
        """The principal the claims describe; refused when they name nobody."""
        name = claim_at(claims, self.principal)
        if name is None or name == "":
            name = claims.get("client_id") or claims.get("azp")
        if not isinstance(name, str | int) or name == "":
            raise AuthenticationFailed(
                f"the token names no caller (no {self.principal!r}, 'client_id' or 'azp' claim)"
            )
        scopes = claim_at(claims, self.scopes)
        if scopes is None and self.scopes == "scope":
            scopes = claims.get("scp")
        roles = claim_at(claims, self.roles) if self.roles else None
        return Principal(
            name=str(name), scopes=_strings(scopes), roles=_strings(roles), claims=dict(claims)
        )


def require_scopes(principal: Principal, required: Iterable[str]) -> None:
    """Refuse with ``insufficient_scope`` (403) unless the principal has every scope."""
    missing = sorted(set(required) - principal.scopes)
    if missing:
        raise AuthenticationFailed(
            f"the token lacks the scope(s) this server requires: {' '.join(missing)}",
            error="insufficient_scope",
            status=403,
            scope=" ".join(sorted(required)),
        )


@dataclass(frozen=True, slots=True)
class _Verified:
    principal: Principal
    not_before: float
    expires_at: float


class TokenCache:
    """Principals of tokens verified recently, by the SHA-256 digest of the token.

    Args:
        max_entries: How many tokens to remember; ``0`` turns the cache off. When
            full, the oldest quarter is forgotten.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: dict[bytes, _Verified] = {}

    @staticmethod
    def key(token: str) -> bytes:
        """The cache key of a token."""
        return hashlib.sha256(token.encode()).digest()

    def get(self, key: bytes, now: float) -> Principal | None:
        """The principal of a token still within its validity, else ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if not entry.not_before <= now < entry.expires_at:
            self._entries.pop(key, None)
            return None
        return entry.principal

    def put(self, key: bytes, principal: Principal, not_before: float, expires_at: float) -> None:
        """Remember a verified token until ``expires_at``."""
        if self.max_entries <= 0:
            return
        if len(self._entries) >= self.max_entries:
            for stale in list(self._entries)[: max(1, self.max_entries // 4)]:
                del self._entries[stale]
        self._entries[key] = _Verified(principal, not_before, expires_at)

    def clear(self) -> None:
        """Forget every token (the signing keys changed)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def checked_url(value: str) -> str:
    """``value`` if it is an ``https://`` URL, or ``http://`` to a loopback address.

    Keys and token verdicts fetched in clear text could be forged on the way; only a
    server on the same machine is trusted without TLS.
    """
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return value
    raise ValueError("must be an https:// URL (http:// only to a loopback address)")
