"""Per-call cost of plugboard against a bare MCP SDK server serving the same ``echo`` tool.

Both servers run as their own processes on free loopback ports, served the same way
(uvicorn, streamable HTTP, the same SDK transport settings). One client process loads
them identically: a few concurrent MCP sessions, each opened with a real handshake, then
``tools/call`` requests over keep-alive connections. The servers are measured alternately,
in several rounds, and the medians are reported:

- server CPU time (user + system of the server process) per call over the measured window;
- calls per second over that window;
- p50 and p99 latency of one call as the client sees it;
- plugboard's CPU per call over the bare server's (the median of the per-round ratios),
  against the 1.10 goal.

    python bench/bench_calls.py [--calls 2000] [--rounds 9] [--concurrency 4] [--json]

The servers' responses are checked (each call must echo its own text back, and both
servers must advertise the same input schema), but nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
GOAL = 1.10
"""plugboard's CPU per call may be at most this many times the bare SDK server's."""
LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
SERVERS = ("plugboard", "bare")
STARTUP_TIMEOUT = 30.0
MAX_ERRORS_KEPT = 5


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far."""
    try:
        import psutil  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        # /proc/<pid>/stat fields 14 and 15 (utime, stime) in clock ticks; the command
        # name (field 2) may contain spaces, so split after its closing parenthesis.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


# --- the servers -------------------------------------------------------------------------


@dataclass
class ServerProcess:
    """One server under test, running as a subprocess."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far."""
        return process_cpu_seconds(self.process.pid)

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's output, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def server_command(name: str, port: int, config: Path, options: argparse.Namespace) -> list[str]:
    """The command line that starts server ``name`` with the transport settings in ``options``."""
    if name == "plugboard":
        # ``python -m plugboard`` is the ``plugboard`` script, run with this interpreter so
        # the bench uses the environment it runs in (hatch's bench environment or a venv).
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


def server_environment() -> dict[str, str]:
    """The environment of both servers: plugboard loads the bench plugin and nothing else."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PLUGBOARD_") and key != "PYTHONPROFILEIMPORTTIME"
    }
    environ["PLUGBOARD_PLUGINS"] = "bench_echo"
    return environ


async def wait_until_serving(server: ServerProcess) -> None:
    """Return once the server answers HTTP on its MCP path; raise if it dies or never does."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with status {server.process.returncode}:\n"
                f"{server.log_tail()}"
            )
        connection = HttpConnection(server.url)
        try:
            # Any HTTP answer means uvicorn has finished the application's startup. A
            # DELETE without a session is answered at once in every mode (a GET could
            # open a stream that never ends).
            await asyncio.wait_for(connection.request("DELETE", {}), timeout=2.0)
            return
        except (TimeoutError, OSError, ProtocolError):
            pass
        finally:
            await connection.close()
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{server.name} did not answer within {STARTUP_TIMEOUT:g} s:\n{server.log_tail()}"
            )
        await asyncio.sleep(0.1)


