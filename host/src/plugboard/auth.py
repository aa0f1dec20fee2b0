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
    """

    name: str
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=dict)


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
    """Shown in ``plugboard plugins`` and in logs."""

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
    """Credentials were presented but are not valid. The message is sent to the caller."""
