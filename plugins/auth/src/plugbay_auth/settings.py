"""The ``[auth]`` table: the models that validate it, and nothing else.

plugbay-auth claims the table (``register_config_tables``); the host validates it with
:class:`AuthConfig` when it reads ``plugbay.toml`` and reports every problem with its
location, and the plugin's other hooks read the result as ``config.table("auth")``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from plugbay_auth.api_keys import HASH_PREFIX, MIN_KEY_LENGTH
from plugbay_auth.bearer import checked_url


class ApiKeyConfig(BaseModel):
    """One ``[[auth.api_keys]]`` entry.

    Attributes:
        name: Who holds the key; becomes the principal's name.
        hash: The key's hash as ``plugbay keys new`` prints it (preferred).
        key: The key itself, usually ``"${VARIABLE}"`` so it lives in the environment;
            the backend keeps only its hash, and it is never shown or logged.
        scopes: Scopes the key grants.
        roles: Roles the key's holder has.
        expires: When the key stops working (a TOML date or date-time; UTC unless
            an offset is given).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    hash: str | None = None
    key: SecretStr | None = None
    scopes: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    expires: datetime | date | None = None

    @field_validator("hash")
    @classmethod
    def _hash_format(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        digest = value.removeprefix(HASH_PREFIX)
        if not value.startswith(HASH_PREFIX) or len(digest) != 64:
            raise ValueError("must be 'sha256:' and 64 hex digits, as `plugbay keys new` prints")
        try:
            bytes.fromhex(digest)
        except ValueError:
            raise ValueError("must be 'sha256:' and 64 hex digits") from None
        return value

    @field_validator("key")
    @classmethod
    def _key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_KEY_LENGTH:
            raise ValueError(
                f"is shorter than {MIN_KEY_LENGTH} characters; make one with `plugbay keys new`"
            )
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> ApiKeyConfig:
        if (self.hash is None) == (self.key is None):
            raise ValueError("give exactly one of 'hash' and 'key'")
        return self

    def digest(self) -> bytes:
        """The SHA-256 digest of the key."""
        if self.hash is not None:
            return bytes.fromhex(self.hash.removeprefix(HASH_PREFIX))
        assert self.key is not None
        return hashlib.sha256(self.key.get_secret_value().encode()).digest()

    def expires_at(self) -> float | None:
        """The expiry as a POSIX timestamp."""
        value = self.expires
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day, tzinfo=UTC)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()


ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
"""The algorithms a JWKS can verify. ``none`` and the HMAC ones never are: a public
key must not double as a shared secret."""


