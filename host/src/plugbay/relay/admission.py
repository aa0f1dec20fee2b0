"""Which requests the relay lane takes: those it can answer exactly as the SDK would.

Each check below mirrors one the SDK makes on its own path, in the same order; a
request that fails any of them is left to the SDK, which gives the answer (status,
error code and message) a client would get without the lane.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic_core
from mcp.server.connection import allowed_log_levels
from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.inbound import (
    MCP_PARAM_HEADER_PREFIX,
    MCP_PROTOCOL_VERSION_HEADER,
    InboundModernRoute,
    classify_inbound_request,
    find_duplicated_routing_header,
)
from mcp_types import DEFAULT_NEGOTIATED_VERSION
from mcp_types.methods import validate_client_request
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import Scope

from plugbay.catalog import ToolEntry
from plugbay.relay.sessions import SessionGate
from plugbay.relay.wire import SESSION_HEADER

VERSION_HEADER = MCP_PROTOCOL_VERSION_HEADER.encode()
_PARAM_HEADER_PREFIX = MCP_PARAM_HEADER_PREFIX.lower()
_EVERY_LOG_LEVEL = allowed_log_levels(HANDSHAKE_PROTOCOL_VERSIONS[-1], None)
"""Handshake-era clients take log messages of every level (they filter with setLevel)."""


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """The parts of a ``tools/call`` request the lane works with, shape-checked."""

    request_id: str | int
    name: str
    arguments: Mapping[str, Any]
    meta: Mapping[str, Any] | None
    progress_token: str | int | None
    params: Mapping[str, Any]

    @classmethod
    def parse(cls, message: Mapping[str, Any]) -> ToolCallRequest | None:
        """The request in ``message``, or ``None`` for any shape the SDK should judge."""
        request_id = message.get("id")
        params = message.get("params")
        if not isinstance(request_id, str | int) or isinstance(request_id, bool):
            return None
        if not isinstance(params, dict):
            return None
        name, arguments, meta = params.get("name"), params.get("arguments"), params.get("_meta")
        if not isinstance(name, str) or not isinstance(arguments, dict | None):
            return None
        if not isinstance(meta, dict | None):
            return None
        token = meta.get("progressToken") if meta else None
        if not isinstance(token, str | int | None) or isinstance(token, bool):
            return None
        return cls(request_id, name, arguments or {}, meta, token, params)


@dataclass(frozen=True, slots=True)
class Admission:
    """A request the lane serves, and what it needs to know to answer it.

    Attributes:
        version: The protocol version the answer is shaped for.
        session_id: The handshake-era session, echoed in ``Mcp-Session-Id``.
        transport: That session's SDK transport (kept from expiring during the
            call), or ``None`` without a session.
        log_levels: The levels of log messages the client takes for this call.
        modern: A 2026-07-28 request: the client cancels by closing the connection.
    """

    version: str
    session_id: str | None
    transport: Any
    log_levels: frozenset[str]
    modern: bool


def requested_era(headers: Mapping[bytes, bytes]) -> str | None:
    """``"handshake"``, ``"modern"`` or ``None`` (a version no path of the lane serves)."""
    header = headers.get(VERSION_HEADER)
    if header is None:
        return "handshake"
    version = header.decode("latin-1")
    if version in HANDSHAKE_PROTOCOL_VERSIONS:
        return "handshake"
    return "modern" if version in MODERN_PROTOCOL_VERSIONS else None


class Admissions:
    """Decides whether the lane may answer a request.

    Args:
        gate: The handshake-era sessions the lane may serve.
        security: The DNS-rebinding protection the SDK's transport applies.
        json_response: Whether the server answers with JSON bodies only.
        stateless: Whether handshake-era requests come without sessions.
    """

    def __init__(
        self,
        gate: SessionGate,
        security: TransportSecuritySettings | None,
        *,
        json_response: bool,
        stateless: bool,
    ) -> None:
        self.gate = gate
        self.json_response = json_response
        self.stateless = stateless
        self._security = TransportSecurityMiddleware(security)
        self._param_headers: dict[str, tuple[object, bool]] = {}

    async def transport_allows(self, request: Request) -> bool:
        """The checks of every POST: Accept, Content-Type, Host and Origin."""
        has_json, has_sse = check_accept_headers(request)
        if not has_json or not (has_sse or self.json_response):
            return False
        return await self._security.validate_request(request, is_post=True) is None

    async def admit(
        self,
        request: Request,
        headers: Mapping[bytes, bytes],
        message: Mapping[str, Any],
        call: ToolCallRequest,
        entry: ToolEntry,
    ) -> Admission | None:
        """The admission of a relayed ``tools/call``, or ``None`` to leave it to the SDK."""
        era = requested_era(headers)
        if era is None or not await self.transport_allows(request):
            return None
        if era == "modern":
            admission = self._modern(request, message, call, entry)
        else:
            admission = self._handshake(request.scope, headers)
        if admission is None:
            return None
        try:
            validate_client_request("tools/call", admission.version, call.params)
        except (ValidationError, KeyError, ValueError):
            return None  # the SDK answers with the protocol's own complaint
        return admission

    def _handshake(self, scope: Scope, headers: Mapping[bytes, bytes]) -> Admission | None:
        if self.stateless:
            header = headers.get(VERSION_HEADER)
            version = header.decode("latin-1") if header else DEFAULT_NEGOTIATED_VERSION
            return Admission(version, None, None, _EVERY_LOG_LEVEL, modern=False)
        header = headers.get(SESSION_HEADER)
        if header is None:
            return None
        session_id = header.decode("latin-1")
        session = self.gate.session(session_id, scope)
        if session is None:
            return None
        transport, version = session
        return Admission(version, session_id, transport, _EVERY_LOG_LEVEL, modern=False)

    def _modern(
        self,
        request: Request,
        message: Mapping[str, Any],
        call: ToolCallRequest,
        entry: ToolEntry,
    ) -> Admission | None:
        if find_duplicated_routing_header(request.headers.items()) is not None:
            return None
        route = classify_inbound_request(message, headers=dict(request.headers))
        if not isinstance(route, InboundModernRoute):
            return None
        if self._declares_param_headers(entry) or any(
            name.startswith(_PARAM_HEADER_PREFIX) for name in request.headers
        ):
            return None  # Mcp-Param-* headers are checked against the schema by the SDK
        levels = allowed_log_levels(route.protocol_version, call.meta)
        return Admission(route.protocol_version, None, None, levels, modern=True)

    def _declares_param_headers(self, entry: ToolEntry) -> bool:
        """Whether the tool's schema mirrors arguments into headers (``x-mcp-header``)."""
        definition = entry.definition
        known = self._param_headers.get(definition.name)
        if known is not None and known[0] is definition:
            return known[1]
        declares = b"x-mcp-header" in pydantic_core.to_json(definition.input_schema)
        self._param_headers[definition.name] = (definition, declares)
        return declares
