"""Fail closed, with real broken distributions pip-installed at test time.

``plugbay-acme-gate`` ships several plugins, selected per test with ``PLUGBAY_PLUGINS``:
``acme_keystore`` (its ``register_auth`` raises), ``acme_clumsy`` (its ``register_tools``
raises: not a security hook), and three middleware recorders, ``acme_outer``
(``tryfirst``), ``acme_middle`` (plain, also serving the ``acme_probe`` tool) and
``acme_inner`` (``trylast``), which write the order they ran in to ``$ACME_ORDER_LOG``.
It also ships one plugin broken in each other security hook (:data:`BROKEN`): a
visibility hook that raises, an ASGI wrapper that is not one, an ``admit``-stage
middleware hook that raises, a message middleware hook that raises and a middleware
with a stage that does not exist.
A security failure stops ``plugbay serve``; any other failure is reported and the rest
is served.

A second site holds a broken ``plugbay-auth`` (the ``auth`` entry point, shadowing the
real one as a botched upgrade would): with ``ACME_AUTH_BREAKS=import`` it fails to
import, otherwise it claims ``[auth]`` and its ``register_auth`` raises. For plugbay-auth
*missing*, the server runs in a fresh venv that sees this environment's site-packages
without plugbay-auth's ``.dist-info`` and editable ``.pth``.
"""

from __future__ import annotations

import subprocess
import sysconfig
import venv
from collections.abc import Sequence
from importlib import metadata
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

VISIBILITY = """
from plugbay import hookimpl


@hookimpl
def register_visibility(register):
    raise RuntimeError("the visibility rules are unreadable")
"""

FIREWALL = """
from plugbay import hookimpl


@hookimpl
def register_asgi_wrappers(register):
    # Its settings, where an (app) -> app wrapper belongs.
    register({"allow": ["10.0.0.0/8"]})
"""

POLICY = """
from plugbay import hookimpl


def load_rules():
    raise OSError("policy.rules: permission denied")


@hookimpl
def register_middleware(register):
    rules = load_rules()

    async def admit(call, call_next):
        if call.name not in rules:
            raise PermissionError(call.name)
        return await call_next(call)

    register(admit, stage="admit")
"""

INSPECTOR = """
from plugbay import hookimpl


@hookimpl
def register_message_middleware(register):
    raise LookupError("no inspector profile")
"""

STAGED = """
from plugbay import hookimpl


async def admit(call, call_next):
    return await call_next(call)


@hookimpl
def register_middleware(register):
    register(admit, stage="admission")
"""

BROKEN = {
    "acme_visibility": (
        VISIBILITY,
        "register_visibility: RuntimeError: the visibility rules are unreadable",
    ),
    "acme_firewall": (
        FIREWALL,
        "register_asgi_wrappers: {'allow': ['10.0.0.0/8']} is not an ASGI wrapper, (app) -> app",
    ),
    "acme_policy": (
        POLICY,
        "register_middleware: OSError: policy.rules: permission denied",
    ),
    "acme_inspector": (
        INSPECTOR,
        "register_message_middleware: LookupError: no inspector profile",
    ),
    "acme_staged": (
        STAGED,
        "register_middleware: stage='admission' is not one of observe, admit, run",
    ),
}
"""Plugin name -> (its source, what the server must say about it after its name)."""

BROKEN_AUTH = """
import os

from pydantic import BaseModel, ConfigDict

from plugbay import hookimpl

if os.environ.get("ACME_AUTH_BREAKS") == "import":
    # This release forgot a module its backends need.
    from plugbay_auth.keystore import KeyStore  # noqa: F401


class AuthTable(BaseModel):
    model_config = ConfigDict(extra="allow")


@hookimpl
def register_config_tables(register):
    register(AuthTable, table="auth")


@hookimpl
def register_auth(register):
    raise RuntimeError("the signing keys did not load")
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
            **{name: (name, source) for name, (source, _) in BROKEN.items()},
        },
    )
    return e2e.pip_install([gate], tmp_path_factory.mktemp("fail-closed-site"))


@pytest.fixture(scope="module")
def broken_auth_site(e2e: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site with a broken ``plugbay-auth``: put first, it shadows the real one."""
    sources = tmp_path_factory.mktemp("broken-auth-src")
    broken = e2e.distribution(sources, "auth", {"auth": ("plugbay_auth", BROKEN_AUTH)})
    return e2e.pip_install([broken], tmp_path_factory.mktemp("broken-auth-site"))


