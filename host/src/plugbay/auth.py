"""Who is calling: principals and the authentication-backend contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    Attributes:
        name: A stable identifier (user, service account, API-key name).
        scopes: What the credential grants, as OAuth-style scope strings.
        claims: Anything else the backend learned (token claims, key metadata).
            Never holds the credential itself.
        roles: Roles the identity provider or the key's configuration assigns, for
            authorization policies that work by role rather than by scope.
    """

    name: str
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=dict)
    roles: frozenset[str] = frozenset()


LOCAL_PRINCIPAL = Principal(name="local")
"""The caller on stdio, and over HTTP when no authentication backend is registered."""


@dataclass(frozen=True, slots=True)
class HttpRequestInfo:
    """What an authentication backend may look at in an incoming HTTP request.

    Header names are lower-case.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    client_host: str | None


@runtime_checkable
class AuthBackend(Protocol):
    """Authenticates HTTP requests. Register instances through ``register_auth``."""

    name: str
    """Shown in ``plugbay plugins`` and in logs."""

    async def authenticate(self, request: HttpRequestInfo) -> Principal | None:
        """Return the caller, or ``None`` when this backend does not recognise the request.

        Raise :class:`AuthenticationFailed` when the request carries credentials this
        backend owns but they are wrong (expired, forged): the request is refused at
        once instead of being offered to the next backend.
        """
        ...

    def challenge(self) -> str | None:
        """The ``WWW-Authenticate`` value to send with a ``401``, if this backend has one."""
        ...


class AuthenticationFailed(Exception):
    """Credentials were presented but are not valid. The message is sent to the caller.

    Write the message for the caller, and never put the credential in it.

    Args:
        message: What is wrong (``"the token has expired"``).
        error: The OAuth error code (RFC 6750): ``invalid_token`` for bad
            credentials, ``insufficient_scope`` for good ones that grant too little.
        status: The HTTP status: 401, or 403 with ``insufficient_scope``, or 503
            when the credential could not be checked right now.
        scope: With ``insufficient_scope``: the scopes the request needs,
            space-separated, so the client can ask for them.
    """

    def __init__(
        self,
        message: str = "",
        *,
        error: str = "invalid_token",
        status: int = 401,
        scope: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.status = status
        self.scope = scope
