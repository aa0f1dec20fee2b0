"""Real upstreams for the proxy's tests, each set up by the tests themselves.

- another plugbay serving the test-only ``peer`` plugin (``tests/peer``), over stdio
  or as an HTTP subprocess that tests kill and start again on the same port;
- ``@modelcontextprotocol/server-everything`` and ``server-filesystem`` from npm,
  pinned in ``tests/peers`` and installed by ``python scripts/setup_peers.py``;
- ``mcp-server-time`` from PyPI, pip-installed into a cached directory of its own.

Missing npm or PyPI peers skip their tests with a reason, and fail them under
``CI=true``. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client

from plugbay.assembly import Assembly
from plugbay.server import PlugbayServer
from plugbay.transports import http_app
from plugbay_proxy import ProxyConnector
from plugbay_testing import build_assembly
from plugbay_testing.fakes import LocalServer, free_port

ROOT = Path(__file__).resolve().parents[3]
NPM_BIN = ROOT / "tests" / "peers" / "node_modules" / ".bin"
PEER_DIR = Path(__file__).resolve().parent / "peer"
PIDEXEC = PEER_DIR / "pidexec.py"
TIME_SERVER = "mcp-server-time==2026.10.19"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def missing_peer(message: str) -> None:
    """Skip the test (fail it under ``CI=true``): a peer it needs is not installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


def text_of(result: types.CallToolResult) -> str:
    """The text blocks of a tool result, joined."""
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


# --- the plugbay peer -----------------------------------------------------------------


@pytest.fixture(scope="session")
def peer_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``PYTHONPATH`` directory with the peer plugin and its entry point (no build needed)."""
    site = tmp_path_factory.mktemp("proxy-peer-site")
    shutil.copy(PEER_DIR / "plugbay_proxy_peer.py", site / "plugbay_proxy_peer.py")
    info = site / "plugbay_proxy_peer-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: plugbay-proxy-peer\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text("[plugbay]\npeer = plugbay_proxy_peer\n")
    return site


def python_path(site: Path) -> str:
    """``PYTHONPATH`` for a peer: its site first, then the tests' own (if they have one)."""
    return os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))


