"""The CPU cost of the gateway hop: plugbay's proxy against calling directly and FastMCP's proxy.

One upstream, a plugbay serving the bench ``echo`` tool over streamable HTTP, is
called three ways by the same client load:

- ``direct``: the client calls the upstream itself;
- ``plugbay``: through a plugbay with one ``proxy`` instance mounting the upstream
  (``up_echo``);
- ``fastmcp``: through FastMCP's recommended proxy of the same URL
  (``create_proxy(url)``, see ``fastmcp_proxy.py``), run from an isolated venv.

For each window the bench reads the CPU time of the front process and of the upstream.
The *hop* is the front's CPU per call (the proxy's whole work: serving the client and
calling the upstream). The goals: plugbay's hop costs at most 1.5 plugbay calls (the
upstream's CPU per direct call, itself a plugbay serving ``echo``), and at most a tenth
of FastMCP's hop. Fronts are measured alternately in rounds; medians are reported.

    python bench/bench_proxy.py [--calls 1000] [--rounds 5] [--concurrency 4] [--json]

It reuses ``bench_calls.py``'s lightweight HTTP/MCP client and CPU reading (``harness.py``).
Every answer is checked; nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import (
    STARTUP_TIMEOUT,
    McpSession,
    ServerProcess,
    drive,
    free_port,
    input_schema,
    percentile,
    plugbay_command,
    print_error_samples,
    print_report,
    server_environment,
    spawn,
    stop_all,
    wait_until_serving,
    window_dict,
)

BENCH_DIR = Path(__file__).resolve().parent
FASTMCP_REQUIREMENT = "fastmcp==4.1.0"
"""The newest FastMCP the reference machine's package index can install (4.1.4 and later
need a ``certifi`` it lacks); it runs on ``mcp`` 2.3, like plugbay."""
FRONTS = ("direct", "plugbay", "fastmcp")
TOOL = {"direct": "echo", "plugbay": "up_echo", "fastmcp": "echo"}
HOP_GOAL = 1.5
"""plugbay's hop may cost at most this many plugbay calls."""
FASTMCP_GOAL = 0.1
"""plugbay's hop may cost at most this fraction of FastMCP's hop."""


# --- the processes -----------------------------------------------------------------------


def bench_plugin_path(scratch: Path) -> str | None:
    """A PYTHONPATH entry holding the bench ``echo`` plugin, or None when it is installed."""
    if importlib.metadata.entry_points(group="plugbay", name="bench_echo"):
        return None
    target = scratch / "bench-plugin"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    command += ["--no-build-isolation", "--target", str(target), str(BENCH_DIR / "plugin")]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return str(target)


