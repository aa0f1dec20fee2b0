"""Fail closed, with real broken distributions pip-installed at test time.

``plugbay-acme-gate`` ships several plugins, selected per test with ``PLUGBAY_PLUGINS``:
``acme_keystore`` (its ``register_auth`` raises), ``acme_clumsy`` (its ``register_tools``
raises: not a security hook), and three middleware recorders, ``acme_outer``
(``tryfirst``), ``acme_middle`` (plain, also serving the ``acme_probe`` tool) and
``acme_inner`` (``trylast``), which write the order they ran in to ``$ACME_ORDER_LOG``.
A security failure stops ``plugbay serve``; any other failure is reported and the rest
is served.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from plugbay_testing.fakes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

KEYSTORE = """
from plugbay import hookimpl


@hookimpl
def register_auth(register):
    raise RuntimeError("the key store is unreachable")
"""

CLUMSY = """
from plugbay import hookimpl


@hookimpl
def register_tools(register):
    raise ValueError("tools exploded")
"""

RECORDER = """
import os

import anyio

from plugbay import hookimpl, tool

LABEL = "{label}"


def note(line):
    with open(os.environ["ACME_ORDER_LOG"], "a") as log:
        log.write(line + "\\n")


async def record(call, call_next):
    note(LABEL + " in")
    try:
        return await call_next(call)
    finally:
        note(LABEL + " out")


@hookimpl({order})
def register_middleware(register):
    register(record)
"""

PROBE = """

@tool
async def acme_probe(seconds: float = 0.0) -> str:
    \"\"\"Note that the tool ran, after sleeping ``seconds``.\"\"\"
    await anyio.sleep(seconds)
    note("tool")
    return "probed"


@hookimpl
def register_tools(register):
    register(acme_probe)
