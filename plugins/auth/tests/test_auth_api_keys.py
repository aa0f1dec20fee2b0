"""API keys: hashed at rest, compared in constant time, named, scoped and expiring."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from pydantic import ValidationError

from plugbay import AuthenticationFailed, HttpRequestInfo
from plugbay.config import validation_messages
from plugbay_auth import (
    ApiKeyBackend,
    ApiKeyConfig,
    AuthConfig,
    auth_backends,
    hash_api_key,
    new_api_key,
)

KEY = "pbk_" + "k" * 43
OTHER = "pbk_" + "o" * 43


def request(headers: dict[str, str]) -> HttpRequestInfo:
    return HttpRequestInfo(method="POST", path="/mcp", headers=headers, client_host="10.0.0.1")


def keys_backend(*entries: dict[str, Any], clock: Any = None) -> ApiKeyBackend:
    configs = [ApiKeyConfig.model_validate(entry) for entry in entries]
    return ApiKeyBackend(configs, clock=clock) if clock else ApiKeyBackend(configs)


def test_new_keys_are_random_and_their_hash_is_sha256() -> None:
    first, second = new_api_key(), new_api_key()
    assert first != second
    assert first.startswith("pbk_")
    assert len(first) == 47
    assert hash_api_key(first) == "sha256:" + hashlib.sha256(first.encode()).hexdigest()


async def test_a_key_is_accepted_in_either_header_and_names_its_principal() -> None:
    backend = keys_backend(
        {"name": "ci-bot", "hash": hash_api_key(KEY), "scopes": ["tools"], "roles": ["automation"]}
    )
    for headers in ({"authorization": f"Bearer {KEY}"}, {"x-api-key": KEY}):
        principal = await backend.authenticate(request(headers))
        assert principal is not None
        assert principal.name == "ci-bot"
        assert principal.scopes == {"tools"}
        assert principal.roles == {"automation"}
        assert KEY not in repr(principal)


async def test_a_key_may_come_from_the_environment_and_is_kept_only_hashed(assembled) -> None:
    toml = '[[auth.api_keys]]\nname = "ops"\nkey = "${OPS_KEY}"\n'
    assembly = assembled(toml, environ={"OPS_KEY": KEY})
    (backend,) = assembly.auth_backends
    principal = await backend.authenticate(request({"x-api-key": KEY}))
    assert principal is not None
    assert principal.name == "ops"
    assert KEY not in repr(assembly.config.table("auth"))
    assert KEY not in repr(vars(backend))


async def test_unknown_keys_are_refused_and_foreign_tokens_passed_on() -> None:
    backend = keys_backend({"name": "a", "hash": hash_api_key(KEY)})
    for headers in ({"authorization": f"Bearer {OTHER}"}, {"x-api-key": "whatever-it-is"}):
        with pytest.raises(AuthenticationFailed) as caught:
            await backend.authenticate(request(headers))
        assert "not valid" in str(caught.value)
        assert OTHER not in str(caught.value)
    # A bearer token without the key prefix may be a JWT for the next backend.
    assert await backend.authenticate(request({"authorization": "Bearer eyJabc.def.ghi"})) is None
    assert await backend.authenticate(request({})) is None
    assert await backend.authenticate(request({"authorization": "Basic xyz"})) is None


async def test_an_operator_chosen_key_without_the_prefix_works_too() -> None:
    own = "my-own-long-random-key-1234567890"
    backend = keys_backend({"name": "legacy", "hash": hash_api_key(own)})
    principal = await backend.authenticate(request({"authorization": f"Bearer {own}"}))
    assert principal is not None
    assert principal.name == "legacy"


async def test_every_configured_hash_is_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    import plugbay_auth.api_keys as module

    compared: list[bytes] = []
    real = module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append(a)
        return real(a, b)

    monkeypatch.setattr(module.hmac, "compare_digest", spy)
    backend = keys_backend(
        {"name": "first", "hash": hash_api_key(KEY)},
        {"name": "second", "hash": hash_api_key(OTHER)},
        {"name": "third", "hash": hash_api_key(OTHER + "x")},
    )
    principal = await backend.authenticate(request({"x-api-key": KEY}))
    assert principal is not None
    assert principal.name == "first"
    # The match was the first key, yet all three were compared: no early exit to time.
    assert len(compared) == 3


async def test_an_expired_key_is_refused_with_its_name_and_date() -> None:
    backend = keys_backend(
        {"name": "temp", "hash": hash_api_key(KEY), "expires": "2030-01-01T00:00:00Z"},
        clock=lambda: 1_900_000_000.0,  # 2030-03-17
    )
    with pytest.raises(AuthenticationFailed) as caught:
        await backend.authenticate(request({"x-api-key": KEY}))
    assert "'temp' expired at 2030-01-01T00:00:00+00:00" in str(caught.value)
    fresh = keys_backend(
        {"name": "temp", "hash": hash_api_key(KEY), "expires": "2030-01-01"},
        clock=lambda: 1_800_000_000.0,  # 2027
    )
    assert await fresh.authenticate(request({"x-api-key": KEY})) is not None


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"name": "x"}, "exactly one of 'hash' and 'key'"),
        ({"name": "x", "hash": hash_api_key(KEY), "key": KEY}, "exactly one of 'hash' and 'key'"),
        ({"name": "x", "hash": "md5:abc"}, "must be 'sha256:'"),
        ({"name": "x", "hash": "sha256:" + "z" * 64}, "64 hex digits"),
        ({"name": "x", "key": "tiny-secret"}, "shorter than 20"),
        ({"name": "", "key": KEY}, "at least 1 character"),
    ],
)
def test_key_entries_are_validated_without_echoing_secrets(
    entry: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ApiKeyConfig.model_validate(entry)
    text = "\n".join(validation_messages(caught.value))
    assert problem in text
    assert "tiny-secret" not in text
    assert KEY not in text


def test_key_names_are_unique() -> None:
    with pytest.raises(ValidationError, match="unique: dup"):
        AuthConfig.model_validate(
            {"api_keys": [{"name": "dup", "key": KEY}, {"name": "dup", "key": OTHER}]}
        )


def test_only_api_keys_need_no_resource_url() -> None:
    (backend,) = auth_backends(AuthConfig.model_validate({"api_keys": [{"name": "a", "key": KEY}]}))
    assert backend.challenge() == 'Bearer realm="plugbay"'
