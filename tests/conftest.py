"""Fixtures for the cross-package end-to-end tests.

Everything here drives real processes over real pipes and sockets, on 127.0.0.1 only.
Servers run as ``python -m plugbay.cli`` subprocesses with an environment built from
scratch for each test: ``PLUGBAY_PLUGINS`` selects the plugins a test wants (so what
else is installed in the environment does not matter) and ``PYTHONPATH`` adds the
test-only plugin distributions, which are pip-installed into temporary directories and
never into the shared environment.

Set ``PLUGBAY_E2E_COVERAGE=1`` to run the child servers under ``coverage run`` too;
their data files land beside the parent's, ready for ``coverage combine``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import StdioServerParameters

from plugbay_testing.fakes import free_port

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
ECHO_DISTRIBUTION = TESTS / "fixtures" / "plugbay-e2e-echo"
INSPECTOR = TESTS / "peers" / "node_modules" / ".bin" / "mcp-inspector"

SERVER_START_TIMEOUT = 30.0
"""Seconds a server subprocess may take to answer ``/healthz``."""
COMMAND_TIMEOUT = 60.0
"""Seconds any one-shot subprocess (CLI command, pip, Inspector call) may take."""
STOP_TIMEOUT = 10.0
"""Seconds a server may take to exit after it is asked to stop, before it is killed."""


def plugbay_command(*args: str) -> list[str]:
    """The command line that runs ``plugbay <args>`` with this interpreter."""
    if os.environ.get("PLUGBAY_E2E_COVERAGE") == "1":
        rcfile = str(ROOT / "pyproject.toml")
        return [
            sys.executable,
            "-m",
            "coverage",
            "run",
            f"--rcfile={rcfile}",
            "-m",
            "plugbay.cli",
            *args,
        ]
    return [sys.executable, "-m", "plugbay.cli", *args]


def child_env(
    plugins: Sequence[str], sites: Sequence[Path] = (), **variables: str
) -> dict[str, str]:
    """An environment for a plugbay subprocess.

    Args:
        plugins: The only plugins to load (``PLUGBAY_PLUGINS``).
        sites: Directories with extra installed distributions, put on ``PYTHONPATH``.
        **variables: More variables to set.
    """
    # Nothing of the outer environment's plugbay or OpenTelemetry settings leaks in.
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("PLUGBAY_", "OTEL_"))
    }
    env.pop("PYTHONPATH", None)
    if sites:
        env["PYTHONPATH"] = os.pathsep.join(str(site) for site in sites)
    env["PLUGBAY_PLUGINS"] = ",".join(plugins)
    env["PYTHONUNBUFFERED"] = "1"
    if os.environ.get("PLUGBAY_E2E_COVERAGE") == "1":
        env["COVERAGE_FILE"] = str(ROOT / ".coverage")
    env.update(variables)
    return env


def pip_install(distributions: Sequence[Path], target: Path) -> Path:
    """Build and install distributions into ``target`` with pip, as a user would.

    ``--target`` keeps them out of the running environment: only processes that put
    ``target`` on their ``PYTHONPATH`` see them. Without hatchling in this environment
    pip builds in an isolated environment, fetching hatchling from the configured index.
    """
    if importlib.util.find_spec("pip") is None:
        pytest.fail(f"{sys.executable} has no pip; the end-to-end tests install plugins with it")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--target",
        str(target),
    ]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-build-isolation")
    command += [str(path) for path in distributions]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT * 3, check=False
    )
    assert done.returncode == 0, f"pip install failed:\n{done.stdout}\n{done.stderr}"
    return target


def distribution(parent: Path, name: str, modules: dict[str, tuple[str, str]]) -> Path:
    """Write a hatchling project ``plugbay-<name>`` for :func:`pip_install`.

    Args:
        parent: Where to create the project directory.
        name: The distribution's name after ``plugbay-``.
        modules: Entry-point name -> (top-level module, its source).
    """
    root = parent / f"plugbay-{name}"
    for module, source in modules.values():
        package = root / "src" / module
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(textwrap.dedent(source).lstrip())
    entry_points = "\n".join(f'{entry} = "{module}"' for entry, (module, _) in modules.items())
    packages = ", ".join(f'"src/{module}"' for module, _ in modules.values())
    (root / "pyproject.toml").write_text(
        f"""\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "plugbay-{name}"
version = "1.2.3"
requires-python = ">=3.11"
dependencies = ["plugbay"]

[project.entry-points.plugbay]
{entry_points}

