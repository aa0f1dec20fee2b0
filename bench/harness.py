"""The machinery the benchmark scripts share.

Server subprocesses (start, wait until serving, stop, CPU time), a minimal HTTP/1.1 and MCP
client, the echo load, the measured window of ``bench_calls.py`` and ``bench_hosted.py``,
medians, ratios and report printing. The scripts import it as ``harness`` (their own
directory is first on ``sys.path`` when run as ``python bench/<script>.py``).
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
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
STARTUP_TIMEOUT = 30.0
MAX_ERRORS_KEPT = 5

T = TypeVar("T")


# --- processes ---------------------------------------------------------------------------


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


def server_environment(plugins: str = "bench_echo") -> dict[str, str]:
    """This environment without plugbay settings, loading only ``plugins``."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PLUGBAY_") and key != "PYTHONPROFILEIMPORTTIME"
    }
    environ["PLUGBAY_PLUGINS"] = plugins
    return environ


def transport_flags(options: argparse.Namespace) -> list[str]:
    """plugbay's transport flags for ``--stateless`` and ``--json-response``."""
    return [
        "--stateless" if options.stateless else "--stateful",
        "--json-response" if options.json_response else "--sse-response",
    ]


def plugbay_command(port: int, config: Path, options: argparse.Namespace) -> list[str]:
    """``plugbay serve`` on 127.0.0.1:``port`` with ``config`` and the transport options."""
    # ``python -m plugbay`` is the ``plugbay`` script, run with this interpreter so the
    # bench uses the environment it runs in (hatch's bench environment or a venv).
    return [
        sys.executable,
        "-m",
        "plugbay",
        "serve",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *transport_flags(options),
    ]


def spawn(
    name: str, command: list[str], env: dict[str, str], workdir: Path, port: int
) -> ServerProcess:
    """Start ``command`` in ``workdir``, its output in ``<name>.log``, serving MCP on ``port``."""
    log = workdir / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return ServerProcess(name, process, f"http://127.0.0.1:{port}/mcp", log)


def stop_all(servers: Iterable[ServerProcess]) -> None:
    """Terminate the servers, and kill those that do not exit within 15 seconds."""
    servers = list(servers)
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


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
                "clientInfo": {"name": "plugbay-bench", "version": "0"},
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
                        "name": "plugbay-bench",
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


async def input_schema(server: ServerProcess, tool: str, era: str) -> dict[str, Any] | None:
    """``tool``'s input schema as the server lists it, or ``None`` if it lists no such tool."""
    session = McpSession(server.url, era)
    try:
        await session.open()
        result = await session.request("tools/list", {})
    finally:
        await session.close()
    for listed in result.get("tools", []):
        if listed.get("name") == tool:
            schema: dict[str, Any] = listed.get("inputSchema", {})
            return schema
    return None


# --- the load ----------------------------------------------------------------------------


@dataclass
class Load:
    """What one run of concurrent calls produced."""

    calls: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)