@contextmanager
def running_servers(options: argparse.Namespace) -> Iterator[dict[str, ServerProcess]]:
    """Start both servers (in a scratch directory, so no stray config applies); stop them after."""
    servers: dict[str, ServerProcess] = {}
    with tempfile.TemporaryDirectory(prefix="plugboard-bench-") as scratch:
        workdir = Path(scratch)
        config = workdir / "plugboard.toml"
        # The built-in server defaults; transport settings come from the command line.
        config.write_text("[server]\n", encoding="utf-8")
        try:
            for name in SERVERS:
                port = free_port()
                log = workdir / f"{name}.log"
                with log.open("wb") as output:
                    process = subprocess.Popen(
                        server_command(name, port, config, options),
                        cwd=workdir,
                        env=server_environment(),
                        stdin=subprocess.DEVNULL,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                servers[name] = ServerProcess(name, process, f"http://127.0.0.1:{port}/mcp", log)
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


# --- the client --------------------------------------------------------------------------
#
# A minimal HTTP/1.1 client on asyncio streams rather than httpx: on a 2-core machine the
# client shares the CPU with the server under test, and httpx costs more CPU per request
# than the servers do. This one costs a fraction of that, so the servers get a core each.


class ProtocolError(Exception):
    """The server answered something other than a successful JSON-RPC result."""


@dataclass
class HttpResponse:
    """Status, headers (lower-case names) and body of one HTTP response."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", errors="replace")


class HttpConnection:
    """One keep-alive HTTP/1.1 connection to a loopback server, one request at a time."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, headers: dict[str, str], body: bytes = b""
    ) -> HttpResponse:
        """Send one request and read its whole response (Content-Length or chunked)."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        head = [f"{method} {self.path} HTTP/1.1", f"host: {self.host}:{self.port}"]
        head.extend(f"{name}: {value}" for name, value in headers.items())
        head.append(f"content-length: {len(body)}")
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        try:
            response = await self._read_response(self._reader)
        except (asyncio.IncompleteReadError, ValueError) as error:
            await self.close()
            raise ProtocolError(f"malformed or truncated HTTP response: {error}") from None
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        return response

    @staticmethod
    async def _read_response(reader: asyncio.StreamReader) -> HttpResponse:
        status_line = await reader.readline()
        if not status_line:
            raise asyncio.IncompleteReadError(b"", None)
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readline()).split(b";", 1)[0], 16):
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            while await reader.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return HttpResponse(status, headers, b"".join(chunks))
        length = int(headers.get("content-length", "0"))
        return HttpResponse(status, headers, await reader.readexactly(length) if length else b"")

    async def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def parse_body(response: HttpResponse, request_id: int) -> dict[str, Any]:
    """The JSON-RPC response to ``request_id`` from a JSON or SSE response body."""
    if response.status != 200:
        raise ProtocolError(f"HTTP {response.status}: {response.text[:200]}")
    messages: list[Any]
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        messages = [
            json.loads(line[5:])
            for line in response.text.splitlines()
            if line.startswith("data:") and line[5:].strip()
        ]
    else:
        messages = [json.loads(response.body)]
    for message in messages:
        if isinstance(message, dict) and message.get("id") == request_id:
            if "error" in message:
                raise ProtocolError(f"JSON-RPC error: {message['error']}")
            result: dict[str, Any] = message["result"]
            return result
    raise ProtocolError(f"no response to request {request_id} in {response.text[:200]!r}")


class McpSession:
    """A minimal MCP client session over its own HTTP connection.

    ``legacy`` opens with the ``initialize`` handshake (2025-11-25) and sends
    ``Mcp-Session-Id`` on every request when the server assigned one; ``modern`` sends
    self-contained 2026-07-28 requests (envelope in ``_meta``, routing headers).
    """

    def __init__(self, url: str, era: str) -> None:
        self.http = HttpConnection(url)
        self.era = era
        self.session_id: str | None = None
        self._ids = itertools.count(1)
        self._headers = {
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
        }

    async def open(self) -> None:
        """Do the handshake the era requires."""
        if self.era == "modern":
            self._headers["mcp-protocol-version"] = MODERN_VERSION
            return
        request_id = next(self._ids)
        initialize = {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "initialize",
            "params": {
                "protocolVersion": LEGACY_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "plugboard-bench", "version": "0"},
            },
        }
        response = await self.http.request("POST", self._headers, json.dumps(initialize).encode())
        result = parse_body(response, request_id)
        self.session_id = response.headers.get("mcp-session-id")
        if self.session_id is not None:
            self._headers["mcp-session-id"] = self.session_id
        self._headers["mcp-protocol-version"] = result.get("protocolVersion", LEGACY_VERSION)
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        response = await self.http.request("POST", self._headers, json.dumps(initialized).encode())
        if response.status not in (200, 202):
            raise ProtocolError(f"notifications/initialized: HTTP {response.status}")

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return its result."""
        request_id = next(self._ids)
        headers = self._headers
        if self.era == "modern":
            params = {
                **params,
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/clientInfo": {
                        "name": "plugboard-bench",
                        "version": "0",
                    },
                },
            }
            headers = {**headers, "mcp-method": method}
            if "name" in params:
                headers["mcp-name"] = params["name"]
        body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        response = await self.http.request("POST", headers, body.encode())
        return parse_body(response, request_id)

    async def close(self) -> None:
        """End the session on the server, when it has one, and close the connection."""
        try:
            if self.session_id is not None:
                await self.http.request("DELETE", self._headers)
        finally:
            await self.http.close()


@dataclass
class Load:
    """What one run of concurrent calls produced."""

    calls: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)


async def drive(sessions: Sequence[McpSession], calls: int, deadline: float) -> Load:
    """Make up to ``calls`` echo calls spread over ``sessions``, stopping at ``deadline``."""
    load = Load()
    numbers = itertools.count()

    async def worker(session: McpSession) -> None:
        while time.perf_counter() < deadline and (number := next(numbers)) < calls:
            text = f"echo {number}"
            started = time.perf_counter()
            try:
                result = await session.request(
                    "tools/call", {"name": "echo", "arguments": {"text": text}}
                )
                content = result.get("content") or [{}]
                if result.get("isError") or content[0].get("text") != text:
                    raise ProtocolError(f"wrong answer to {text!r}: {result}")
            except (ProtocolError, OSError, ValueError, KeyError) as error:
                load.errors += 1
                if len(load.error_samples) < MAX_ERRORS_KEPT:
                    load.error_samples.append(f"{type(error).__name__}: {error}")
                continue
            finally:
                load.calls += 1
            load.latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker(session) for session in sessions))
    return load