def peer_environment(site: Path, **variables: str) -> dict[str, str]:
    """The environment of a plugbay subprocess that serves only the peer plugin."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PLUGBAY_")}
    env["PYTHONPATH"] = python_path(site)
    env["PLUGBAY_PLUGINS"] = "peer"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(variables)
    return env


def write_peer_config(directory: Path, extra: str = "") -> Path:
    """A plugbay.toml with one ``peer`` instance (marks in ``directory``) plus ``extra``."""
    config = directory / "peer.toml"
    config.write_text(
        f'[connectors.peer]\nplugin = "peer"\nmarks = "{directory}"\n\n{extra}', encoding="utf-8"
    )
    return config


@pytest.fixture
def stdio_peer(peer_site: Path, tmp_path: Path) -> dict[str, Any]:
    """Proxy settings for a plugbay peer over stdio, started through ``pidexec``.

    ``settings["pidfile"]`` is removed before use; read the process id from it.
    """
    config = write_peer_config(tmp_path)
    pidfile = tmp_path / "peer.pid"
    serve = [sys.executable, "-m", "plugbay.cli", "serve", "--stdio", "--config", str(config)]
    return {
        "command": sys.executable,
        "args": [str(PIDEXEC), str(pidfile), *serve],
        "env": {"PYTHONPATH": python_path(peer_site), "PLUGBAY_PLUGINS": "peer"},
        "cwd": str(tmp_path),
        "pidfile": str(pidfile),
    }


@dataclass
class PeerServer:
    """``plugbay serve`` of the peer plugin on a fixed port, which tests stop and restart."""

    workdir: Path
    env: dict[str, str]
    config: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The streamable HTTP endpoint."""
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> PeerServer:
        """Start the server and wait until it answers ``/healthz``."""
        log = (self.workdir / f"peer-{self.port}.log").open("ab")
        command = [sys.executable, "-m", "plugbay.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--config", str(self.config)],
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the peer server exited:\n{self.output()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"the peer server did not start:\n{self.output()}")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        """Stop the server politely, killing it if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        """What the server has logged so far."""
        return "\n".join(
            path.read_text(errors="replace") for path in self.workdir.glob("peer-*.log")
        )


@pytest.fixture
def peer_server(peer_site: Path, tmp_path: Path) -> Iterator[Callable[..., PeerServer]]:
    """Start plugbay peers over HTTP: ``peer_server(extra_config="", **env)``."""
    servers: list[PeerServer] = []

    def start(extra_config: str = "", **variables: str) -> PeerServer:
        workdir = tmp_path / f"http-peer-{len(servers)}"
        workdir.mkdir()
        server = PeerServer(
            workdir=workdir,
            env=peer_environment(peer_site, **variables),
            config=write_peer_config(workdir, extra_config),
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# --- third-party peers ------------------------------------------------------------------


def npm_peer(name: str) -> str:
    """The launcher of a pinned npm MCP server in tests/peers."""
    launcher = NPM_BIN / name
    if shutil.which("node") is None:
        missing_peer(f"node is not installed, so the npm peer {name} cannot run")
    if not launcher.exists():
        missing_peer(f"{launcher} is missing; run `python scripts/setup_peers.py`")
    return str(launcher)


@pytest.fixture(scope="session")
def everything_server() -> str:
    """``@modelcontextprotocol/server-everything`` (stdio with the ``stdio`` argument)."""
    return npm_peer("mcp-server-everything")


@pytest.fixture(scope="session")
def filesystem_server() -> str:
    """``@modelcontextprotocol/server-filesystem`` (directories as arguments)."""
    return npm_peer("mcp-server-filesystem")


@pytest.fixture(scope="session")
def conformance_suite() -> Path:
    """The entry script of ``@modelcontextprotocol/conformance``, pinned in tests/peers."""
    if shutil.which("node") is None:
        missing_peer("node is not installed, so the conformance suite cannot run")
    script = NPM_BIN.parent / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    if not script.exists():
        missing_peer(f"{script} is missing; run `python scripts/setup_peers.py`")
    return script


@pytest.fixture(scope="session")
def time_server_site() -> Path:
    """``mcp-server-time`` from PyPI, pip-installed (once per version) into a temp directory.

    It needs ``mcp>=2.3,<3``, which this environment has, so only it and ``tzlocal`` are
    installed there, and the environment's ``mcp`` serves it.
    """
    version = TIME_SERVER.split("==", 1)[1]
    site = Path(tempfile.gettempdir()) / f"plugbay-proxy-peers/mcp-server-time-{version}"
    if (site / "mcp_server_time" / "__init__.py").exists():
        return site
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
    command += [str(site), TIME_SERVER, "tzlocal"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        missing_peer(f"could not pip-install {TIME_SERVER}: {error}")
    if done.returncode != 0:
        shutil.rmtree(site, ignore_errors=True)
        missing_peer(f"could not pip-install {TIME_SERVER}:\n{done.stderr[-1500:]}")
    return site


# --- the gateway under test --------------------------------------------------------------


@dataclass
class Gateway:
    """An assembled, started plugbay with proxy instances and a connected client."""

    assembly: Assembly
    client: Client
    notifications: list[Any]
    url: str | None = None
    """The gateway's MCP endpoint when it is served over HTTP (``front="http"``)."""

    def state(self, instance: str) -> dict[str, Any]:
        """The instance's live state (its upstream connection)."""
        document = self.assembly.instances[instance].as_dict()
        return dict(document.get("state") or {"status": document["status"]})

    async def call(self, tool: str, **arguments: Any) -> types.CallToolResult:
        """Call a tool by its full name."""
        return await self.client.call_tool(tool, arguments)

    async def tool_names(self) -> list[str]:
        """The tools the client sees."""
        return [tool.name for tool in (await self.client.list_tools()).tools]


ServeGateway = Callable[..., AbstractAsyncContextManager[Gateway]]


@pytest.fixture
def gateway() -> ServeGateway:
    """Serve proxy instances: ``async with gateway({"ev": {...}}, mode=...) as gw``.

    Each value is one instance's settings (``plugin = "proxy"`` is added). The client
    records the notifications it receives in ``gw.notifications``; more keyword
    arguments go to its ``mcp.Client``. ``front="http"`` serves the gateway with
    uvicorn on loopback and connects over streamable HTTP instead of in process.
    """

    @asynccontextmanager
    async def serve(
        instances: dict[str, dict[str, Any]],
        *,
        mode: str = "auto",
        server: dict[str, Any] | None = None,
        environ: dict[str, str] | None = None,
        front: str = "memory",
        **client_options: Any,
    ) -> AsyncIterator[Gateway]:
        config: dict[str, Any] = {
            "connectors": {
                name: {"plugin": "proxy", **{k: v for k, v in table.items() if k != "pidfile"}}
                for name, table in instances.items()
            }
        }
        if server:
            config["server"] = server
        assembly = build_assembly(ProxyConnector, config=config, environ=environ or {})
        assert not assembly.problems, assembly.problems
        notifications: list[Any] = []

        async def record(message: Any) -> None:
            notifications.append(message)

        if front == "http":
            # The application's lifespan starts and stops the assembly, in uvicorn's thread.
            with LocalServer(http_app(assembly), lifespan="on") as local:
                url = f"{local.url}/mcp"
                options = {"mode": mode, "message_handler": record, **client_options}
                async with Client(url, **options) as client:
                    yield Gateway(assembly, client, notifications, url)
            return
        await assembly.start()
        try:
            sdk = PlugbayServer(assembly).sdk
            async with Client(sdk, mode=mode, message_handler=record, **client_options) as client:
                yield Gateway(assembly, client, notifications)
        finally:
            await assembly.stop()

    return serve
