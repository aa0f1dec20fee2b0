"""Serve the fake Odoo on a loopback address: ``python -m plugbay_odoo.fake --port N``.

For trying the connector, or a client, without an Odoo database. The fake's API keys
are public, so it binds loopback addresses only.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys

import uvicorn

from plugbay_odoo.fake.server import OdooFake


def _loopback_host(value: str) -> str:
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
        prog="python -m plugbay_odoo.fake", description="Serve a fake Odoo 18 external API."
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument(
        "--host", type=_loopback_host, default="127.0.0.1", help="a loopback address"
    )
    parser.add_argument("--login", choices=["admin", "demo"], default="admin", help="user")
    options = parser.parse_args(argv)
    odoo = OdooFake()
    odoo.url = f"http://{options.host}:{options.port}"
    settings = odoo.settings(options.login)
    lines = [f'{name} = "{value}"' for name, value in settings.items()]
    print(f"Fake Odoo on {odoo.url} (Ctrl+C stops it); in plugbay.toml:\n")
    print("\n".join(["[connectors.odoo]", 'plugin = "odoo"', *lines]), flush=True)
    uvicorn.run(odoo.app, host=options.host, port=options.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
