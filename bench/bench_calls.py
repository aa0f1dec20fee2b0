"""Per-call cost of plugbay against a bare MCP SDK server serving the same ``echo`` tool.

Both servers run as their own processes on free loopback ports, served the same way
(uvicorn, streamable HTTP, the same SDK transport settings). One client process loads
them identically: a few concurrent MCP sessions, each opened with a real handshake, then
``tools/call`` requests over keep-alive connections. The servers are measured alternately,
in several rounds, and the medians are reported:

- server CPU time (user + system of the server process) per call over the measured window;
- calls per second over that window;
- p50 and p99 latency of one call as the client sees it;
- plugbay's CPU per call over the bare server's (the median of the per-round ratios),
  against the 1.10 goal.

    python bench/bench_calls.py [--calls 2000] [--rounds 9] [--concurrency 4] [--json]

The servers' responses are checked (each call must echo its own text back, and both
servers must advertise the same input schema), but nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import (
    ServerProcess,
    Window,
    alternating,
    check_load_options,
    free_port,
    input_schema,
    load_line,
    measure,
    per_round_ratios,
    plugbay_command,
    print_error_samples,
    print_report,
    print_server_rows,
    server_environment,
    server_medians,
    spawn,
    stop_all,
    wait_until_serving,
    window_dict,
)

BENCH_DIR = Path(__file__).resolve().parent
GOAL = 1.10
"""plugbay's CPU per call may be at most this many times the bare SDK server's."""
SERVERS = ("plugbay", "bare")


# --- the servers -------------------------------------------------------------------------


def server_command(name: str, port: int, config: Path, options: argparse.Namespace) -> list[str]:
    """The command line that starts server ``name`` with the transport settings in ``options``."""
    if name == "plugbay":
        return plugbay_command(port, config, options)
    command = [
        sys.executable,
        str(BENCH_DIR / "bare_server.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if options.stateless:
        command.append("--stateless")
    if options.json_response:
        command.append("--json-response")
    if options.bare_without_spans:
        command.append("--no-spans")
    return command


@contextmanager
def running_servers(options: argparse.Namespace) -> Iterator[dict[str, ServerProcess]]:
    """Start both servers (in a scratch directory, so no stray config applies); stop them after."""
    servers: dict[str, ServerProcess] = {}
    with tempfile.TemporaryDirectory(prefix="plugbay-bench-") as scratch:
        workdir = Path(scratch)
        config = workdir / "plugbay.toml"
        # The built-in server defaults; transport settings come from the command line.
        config.write_text("[server]\n", encoding="utf-8")
        try:
            for name in SERVERS:
                port = free_port()
                command = server_command(name, port, config, options)
                servers[name] = spawn(name, command, server_environment(), workdir, port)
            yield servers
        finally:
            stop_all(servers.values())


# --- the report --------------------------------------------------------------------------


def summarize(windows: Sequence[Window]) -> dict[str, Any]:
    """Medians over the rounds, per server, and the CPU ratio against the goal."""
    servers = server_medians(windows, SERVERS)
    # The headline is the median of the per-round ratios: the two windows of a round run
    # back to back, so load that comes and goes on the machine mostly cancels out in each.
    per_round = per_round_ratios(windows, "plugbay", "bare")
    ratio = statistics.median(per_round)
    bare = servers["bare"]["cpu_us_per_call"]
    return {
        "servers": servers,
        "cpu_ratio": ratio,
        "cpu_ratio_per_round": per_round,
        "cpu_ratio_of_medians": servers["plugbay"]["cpu_us_per_call"] / bare
        if bare
        else float("inf"),
        "goal": GOAL,
        "within_goal": ratio <= GOAL,
    }


def print_table(report: dict[str, Any]) -> None:
    """Print the human-readable report."""
    settings = report["settings"]
    print(
        load_line(settings)
        + (", bare server without SDK spans" if settings["bare_without_spans"] else "")
    )
    print_server_rows(report["summary"]["servers"])
    summary = report["summary"]
    verdict = "PASS" if summary["within_goal"] else "over goal"
    rounds = " ".join(f"{value:.3f}" for value in summary["cpu_ratio_per_round"])
    ratio = summary["cpu_ratio"]
    print(f"CPU per call, plugbay / bare: {ratio:.3f} (goal <= {GOAL:.2f}: {verdict})")
    print(f"per round: {rounds}  (ratio of the medians: {summary['cpu_ratio_of_medians']:.3f})")
    if not report["same_schema"]:
        print("warning: the two servers advertise different input schemas for echo")
    print_error_samples(report["windows"], "server")


async def run(options: argparse.Namespace) -> dict[str, Any]:
    """Start both servers, measure them alternately, and return the report."""
    with running_servers(options) as servers:
        await asyncio.gather(*(wait_until_serving(server) for server in servers.values()))
        schemas = {
            name: await input_schema(server, "echo", options.era)
            for name, server in servers.items()
        }
        windows: list[Window] = []
        for round_number in range(options.rounds):
            # Alternate who goes first so slow drift on the machine does not favour one server.
            for name in alternating(SERVERS, round_number):
                windows.append(await measure(servers[name], round_number, options))
    settings = {
        key: getattr(options, key)
        for key in (
            "calls",
            "rounds",
            "concurrency",
            "warmup",
            "max_seconds",
            "era",
            "stateless",
            "json_response",
            "bare_without_spans",
        )
    }
    properties = ("calls_per_second", "cpu_us_per_call", "client_cpu_us_per_call")
    windows_out = [window_dict(window, *properties) for window in windows]
    return {
        "settings": settings,
        "schemas": schemas,
        "same_schema": schemas["plugbay"] is not None and schemas["plugbay"] == schemas["bare"],
        "windows": windows_out,
        "summary": summarize(windows),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        description="Server CPU per tools/call: plugbay against a bare MCP SDK server."
    )
    parser.add_argument(
        "--calls", type=int, default=2000, help="measured calls per server per round"
    )
    parser.add_argument(
        "--rounds", type=int, default=9, help="alternating rounds per server (medians reported)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent client sessions")
    parser.add_argument(
        "--warmup", type=int, default=300, help="unmeasured calls before each window"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="time limit of one measured window"
    )
    parser.add_argument(
        "--era",
        choices=("legacy", "modern"),
        default="legacy",
        help="legacy: initialize and sessions (2025-11-25); modern: per request (2026-07-28)",
    )
    parser.add_argument(
        "--stateless", action="store_true", help="serve stateless HTTP (default stateful)"
    )
    parser.add_argument(
        "--json-response", action="store_true", help="answer POSTs with JSON (default SSE)"
    )
    parser.add_argument(
        "--bare-without-spans",
        action="store_true",
        help="drop the SDK's default span middleware from the bare server, as plugbay does "
        "with telemetry off (isolates plugbay's own layer)",
    )
    parser.add_argument(
        "--json", dest="as_json", action="store_true", help="print the report as JSON"
    )
    options = parser.parse_args(argv)
    check_load_options(parser, options)
    return options


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its report."""
    options = parse_args(argv)
    print_report(asyncio.run(run(options)), options.as_json, print_table)


if __name__ == "__main__":
    main()