def fastmcp_python(explicit: str | None) -> str:
    """An interpreter with FastMCP: the given one, else a cached venv made on first use."""
    if explicit:
        return explicit
    home = Path(tempfile.gettempdir()) / f"plugbay-bench-{FASTMCP_REQUIREMENT.replace('==', '-')}"
    python = home / "bin" / "python"
    if not (home / ".ready").exists():
        print(f"bench_proxy: installing {FASTMCP_REQUIREMENT} into {home}", file=sys.stderr)
        venv.create(home, with_pip=True, clear=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", FASTMCP_REQUIREMENT]
        subprocess.run(pip, check=True, timeout=900)
        (home / ".ready").write_text(FASTMCP_REQUIREMENT)
    return str(python)


def environment(plugins: str, extra_path: str | None) -> dict[str, str]:
    """The servers' environment: no stray plugbay settings, only the wanted plugins."""
    env = server_environment(plugins)
    env.pop("PYTHONPATH", None)
    if extra_path:
        env["PYTHONPATH"] = extra_path
    return env


@contextmanager
def running(options: argparse.Namespace) -> Iterator[dict[str, ServerProcess]]:
    """Start the upstream, then the two proxies of it; stop them all after."""
    servers: dict[str, ServerProcess] = {}
    with tempfile.TemporaryDirectory(prefix="plugbay-bench-proxy-") as scratch:
        workdir = Path(scratch)
        try:
            plugin_path = bench_plugin_path(workdir)
            upstream_port = free_port()
            upstream_config = workdir / "upstream.toml"
            upstream_config.write_text("[server]\n", encoding="utf-8")
            servers["direct"] = spawn(
                "direct",
                plugbay_command(upstream_port, upstream_config, options),
                environment("bench_echo", plugin_path),
                workdir,
                upstream_port,
            )
            upstream_url = servers["direct"].url

            gateway_port = free_port()
            gateway_config = workdir / "gateway.toml"
            gateway_config.write_text(
                f'[connectors.up]\nplugin = "proxy"\nurl = "{upstream_url}"\n'
                f'protocol = "{options.upstream_protocol}"\n'
                f"fast_calls = {'false' if options.sdk_calls else 'true'}\n",
                encoding="utf-8",
            )
            servers["plugbay"] = spawn(
                "plugbay",
                plugbay_command(gateway_port, gateway_config, options),
                environment("proxy", None),
                workdir,
                gateway_port,
            )

            if options.no_fastmcp:
                yield servers
                return
            fastmcp_port = free_port()
            command = [fastmcp_python(options.fastmcp_python), str(BENCH_DIR / "fastmcp_proxy.py")]
            command += ["--upstream", upstream_url, "--port", str(fastmcp_port)]
            if options.stateless:
                command.append("--stateless")
            if options.json_response:
                command.append("--json-response")
            servers["fastmcp"] = spawn(
                "fastmcp", command, environment("", None), workdir, fastmcp_port
            )
            yield servers
        finally:
            stop_all(servers.values())


# --- the load -----------------------------------------------------------------------------


@dataclass
class Window:
    """One measured window through one front."""

    front: str
    round: int
    calls: int
    errors: int
    seconds: float
    front_cpu_seconds: float
    upstream_cpu_seconds: float
    p50_ms: float
    p99_ms: float
    error_samples: list[str]

    def per_call(self, seconds: float) -> float:
        return seconds * 1e6 / self.calls if self.calls else 0.0

    @property
    def hop_us(self) -> float:
        """CPU per call of the process the client talks to (the upstream, for ``direct``)."""
        return self.per_call(self.front_cpu_seconds)

    @property
    def upstream_us(self) -> float:
        """The upstream's CPU per call."""
        return self.per_call(self.upstream_cpu_seconds)


async def measure(
    front: str, servers: dict[str, ServerProcess], round_number: int, options: argparse.Namespace
) -> Window:
    server, upstream = servers[front], servers["direct"]
    # FastMCP's proxy opens an upstream session per call: tens of milliseconds each, so
    # fewer calls measure it as precisely and keep a run short.
    calls = options.fastmcp_calls if front == "fastmcp" else options.calls
    warmup = min(options.warmup, calls // 5) if front == "fastmcp" else options.warmup
    sessions = [McpSession(server.url, options.era) for _ in range(options.concurrency)]
    try:
        await asyncio.gather(*(session.open() for session in sessions))
        await drive(sessions, warmup, time.perf_counter() + options.max_seconds, TOOL[front])
        front_before, upstream_before = server.cpu_seconds(), upstream.cpu_seconds()
        started = time.perf_counter()
        load = await drive(sessions, calls, started + options.max_seconds, TOOL[front])
        seconds = time.perf_counter() - started
        front_cpu = server.cpu_seconds() - front_before
        upstream_cpu = upstream.cpu_seconds() - upstream_before
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
    return Window(
        front=front,
        round=round_number,
        calls=load.calls,
        errors=load.errors,
        seconds=seconds,
        front_cpu_seconds=front_cpu,
        upstream_cpu_seconds=0.0 if front == "direct" else upstream_cpu,
        p50_ms=percentile(load.latencies, 0.50) * 1000,
        p99_ms=percentile(load.latencies, 0.99) * 1000,
        error_samples=load.error_samples,
    )


async def listed_schema(server: ServerProcess, era: str) -> dict[str, Any] | None:
    """The echo tool's input schema, once the server lists it.

    The proxies may start serving before their upstream connection is up (they never
    wait for it longer than ``start_wait``), so this asks again for a while.
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while (schema := await input_schema(server, TOOL[server.name], era)) is None:
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.2)
    return schema


# --- the report ---------------------------------------------------------------------------


def summarize(windows: Sequence[Window], fronts_measured: Sequence[str]) -> dict[str, Any]:
    """Medians per front, and plugbay's hop against the two references, per round.

    Two measures of the hop, both per call: ``front`` is the proxy process's own CPU;
    ``added`` is what routing through the proxy adds to the whole system (proxy plus
    upstream, minus the upstream's CPU for a direct call in the same round), which also
    counts what the proxy saves or costs its upstream.
    """
    fronts: dict[str, dict[str, Any]] = {}
    proxies = [name for name in fronts_measured if name != "direct"]
    for name in fronts_measured:
        mine = [window for window in windows if window.front == name]
        fronts[name] = {
            "calls": sum(window.calls for window in mine),
            "errors": sum(window.errors for window in mine),
            "hop_cpu_us_per_call": statistics.median(window.hop_us for window in mine),
            "upstream_cpu_us_per_call": statistics.median(window.upstream_us for window in mine),
            "calls_per_second": statistics.median(w.calls / w.seconds for w in mine if w.seconds),
            "p50_ms": statistics.median(window.p50_ms for window in mine),
            "p99_ms": statistics.median(window.p99_ms for window in mine),
        }
    keys = ["front_per_plugbay_call", "added_per_plugbay_call"]
    if "fastmcp" in proxies:
        keys += ["front_per_fastmcp", "added_per_fastmcp"]
    ratios: dict[str, list[float]] = {key: [] for key in keys}
    added: dict[str, list[float]] = {name: [] for name in proxies}
    for round_number in sorted({window.round for window in windows}):
        mine = {w.front: w for w in windows if w.round == round_number}
        direct = mine["direct"].hop_us
        for name in proxies:
            added[name].append(mine[name].hop_us + mine[name].upstream_us - direct)
        ratios["front_per_plugbay_call"].append(mine["plugbay"].hop_us / direct)
        ratios["added_per_plugbay_call"].append(added["plugbay"][-1] / direct)
        if "fastmcp" in proxies:
            ratios["front_per_fastmcp"].append(mine["plugbay"].hop_us / mine["fastmcp"].hop_us)
            ratios["added_per_fastmcp"].append(added["plugbay"][-1] / added["fastmcp"][-1])
    for name in proxies:
        fronts[name]["added_cpu_us_per_call"] = statistics.median(added[name])
    medians = {key: statistics.median(values) for key, values in ratios.items()}
    goals = {key: FASTMCP_GOAL if key.endswith("fastmcp") else HOP_GOAL for key in keys}
    return {
        "fronts": fronts,
        "ratios": medians,
        "ratios_per_round": ratios,
        "goals": goals,
        "within_goals": {key: medians[key] <= goal for key, goal in goals.items()},
    }


RATIO_LABELS = {
    "front_per_plugbay_call": "plugbay proxy CPU / one plugbay call",
    "added_per_plugbay_call": "CPU added by plugbay's hop / one plugbay call",
    "front_per_fastmcp": "plugbay proxy CPU / FastMCP proxy CPU",
    "added_per_fastmcp": "CPU added by plugbay's hop / added by FastMCP's",
}


def print_table(report: dict[str, Any]) -> None:
    settings = report["settings"]
    print(
        f"tools/call echo through a proxy: {settings['calls']} calls ({settings['fastmcp_calls']} "
        f"through FastMCP) x {settings['rounds']} rounds, concurrency {settings['concurrency']}, "
        f"client {settings['era']}, upstream {settings['upstream_protocol']}, "
        f"{'stateless' if settings['stateless'] else 'stateful'}, "
        f"{'JSON' if settings['json_response'] else 'SSE'} responses"
    )
    header = ("calls", "errors", "calls/s", "front us", "upstream us", "added us", "p50 ms")
    widths = (7, 6, 8, 9, 12, 9, 8)
    print(f"{'front':<10} " + " ".join(f"{c:>{w}}" for c, w in zip(header, widths, strict=True)))
    for name, row in report["summary"]["fronts"].items():
        upstream = "-" if name == "direct" else f"{row['upstream_cpu_us_per_call']:.0f}"
        added = f"{row['added_cpu_us_per_call']:.0f}" if "added_cpu_us_per_call" in row else "-"
        print(
            f"{name:<10} {row['calls']:>7} {row['errors']:>6} {row['calls_per_second']:>8.1f} "
            f"{row['hop_cpu_us_per_call']:>9.0f} {upstream:>12} {added:>9} {row['p50_ms']:>8.2f}"
        )
    summary = report["summary"]
    for key, label in RATIO_LABELS.items():
        if key not in summary["ratios"]:
            continue
        goal = summary["goals"][key]
        verdict = "PASS" if summary["within_goals"][key] else "over goal"
        rounds = " ".join(f"{value:.2f}" for value in summary["ratios_per_round"][key])
        print(f"{label}: {summary['ratios'][key]:.3f} (goal <= {goal:.2f}: {verdict}) [{rounds}]")
    if not report["same_schema"]:
        print(f"warning: the fronts advertise different input schemas: {report['schemas']}")
    print_error_samples(report["windows"], "front")


async def run(options: argparse.Namespace) -> dict[str, Any]:
    with running(options) as servers:
        await wait_until_serving(servers["direct"])
        fronts = tuple(name for name in FRONTS if name in servers)
        await asyncio.gather(*(wait_until_serving(servers[name]) for name in fronts[1:]))
        schemas = {name: await listed_schema(servers[name], options.era) for name in fronts}
        windows: list[Window] = []
        for round_number in range(options.rounds):
            # Rotate who goes first, so slow drift on the machine favours no front.
            shift = round_number % len(fronts)
            for front in fronts[shift:] + fronts[:shift]:
                windows.append(await measure(front, servers, round_number, options))
    settings = {
        key: getattr(options, key)
        for key in (
            "calls",
            "fastmcp_calls",
            "rounds",
            "concurrency",
            "warmup",
            "era",
            "upstream_protocol",
            "sdk_calls",
            "stateless",
            "json_response",
        )
    }
    return {
        "settings": settings,
        "fastmcp": None if options.no_fastmcp else (options.fastmcp_python or FASTMCP_REQUIREMENT),
        "schemas": schemas,
        "same_schema": all(schema == schemas["direct"] for schema in schemas.values())
        and schemas["direct"] is not None,
        "windows": [window_dict(window, "hop_us", "upstream_us") for window in windows],
        "summary": summarize(windows, fronts),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="CPU per tools/call of plugbay's proxy, against direct calls and FastMCP."
    )
    parser.add_argument(
        "--calls", type=int, default=1000, help="measured calls per front per round"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds (medians reported)")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent client sessions")
    parser.add_argument(
        "--fastmcp-calls", type=int, default=200, help="measured calls through FastMCP per round"
    )
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured calls per window")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="limit of one window")
    parser.add_argument(
        "--era",
        choices=("legacy", "modern"),
        default="legacy",
        help="the client's protocol era (legacy: initialize and sessions)",
    )
    parser.add_argument(
        "--upstream-protocol",
        choices=("auto", "legacy", "2026-07-28"),
        default="auto",
        help="the era plugbay's proxy speaks to the upstream (its 'protocol' setting)",
    )
    parser.add_argument("--stateless", action="store_true", help="stateless HTTP everywhere")
    parser.add_argument("--json-response", action="store_true", help="JSON responses everywhere")
    parser.add_argument(
        "--fastmcp-python",
        default=None,
        help=f"an interpreter with fastmcp (default: a cached venv with {FASTMCP_REQUIREMENT})",
    )
    parser.add_argument(
        "--no-fastmcp", action="store_true", help="leave FastMCP out (no venv is made)"
    )
    parser.add_argument(
        "--sdk-calls",
        action="store_true",
        help="plugbay's proxy sends tool calls through the MCP SDK client (fast_calls = false)",
    )
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    options = parser.parse_args(argv)
    if min(options.calls, options.fastmcp_calls, options.rounds, options.concurrency) < 1 or (
        options.warmup < 0
    ):
        parser.error("--calls, --rounds and --concurrency must be positive, --warmup not negative")
    return options


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_args(argv)
    print_report(asyncio.run(run(options)), options.as_json, print_table)


if __name__ == "__main__":
    main()
