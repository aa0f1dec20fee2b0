"""The proxy as the client of an MCP conformance scenario: ``proxy_client.py <server-url>``.

The suite (``conformance client --command ...``) starts a scenario's test server and
runs this with its URL. A plugbay assembly with one proxy instance mounts that server
(the fast path on, the handshake era), and a client of the assembly calls each tool
the server lists, as a user of the gateway would; the suite judges what the proxy did
on the wire. Exits 1 when a call fails.
"""

from __future__ import annotations

import sys

import anyio
import mcp_types as types
from mcp import Client

from plugbay.server import PlugbayServer
from plugbay_proxy import ProxyConnector
from plugbay_testing import build_assembly

INSTANCE = "scenario"


async def run(url: str) -> int:
    """Call every tool of the scenario's server through the proxy; the exit status."""
    settings = {"plugin": "proxy", "url": url, "protocol": "legacy", "start_wait": 10}
    assembly = build_assembly(ProxyConnector, config={"connectors": {INSTANCE: settings}})
    if assembly.problems:
        print(assembly.problems, file=sys.stderr)
        return 1
    await assembly.start()
    try:
        state = assembly.instances[INSTANCE].as_dict().get("state") or {}
        if state.get("upstream") != "ready":
            print(f"the proxy did not connect: {state}", file=sys.stderr)
            return 1
        failures = 0
        async with Client(PlugbayServer(assembly).sdk) as client:
            for tool in (await client.list_tools()).tools:
                result = await client.call_tool(tool.name, {})
                text = " ".join(
                    block.text for block in result.content if isinstance(block, types.TextContent)
                )
                print(f"{tool.name}: {'error' if result.is_error else 'ok'}: {text}")
                failures += bool(result.is_error)
        return 1 if failures else 0
    finally:
        await assembly.stop()


if __name__ == "__main__":
    sys.exit(anyio.run(run, sys.argv[-1]))
