"""What hosting costs per call: plugboard with JWT auth, a policy and rate limits, against itself.

Two ``plugboard serve`` processes serve the same ``echo`` tool from the bench plugin:

- **hosted**: ``[auth.jwt]`` (RS256 tokens checked against a JWKS that this script serves on
  loopback), a ``[policy]`` that allows the caller ``echo`` (with a deny rule and a default
  to evaluate), and ``[limits]`` with a per-principal and a per-tool rate (in memory, high
  enough never to refuse, so every call is counted twice);
- **plain**: the same server without those tables.

Every request to the hosted server carries ``Authorization: Bearer <JWT>``. The client, the
measurement and the report are those of ``bench_calls.py`` (imported from it): server CPU per
call over alternating rounds, and the median of the per-round ratios against the 1.15 goal.

    python bench/bench_hosted.py [--calls 2000] [--rounds 9] [--token-cache off] [--json]

``--token-cache off`` turns off the verified-token cache, so every request verifies the
token's RSA signature: the worst case, when each request brings a new token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import bench_calls as base
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


def server_command(port: int, config: Path, options: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "plugboard",
        "serve",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--stateless" if options.stateless else "--stateful",
        "--json-response" if options.json_response else "--sse-response",
    ]


@contextmanager
def running_servers(
    issuer: Issuer, options: argparse.Namespace
) -> Iterator[dict[str, base.ServerProcess]]:
    """Start both servers, each with its configuration, in a scratch directory."""
    servers: dict[str, base.ServerProcess] = {}
    with tempfile.TemporaryDirectory(prefix="plugboard-bench-hosted-") as scratch:
        workdir = Path(scratch)
        try:
            for name in SERVERS:
                config = workdir / f"{name}.toml"
                config.write_text(
                    hosted_config(issuer, options) if name == "hosted" else "[server]\n"
                )
                port = base.free_port()
                log = workdir / f"{name}.log"
                with log.open("wb") as output:
                    process = subprocess.Popen(
                        server_command(port, config, options),
                        cwd=workdir,
                        env=base.server_environment(),
                        stdin=subprocess.DEVNULL,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                url = f"http://127.0.0.1:{port}/mcp"
                servers[name] = base.ServerProcess(name, process, url, log)
            yield servers
        finally:
            for server in servers.values():
                server.process.terminate()
            for server in servers.values():
                try:
                    server.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.process.kill()
                    server.process.wait()


def session(server: base.ServerProcess, era: str, token: str) -> base.McpSession:
    """A bench session; the hosted server's requests carry the bearer token."""
    opened = base.McpSession(server.url, era)
    if server.name == "hosted":
        opened._headers["authorization"] = f"Bearer {token}"
    return opened


async def measure(
    server: base.ServerProcess, round_number: int, token: str, options: argparse.Namespace
) -> base.Window:
    """Like ``bench_calls.measure``, with the token on the hosted server's sessions."""
    sessions = [session(server, options.era, token) for _ in range(options.concurrency)]
    try:
        await asyncio.gather(*(item.open() for item in sessions))
        await base.drive(sessions, options.warmup, time.perf_counter() + options.max_seconds)
        cpu_before = server.cpu_seconds()
        client_before = time.process_time()
        started = time.perf_counter()
        load = await base.drive(sessions, options.calls, started + options.max_seconds)
        seconds = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu_before
        client_cpu = time.process_time() - client_before
    finally:
        await asyncio.gather(*(item.close() for item in sessions))
    return base.Window(
        server=server.name,
        round=round_number,
        calls=load.calls,
        errors=load.errors,
        seconds=seconds,
        server_cpu_seconds=cpu,
        client_cpu_seconds=client_cpu,
        p50_ms=base.percentile(load.latencies, 0.50) * 1000,
        p99_ms=base.percentile(load.latencies, 0.99) * 1000,
        error_samples=load.error_samples,
    )


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
    servers = {}
    for name in SERVERS:
        mine = [window for window in windows if window.server == name]
        servers[name] = {
            "calls": sum(window.calls for window in mine),
            "errors": sum(window.errors for window in mine),
            "calls_per_second": statistics.median(window.calls_per_second for window in mine),
            "cpu_us_per_call": statistics.median(window.cpu_us_per_call for window in mine),
            "p50_ms": statistics.median(window.p50_ms for window in mine),
            "p99_ms": statistics.median(window.p99_ms for window in mine),
            "client_cpu_us_per_call": statistics.median(
                window.client_cpu_us_per_call for window in mine
            ),
        }
    per_round = []
    for round_number in sorted({window.round for window in windows}):
        pair = {w.server: w.cpu_us_per_call for w in windows if w.round == round_number}
        per_round.append(pair["hosted"] / pair["plain"] if pair.get("plain") else float("inf"))
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
    print(
        f"tools/call 'echo' over loopback: {settings['calls']} calls x {settings['rounds']} rounds "
        f"per server, concurrency {settings['concurrency']}, {settings['era']} protocol, "
        f"{'stateless' if settings['stateless'] else 'stateful'}, "
        f"{'JSON' if settings['json_response'] else 'SSE'} responses, "
        f"token cache {settings['token_cache']}"
    )
    columns = ("calls", "errors", "calls/s", "CPU us/call", "p50 ms", "p99 ms")
    widths = (7, 6, 9, 12, 8, 8)
    print(f"{'server':<10} " + " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for name, row in report["summary"]["servers"].items():
        print(
            f"{name:<10} {row['calls']:>7} {row['errors']:>6} {row['calls_per_second']:>9.1f} "
            f"{row['cpu_us_per_call']:>12.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
        )
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
    for window in report["windows"]:
        for sample in window["error_samples"]:
            print(f"error ({window['server']}, round {window['round']}): {sample}")


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
                order = SERVERS if round_number % 2 == 0 else tuple(reversed(SERVERS))
                for name in order:
                    windows.append(await measure(servers[name], round_number, token, options))
    finally:
        issuer.close()
    keys = ("calls", "rounds", "concurrency", "warmup", "max_seconds", "era", "stateless")
    settings = {key: getattr(options, key) for key in (*keys, "json_response", "token_cache")}
    return {
        "settings": settings,
        "guarded": guarded,
        "windows": [
            {
                **asdict(w),
                "cpu_us_per_call": w.cpu_us_per_call,
                "calls_per_second": w.calls_per_second,
            }
            for w in windows
        ],
        "summary": summarize(windows),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        description="Server CPU per tools/call: plugboard with JWT auth, policy and rate limits "
        "against plugboard without them."
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
    if options.calls < 1 or options.rounds < 1 or options.concurrency < 1 or options.warmup < 0:
        parser.error("--calls, --rounds and --concurrency must be positive, --warmup not negative")
    return options


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its report."""
    options = parse_args(argv)
    report = asyncio.run(run(options))
    if options.as_json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
