"""Serve the fake Copper API on a loopback address: ``python -m plugbay_copper.fake --port N``.

For trying the connector, or a client, without a Copper account. The fake's API key is
public, so it binds loopback addresses only.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys

import uvicorn

from plugbay_copper.fake.account import CopperFake


def _loopback(value: str) -> str:
    try:
        loopback = value == "localhost" or ipaddress.ip_address(value).is_loopback
    except ValueError:  # a host name: only "localhost" is known to stay on this machine
        loopback = False
    if loopback:
        return value
    raise argparse.ArgumentTypeError(
        f"{value} is not a loopback address (the fake's keys are public)"
    )


def main(argv: list[str] | None = None) -> int:
    """Print the connector settings that reach the fake, then serve it until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m plugbay_copper.fake", description="Serve a fake Copper developer API."
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--host", type=_loopback, default="127.0.0.1", help="a loopback address")
    options = parser.parse_args(argv)
    fake = CopperFake()
    fake.base_url = f"http://{options.host}:{options.port}"
    print(f"Fake Copper API on {fake.api_url} (Ctrl+C stops it); in plugbay.toml:\n")
    print('[connectors.copper]\nplugin = "copper"')
    print("\n".join(f'{key} = "{value}"' for key, value in fake.settings().items()), flush=True)
    uvicorn.run(fake.app, host=options.host, port=options.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
