"""JWT bearer tokens, verified against a JWKS that a real local issuer serves over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives import serialization

from plugbay import AuthenticationFailed, HttpRequestInfo
from plugbay_auth import AuthConfig, auth_backends
from plugbay_auth.jwt_bearer import JwtBackend

RESOURCE = "http://127.0.0.1:8000/mcp"


def backend(issuer: Any, **options: Any) -> JwtBackend:
    auth = AuthConfig.model_validate(
        {
            "resource": RESOURCE,
            "jwt": {"jwks_url": issuer.jwks_url, "issuer": issuer.issuer, **options},
        }
    )
    (found,) = auth_backends(auth)
    assert isinstance(found, JwtBackend)
    return found


def bearer(token: str) -> HttpRequestInfo:
    return HttpRequestInfo(
        method="POST",
        path="/mcp",
        headers={"authorization": f"Bearer {token}"},
        client_host="127.0.0.1",
    )


async def refused(jwt_backend: JwtBackend, token: str) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as caught:
        await jwt_backend.authenticate(bearer(token))
    assert token not in str(caught.value)
    return caught.value


async def test_a_valid_token_names_the_principal_with_scopes_and_roles(issuer) -> None:
    jwt_backend = backend(issuer, roles_claim="realm_access.roles")
    token = issuer.token(
        sub="alice", scope="crm:read crm:write", claims={"realm_access": {"roles": ["sales"]}}
    )
    principal = await jwt_backend.authenticate(bearer(token))
    assert principal is not None
    assert principal.name == "alice"
    assert principal.scopes == {"crm:read", "crm:write"}
    assert principal.roles == {"sales"}
    assert principal.claims["iss"] == issuer.issuer
    assert issuer.jwks_fetches == 1


async def test_a_verified_token_is_remembered_not_verified_again(issuer) -> None:
    jwt_backend = backend(issuer)
    token = issuer.token()
    first = await jwt_backend.authenticate(bearer(token))
    assert len(jwt_backend.cache) == 1
    # Breaking the signature of the remembered token would fail verification, so the
    # second answer coming back identical shows it was served from the cache.
    assert await jwt_backend.authenticate(bearer(token)) is first
    assert issuer.jwks_fetches == 1


async def test_an_es256_key_and_the_scp_list_claim_work(issuer) -> None:
    key = issuer.add_key("ES256")
    jwt_backend = backend(issuer)
    token = issuer.token(key, scope=None, claims={"scp": ["a", "b"]})
    principal = await jwt_backend.authenticate(bearer(token))
    assert principal is not None
    assert principal.scopes == {"a", "b"}


async def test_other_credentials_are_left_to_the_next_backend(issuer) -> None:
    jwt_backend = backend(issuer)
    assert await jwt_backend.authenticate(bearer("pbk_not-a-jwt")) is None
    no_header = HttpRequestInfo(method="POST", path="/mcp", headers={}, client_host=None)
    assert await jwt_backend.authenticate(no_header) is None
    basic = HttpRequestInfo(
        method="POST", path="/mcp", headers={"authorization": "Basic eDp5"}, client_host=None
    )
    assert await jwt_backend.authenticate(basic) is None
    assert issuer.jwks_fetches == 0


def _hs256_with_public_key(issuer: Any) -> str:
    """The classic key-confusion forgery: HMAC keyed with the issuer's public key."""
    pem = (
        issuer.keys[0]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": issuer.keys[0].kid}
    payload = {
        "iss": issuer.issuer,
        "sub": "mallory",
        "aud": RESOURCE,
        "exp": int(time.time()) + 600,
    }

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    signing_input = f"{part(header)}.{part(payload)}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def _tampered(issuer: Any) -> str:
    """A valid token whose claims were swapped for others after signing."""
    header, _, signature = issuer.token(sub="alice").split(".")
    _, payload, _ = issuer.token(sub="root").split(".")
    return f"{header}.{payload}.{signature}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda i: i.token(expires_in=-120), "the token has expired"),
        (lambda i: i.token(not_before=time.time() + 600), "the token is not valid yet"),
        (lambda i: i.token(audience="https://other.example/mcp"), "wrong audience"),
        (lambda i: i.token(issuer="https://evil.example"), "issuer is not accepted"),
        (lambda i: i.token(omit=("exp",)), "no 'exp' claim"),
        (lambda i: i.token(omit=("aud",)), "no 'aud' claim"),
        (lambda i: i.unsigned_token(), "signing algorithm is not accepted"),
        (_hs256_with_public_key, "signing algorithm is not accepted"),
        (
            # Signed by a key the issuer never published, claiming a published key's id.
            lambda i: i.token(i.add_key(publish=False), headers={"kid": i.keys[0].kid}),
            "signature does not verify",
        ),
        (lambda i: i.token(i.add_key(publish=False)), "a key the issuer does not publish"),
        (_tampered, "signature does not verify"),
        (lambda i: i.token(headers={"alg": "PS256"}), "does not match its key"),
        (lambda i: "eyJhbGciOiJSUzI1NiJ9.not-base64!.x", "not a well-formed JWT"),
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "wrong-audience",
        "wrong-issuer",
        "no-exp",
        "no-aud",
        "alg-none",
        "hs256-key-confusion",
        "forged",
        "unknown-key",
        "tampered",
        "algorithm-not-the-keys",
        "garbage",
    ],
)
async def test_bad_tokens_are_refused_with_a_reason(issuer, make, message: str) -> None:
    token = make(issuer)
    failure = await refused(backend(issuer), token)
    assert message in str(failure)
    assert failure.status == 401
    assert failure.error == "invalid_token"


