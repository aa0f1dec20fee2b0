"""What hosting costs per call: plugbay with JWT auth, a policy and rate limits, against itself.

Two ``plugbay serve`` processes serve the same ``echo`` tool from the bench plugin:

- **hosted**: ``[auth.jwt]`` (RS256 tokens checked against a JWKS that this script serves on
  loopback), a ``[policy]`` that allows the caller ``echo`` (with a deny rule and a default
  to evaluate), and ``[limits]`` with a per-principal and a per-tool rate (in memory, high
  enough never to refuse, so every call is counted twice);
- **plain**: the same server without those tables.

Every request to the hosted server carries ``Authorization: Bearer <JWT>``. The client, the
measurement and the report are those of ``bench_calls.py`` (shared in ``harness.py``): server
CPU per call over alternating rounds, and the median of the per-round ratios against the 1.15
goal.

    python bench/bench_hosted.py [--calls 2000] [--rounds 9] [--token-cache off] [--json]

``--token-cache off`` turns off the verified-token cache, so every request verifies the
token's RSA signature: the worst case, when each request brings a new token.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import harness as base
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

GOAL = 1.15
"""The hosted server's CPU per call may be at most this many times the plain one's."""
SERVERS = ("hosted", "plain")
RESOURCE = "https://bench.example/mcp"
KID = "bench-key"
PRINCIPAL = "bench-client"


class Issuer:
    """An RSA key, the JWKS that publishes it (served on loopback), and a token it signed."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=KID, use="sig", alg="RS256")
        body = json.dumps({"keys": [jwk]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True).start()

    def token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": PRINCIPAL,
            "aud": RESOURCE,
            "iat": now,
            "exp": now + 3600,
            "scope": "echo",
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def hosted_config(issuer: Issuer, options: argparse.Namespace) -> str:
    return f"""
[server]

[auth]
resource = "{RESOURCE}"

[auth.jwt]
jwks_url = "{issuer.url}/jwks"
issuer = "{issuer.url}"
token_cache_size = {10_000 if options.token_cache == "on" else 0}

[[policy.rules]]
scopes = ["echo"]
tools = ["echo"]

[[policy.rules]]
effect = "deny"
principals = ["intruder-*"]

[limits]
per_principal = "100000000/minute"
per_tool = "100000000/minute"
"""


@contextmanager
def running_servers(
    issuer: Issuer, options: argparse.Namespace
) -> Iterator[dict[str, base.ServerProcess]]:
    """Start both servers, each with its configuration, in a scratch directory."""
    servers: dict[str, base.ServerProcess] = {}
    with tempfile.TemporaryDirectory(prefix="plugbay-bench-hosted-") as scratch:
        workdir = Path(scratch)
        try:
            for name in SERVERS:
                config = workdir / f"{name}.toml"
                config.write_text(
                    hosted_config(issuer, options) if name == "hosted" else "[server]\n"
                )
                port = base.free_port()
                command = base.plugbay_command(port, config, options)
                # The hosted server's tables belong to plugbay-auth and plugbay-guard.
                plugins = "bench_echo,auth,guard" if name == "hosted" else "bench_echo"
                environ = base.server_environment(plugins)
                servers[name] = base.spawn(name, command, environ, workdir, port)
            yield servers
        finally:
            base.stop_all(servers.values())


def session(server: base.ServerProcess, era: str, token: str) -> base.McpSession:
    """A bench session; the hosted server's requests carry the bearer token."""
    opened = base.McpSession(server.url, era)
    if server.name == "hosted":
        opened._headers["authorization"] = f"Bearer {token}"
    return opened


async def refused_without_token(server: base.ServerProcess) -> bool:
    """Check the hosted server really is guarded: a request without a token gets 401."""
    connection = base.HttpConnection(server.url)
    try:
        headers = {
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
        }
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
        response = await connection.request("POST", headers, body)
    finally:
        await connection.close()
    return response.status == 401


def summarize(windows: Sequence[base.Window]) -> dict[str, Any]:
    """Medians per server, and the median of the per-round CPU ratios against the goal."""
    servers = base.server_medians(windows, SERVERS)
    per_round = base.per_round_ratios(windows, "hosted", "plain")
    ratio = statistics.median(per_round)
    return {
        "servers": servers,
        "cpu_ratio": ratio,
        "cpu_ratio_per_round": per_round,
        "extra_cpu_us_per_call": servers["hosted"]["cpu_us_per_call"]
        - servers["plain"]["cpu_us_per_call"],
        "goal": GOAL,
        "within_goal": ratio <= GOAL,
    }


def print_table(report: dict[str, Any]) -> None:
    """Print the human-readable report."""
    settings = report["settings"]
    print(f"{base.load_line(settings)}, token cache {settings['token_cache']}")
    base.print_server_rows(report["summary"]["servers"])
    summary = report["summary"]
    verdict = "PASS" if summary["within_goal"] else "over goal"
    rounds = " ".join(f"{value:.3f}" for value in summary["cpu_ratio_per_round"])
    print(
        f"CPU per call, hosted / plain: {summary['cpu_ratio']:.3f} "
        f"(median of rounds; goal <= {GOAL:.2f}: {verdict}); "
        f"hosting adds {summary['extra_cpu_us_per_call']:.1f} us per call"
    )
    print(f"per round: {rounds}")
    if not report["guarded"]:
        print("warning: the hosted server answered a request without a token")
    base.print_error_samples(report["windows"], "server")


async def run(options: argparse.Namespace) -> dict[str, Any]:
    """Start the issuer and both servers, measure them alternately, and return the report."""
    issuer = Issuer()
    try:
        token = issuer.token()
        with running_servers(issuer, options) as servers:
            await asyncio.gather(*(base.wait_until_serving(s) for s in servers.values()))
            guarded = await refused_without_token(servers["hosted"])
            windows: list[base.Window] = []
            for round_number in range(options.rounds):
                for name in base.alternating(SERVERS, round_number):
                    server = servers[name]
                    make = functools.partial(session, server, options.era, token)
                    windows.append(await base.measure(server, round_number, options, make))
    finally:
        issuer.close()
    keys = ("calls", "rounds", "concurrency", "warmup", "max_seconds", "era", "stateless")
    settings = {key: getattr(options, key) for key in (*keys, "json_response", "token_cache")}
    return {
        "settings": settings,
        "guarded": guarded,
        "windows": [base.window_dict(w, "cpu_us_per_call", "calls_per_second") for w in windows],
        "summary": summarize(windows),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        description="Server CPU per tools/call: plugbay with JWT auth, policy and rate limits "
        "against plugbay without them."
    )
    parser.add_argument(
        "--calls", type=int, default=2000, help="measured calls per server per round"
    )
    parser.add_argument(
        "--rounds", type=int, default=9, help="alternating rounds (medians reported)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent client sessions")
    parser.add_argument(
        "--warmup", type=int, default=300, help="unmeasured calls before each window"
    )
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit of one window")
    parser.add_argument("--era", choices=("legacy", "modern"), default="legacy")
    parser.add_argument("--stateless", action="store_true", help="serve stateless HTTP")
    parser.add_argument("--json-response", action="store_true", help="answer POSTs with JSON")
    parser.add_argument(
        "--token-cache",
        choices=("on", "off"),
        default="on",
        help="off: verify the token's signature on every request (the worst case)",
    )
    parser.add_argument(
        "--json", dest="as_json", action="store_true", help="print the report as JSON"
    )
    options = parser.parse_args(argv)
    base.check_load_options(parser, options)
    return options


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its report."""
    options = parse_args(argv)
    base.print_report(asyncio.run(run(options)), options.as_json, print_table)


if __name__ == "__main__":
    main()