@pytest.fixture(scope="module")
def python_without_auth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a venv that has everything this environment has but plugbay-auth.

    Its site-packages adds a folder of links to this environment's site-packages, less
    every file plugbay-auth installed (its ``.dist-info`` and editable ``.pth``), so
    neither ``importlib.metadata`` nor ``import plugbay_auth`` finds it there.
    """
    root = tmp_path_factory.mktemp("without-auth")
    shared = Path(sysconfig.get_path("purelib"))
    installed = {Path(str(file)).parts[0] for file in metadata.files("plugbay-auth") or ()}
    assert installed, "plugbay-auth records no files: is it installed here?"
    view = root / "site"
    view.mkdir()
    for entry in shared.iterdir():
        if entry.name not in installed:
            (view / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    home = root / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(home)
    paths = {"base": str(home), "platbase": str(home)}
    own = Path(sysconfig.get_path("purelib", scheme="venv", vars=paths))
    # addsitedir, not a bare path: the .pth files of the editable workspace installs run.
    (own / "_plugbay_without_auth.pth").write_text(f"import site; site.addsitedir({str(view)!r})\n")
    return home / "bin" / "python"


def _env(
    e2e: Any,
    site: Path,
    workdir: Path,
    plugins: Sequence[str],
    *,
    before: Sequence[Path] = (),
    **extra: str,
) -> Any:
    """The child's environment: ``before`` (shadowing sites) first, then ``site``."""
    return e2e.child_env(
        plugins,
        [*before, site],
        ACME_ORDER_LOG=str(workdir / "order.log"),
        ACME_KEY=ACME_KEY,
        **extra,
    )


def _refused(
    e2e: Any, args: list[str], workdir: Path, env: dict[str, str], *, plugin: bool = True
) -> str:
    """Run ``plugbay serve ...``, which must exit 2 before serving; its standard error.

    ``plugin``: refused for a broken security plugin, which the heading says; a table
    nobody claims is refused as a configuration error, without that heading.
    """
    return _assert_refused(e2e.run_plugbay(["serve", *args], cwd=workdir, env=env), plugin)


def _assert_refused(done: subprocess.CompletedProcess[str], plugin: bool) -> str:
    """Check that a ``plugbay serve`` exited 2 without serving; its standard error."""
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    if plugin:
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


async def test_blocking_the_broken_security_plugins_serves_knowingly_without_them(
    e2e: Any, site: Path, broken_auth_site: Path, tmp_path: Path
) -> None:
    # Every broken one, the broken plugbay-auth too: no table of theirs is configured.
    broken = ["acme_keystore", "auth", *BROKEN]
    env = _env(
        e2e,
        site,
        tmp_path,
        ["acme_middle", *broken],
        before=[broken_auth_site],
        ACME_AUTH_BREAKS="import",
        PLUGBAY_BLOCK_PLUGINS=",".join(broken),
    )
    with e2e.http_server(tmp_path, env) as server:
        async with Client(server.url) as client:
            result = await client.call_tool("acme_probe", {})
            assert result.content[0].text == "probed"
        assert "failed" not in server.output()


@pytest.mark.parametrize("transport", ["http", "stdio"])
def test_an_auth_table_with_its_broken_provider_blocked_refuses_to_start(
    e2e: Any, site: Path, broken_auth_site: Path, tmp_path: Path, transport: str
) -> None:
    # Blocking the broken plugbay-auth serves without it only when [auth] is gone too.
    (tmp_path / "plugbay.toml").write_text(AUTH_TOML)
    env = _env(
        e2e,
        site,
        tmp_path,
        ["acme_middle", "auth"],
        before=[broken_auth_site],
        ACME_AUTH_BREAKS="import",
        PLUGBAY_BLOCK_PLUGINS="auth",
    )
    args = ["--stdio"] if transport == "stdio" else ["--port", str(free_port())]
    stderr = _refused(e2e, args, tmp_path, env, plugin=False)
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


