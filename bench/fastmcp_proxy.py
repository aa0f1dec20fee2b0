"""FastMCP's proxy of one upstream, served over streamable HTTP, for ``bench_proxy.py``.

Runs under an interpreter that has ``fastmcp`` (the bench makes an isolated venv for
it), and imports nothing from plugbay. It is FastMCP's recommended proxy,
``create_proxy(url)``, served with ``run_http_async`` on the transport settings the
bench passes:

    python bench/fastmcp_proxy.py --upstream http://127.0.0.1:8001/mcp --port 8002
"""

from __future__ import annotations

import argparse
import asyncio

from fastmcp.server import create_proxy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True, help="the upstream's streamable HTTP URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stateless", action="store_true")
    parser.add_argument("--json-response", action="store_true")
    options = parser.parse_args()
    proxy = create_proxy(options.upstream, name="fastmcp-proxy")
    asyncio.run(
        proxy.run_http_async(
            show_banner=False,
            transport="http",
            host=options.host,
            port=options.port,
            path="/mcp",
            log_level="info",
            stateless_http=options.stateless,
            json_response=options.json_response,
        )
    )


if __name__ == "__main__":
    main()
