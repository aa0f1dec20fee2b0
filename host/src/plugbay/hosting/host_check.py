"""DNS-rebinding protection: the ``Host`` and ``Origin`` headers, compared exactly.

A web page can make a browser send requests to ``127.0.0.1`` under a name it controls
(DNS rebinding); the ``Host`` header then carries that name, and a cross-site request
carries the page's ``Origin``. Only the names in the allowed list are served. Entries
are ``name`` (no port), ``name:port``, or ``name:*`` (any port, or none); IPv6
addresses go in brackets (``[::1]:*``). The MCP SDK's own check matches ``name:*`` as
a prefix, so it serves ``Host: 127.0.0.1:8000.evil.example``; this one parses both
headers (name, then a port of digits only) and compares the parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from plugbay.network import split_authority

ANY_PORT = -1
_ORIGIN = re.compile(r"([a-z][a-z0-9+.-]*)://([^/?#@]+)", re.IGNORECASE)


def _rules(entries: Iterable[str]) -> frozenset[tuple[str, int | None]]:
    """Entries as ``(name, port)`` pairs; ``name:*`` gets :data:`ANY_PORT`."""
    rules: set[tuple[str, int | None]] = set()
    for entry in entries:
        any_port = entry.endswith(":*")
        parsed = split_authority(entry[:-2] if any_port else entry)
        if parsed is None:
            continue  # an entry that is no authority matches nothing
        name, port = parsed
        rules.add((name, ANY_PORT if any_port else port))
    return frozenset(rules)


def _matches(rules: frozenset[tuple[str, int | None]], name: str, port: int | None) -> bool:
    return (name, port) in rules or (name, ANY_PORT) in rules


@dataclass(frozen=True, slots=True)
class HostCheck:
    """Which ``Host`` and ``Origin`` values are served.

    Attributes:
        hosts: Allowed ``(name, port)`` pairs for ``Host``.
        origins: Allowed ``(scheme, name, port)`` triples for ``Origin``; a request
            without ``Origin`` (not from a browser page) passes.
    """

    hosts: frozenset[tuple[str, int | None]]
    origins: frozenset[tuple[str, str, int | None]]

    @classmethod
    def from_settings(cls, settings: TransportSecuritySettings) -> HostCheck:
        """The check the SDK's settings describe, with exact matching."""
        origins: set[tuple[str, str, int | None]] = set()
        for entry in settings.allowed_origins:
            match = _ORIGIN.fullmatch(entry[:-2] if entry.endswith(":*") else entry)
            if match is None:
                continue
            for name, port in _rules([match.group(2) + (":*" if entry.endswith(":*") else "")]):
                origins.add((match.group(1).lower(), name, port))
        return cls(hosts=_rules(settings.allowed_hosts), origins=frozenset(origins))

    def allows_host(self, value: str | None) -> bool:
        """Whether a ``Host`` header value is one of the allowed ones."""
        parsed = split_authority(value) if value else None
        return parsed is not None and _matches(self.hosts, *parsed)

    def allows_origin(self, value: str | None) -> bool:
        """Whether an ``Origin`` header value is absent or one of the allowed ones."""
        if value is None:
            return True
        match = _ORIGIN.fullmatch(value)
        parsed = split_authority(match.group(2)) if match else None
        if match is None or parsed is None:
            return False
        scheme = match.group(1).lower()
        name, port = parsed
        return (scheme, name, port) in self.origins or (scheme, name, ANY_PORT) in self.origins

    def refusal(self, scope: Scope) -> Response | None:
        """The answer to a request with a foreign ``Host`` or ``Origin``, else ``None``."""
        headers = Headers(scope=scope)
        if len(headers.getlist("host")) > 1 or not self.allows_host(headers.get("host")):
            return Response("Invalid Host header", status_code=421)
        origins = headers.getlist("origin")
        if len(origins) > 1 or not self.allows_origin(origins[0] if origins else None):
            return Response("Invalid Origin header", status_code=403)
        return None


class HostCheckMiddleware:
    """ASGI middleware that answers requests with a foreign ``Host`` or ``Origin``.

    Args:
        app: The application.
        check: What is allowed.
    """

    def __init__(self, app: ASGIApp, check: HostCheck) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a foreign request, pass the rest on."""
        if scope["type"] == "http" and (refusal := self.check.refusal(scope)) is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)