async def test_leeway_accepts_a_token_that_expired_moments_ago(issuer) -> None:
    jwt_backend = backend(issuer, leeway=60)
    assert await jwt_backend.authenticate(bearer(issuer.token(expires_in=-20))) is not None
    strict = backend(issuer, leeway=0)
    assert "expired" in str(await refused(strict, issuer.token(expires_in=-20)))


async def test_missing_required_scopes_get_insufficient_scope(issuer) -> None:
    jwt_backend = backend(issuer, required_scopes=["mcp:use"])
    failure = await refused(jwt_backend, issuer.token(scope="other"))
    assert failure.status == 403
    assert failure.error == "insufficient_scope"
    assert failure.scope == "mcp:use"
    assert await jwt_backend.authenticate(bearer(issuer.token(scope="mcp:use other"))) is not None
    assert 'scope="mcp:use"' in (jwt_backend.challenge() or "")


async def test_a_rotated_key_is_fetched_when_a_token_names_it(issuer) -> None:
    jwt_backend = backend(issuer, jwks_min_refresh_seconds=0)
    assert await jwt_backend.authenticate(bearer(issuer.token())) is not None
    assert issuer.jwks_fetches == 1
    new = issuer.add_key("RS256")
    principal = await jwt_backend.authenticate(bearer(issuer.token(new, sub="bob")))
    assert principal is not None
    assert principal.name == "bob"
    assert issuer.jwks_fetches == 2


async def test_unknown_keys_do_not_hammer_the_issuer(issuer) -> None:
    jwt_backend = backend(issuer, jwks_min_refresh_seconds=60)
    assert await jwt_backend.authenticate(bearer(issuer.token())) is not None
    stranger = issuer.add_key(publish=False)
    for _ in range(5):
        await refused(jwt_backend, issuer.token(stranger))
    assert issuer.jwks_fetches == 1


async def test_a_withdrawn_key_stops_working_even_for_remembered_tokens(issuer) -> None:
    jwt_backend = backend(issuer, jwks_cache_seconds=0.2, jwks_min_refresh_seconds=0)
    old_token = issuer.token()
    assert await jwt_backend.authenticate(bearer(old_token)) is not None
    issuer.retire(issuer.keys[0])
    replacement = issuer.add_key("RS256")
    await anyio.sleep(0.3)
    failure = await refused(jwt_backend, old_token)
    assert "does not publish" in str(failure)
    assert await jwt_backend.authenticate(bearer(issuer.token(replacement))) is not None


async def test_an_unreachable_jwks_is_a_temporary_failure(issuer) -> None:
    token = issuer.token()
    issuer.stop()
    failure = await refused(backend(issuer), token)
    assert failure.status == 503
    assert failure.error == "temporarily_unavailable"


def test_configuration_refuses_symmetric_and_none_algorithms(issuer) -> None:
    from pydantic import ValidationError

    for algorithms in (["none"], ["HS256"], []):
        with pytest.raises(ValidationError):
            backend(issuer, algorithms=algorithms)


def test_the_jwks_must_come_over_https_unless_local() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="https"):
        AuthConfig.model_validate(
            {"resource": RESOURCE, "jwt": {"jwks_url": "http://idp.example/jwks", "issuer": "x"}}
        )
    auth = AuthConfig.model_validate(
        {"resource": RESOURCE, "jwt": {"jwks_url": "https://idp.example/jwks", "issuer": "x"}}
    )
    assert auth.authorization_servers == ["x"]
