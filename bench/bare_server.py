"""The baseline: the MCP SDK's low-level ``Server`` with one ``echo`` tool, and nothing else.

It is served the way ``plugbay serve`` serves (see ``plugbay.transports.http_app`` and
``run_http``): a ``StreamableHTTPSessionManager`` with the same ``json_response`` and
``stateless`` settings, the same DNS-rebinding protection on loopback, mounted with
``StreamableHTTPASGIApp`` on a Starlette route at ``/mcp``, and run by ``uvicorn.run`` with
the same options and the same INFO logging. Whatever plugbay costs beyond this, per call,
is plugbay's own.

    python bench/bare_server.py --port 8001 [--stateless] [--json-response]

It deliberately imports nothing from plugbay.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as types
import uvicorn
from mcp.server import Server, ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from starlette.applications import Starlette
from starlette.routing import Route

# The same schema plugbay generates for ``echo(text: str) -> str`` with its docstring.
ECHO_TOOL = types.Tool(
    name="echo",
    description="Return the text unchanged.",
    input_schema={
        "type": "object",
        "properties": {"text": {"type": "string", "description": "The text to send back."}},
        "required": ["text"],
        "additionalProperties": False,
    },
    annotations=types.ToolAnnotations(
        read_only_hint=True, idempotent_hint=True, open_world_hint=False
    ),
)


async def list_tools(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    """``tools/list``: the one tool."""
    return types.ListToolsResult(tools=[ECHO_TOOL])


async def call_tool(
    ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
) -> types.CallToolResult:
    """``tools/call``: what a hand-written server does, a name check and an argument check."""
    if params.name != "echo":
        raise MCPError(INVALID_PARAMS, f"Unknown tool: {params.name}")
    text = (params.arguments or {}).get("text")
    if not isinstance(text, str):
        return types.CallToolResult(
            content=[
                types.TextContent(
                    type="text", text="Invalid arguments for echo: text: a string is required"
                )
            ],
            is_error=True,
        )
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)])


def input_schema(name: str) -> dict[str, Any] | None:
    """The schema of a tool by name, so 2026-07-28 header validation needs no ``tools/list``.

    Without it the SDK runs the ``tools/list`` handler on every ``tools/call`` that has
    arguments; plugbay sets it, and so does this baseline, to compare like with like.
    """
    return ECHO_TOOL.input_schema if name == ECHO_TOOL.name else None


def build_app(*, stateless: bool, json_response: bool, spans: bool = True) -> Starlette:
    """The ASGI application, configured like plugbay's ``http_app`` on a loopback address.

    Args:
        stateless: Serve stateless HTTP.
        json_response: Answer POSTs with JSON rather than SSE.
        spans: Keep the SDK's default OpenTelemetry middleware. plugbay removes it when
            its telemetry is off; ``False`` does the same here.
    """
    server: Server[Any] = Server(
        "bare-echo",
        version="0",
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    if not spans:
        # The SDK's default list holds only its OpenTelemetry layer: an empty list drops it
        # without naming a class from a private module (as plugbay's server does).
        server.middleware = []
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
    )
    manager = StreamableHTTPSessionManager(
        app=server,
        json_response=json_response,
        stateless=stateless,
        security_settings=security,
        max_request_body_size=4 * 1024 * 1024,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    route = Route(
        "/mcp", endpoint=StreamableHTTPASGIApp(manager), methods=["GET", "POST", "DELETE"]
    )
    return Starlette(routes=[route], lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    """Serve the bare echo server until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--stateless", action="store_true")
    parser.add_argument("--json-response", action="store_true")
    parser.add_argument("--no-spans", action="store_true", help="drop the SDK's span middleware")
    options = parser.parse_args(argv)
    # The same logging setup as the plugbay command line.
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = build_app(
        stateless=options.stateless,
        json_response=options.json_response,
        spans=not options.no_spans,
    )
    uvicorn.run(
        app,
        host=options.host,
        port=options.port,
        log_level="info",
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
