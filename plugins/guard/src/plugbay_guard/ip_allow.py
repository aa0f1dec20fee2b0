"""Client address allow-lists: ``[policy] ip_allow``.

Checked on every HTTP request to the MCP endpoints (and to plugins' non-public routes)
before authentication, by an ASGI wrapper (the ``register_asgi_wrappers`` hook), so a
caller from elsewhere learns nothing, not even which credentials would work. Behind a
reverse proxy the address is the one the proxy reports in ``X-Forwarded-For``, when
the proxy is listed in ``[server] trusted_proxies``; from anyone else (the loopback
included) that header is ignored. The host applies that before its wrappers run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

__all__ = ["ClientAddressFilter", "ClientAllowList"]

REFUSAL_STATUS = 403
REFUSAL_BODY = {"error": "forbidden", "error_description": "This address may not use this server"}
"""What a client from outside the allow-list gets, as plugbay answered before the guard
was a plugin: the same status and body, and nothing about authentication."""
POLICY_VIOLATION = 1008
"""The WebSocket close code for a connection refused by policy (RFC 6455)."""


class ClientAllowList:
    """Decides whether a client address may connect.

    Args:
        networks: The networks allowed; a single address is a network of one.
    """

    def __init__(self, networks: Iterable[IPv4Network | IPv6Network]) -> None:
        self.networks = tuple(networks)
        self._seen: dict[str, bool] = {}

    def allows(self, host: str | None) -> bool:
        """Whether ``host`` (the client's IP address) is in one of the networks."""
        if host is None:
            return False
        verdict = self._seen.get(host)
        if verdict is None:
            verdict = self._check(host)
            if len(self._seen) >= 10_000:
                self._seen.clear()
            self._seen[host] = verdict
        return verdict

    def _check(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:10.0.0.1 on a dual-stack socket
        return any(address in network for network in self.networks)


class ClientAddressFilter:
    """ASGI middleware that refuses requests from client addresses not on the allow-list.

    HTTP requests get ``403`` with a JSON body; WebSocket connections are closed with
    code 1008 before they are accepted. Other scopes (``lifespan``) pass through.

    Args:
        app: The application to protect.
        allow_list: The client networks allowed.
    """

    def __init__(self, app: ASGIApp, allow_list: ClientAllowList) -> None:
        self.app = app
        self.allow_list = allow_list

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on if its client address is allowed; refuse it otherwise."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if self.allow_list.allows(client[0] if client else None):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await WebSocketClose(code=POLICY_VIOLATION)(scope, receive, send)
            return
        await JSONResponse(REFUSAL_BODY, status_code=REFUSAL_STATUS)(scope, receive, send)