class JwtConfig(BaseModel):
    """The ``[auth.jwt]`` table.

    Attributes:
        jwks_url: Where the issuer publishes its signing keys.
        issuer: The exact ``iss`` the tokens carry.
        audience: Accepted ``aud`` values; default ``[auth] resource``.
        algorithms: Accepted signing algorithms (asymmetric only).
        leeway: Seconds of clock skew allowed on ``exp`` and ``nbf``.
        required_scopes: Scopes every token must have to be let in at all.
        principal_claim: The claim naming the caller.
        scope_claim: The claim with the scopes.
        roles_claim: A dotted path to the roles (``realm_access.roles``), or empty.
        jwks_cache_seconds: How long a fetched key set is used before it is refreshed.
        jwks_min_refresh_seconds: The least time between two fetches caused by
            tokens naming unknown keys (so forged tokens cannot hammer the issuer).
        token_cache_size: Verified tokens remembered until they expire; 0 turns off.
        token_cache_seconds: The longest a verified token is remembered.
        http_timeout: Seconds the JWKS fetch may take.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    jwks_url: str
    issuer: str = Field(min_length=1)
    audience: list[str] | None = None
    algorithms: list[str] = Field(default_factory=lambda: list(ASYMMETRIC_ALGORITHMS))
    leeway: float = Field(default=30.0, ge=0, le=300)
    required_scopes: list[str] = Field(default_factory=list)
    principal_claim: str = "sub"
    scope_claim: str = "scope"
    roles_claim: str = "roles"
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    jwks_min_refresh_seconds: float = Field(default=10.0, ge=0)
    token_cache_size: int = Field(default=10_000, ge=0)
    token_cache_seconds: float = Field(default=300.0, gt=0)
    http_timeout: float = Field(default=5.0, gt=0)

    @field_validator("jwks_url")
    @classmethod
    def _secure(cls, value: str) -> str:
        return checked_url(value)

    @field_validator("audience", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("algorithms")
    @classmethod
    def _asymmetric(cls, value: list[str]) -> list[str]:
        refused = [name for name in value if name not in ASYMMETRIC_ALGORITHMS]
        if refused:
            raise ValueError(
                f"{', '.join(refused)} cannot be verified with published keys; "
                f"use some of {', '.join(ASYMMETRIC_ALGORITHMS)}"
            )
        if not value:
            raise ValueError("name at least one algorithm")
        return value


class IntrospectionConfig(BaseModel):
    """The ``[auth.introspection]`` table.

    Attributes:
        endpoint: The authorization server's introspection endpoint.
        client_id: This server's client id at the authorization server.
        client_secret: Its secret (use ``"${VARIABLE}"``); sent with HTTP Basic.
        issuer: When set, the response's ``iss`` (if it has one) must be this.
        audience: Accepted ``aud`` values; default ``[auth] resource``.
        audience_required: Refuse tokens whose introspection names no audience.
        required_scopes: Scopes every token must have to be let in at all.
        principal_claim: The field naming the caller (``username`` is tried next).
        scope_claim: The field with the scopes.
        roles_claim: A dotted path to the roles, or empty.
        cache_seconds: How long an active token's verdict is reused; 0 turns off.
        cache_size: How many verdicts are kept.
        leeway: Seconds of clock skew allowed on ``exp`` and ``nbf``.
        http_timeout: Seconds one introspection request may take.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: str
    client_id: str | None = None
    client_secret: SecretStr | None = None
    issuer: str | None = None
    audience: list[str] | None = None
    audience_required: bool = True
    required_scopes: list[str] = Field(default_factory=list)
    principal_claim: str = "sub"
    scope_claim: str = "scope"
    roles_claim: str = "roles"
    cache_seconds: float = Field(default=60.0, ge=0)
    cache_size: int = Field(default=10_000, ge=0)
    leeway: float = Field(default=30.0, ge=0, le=300)
    http_timeout: float = Field(default=5.0, gt=0)

    @field_validator("endpoint")
    @classmethod
    def _secure(cls, value: str) -> str:
        return checked_url(value)

    @field_validator("audience", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class AuthConfig(BaseModel):
    """The ``[auth]`` table: who may connect over HTTP.

    It must name at least one backend (``api_keys``, ``jwt`` or ``introspection``): an
    ``[auth]`` table asks for authentication, so one that names none is an error, not
    a server that lets everyone in.

    Attributes:
        resource: This server's public MCP URL (``https://mcp.example.com/mcp``): the
            audience tokens must name, and the ``resource`` of the RFC 9728 metadata.
            Required with ``[auth.jwt]`` or ``[auth.introspection]``.
        authorization_servers: Issuers clients may get tokens from (default: the
            ``[auth.jwt]`` issuer).
        scopes_supported: Scopes advertised in the metadata.
        resource_name: A human-readable name in the metadata.
        resource_documentation: A URL about this server, in the metadata.
        api_keys: ``[[auth.api_keys]]`` entries.
        jwt: ``[auth.jwt]``: JWT bearer tokens verified against a JWKS.
        introspection: ``[auth.introspection]``: RFC 7662 token introspection.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    resource: str | None = None
    authorization_servers: list[str] = Field(default_factory=list)
    scopes_supported: list[str] | None = None
    resource_name: str | None = None
    resource_documentation: str | None = None
    api_keys: list[ApiKeyConfig] = Field(default_factory=list)
    jwt: JwtConfig | None = None
    introspection: IntrospectionConfig | None = None

    @field_validator("resource")
    @classmethod
    def _secure(cls, value: str | None) -> str | None:
        return None if value is None else checked_url(value)

    @model_validator(mode="after")
    def _consistent(self) -> AuthConfig:
        if not self.enabled:
            # An [auth] table is a request for authentication: one that names no backend
            # must not start a server that lets everyone in.
            raise ValueError(
                "names no backend: add [[auth.api_keys]], [auth.jwt] or [auth.introspection] "
                "(or remove the [auth] table to serve without authentication)"
            )
        if (self.jwt is not None or self.introspection is not None) and self.resource is None:
            raise ValueError(
                "bearer tokens need 'resource': the public URL of this server's MCP endpoint "
                "(https://mcp.example.com/mcp), which tokens must name as their audience"
            )
        if not self.authorization_servers and self.jwt is not None:
            # Frozen model: set through the back door once, while validating.
            object.__setattr__(self, "authorization_servers", [self.jwt.issuer])
        if self.introspection is not None and not self.authorization_servers:
            raise ValueError(
                "with [auth.introspection], list 'authorization_servers' (the issuers clients "
                "get tokens from) for the RFC 9728 metadata"
            )
        names = [key.name for key in self.api_keys]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"API key names must be unique: {', '.join(duplicates)}")
        return self

    @property
    def enabled(self) -> bool:
        """Whether any backend is configured."""
        return bool(self.api_keys) or self.jwt is not None or self.introspection is not None