@dataclass
class Window:
    """One measured window on one server."""

    server: str
    round: int
    calls: int
    errors: int
    seconds: float
    server_cpu_seconds: float
    client_cpu_seconds: float
    p50_ms: float
    p99_ms: float
    error_samples: list[str]

    @property
    def calls_per_second(self) -> float:
        """Calls completed per wall-clock second."""
        return self.calls / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_call(self) -> float:
        """Server CPU microseconds per call."""
        return self.server_cpu_seconds * 1e6 / self.calls if self.calls else 0.0

    @property
    def client_cpu_us_per_call(self) -> float:
        """The bench client's own CPU microseconds per call (to see whether it kept up)."""
        return self.client_cpu_seconds * 1e6 / self.calls if self.calls else 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


async def measure(server: ServerProcess, round_number: int, options: argparse.Namespace) -> Window:
    """Open sessions, warm up, then measure ``options.calls`` calls on ``server``."""
    sessions = [McpSession(server.url, options.era) for _ in range(options.concurrency)]
    try:
        await asyncio.gather(*(session.open() for session in sessions))
        await drive(sessions, options.warmup, time.perf_counter() + options.max_seconds)
        cpu_before = server.cpu_seconds()
        client_before = time.process_time()
        started = time.perf_counter()
        load = await drive(sessions, options.calls, started + options.max_seconds)
        seconds = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu_before
        client_cpu = time.process_time() - client_before
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
    return Window(
        server=server.name,
        round=round_number,
        calls=load.calls,
        errors=load.errors,
        seconds=seconds,
        server_cpu_seconds=cpu,
        client_cpu_seconds=client_cpu,
        p50_ms=percentile(load.latencies, 0.50) * 1000,
        p99_ms=percentile(load.latencies, 0.99) * 1000,
        error_samples=load.error_samples,
    )


async def echo_input_schema(server: ServerProcess, era: str) -> dict[str, Any] | None:
    """The ``echo`` tool's input schema as the server advertises it, or ``None`` if it has none."""
    session = McpSession(server.url, era)
    try:
        await session.open()
        result = await session.request("tools/list", {})
    finally:
        await session.close()
    for tool in result.get("tools", []):
        if tool.get("name") == "echo":
            schema: dict[str, Any] = tool.get("inputSchema", {})
            return schema
    return None


# --- the report --------------------------------------------------------------------------


def summarize(windows: Sequence[Window]) -> dict[str, Any]:
    """Medians over the rounds, per server, and the CPU ratio against the goal."""
    servers: dict[str, dict[str, Any]] = {}
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
    # The headline is the median of the per-round ratios: the two windows of a round run
    # back to back, so load that comes and goes on the machine mostly cancels out in each.
    per_round = []
    for round_number in sorted({window.round for window in windows}):
        pair = {w.server: w.cpu_us_per_call for w in windows if w.round == round_number}
        per_round.append(pair["plugboard"] / pair["bare"] if pair.get("bare") else float("inf"))
    ratio = statistics.median(per_round)
    bare = servers["bare"]["cpu_us_per_call"]
    return {
        "servers": servers,
        "cpu_ratio": ratio,
        "cpu_ratio_per_round": per_round,
        "cpu_ratio_of_medians": servers["plugboard"]["cpu_us_per_call"] / bare
        if bare
        else float("inf"),
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
        f"{'JSON' if settings['json_response'] else 'SSE'} responses"
        f"{', bare server without SDK spans' if settings['bare_without_spans'] else ''}"
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
    ratio = summary["cpu_ratio"]
    print(f"CPU per call, plugboard / bare: {ratio:.3f} (goal <= {GOAL:.2f}: {verdict})")
    print(f"per round: {rounds}  (ratio of the medians: {summary['cpu_ratio_of_medians']:.3f})")
    if not report["same_schema"]:
        print("warning: the two servers advertise different input schemas for echo")
    for window in report["windows"]:
        for sample in window["error_samples"]:
            print(f"error ({window['server']}, round {window['round']}): {sample}")


async def run(options: argparse.Namespace) -> dict[str, Any]:
    """Start both servers, measure them alternately, and return the report."""
    with running_servers(options) as servers:
        await asyncio.gather(*(wait_until_serving(server) for server in servers.values()))
        schemas = {
            name: await echo_input_schema(server, options.era) for name, server in servers.items()
        }
        windows: list[Window] = []
        for round_number in range(options.rounds):
            # Alternate who goes first so slow drift on the machine does not favour one server.
            order = SERVERS if round_number % 2 == 0 else tuple(reversed(SERVERS))
            for name in order:
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
    windows_out = [
        {
            **asdict(window),
            "calls_per_second": window.calls_per_second,
            "cpu_us_per_call": window.cpu_us_per_call,
            "client_cpu_us_per_call": window.client_cpu_us_per_call,
        }
        for window in windows
    ]
    return {
        "settings": settings,
        "schemas": schemas,
        "same_schema": schemas["plugboard"] is not None and schemas["plugboard"] == schemas["bare"],
        "windows": windows_out,
        "summary": summarize(windows),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        description="Server CPU per tools/call: plugboard against a bare MCP SDK server."
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
        help="drop the SDK's default span middleware from the bare server, as plugboard does "
        "with telemetry off (isolates plugboard's own layer)",
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
