"""What operators see: start-up with dead upstreams, ``plugbay plugins --check``, ``/readyz``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types as types
from mcp import Client

import plugbay_filesystem
from plugbay.hosting.readiness import Readiness
from plugbay.server import PlugbayServer
from plugbay_proxy import ProxyConnector
from plugbay_testing import build_assembly
from plugbay_testing.fakes import free_port

TOML_STRING = json.dumps  # a JSON string is a valid TOML basic string


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def proxy_table(name: str, settings: dict[str, Any]) -> str:
    """One ``[connectors.<name>]`` table for a proxy instance."""
    lines = [f"[connectors.{name}]", 'plugin = "proxy"']
    for key, value in settings.items():
        if key == "pidfile":
            continue
        if isinstance(value, dict):
            inline = ", ".join(f"{k} = {TOML_STRING(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {inline} }}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


async def test_dead_upstreams_do_not_hold_up_the_others(
    stdio_peer: dict[str, Any], tmp_path: Path
) -> None:
    root = tmp_path / "files"
    root.mkdir()
    (root / "a.txt").write_text("native")
    config = {
        "connectors": {
            "live": {"plugin": "proxy", **{k: v for k, v in stdio_peer.items() if k != "pidfile"}},
            "missing": {"plugin": "proxy", "command": str(tmp_path / "no-such-server")},
            "refused": {"plugin": "proxy", "url": f"http://127.0.0.1:{free_port()}/mcp"},
            "silent": {
                "plugin": "proxy",
                "command": sys.executable,
                "args": ["-c", "import time; time.sleep(60)"],
                "start_wait": 1,
                "connect_timeout": 2,
            },
            "native": {"plugin": "filesystem", "roots": [str(root)]},
        }
    }
    assembly = build_assembly(ProxyConnector, plugbay_filesystem, config=config)
    assert not assembly.problems, assembly.problems
    # The silent upstream would hold start-up forever; start_wait lets start() return.
    await assembly.start()
    try:
        assert {name: state.status for name, state in assembly.instances.items()} == dict.fromkeys(
            ["live", "missing", "refused", "silent", "native"], "ready"
        )
        states = {
            name: assembly.instances[name].as_dict()["state"]
            for name in config["connectors"]
            if name != "native"
        }
        assert states["live"]["upstream"] == "ready"
        # A dead upstream is down between attempts and connecting during one; either way
        # it keeps the reason of its last failure.
        for name, reason in (("missing", "No such file"), ("refused", "ConnectError")):
            assert states[name]["upstream"] in ("down", "connecting"), states[name]
            assert reason in states[name]["reason"]
            assert states[name]["failed_attempts"] >= 1
            if states[name]["upstream"] == "down":
                assert states[name]["retry_in"] >= 0
        assert states["silent"]["upstream"] == "connecting"

        async with Client(PlugbayServer(assembly).sdk) as client:
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert "live_peer_echo" in names
            assert "native_read_text_file" in names
            assert not [name for name in names if name.startswith(("missing_", "refused_"))]
            echoed = await client.call_tool("live_peer_echo", {"text": "fine"})
            assert text_of(echoed) == "fine"
            native = await client.call_tool("native_read_text_file", {"path": "a.txt"})
            assert text_of(native) == "native"

        ready, document = await Readiness(assembly).report()
        assert not ready
        instances = document["instances"]
        assert instances["live"]["ready"] is True
        assert instances["native"]["ready"] is True
        assert instances["missing"]["ready"] is False
        assert instances["missing"]["state"]["upstream"] == "down"
        assert set(document["not_ready"]) == {"missing", "refused", "silent"}

        with anyio.fail_after(10):
            while assembly.instances["silent"].as_dict()["state"]["upstream"] != "down":
                await anyio.sleep(0.1)
        reason = assembly.instances["silent"].as_dict()["state"]["reason"]
        assert "no answer within 2 s" in reason
    finally:
        with anyio.fail_after(30):  # a hang guard, not a timing assertion
            await assembly.stop()


def gateway_environment(**variables: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PLUGBAY_")}
    env["PLUGBAY_PLUGINS"] = "proxy"
    env.update(variables)
    return env


def test_plugins_check_shows_each_upstreams_state(
    stdio_peer: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        proxy_table("live", stdio_peer)
        + proxy_table("missing", {"command": str(tmp_path / "no-such-server"), "start_wait": 1})
    )
    command = [sys.executable, "-m", "plugbay.cli", "plugins", "--check", "--json"]
    done = subprocess.run(
        [*command, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=gateway_environment(),
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    instances = {item["name"]: item for item in json.loads(done.stdout)["instances"]}
    assert instances["live"]["health"] == "ok"
    assert instances["live"]["state"]["upstream"] == "ready"
    assert instances["live"]["state"]["components"]["tools"] >= 5
    assert instances["missing"]["state"]["upstream"] == "down"
    assert "upstream 'missing'" in instances["missing"]["health"]
    assert "No such file" in instances["missing"]["state"]["reason"]


def test_plugbay_tools_lists_what_the_upstreams_offer(
    stdio_peer: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        proxy_table("live", stdio_peer)
        + proxy_table("missing", {"command": str(tmp_path / "no-such-server"), "start_wait": 1})
    )
    command = [sys.executable, "-m", "plugbay.cli", "tools", "--json", "--config", str(config)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env=gateway_environment(),
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = {tool["name"] for tool in json.loads(done.stdout)}
    assert {"live_peer_echo", "live_peer_add", "live_peer_slow"} <= names
    # A dead upstream keeps no tools of its own to list: the listing carries on without it.
    assert not any(name.startswith("missing_") for name in names)


def wait_for_http(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer:\n{log.read_text()}")


async def test_gateway_over_http_reports_and_survives_an_upstream_crash(
    stdio_peer: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "gateway.toml"
    # A first retry after 1.5-3 s: an outage long enough for /readyz (cached 1 s) to show.
    config.write_text(proxy_table("up", {**stdio_peer, "reconnect_initial": 3}))
    port = free_port()
    log = tmp_path / "gateway.log"
    serve = ["serve", "--port", str(port), "--config", str(config)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "plugbay.cli", *serve],
            env=gateway_environment(),
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/healthz", process, log)
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        assert ready.json()["instances"]["up"]["state"]["upstream"] == "ready"

        async with Client(f"{base}/mcp") as client:
            assert text_of(await client.call_tool("up_peer_echo", {"text": "over http"})) == (
                "over http"
            )
            os.kill(int(Path(stdio_peer["pidfile"]).read_text()), signal.SIGKILL)
            with anyio.fail_after(10):
                while (down := httpx.get(f"{base}/readyz", timeout=5)).status_code == 200:
                    await anyio.sleep(0.05)
            assert down.status_code == 503
            assert down.json()["not_ready"] == ["up"]
            with anyio.fail_after(20):
                while httpx.get(f"{base}/readyz", timeout=5).status_code != 200:
                    await anyio.sleep(0.1)
            assert text_of(await client.call_tool("up_peer_echo", {"text": "again"})) == "again"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
