"""The HTTP side: ``/xmlrpc/2/*``, the legacy ``/xmlrpc/*`` and ``/jsonrpc``, call by call."""

from __future__ import annotations

import asyncio
import json
import time
import xmlrpc.client
from collections.abc import Callable
from typing import Any
from xml.parsers.expat import ExpatError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from plugbay_odoo.fake.faults import (
    format_traceback,
    int_fault,
    json_error,
    string_fault,
    xml_response,
)
from plugbay_odoo.fake.state import ServerState


class RpcEndpoints(ServerState):
    """The HTTP endpoints of the fake (mixed into :class:`OdooFake`)."""

    # -- HTTP ----------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        """The ASGI application: ``/xmlrpc/2/common``, ``/xmlrpc/2/object``, ``/jsonrpc``."""
        return Starlette(
            routes=[
                Route("/xmlrpc/2/{service}", self._endpoint(self._xmlrpc_int), methods=["POST"]),
                Route("/xmlrpc/{service}", self._endpoint(self._xmlrpc_string), methods=["POST"]),
                Route("/jsonrpc", self._endpoint(self._jsonrpc), methods=["POST"]),
            ]
        )

    def _endpoint(self, handler: Callable[[Request, bytes], Response]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            if self.latency:
                await asyncio.sleep(self.latency)
            body = await request.body()
            started = time.perf_counter()
            with self._lock:
                self.requests += 1
                if request.client is not None:
                    self.connections.add((request.client.host, request.client.port))
                injected = next((item for item in self._injected if item.remaining > 0), None)
                if injected is not None:
                    injected.remaining -= 1
            if injected is not None:
                return PlainTextResponse(injected.body, status_code=injected.status)
            response = handler(request, body)
            elapsed = time.perf_counter() - started
            with self._lock:
                self.handling_seconds += elapsed
            return response

        return endpoint

    def _xmlrpc_int(self, request: Request, body: bytes) -> Response:
        return self._xmlrpc(request, body, string_codes=False)

    def _xmlrpc_string(self, request: Request, body: bytes) -> Response:
        return self._xmlrpc(request, body, string_codes=True)

    def _xmlrpc(self, request: Request, body: bytes, *, string_codes: bool) -> Response:
        service = request.path_params["service"]
        try:
            params, method = xmlrpc.client.loads(body)
        except (ExpatError, ValueError, TypeError) as exc:
            fault = xmlrpc.client.Fault(1, format_traceback(exc))
            return xml_response(xmlrpc.client.dumps(fault, methodresponse=True))
        result, error = self._dispatch("xmlrpc", service, method or "", params)
        if error is None:
            try:
                return xml_response(
                    xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
                )
            except (TypeError, OverflowError) as exc:
                error = exc
        fault = string_fault(error) if string_codes else int_fault(error)
        return xml_response(xmlrpc.client.dumps(fault, methodresponse=True, allow_none=False))

    def _jsonrpc(self, request: Request, body: bytes) -> Response:
        try:
            payload = json.loads(body)
        except ValueError:
            return PlainTextResponse("Invalid JSON data", status_code=400)
        if not isinstance(payload, dict):
            return PlainTextResponse("Invalid JSON-RPC data", status_code=400)
        request_id = payload.get("id")
        params = payload.get("params") or {}
        if not isinstance(params, dict) or not {"service", "method"} <= set(params):
            error: BaseException = TypeError(
                "jsonrpc() missing required arguments: 'service', 'method' and 'args'"
            )
            return json_error(request_id, error)
        args = params.get("args") or []
        result, failure = self._dispatch(
            "jsonrpc", str(params["service"]), str(params["method"]), list(args)
        )
        if failure is not None:
            return json_error(request_id, failure)
        return JSONResponse({"jsonrpc": "2.0", "id": request_id, "result": result})