async def drive(
    sessions: Sequence[McpSession], calls: int, deadline: float, tool: str = "echo"
) -> Load:
    """Make up to ``calls`` calls of ``tool`` over ``sessions``; each must echo its text."""
    load = Load()
    numbers = itertools.count()

    async def worker(session: McpSession) -> None:
        while time.perf_counter() < deadline and (number := next(numbers)) < calls:
            text = f"echo {number}"
            started = time.perf_counter()
            try:
                result = await session.request(
                    "tools/call", {"name": tool, "arguments": {"text": text}}
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


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


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


async def measure(
    server: ServerProcess,
    round_number: int,
    options: argparse.Namespace,
    session: Callable[[], McpSession] | None = None,
) -> Window:
    """Open sessions (made by ``session``), warm up, then measure ``options.calls`` calls."""
    make = session or (lambda: McpSession(server.url, options.era))
    sessions = [make() for _ in range(options.concurrency)]
    try:
        await asyncio.gather(*(item.open() for item in sessions))
        await drive(sessions, options.warmup, time.perf_counter() + options.max_seconds)
        cpu_before = server.cpu_seconds()
        client_before = time.process_time()
        started = time.perf_counter()
        load = await drive(sessions, options.calls, started + options.max_seconds)
        seconds = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu_before
        client_cpu = time.process_time() - client_before
    finally:
        await asyncio.gather(*(item.close() for item in sessions))
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


def alternating(names: tuple[str, ...], round_number: int) -> tuple[str, ...]:
    """``names`` in even rounds, reversed in odd ones, so slow drift favours neither end."""
    return names if round_number % 2 == 0 else tuple(reversed(names))


# --- the report --------------------------------------------------------------------------


def server_medians(windows: Sequence[Window], names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per server: total calls and errors, and the medians over its windows."""
    servers: dict[str, dict[str, Any]] = {}
    for name in names:
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
    return servers


def per_round_ratios(windows: Sequence[Window], measured: str, reference: str) -> list[float]:
    """Per round, ``measured``'s CPU per call over ``reference``'s (inf when that is 0)."""
    per_round = []
    for round_number in sorted({window.round for window in windows}):
        pair = {w.server: w.cpu_us_per_call for w in windows if w.round == round_number}
        per_round.append(pair[measured] / pair[reference] if pair.get(reference) else float("inf"))
    return per_round


def window_dict(window: Any, *properties: str) -> dict[str, Any]:
    """A window's fields and then the named properties, for the JSON report."""
    return {**asdict(window), **{name: getattr(window, name) for name in properties}}


def load_line(settings: Mapping[str, Any]) -> str:
    """The first line of the ``bench_calls.py`` and ``bench_hosted.py`` tables."""
    return (
        f"tools/call 'echo' over loopback: {settings['calls']} calls x {settings['rounds']} rounds "
        f"per server, concurrency {settings['concurrency']}, {settings['era']} protocol, "
        f"{'stateless' if settings['stateless'] else 'stateful'}, "
        f"{'JSON' if settings['json_response'] else 'SSE'} responses"
    )


def print_server_rows(servers: Mapping[str, Mapping[str, Any]]) -> None:
    """The per-server table of ``bench_calls.py`` and ``bench_hosted.py``, with its header."""
    columns = ("calls", "errors", "calls/s", "CPU us/call", "p50 ms", "p99 ms")
    widths = (7, 6, 9, 12, 8, 8)
    print(f"{'server':<10} " + " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for name, row in servers.items():
        print(
            f"{name:<10} {row['calls']:>7} {row['errors']:>6} {row['calls_per_second']:>9.1f} "
            f"{row['cpu_us_per_call']:>12.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
        )


def print_error_samples(windows: Sequence[Mapping[str, Any]], key: str) -> None:
    """One line per kept error sample of each window, named by its ``key`` and round."""
    for window in windows:
        for sample in window["error_samples"]:
            print(f"error ({window[key]}, round {window['round']}): {sample}")


def print_report(report: T, as_json: bool, table: Callable[[T], None]) -> None:
    """Print ``report`` as indented JSON or with ``table``."""
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        table(report)


def check_load_options(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse non-positive ``--calls``, ``--rounds``, ``--concurrency`` or negative warmup."""
    if options.calls < 1 or options.rounds < 1 or options.concurrency < 1 or options.warmup < 0:
        parser.error("--calls, --rounds and --concurrency must be positive, --warmup not negative")


# --- in-process latency (bench_sql.py, bench_odoo.py) ------------------------------------

Lookup = Callable[[int], Awaitable[Any]]


async def timed(
    lookup: Lookup, ids: Sequence[int], check: Callable[[int, Any], bool]
) -> list[float]:
    """Seconds per call of ``lookup`` on each id; raise when ``check`` refuses an answer."""
    samples = []
    for item_id in ids:
        started = time.perf_counter()
        rows = await lookup(item_id)
        samples.append(time.perf_counter() - started)
        if not check(item_id, rows):
            raise AssertionError(f"lookup of {item_id} returned {rows!r}")
    return samples


def median_and_p99_us(samples: Sequence[float]) -> tuple[float, float]:
    """The median and the 99th percentile (by index) of ``samples``, in microseconds."""
    ordered = sorted(samples)
    return (
        statistics.median(ordered) * 1e6,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
    )


def comma_list(value: str) -> list[str]:
    """The non-empty, stripped items of a comma-separated option."""
    return [part.strip() for part in value.split(",") if part.strip()]


def lookup_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options ``bench_sql.py`` and ``bench_odoo.py`` share."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("--calls", type=int, default=2000, help="measured calls per path")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured calls per path")
    parser.add_argument("--rounds", type=int, default=4, help="rounds alternating the paths")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the ids")
    return parser
