"""Who is calling, over HTTP: the registered auth backends asked in front of the MCP endpoints.

A request must name its credential once: with two ``Authorization`` (or ``X-API-Key``)
headers, plugbay and the MCP SDK could each read a different one, so such a request
is refused with ``400`` before any backend sees it.
"""

from __future__ import annotations

from collections.abc import Iterable

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from plugbay.auth import AuthBackend, AuthenticationFailed, HttpRequestInfo, Principal
from plugbay.server import PRINCIPAL_SCOPE_KEY

CREDENTIAL_HEADERS = (b"authorization", b"x-api-key", b"proxy-authorization")
"""Headers that carry a credential and so may appear only once in a request."""


def repeated_credential(raw_headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The name of a credential header the request has more than once, else ``None``."""
    seen: set[bytes] = set()
    for key, _ in raw_headers:
        name = key.lower()
        if name in CREDENTIAL_HEADERS:
            if name in seen:
                return name.decode("latin-1")
            seen.add(name)
    return None


def request_info(scope: Scope) -> HttpRequestInfo:
    """What the auth backends see of an HTTP request (header names lower-case)."""
    client = scope.get("client")
    headers = {
        key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]
    }
    return HttpRequestInfo(
        method=scope["method"],
        path=scope["path"],
        headers=headers,
        client_host=client[0] if client else None,
    )


async def principal_of(backends: Iterable[AuthBackend], scope: Scope) -> Principal | None:
    """The principal the first backend that knows the request's credential names.

    ``None`` when none does, or when the credential is repeated.

    Raises:
        AuthenticationFailed: A backend recognised the credential and refused it.
    """
    if repeated_credential(scope["headers"]) is not None:
        return None
    request = request_info(scope)
    for backend in backends:
        principal = await backend.authenticate(request)
        if principal is not None:
            return principal
    return None


class AuthenticationMiddleware:
    """Asks the registered auth backends who is calling; refuses the request if none knows.

    With no backend registered every request passes as the local principal: that is
    the single-user default on a loopback address. A request with a credential header
    twice is refused (400). (Client-address allow-lists are plugbay-guard's, an ASGI
    wrapper that runs before this.)
    """

    def __init__(self, app: ASGIApp, backends: list[AuthBackend]) -> None:
        self.app = app
        self.backends = backends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate an HTTP request, then pass it on with the principal in its scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (repeated := repeated_credential(scope["headers"])) is not None:
            refusal = JSONResponse(
                {
                    "error": "invalid_request",
                    "error_description": f"The request has more than one {repeated} header",
                },
                status_code=400,
            )
            await refusal(scope, receive, send)
            return
        if not self.backends:
            await self.app(scope, receive, send)
            return
        request = request_info(scope)
        principal: Principal | None = None
        try:
            for backend in self.backends:
                principal = await backend.authenticate(request)
                if principal is not None:
                    break
        except AuthenticationFailed as error:
            await self._refuse(scope, receive, send, error, backend)
            return
        if principal is None:
            await self._refuse(scope, receive, send, None, None)
            return
        scope[PRINCIPAL_SCOPE_KEY] = principal
        # The SDK binds each session to the identity that opened it: another
        # credential presenting the session id is answered as if it did not exist.
        scope["user"] = _session_owner(principal)
        await self.app(scope, receive, send)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        failure: AuthenticationFailed | None,
        backend: AuthBackend | None,
    ) -> None:
        challenges = [c for b in self.backends if (c := b.challenge())]
        challenge = challenges[0] if challenges else None
        if failure is None:
            status = 401
            body = {"error": "unauthorized", "error_description": "Authentication required"}
        else:
            status = failure.status
            message = str(failure) or "Invalid credentials"
            body = {"error": failure.error, "error_description": message}
            challenge = (backend.challenge() if backend else None) or challenge
            if challenge is not None and challenge.lower().startswith("bearer"):
                # RFC 6750 section 3: say what was wrong with the token in the challenge.
                challenge += f', error="{failure.error}", error_description="{_quoted(message)}"'
                if failure.scope and "scope=" not in challenge:
                    challenge += f', scope="{_quoted(failure.scope)}"'
        headers = {"WWW-Authenticate": challenge} if challenge and status in (401, 403) else None
        await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)


def _quoted(text: str) -> str:
    """``text`` made safe inside a quoted header parameter."""
    return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "'" for c in text)


def _session_owner(principal: Principal) -> AuthenticatedUser:
    """The principal in the form the SDK compares when it checks who owns a session."""
    issuer = principal.claims.get("iss")
    token = AccessToken(
        token="",  # the credential itself is never handed on
        client_id=principal.name,
        scopes=sorted(principal.scopes),
        subject=principal.name,
        claims={"iss": issuer} if isinstance(issuer, str) else None,
    )
    return AuthenticatedUser(token)