@pytest.mark.parametrize("transport", ["http", "stdio"])
def test_each_broken_security_hook_stops_serve_naming_every_plugin(
    e2e: Any, site: Path, tmp_path: Path, transport: str
) -> None:
    # All at once, so one start-up shows that each is refused on its own account.
    env = _env(e2e, site, tmp_path, ["acme_middle", *BROKEN])
    args = ["--stdio"] if transport == "stdio" else ["--port", str(free_port())]
    stderr = _refused(e2e, args, tmp_path, env)
    for name, (_, message) in BROKEN.items():
        assert f"error: plugin {name!r}: {message}" in stderr, stderr
    assert "acme_middle" not in stderr  # the healthy plugin is not blamed


def test_plugbay_plugins_still_runs_and_shows_each_broken_plugin_failed(
    e2e: Any, site: Path, tmp_path: Path
) -> None:
    env = _env(e2e, site, tmp_path, ["acme_middle", *BROKEN])
    report = e2e.run_json(["plugins", "--json"], cwd=tmp_path, env=env)
    by_name = {info["name"]: info for info in report["plugins"]}
    assert by_name["acme_middle"]["status"] == "loaded"
    for name, (_, message) in BROKEN.items():
        assert by_name[name]["status"] == "failed"
        assert any(error.startswith(message) for error in by_name[name]["errors"]), by_name[name]


def test_an_auth_table_with_plugbay_auth_failing_to_import_refuses(
    e2e: Any, site: Path, broken_auth_site: Path, tmp_path: Path
) -> None:
    (tmp_path / "plugbay.toml").write_text(AUTH_TOML)
    env = _env(
        e2e,
        site,
        tmp_path,
        ["acme_middle", "auth"],
        before=[broken_auth_site],
        ACME_AUTH_BREAKS="import",
    )
    stderr = _refused(e2e, ["--port", str(free_port())], tmp_path, env, plugin=False)
    assert (
        "[auth] belongs to plugbay-auth, which failed to load (`plugbay plugins` says why)"
        in stderr
    )


def test_plugbay_plugins_says_why_plugbay_auth_failed_with_its_table_present(
    e2e: Any, site: Path, broken_auth_site: Path, tmp_path: Path
) -> None:
    (tmp_path / "plugbay.toml").write_text(AUTH_TOML)
    env = _env(
        e2e,
        site,
        tmp_path,
        ["acme_middle", "auth"],
        before=[broken_auth_site],
        ACME_AUTH_BREAKS="import",
    )
    done = e2e.run_plugbay(["plugins"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No module named 'plugbay_auth.keystore'" in done.stdout
    assert "error: the configuration is refused: " in done.stderr
    assert "[auth] belongs to plugbay-auth, which failed to load" in done.stderr


def test_an_auth_table_with_plugbay_auth_whose_register_auth_raises_refuses(
    e2e: Any, site: Path, broken_auth_site: Path, tmp_path: Path
) -> None:
    (tmp_path / "plugbay.toml").write_text(AUTH_TOML)
    env = _env(e2e, site, tmp_path, ["acme_middle", "auth"], before=[broken_auth_site])
    stderr = _refused(e2e, ["--port", str(free_port())], tmp_path, env)
    assert "error: plugin 'auth': register_auth: RuntimeError: the signing keys did not load" in (
        stderr
    )


def test_an_auth_table_without_plugbay_auth_installed_refuses(
    e2e: Any, site: Path, python_without_auth: Path, tmp_path: Path
) -> None:
    (tmp_path / "plugbay.toml").write_text(AUTH_TOML)
    env = _env(e2e, site, tmp_path, ["acme_middle", "auth"])
    command = [str(python_without_auth), "-m", "plugbay.cli", "serve", "--port", str(free_port())]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    stderr = _assert_refused(done, plugin=False)
    assert "[auth] belongs to plugbay-auth, which is not installed: pip install plugbay-auth" in (
        stderr
    )
