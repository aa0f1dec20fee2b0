"""API keys: named, scoped, optionally expiring keys, kept only as SHA-256 hashes.

A key is presented as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Keys
made by ``plugbay keys new`` are 256 random bits with a ``pbk_`` prefix, so a fast
hash is the right one (there is nothing to brute-force) and the prefix tells this
backend a key is meant for it even when it matches none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from plugbay.auth import AuthenticationFailed, HttpRequestInfo, Principal
from plugbay_auth.bearer import bearer_token

if TYPE_CHECKING:
    from plugbay_auth.settings import ApiKeyConfig

KEY_PREFIX = "pbk_"
"""Every key ``plugbay keys new`` makes starts with this."""
HASH_PREFIX = "sha256:"
API_KEY_HEADER = "x-api-key"
MIN_KEY_LENGTH = 20


def new_api_key() -> str:
    """A fresh key: ``pbk_`` and 43 URL-safe characters (256 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The form a key is stored in: ``sha256:<64 hex digits>``."""
    return HASH_PREFIX + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Key:
    digest: bytes
    principal: Principal
    expires_at: float | None


def _presented_key(headers: Mapping[str, str]) -> tuple[str, bool] | None:
    """The key in the request and whether it came in the key's own header."""
    if (key := headers.get(API_KEY_HEADER)) is not None:
        return key.strip(), True
    token = bearer_token(headers)
    return (token, False) if token is not None else None


class ApiKeyBackend:
    """Authenticates requests that carry one of the configured API keys.

    Every configured hash is compared with :func:`hmac.compare_digest`, whatever the
    earlier ones gave, so the time taken tells nothing about which key came close.

    Args:
        keys: The ``[[auth.api_keys]]`` entries.
        clock: Seconds since the epoch (tests pass a fake one).
    """

    name = "api-keys"

    def __init__(
        self, keys: Sequence[ApiKeyConfig], *, clock: Callable[[], float] = time.time
    ) -> None:
        self._keys = tuple(
            _Key(
                digest=entry.digest(),
                principal=Principal(
                    name=entry.name,
                    scopes=frozenset(entry.scopes),
                    roles=frozenset(entry.roles),
                    claims={"auth": "api-key"},
                ),
                expires_at=entry.expires_at(),
            )
            for entry in keys
        )
        self._clock = clock

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        """The key's principal; ``None`` for a bearer token that is no key of ours."""
        presented = _presented_key(request.headers)
        if presented is None:
            return None
        key, own_header = presented
        digest = hashlib.sha256(key.encode()).digest()
        found: _Key | None = None
        for entry in self._keys:
            if hmac.compare_digest(entry.digest, digest):
                found = entry
        if found is None:
            if own_header or key.startswith(KEY_PREFIX):
                raise AuthenticationFailed(
                    "the API key is not valid; ask the server's operator for a new one"
                )
            return None  # a bearer token for another backend (a JWT, an opaque token)
        if found.expires_at is not None and self._clock() >= found.expires_at:
            expired = datetime.fromtimestamp(found.expires_at, UTC).isoformat()
            raise AuthenticationFailed(
                f"the API key for {found.principal.name!r} expired at {expired}; "
                "ask the server's operator for a new one"
            )
        return found.principal

    def challenge(self) -> str | None:
        """Keys go in the ``Authorization: Bearer`` header."""
        return 'Bearer realm="plugbay"'
