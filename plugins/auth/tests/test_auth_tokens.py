"""What the bearer backends share (token cache, claims) and the odd documents issuers send."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import anyio
import jwt
import pytest

from plugbay import AuthenticationFailed, HttpRequestInfo, Principal
from plugbay_auth import ApiKeyConfig, AuthConfig, auth_backends, hash_api_key
from plugbay_auth.bearer import ClaimMapping, TokenCache
from plugbay_auth.introspection import IntrospectionBackend
from plugbay_auth.jwt_bearer import JwtBackend

RESOURCE = "http://127.0.0.1:8000/mcp"


def bearer(token: str) -> HttpRequestInfo:
    return HttpRequestInfo(
        method="POST", path="/mcp", headers={"authorization": f"Bearer {token}"}, client_host=None
    )


def jwt_backend(issuer: Any, **options: Any) -> JwtBackend:
    table = {"jwks_url": issuer.jwks_url, "issuer": issuer.issuer, **options}
    auth = AuthConfig.model_validate({"resource": RESOURCE, "jwt": table})
    (found,) = auth_backends(auth)
    assert isinstance(found, JwtBackend)
    return found


def test_a_full_cache_forgets_its_oldest_quarter() -> None:
    cache = TokenCache(max_entries=8)
    keys = [TokenCache.key(f"token-{n}") for n in range(9)]
    for n, key in enumerate(keys):
        cache.put(key, Principal(name=str(n)), 0.0, 100.0)
    assert len(cache) == 7  # the 9th arrived at 8: the oldest 2 went
    assert cache.get(keys[0], 1.0) is None
    assert cache.get(keys[1], 1.0) is None
    found = cache.get(keys[8], 1.0)
    assert found is not None
    assert found.name == "8"


def test_a_token_is_remembered_only_within_its_validity() -> None:
    cache = TokenCache(max_entries=4)
    key = TokenCache.key("t")
    cache.put(key, Principal(name="a"), not_before=10.0, expires_at=20.0)
    assert cache.get(key, 5.0) is None  # not yet valid: forgotten, to be verified again
    cache.put(key, Principal(name="a"), not_before=10.0, expires_at=20.0)
    assert cache.get(key, 15.0) is not None
    assert cache.get(key, 20.0) is None
    assert len(cache) == 0
    off = TokenCache(max_entries=0)
    off.put(key, Principal(name="a"), 0.0, 100.0)
    assert len(off) == 0


def test_claims_fall_back_to_the_client_and_tolerate_odd_shapes() -> None:
    mapping = ClaimMapping(roles="realm_access.roles")
    service = mapping.principal_of({"client_id": "reporting", "scp": ["a"], "realm_access": "x"})
    assert service.name == "reporting"
    assert service.scopes == {"a"}
    assert service.roles == frozenset()  # the path runs into a string: no roles
    assert mapping.principal_of({"sub": 42, "scope": 7}).name == "42"
    with pytest.raises(AuthenticationFailed, match="names no caller"):
        mapping.principal_of({"sub": "", "scope": "a"})


async def test_a_token_without_a_key_id_uses_the_only_key(issuer: Any) -> None:
    claims = {"iss": issuer.issuer, "sub": "alice", "aud": RESOURCE, "exp": time.time() + 60}
    token = jwt.encode(claims, issuer.keys[0].private, algorithm="RS256")
    assert "kid" not in jwt.get_unverified_header(token)
    principal = await jwt_backend(issuer).authenticate(bearer(token))
    assert principal is not None
    assert principal.name == "alice"


async def test_unusable_jwks_entries_are_skipped_and_a_broken_set_keeps_the_old_keys(
    issuer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    good = issuer.keys[0].public_jwk()
    documents = [
        {"keys": [{**good, "use": "enc", "kid": "enc"}, {"kty": "RSA", "kid": "broken"}, good]},
        {"not": "a key set"},
    ]
    issuer.jwks = lambda: documents[min(issuer.jwks_fetches - 1, 1)]
    backend = jwt_backend(issuer, jwks_cache_seconds=0.05, jwks_min_refresh_seconds=0)
    token = issuer.token()
    with caplog.at_level(logging.INFO):
        assert await backend.authenticate(bearer(token)) is not None
        assert "skipping a key" in caplog.text
        backend.cache.clear()
        await anyio.sleep(0.1)
        # The refetched document has no key list: the keys there were still verify.
        assert await backend.authenticate(bearer(token)) is not None
    assert issuer.jwks_fetches == 2
    assert "has no 'keys' list; keeping the old keys" in caplog.text


async def test_an_introspection_answer_that_is_not_an_object_is_a_temporary_failure(
    issuer: Any,
) -> None:
    issuer.verdicts["odd"] = ["active"]
    auth = AuthConfig.model_validate(
        {
            "resource": RESOURCE,
            "authorization_servers": [issuer.issuer],
            "introspection": {
                "endpoint": issuer.introspection_url,
                "client_id": issuer.client_id,
                "client_secret": issuer.client_secret,
                "audience": "urn:other",
            },
        }
    )
    (backend,) = auth_backends(auth)
    assert isinstance(backend, IntrospectionBackend)
    assert backend.audience == {"urn:other"}  # one audience may be given as a string
    with pytest.raises(AuthenticationFailed) as caught:
        await backend.authenticate(bearer("odd"))
    assert caught.value.status == 503


def test_a_key_expiring_at_a_local_date_time_means_utc() -> None:
    entry = ApiKeyConfig(name="a", hash=hash_api_key("k" * 30), expires=datetime(2030, 1, 1))
    assert entry.expires_at() == datetime.fromisoformat("2030-01-01T00:00:00+00:00").timestamp()
    assert ApiKeyConfig(name="b", hash=hash_api_key("k" * 30)).expires_at() is None