"""

AUTH_TOML = '[[auth.api_keys]]\nname = "ops"\nkey = "${ACME_KEY}"\n'
ACME_KEY = "acme-test-key-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def site(e2e: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = tmp_path_factory.mktemp("fail-closed-src")
    gate = e2e.distribution(
        sources,
        "acme-gate",
        {
            "acme_keystore": ("acme_keystore", KEYSTORE),
            "acme_clumsy": ("acme_clumsy", CLUMSY),
            "acme_outer": (
                "acme_outer",
                RECORDER.replace("{label}", "outer").replace("{order}", "tryfirst=True"),
            ),
            "acme_middle": (
                "acme_middle",
                RECORDER.replace("{label}", "middle").replace("{order}", "") + PROBE,
            ),
            "acme_inner": (
                "acme_inner",
                RECORDER.replace("{label}", "inner").replace("{order}", "trylast=True"),
            ),
        },
    )
    return e2e.pip_install([gate], tmp_path_factory.mktemp("fail-closed-site"))


def _env(e2e: Any, site: Path, workdir: Path, plugins: Sequence[str], **extra: str) -> Any:
    return e2e.child_env(
        plugins, [site], ACME_ORDER_LOG=str(workdir / "order.log"), ACME_KEY=ACME_KEY, **extra
    )


def _refused(e2e: Any, args: list[str], workdir: Path, env: dict[str, str]) -> str:
    """Run ``plugbay serve ...``, which must exit 2 before serving; its standard error."""
    done = e2e.run_plugbay(["serve", *args], cwd=workdir, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "refusing to serve: a security plugin is broken or missing" in done.stderr
    # It never started serving: uvicorn never announced itself.
    assert "Uvicorn running" not in output
    assert "Application startup" not in output
    assert "Traceback" not in output
    return done.stderr


def test_http_refuses_to_start_when_register_auth_raises(
    e2e: Any, site: Path, tmp_path: Path
) -> None:
    env = _env(e2e, site, tmp_path, ["acme_keystore", "acme_middle"])
    stderr = _refused(e2e, ["--port", str(free_port())], tmp_path, env)
    assert (
        "error: plugin 'acme_keystore': register_auth: RuntimeError: the key store is unreachable"
        in stderr
    )
    assert "PLUGBAY_BLOCK_PLUGINS=<name>" in stderr


def test_stdio_refuses_too(e2e: Any, site: Path, tmp_path: Path) -> None:
    env = _env(e2e, site, tmp_path, ["acme_keystore", "acme_middle"])
    stderr = _refused(e2e, ["--stdio"], tmp_path, env)
    assert "acme_keystore" in stderr


def test_plugbay_call_refuses_too_and_runs_nothing(e2e: Any, site: Path, tmp_path: Path) -> None:
    env = _env(e2e, site, tmp_path, ["acme_keystore", "acme_middle"])
    done = e2e.run_plugbay(["call", "acme_probe"], cwd=tmp_path, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "plugin 'acme_keystore': register_auth: RuntimeError" in done.stderr
    assert not (tmp_path / "order.log").exists()  # neither the middleware nor the tool ran


async def test_blocking_the_broken_auth_plugin_serves_knowingly_without_it(
    e2e: Any, site: Path, tmp_path: Path
) -> None:
    env = _env(
        e2e, site, tmp_path, ["acme_keystore", "acme_middle"], PLUGBAY_BLOCK_PLUGINS="acme_keystore"
    )
    with e2e.http_server(tmp_path, env) as server:
        async with Client(server.url) as client:
            result = await client.call_tool("acme_probe", {})
            assert result.content[0].text == "probed"


@pytest.mark.parametrize("transport", ["http", "stdio"])
def test_an_auth_table_with_its_provider_blocked_refuses_to_start(
    e2e: Any, site: Path, tmp_path: Path, transport: str
) -> None:
    (tmp_path / "plugbay.toml").write_text(AUTH_TOML)
    env = _env(e2e, site, tmp_path, ["acme_middle", "auth"], PLUGBAY_BLOCK_PLUGINS="auth")
    args = ["--stdio"] if transport == "stdio" else ["--port", str(free_port())]
    stderr = _refused(e2e, args, tmp_path, env)
    assert "[auth] belongs to plugbay-auth, which is blocked" in stderr
    checked = e2e.run_plugbay(["config", "check"], cwd=tmp_path, env=env)
    assert checked.returncode == 1
    assert "[auth] belongs to plugbay-auth, which is blocked" in checked.stderr


async def test_the_same_auth_table_with_its_provider_loaded_serves_behind_auth(
    e2e: Any, site: Path, tmp_path: Path
) -> None:
    (tmp_path / "plugbay.toml").write_text(AUTH_TOML)
    env = _env(e2e, site, tmp_path, ["acme_middle", "auth"])
    with e2e.http_server(tmp_path, env) as server:
        anonymous = httpx.post(server.url, json={}, timeout=10)
        assert anonymous.status_code == 401
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {ACME_KEY}"}, timeout=10)
        async with http, Client(streamable_http_client(server.url, http_client=http)) as client:
            result = await client.call_tool("acme_probe", {})
            assert result.content[0].text == "probed"


async def test_a_broken_ordinary_plugin_is_isolated_and_the_server_serves(
    e2e: Any, site: Path, tmp_path: Path
) -> None:
    env = _env(e2e, site, tmp_path, ["acme_clumsy", "acme_middle"])
    with e2e.http_server(tmp_path, env) as server:
        async with Client(server.url) as client:
            listed = await client.list_tools()
            assert [tool.name for tool in listed.tools] == ["acme_probe"]
            result = await client.call_tool("acme_probe", {})
            assert result.content[0].text == "probed"
        assert "plugin acme_clumsy failed: register_tools: ValueError: tools exploded" in (
            server.output()
        )


async def test_middleware_runs_in_pluggy_order_tryfirst_outermost(
    e2e: Any, site: Path, tmp_path: Path
) -> None:
    # Entry points load in name order (inner, middle, outer): the call order is not that.
    env = _env(e2e, site, tmp_path, ["acme_inner", "acme_middle", "acme_outer"])
    with e2e.http_server(tmp_path, env) as server:
        async with Client(server.url) as client:
            result = await client.call_tool("acme_probe", {})
            assert result.content[0].text == "probed"
    assert (tmp_path / "order.log").read_text().split("\n") == [
        "outer in",
        "middle in",
        "inner in",
        "tool",
        "inner out",
        "middle out",
        "outer out",
        "",
    ]


async def test_the_builtin_plugin_can_be_blocked(e2e: Any, site: Path, tmp_path: Path) -> None:
    # The built-in times calls out at [server] call_timeout; blocked, nothing does.
    (tmp_path / "plugbay.toml").write_text("[server]\ncall_timeout = 0.2\n")
    arguments = {"seconds": 1.0}
    env = _env(e2e, site, tmp_path, ["acme_middle"])
    with e2e.http_server(tmp_path, env) as server:
        async with Client(server.url) as client:
            timed_out = await client.call_tool("acme_probe", arguments)
            assert timed_out.is_error
            assert "did not finish within 0.2 seconds" in timed_out.content[0].text

    blocked = {**env, "PLUGBAY_BLOCK_PLUGINS": "builtin"}
    report = e2e.run_json(["plugins", "--json"], cwd=tmp_path, env=blocked)
    builtin = next(info for info in report["plugins"] if info["name"] == "builtin")
    assert (builtin["status"], builtin["hooks"]) == ("blocked", [])
    with e2e.http_server(tmp_path, blocked) as server:
        async with Client(server.url) as client:
            result = await client.call_tool("acme_probe", arguments)
            assert not result.is_error
            assert result.content[0].text == "probed"