[tool.hatch.build.targets.wheel]
packages = [{packages}]
"""
    )
    return root


def run_plugbay(
    args: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float = COMMAND_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run one ``plugbay`` command to completion and capture its output."""
    return subprocess.run(
        plugbay_command(*args),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_json(args: Sequence[str], *, cwd: Path, env: dict[str, str]) -> Any:
    """Run a ``plugbay ... --json`` command that must succeed and parse what it prints."""
    done = run_plugbay(args, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def stdio_server(cwd: Path, env: dict[str, str], *args: str) -> StdioServerParameters:
    """Parameters for the SDK client to spawn ``plugbay serve --stdio``."""
    command, *rest = plugbay_command("serve", "--stdio", *args)
    return StdioServerParameters(command=command, args=rest, cwd=cwd, env=env)


@dataclass
class HttpServer:
    """A ``plugbay serve`` subprocess listening on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The streamable HTTP endpoint."""
        return f"{self.base}/mcp"

    def output(self) -> str:
        """Everything the server wrote to standard error and output so far."""
        return self.log.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum`` and wait for the exit status (killing it if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)
            raise


def _wait_healthy(server: HttpServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"plugbay serve exited with {server.process.returncode}:\n{server.output()}"
            )
        try:
            if httpx.get(f"{server.base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(
        f"plugbay serve did not answer /healthz in {SERVER_START_TIMEOUT} s:\n{server.output()}"
    )


@contextlib.contextmanager
def http_server(
    workdir: Path, env: dict[str, str], *args: str, port: int | None = None
) -> Iterator[HttpServer]:
    """Run ``plugbay serve --port <free port> <args>`` in ``workdir`` until the block ends.

    With ``port``, no ``--port`` is passed: the server must find that port itself (in
    its configuration or ``PLUGBAY_SERVER__PORT``).
    """
    flags = [] if port is not None else ["--port", str(port := free_port())]
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            plugbay_command("serve", *flags, *args),
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = HttpServer(process=process, port=port, log=log)
    try:
        _wait_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)


@pytest.fixture(scope="session")
def echo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the installed test-only ``plugbay-e2e-echo`` distribution."""
    return pip_install([ECHO_DISTRIBUTION], tmp_path_factory.mktemp("echo-site"))


@pytest.fixture(scope="session")
def filesystem_plugin() -> str:
    """The name of the workspace's filesystem plugin, which must be installed."""
    if not metadata.entry_points(group="plugbay", name="filesystem"):
        pytest.fail("plugbay-filesystem is not installed: pip install -e plugins/filesystem")
    return "filesystem"


@pytest.fixture(scope="session")
def inspector_bin() -> Path:
    """The pinned MCP Inspector launcher; missing peers skip locally and fail under CI."""
    problem = None
    if shutil.which("node") is None:
        problem = "node is not installed"
    elif not INSPECTOR.exists():
        problem = f"{INSPECTOR.relative_to(ROOT)} is missing"
    if problem is None:
        return INSPECTOR
    message = f"MCP Inspector peer unavailable ({problem}); run `python scripts/setup_peers.py`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


def run_inspector(
    inspector: Path,
    target: Sequence[str],
    method: str,
    *options: str,
    env: dict[str, str],
    cwd: Path,
) -> Any:
    """One MCP Inspector CLI call; returns the JSON it prints (it exits 0 on ``isError`` too)."""
    command = [str(inspector), "--cli", *target, "--method", method, *options]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, (
        f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return json.loads(done.stdout)


class E2E:
    """The helpers above as one namespace (``--import-mode=importlib`` cannot import conftest)."""

    root = ROOT
    child_env = staticmethod(child_env)
    distribution = staticmethod(distribution)
    pip_install = staticmethod(pip_install)
    run_plugbay = staticmethod(run_plugbay)
    run_json = staticmethod(run_json)
    stdio_server = staticmethod(stdio_server)
    http_server = staticmethod(http_server)
    run_inspector = staticmethod(run_inspector)


@pytest.fixture(scope="session")
def e2e() -> type[E2E]:
    """The end-to-end helpers: ``e2e.child_env(...)``, ``e2e.http_server(...)`` and so on."""
    return E2E


# --- hosted-server tests (tests/test_hosted_*.py) ------------------------------------------

HOSTED_DESK = TESTS / "fixtures" / "hosted" / "plugbay_hosted_desk.py"
OAUTH_ISSUER = ROOT / "plugins" / "auth" / "tests" / "oauth_issuer.py"
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def hosted_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for ``PYTHONPATH`` holding the ``hosted_desk`` plugin and its entry point.

    A bare ``.dist-info`` is all ``importlib.metadata`` needs to find the entry point, so
    no build is involved.
    """
    site = tmp_path_factory.mktemp("hosted-site")
    shutil.copy(HOSTED_DESK, site / HOSTED_DESK.name)
    info = site / "plugbay_hosted_desk-0.1.dist-info"
    info.mkdir()
    metadata_text = "Metadata-Version: 2.1\nName: plugbay-hosted-desk\nVersion: 0.1\n"
    (info / "METADATA").write_text(metadata_text)
    (info / "entry_points.txt").write_text("[plugbay]\nhosted_desk = plugbay_hosted_desk\n")
    return site


@pytest.fixture(scope="session")
def oauth() -> Any:
    """The local OAuth issuer (JWKS, introspection on loopback): plugins/auth/tests/oauth_issuer.py.

    ``oauth.Issuer()`` makes one; ``add_key()``, then ``start()`` it and ``stop()`` it after.
    """
    spec = importlib.util.spec_from_file_location("plugbay_e2e_oauth_issuer", OAUTH_ISSUER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def oauth_issuer(oauth: Any) -> Iterator[Any]:
    """A running local issuer with one published RS256 key, for one test."""
    issuer = oauth.Issuer()
    issuer.add_key("RS256")
    issuer.start()
    yield issuer
    issuer.stop()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix unique to one test; its keys are deleted after.

    The real Redis on 127.0.0.1:6379 is required under CI=true; elsewhere its absence skips.
    """
    redis = pytest.importorskip("redis", reason="install plugbay[redis]")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        reason = type(error).__name__
        message = f"Redis is not reachable at {REDIS_URL} ({reason}); start redis-server"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (required under CI=true)")
        pytest.skip(message)
    prefix = f"plugbay-e2e-{os.getpid()}-{time.monotonic_ns()}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
