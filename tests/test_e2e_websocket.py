"""MCP over WebSocket end to end: uvicorn serving ``/ws``, the TypeScript SDK's
``WebSocketClientTransport`` and the Python ``websockets`` client, with and without auth.

The server is tests/fixtures/websocket/serve_websocket.py: ``http_app`` under uvicorn with
plugbay's own uvicorn options, so the handshake goes through the same connection guard,
Host check and authentication as every HTTP request.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from plugbay_testing.fakes import free_port

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SERVE = ROOT / "tests" / "fixtures" / "websocket" / "serve_websocket.py"
TS_CLIENT = ROOT / "tests" / "peers" / "clients" / "sdk_client.mjs"
TS_SDK = ROOT / "tests" / "peers" / "node_modules" / "@modelcontextprotocol" / "sdk"
KEY = "ws-e2e-" + "k" * 24
ECHO_TOML = '[connectors.echo]\nplugin = "echo"\nprefix = "ws: "\n'
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "python-websockets", "version": "1"},
    },
}


@contextlib.contextmanager
def websocket_server(
    workdir: Path, env: dict[str, str], key: str | None, toml: str = ECHO_TOML
) -> Iterator[int]:
    """Run the WebSocket-serving plugbay until the block ends; yields its port."""
    (workdir / "plugbay.toml").write_text(toml)
    port = free_port()
    log = workdir / f"serve-{port}.log"
    command = [sys.executable, str(SERVE), str(port), *([key] if key else [])]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
def env(e2e: Any, echo_site: Path) -> dict[str, str]:
    return e2e.child_env(["e2e_echo"], [echo_site])


@pytest.fixture(scope="module")
def keyed_port(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A server that asks for the bearer key ``KEY``."""
    with websocket_server(tmp_path_factory.mktemp("ws-keyed"), env, key=KEY) as port:
        yield port


@pytest.fixture
def ts_client() -> Path:
    """The TypeScript SDK client script; a missing peer skips locally and fails under CI."""
    problem = None
    if shutil.which("node") is None:
        problem = "node is not installed"
    elif not TS_SDK.exists():
        problem = f"{TS_SDK.relative_to(ROOT)} is missing"
    if problem is None:
        return TS_CLIENT
    message = f"TypeScript SDK peer unavailable ({problem}); run `python scripts/setup_peers.py`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


def run_ts_client(
    script: Path, *target: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    """Run tests/peers/clients/sdk_client.mjs (``ws URL``, ``http URL`` or ``stdio CMD...``)."""
    # Node 20 has the browser WebSocket API behind a flag; Node 22 has it on.
    command = ["node", "--experimental-websocket", str(script), *target]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, cwd=cwd, env=env
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def ask(ws: Any, message: dict[str, Any]) -> dict[str, Any]:
    ws.send(json.dumps(message))
    while True:
        answer: dict[str, Any] = json.loads(ws.recv(timeout=10))
        if answer.get("id") == message["id"]:
            return answer


@pytest.mark.peers
def test_the_typescript_sdk_client_works_over_websocket(
    ts_client: Path, env: dict[str, str], tmp_path: Path
) -> None:
    with websocket_server(tmp_path, env, key=None) as port:
        seen = run_ts_client(ts_client, "ws", f"ws://127.0.0.1:{port}/ws")
    assert "error" not in seen, seen
    assert seen["server"]["name"] == "plugbay"
    assert "echo_say" in seen["tools"]
    assert seen["result"]["content"] == [{"type": "text", "text": "ws: hello"}]
    assert seen["resource"]["text"].startswith("# echo")
    assert "echo_summarize" in seen["prompts"]


@pytest.mark.peers
def test_the_typescript_sdk_client_is_refused_without_a_credential(
    ts_client: Path, keyed_port: int
) -> None:
    seen = run_ts_client(ts_client, "ws", f"ws://127.0.0.1:{keyed_port}/ws")
    assert "error" in seen
    assert "tools" not in seen


def test_the_python_websockets_client_with_and_without_a_key(keyed_port: int) -> None:
    port = keyed_port
    url = f"ws://127.0.0.1:{port}/ws"
    bearer = {"Authorization": f"Bearer {KEY}"}
    with connect(url, subprotocols=["mcp"], additional_headers=bearer) as ws:
        assert ws.subprotocol == "mcp"
        assert ask(ws, INITIALIZE)["result"]["protocolVersion"] == "2025-11-25"
        ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        call = {"name": "echo_say", "arguments": {"text": "hi"}}
        called = ask(ws, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
        assert called["result"]["content"] == [{"type": "text", "text": "ws: hi"}]
        ws.send("not json")
        assert json.loads(ws.recv(timeout=10))["error"]["code"] == -32700
    with pytest.raises(InvalidStatus) as refused:
        connect(url, subprotocols=["mcp"]).close()
    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = {"Authorization": "Bearer wrong"}
    with pytest.raises(InvalidStatus) as bad_key:
        connect(url, subprotocols=["mcp"], additional_headers=wrong).close()
    assert bad_key.value.response.status_code == 401
    # A page on a rebinding name reaches the loopback port with its own Host header.
    raw = socket.create_connection(("127.0.0.1", port))
    with pytest.raises(InvalidStatus) as foreign:
        connect(
            f"ws://rebound.example:{port}/ws",
            sock=raw,
            subprotocols=["mcp"],
            additional_headers=bearer,
        ).close()
    assert foreign.value.response.status_code == 421


def test_closed_websocket_connections_free_their_connection_slot(
    env: dict[str, str], tmp_path: Path
) -> None:
    toml = ECHO_TOML + "[server]\nmax_connections = 2\n"
    with websocket_server(tmp_path, env, key=None, toml=toml) as port:
        for _ in range(3):
            with connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["mcp"]) as ws:
                assert ask(ws, INITIALIZE)["result"]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
