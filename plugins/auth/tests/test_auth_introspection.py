"""Token introspection (RFC 7662) against a real local endpoint."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from plugbay import AuthenticationFailed, HttpRequestInfo
from plugbay_auth import AuthConfig, auth_backends
from plugbay_auth.introspection import IntrospectionBackend

RESOURCE = "http://127.0.0.1:8000/mcp"
TOKEN = "opaque-token-8f2k"


def backend(issuer: Any, /, **options: Any) -> IntrospectionBackend:
    table = {
        "endpoint": issuer.introspection_url,
        "client_id": issuer.client_id,
        "client_secret": issuer.client_secret,
        **options,
    }
    auth = AuthConfig.model_validate(
        {"resource": RESOURCE, "authorization_servers": [issuer.issuer], "introspection": table}
    )
    (found,) = auth_backends(auth)
    assert isinstance(found, IntrospectionBackend)
    return found


def bearer(token: str = TOKEN) -> HttpRequestInfo:
    return HttpRequestInfo(
        method="POST", path="/mcp", headers={"authorization": f"Bearer {token}"}, client_host=None
    )


def active(**fields: Any) -> dict[str, Any]:
    return {
        "active": True,
        "sub": "carol",
        "aud": RESOURCE,
        "scope": "notes:read",
        "exp": int(time.time()) + 600,
        **fields,
    }


async def test_an_active_token_becomes_a_principal_and_is_remembered(issuer) -> None:
    issuer.verdicts[TOKEN] = active(roles=["support"])
    introspection = backend(issuer)
    principal = await introspection.authenticate(bearer())
    assert principal is not None
    assert principal.name == "carol"
    assert principal.scopes == {"notes:read"}
    assert principal.roles == {"support"}
    assert issuer.introspections == [{"token": TOKEN, "token_type_hint": "access_token"}]
    assert await introspection.authenticate(bearer()) is principal
    assert len(issuer.introspections) == 1


async def test_with_caching_off_every_request_asks(issuer) -> None:
    issuer.verdicts[TOKEN] = active()
    introspection = backend(issuer, cache_seconds=0)
    await introspection.authenticate(bearer())
    await introspection.authenticate(bearer())
    assert len(issuer.introspections) == 2


async def test_username_names_the_caller_when_there_is_no_subject(issuer) -> None:
    issuer.verdicts[TOKEN] = active(sub=None, username="dave")
    del issuer.verdicts[TOKEN]["sub"]
    principal = await backend(issuer).authenticate(bearer())
    assert principal is not None
    assert principal.name == "dave"


@pytest.mark.parametrize(
    ("verdict", "message"),
    [
        ({"active": False}, "not active"),
        (active(aud="https://elsewhere/mcp"), "wrong audience"),
        (active(aud=None), "names no audience"),
        (active(exp=int(time.time()) - 3600), "has expired"),
        (active(nbf=int(time.time()) + 3600), "not valid yet"),
        (active(iss="https://evil.example"), "issuer is not accepted"),
    ],
    ids=["inactive", "wrong-audience", "no-audience", "expired", "not-yet", "wrong-issuer"],
)
async def test_tokens_the_server_does_not_vouch_for_are_refused(
    issuer, verdict: dict[str, Any], message: str
) -> None:
    issuer.verdicts[TOKEN] = {key: value for key, value in verdict.items() if value is not None}
    with pytest.raises(AuthenticationFailed) as caught:
        await backend(issuer, issuer=issuer.issuer).authenticate(bearer())
    assert message in str(caught.value)
    assert TOKEN not in str(caught.value)


async def test_the_audience_check_may_be_relaxed_for_servers_that_omit_it(issuer) -> None:
    issuer.verdicts[TOKEN] = {k: v for k, v in active().items() if k != "aud"}
    assert await backend(issuer, audience_required=False).authenticate(bearer()) is not None


async def test_required_scopes_are_enforced(issuer) -> None:
    issuer.verdicts[TOKEN] = active(scope="other")
    with pytest.raises(AuthenticationFailed) as caught:
        await backend(issuer, required_scopes=["notes:read"]).authenticate(bearer())
    assert caught.value.status == 403
    assert caught.value.error == "insufficient_scope"


async def test_a_failing_endpoint_is_a_temporary_failure_that_logs_no_secret(
    issuer, caplog: pytest.LogCaptureFixture
) -> None:
    issuer.verdicts[TOKEN] = active()
    wrong_secret = backend(issuer, client_secret="not-the-secret-123")
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationFailed) as caught:
        await wrong_secret.authenticate(bearer())
    assert caught.value.status == 503
    assert caught.value.error == "temporarily_unavailable"
    assert "introspection" in caplog.text
    for secret in (TOKEN, "not-the-secret-123", issuer.client_secret):
        assert secret not in caplog.text
        assert secret not in str(caught.value)
    issuer.stop()
    with pytest.raises(AuthenticationFailed) as down:
        await backend(issuer).authenticate(bearer())
    assert down.value.status == 503


async def test_requests_without_a_bearer_token_are_not_its_business(issuer) -> None:
    no_token = HttpRequestInfo(method="GET", path="/mcp", headers={}, client_host=None)
    assert await backend(issuer).authenticate(no_token) is None
    assert issuer.introspections == []


def test_introspection_needs_a_resource_and_authorization_servers(issuer) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="resource"):
        AuthConfig.model_validate({"introspection": {"endpoint": issuer.introspection_url}})
    with pytest.raises(ValidationError, match="authorization_servers"):
        AuthConfig.model_validate(
            {"resource": RESOURCE, "introspection": {"endpoint": issuer.introspection_url}}
        )
