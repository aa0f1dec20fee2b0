"""The TypeScript SDK's client (pinned npm peer) against ``plugbay serve`` over stdio and
streamable HTTP; its WebSocket transport is in tests/test_e2e_websocket.py.

One Node process per transport runs tests/peers/clients/sdk_client.mjs, which lists,
calls ``echo_say``, reads a resource, lists prompts and pings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.peers, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "tests" / "peers" / "clients" / "sdk_client.mjs"
TS_SDK = ROOT / "tests" / "peers" / "node_modules" / "@modelcontextprotocol" / "sdk"
ECHO_TOML = '[connectors.echo]\nplugin = "echo"\nprefix = "ts: "\n'


@pytest.fixture(scope="module")
def client() -> Path:
    """The client script; a missing peer skips locally and fails under CI."""
    problem = None
    if shutil.which("node") is None:
        problem = "node is not installed"
    elif not TS_SDK.exists():
        problem = f"{TS_SDK.relative_to(ROOT)} is missing"
    if problem is None:
        return CLIENT
    message = f"TypeScript SDK peer unavailable ({problem}); run `python scripts/setup_peers.py`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


@pytest.fixture
def site(e2e: Any, echo_site: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working directory configuring the echo connector, and the server's environment."""
    (tmp_path / "plugbay.toml").write_text(ECHO_TOML)
    return tmp_path, e2e.child_env(["e2e_echo"], [echo_site])


def run_client(client: Path, *target: str, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(client), *target],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env=env,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"the client printed nothing:\n{done.stderr}"
    seen: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in seen, f"{seen}\n{done.stderr}"
    return seen


def check(seen: dict[str, Any]) -> None:
    assert seen["server"]["name"] == "plugbay"
    assert "echo_say" in seen["tools"]
    assert seen["result"]["content"] == [{"type": "text", "text": "ts: hello"}]
    assert not seen["result"].get("isError")
    assert seen["resource"]["text"].startswith("# echo")
    assert "echo_summarize" in seen["prompts"]


def test_over_stdio(e2e: Any, client: Path, site: tuple[Path, dict[str, str]]) -> None:
    workdir, env = site
    server = e2e.stdio_server(workdir, env)
    check(run_client(client, "stdio", server.command, *server.args, env=env, cwd=workdir))


def test_over_streamable_http(e2e: Any, client: Path, site: tuple[Path, dict[str, str]]) -> None:
    workdir, env = site
    with e2e.http_server(workdir, env) as server:
        check(run_client(client, "http", server.url, env=env, cwd=workdir))
