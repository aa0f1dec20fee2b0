"""The release wheelhouse, installed as users install from PyPI.

``scripts/build_wheelhouse.py`` (``hatch run release:build``) builds every distribution's
sdist and then its wheel from that sdist, once per session, into a temporary folder. Each
test installs from it into a fresh virtual environment with nothing editable and nothing
from this workspace on the path: only ``pip install --find-links <wheelhouse> NAME...``,
with third-party dependencies from the configured package index, as pip always gets them.
The installed ``plugbay`` console script is then run the way a user runs it.

The venvs are made ``--without-pip`` and filled by this environment's pip through its
``--python`` option: the same resolver and installer, without a pip copied into each.
"""

from __future__ import annotations

import importlib.util
import json
import os
import runpy
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from plugbay_testing.fakes import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "scripts" / "build_wheelhouse.py"
BUILD_TIMEOUT = 900.0
"""Seconds the wheelhouse build may take (isolated builds fetch hatchling per distribution)."""
PIP_TIMEOUT = 600.0
"""Seconds one ``pip install`` may take: it resolves and downloads third-party packages."""
RUN_TIMEOUT = 60.0
"""Seconds one ``plugbay`` command may take."""


# The release script itself: what it builds is what these tests install.
BUILDER = runpy.run_path(str(BUILD_SCRIPT), run_name="plugbay_build_wheelhouse")
DISTRIBUTIONS = {dist.name: dist for dist in BUILDER["distributions"]()}
PLUGINS = sorted(name for name, dist in DISTRIBUTIONS.items() if dist.path.parent.name == "plugins")


def _sibling_closure(name: str) -> set[str]:
    """``name`` and every workspace distribution it needs, directly or through another."""
    needed, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in needed:
            continue
        needed.add(current)
        dist = DISTRIBUTIONS[current]
        project = tomllib.loads((dist.path / "pyproject.toml").read_text())["project"]
        for line in project.get("dependencies", []):
            requirement = canonicalize_name(Requirement(line).name)
            if requirement in DISTRIBUTIONS:
                todo.append(requirement)
    return needed


@dataclass(frozen=True)
class Venv:
    """A fresh virtual environment, driven from the outside as a user's shell would."""

    path: Path

    @property
    def python(self) -> Path:
        """Its interpreter."""
        return self.path / "bin" / "python"

    def script(self, name: str) -> Path:
        """A console script it installed."""
        return self.path / "bin" / name

    def env(self, **variables: str) -> dict[str, str]:
        """An environment with only this venv active and nothing of the workspace leaking in."""
        dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in dropped and not key.startswith(("PLUGBAY_", "OTEL_"))
        }
        env["PATH"] = os.pathsep.join([str(self.path / "bin"), env.get("PATH", "")])
        env["VIRTUAL_ENV"] = str(self.path)
        env.update(variables)
        return env

    def pip(self, *args: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run pip for this venv; fail the test with pip's output if it fails."""
        command = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(self.python),
            "--disable-pip-version-check",
            *args,
        ]
        done = subprocess.run(
            command, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def install(self, wheelhouse: Path, names: Sequence[str]) -> None:
        """``pip install --find-links <wheelhouse> NAME...``, as the README tells users."""
        self.pip("install", "-q", "--find-links", str(wheelhouse), *names, timeout=PIP_TIMEOUT)

    def installed(self) -> dict[str, str]:
        """Every installed distribution's canonical name and version."""
        listed = json.loads(self.pip("list", "--format=json").stdout)
        return {canonicalize_name(item["name"]): item["version"] for item in listed}

    def run(self, command: Sequence[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in this venv's environment and capture its output."""
        return subprocess.run(
            command,
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )

    def plugbay_json(self, *args: str, cwd: Path) -> Any:
        """Run the installed ``plugbay <args> --json`` and parse what it prints."""
        done = self.run([str(self.script("plugbay")), *args, "--json"], cwd=cwd)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def make_venv(path: Path) -> Venv:
    """Create a fresh virtual environment (no system site-packages, no pip) at ``path``."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(path)],
        check=True,
        timeout=RUN_TIMEOUT,
    )
    return Venv(path)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every distribution's wheel and sdist, built once by the release script."""
    outdir = tmp_path_factory.mktemp("wheelhouse")
    command = [sys.executable, str(BUILD_SCRIPT), "--outdir", str(outdir)]
    # This environment has the build backend: skip fetching it into isolated build
    # environments for every distribution (build still checks build-system.requires).
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-isolation")
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
    )
    assert done.returncode == 0, f"the wheelhouse build failed:\n{done.stdout}\n{done.stderr}"
    return outdir


AUTHOR_TESTS = '''
"""A third-party author's tests, using only what plugbay-testing installs."""

from pydantic import Field

from plugbay import Connector, Settings, tool
from plugbay_testing import ConnectorConformance


class GreetSettings(Settings):
    greeting: str = Field(default="hello", description="What to say first.")


class GreetConnector(Connector[GreetSettings]):
    """Greets people."""

    name = "greet"

    @tool(read_only=True, open_world=False)
    async def greet(self, who: str) -> str:
        """Greet someone.

        Args:
            who: Whom to greet.
        """
        return f"{self.settings.greeting} {who}"


class TestGreetConformance(ConnectorConformance):
    connector = GreetConnector
    entry_point = False  # a lone test file: no installed plugin to load
    sample_calls = {"greet": {"who": "Ada"}}


async def test_greets(plugbay_server):
    async with plugbay_server(GreetConnector, settings={"greeting": "hi"}) as harness:
        assert await harness.call_ok("greet", who="Ada") == "hi Ada"
'''
"""A plugin author's test module: the kit's fixtures (pytest11) and conformance suite."""


def _loaded(document: Any) -> dict[str, dict[str, Any]]:
    """The plugins ``plugbay plugins --json`` reports, builtin aside, by name."""
    return {item["name"]: item for item in document["plugins"] if item["status"] != "builtin"}


def _text(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))


def test_wheelhouse_holds_each_distribution_with_its_readme_and_license(
    wheelhouse: Path,
) -> None:
    expected = set()
    for dist in DISTRIBUTIONS.values():
        wheel = wheelhouse / f"{dist.stem}-py3-none-any.whl"
        sdist = wheelhouse / f"{dist.stem}.tar.gz"
        expected |= {wheel.name, sdist.name}
        with zipfile.ZipFile(wheel) as archive:
            info = f"{dist.stem}.dist-info"
            metadata = archive.read(f"{info}/METADATA").decode()
            assert f"{info}/licenses/LICENSE" in archive.namelist()
        assert "License-Expression: MIT" in metadata
        assert "Description-Content-Type: text/markdown" in metadata
        readme = (dist.path / "README.md").read_text(encoding="utf-8")
        assert readme.strip() in metadata, f"{dist.name}: the README is not its description"
        with tarfile.open(sdist) as archive:
            members = set(archive.getnames())
        assert {f"{dist.stem}/LICENSE", f"{dist.stem}/README.md", f"{dist.stem}/PKG-INFO"} <= (
            members
        )
    assert {path.name for path in wheelhouse.iterdir()} == expected


async def test_user_install_pulls_in_the_kit_and_serves_over_stdio(
    wheelhouse: Path, tmp_path: Path
) -> None:
    """pip install plugbay plugbay-odoo plugbay-copper (+ filesystem), then a real client."""
    venv = make_venv(tmp_path / "venv")
    venv.install(wheelhouse, ["plugbay", "plugbay-odoo", "plugbay-copper", "plugbay-filesystem"])

    installed = venv.installed()
    ours = {name: version for name, version in installed.items() if name in DISTRIBUTIONS}
    # plugbay-http was not named: it came in as odoo's and copper's dependency.
    assert set(ours) == {
        "plugbay",
        "plugbay-http",
        "plugbay-odoo",
        "plugbay-copper",
        "plugbay-filesystem",
    }
    assert set(ours.values()) == {DISTRIBUTIONS["plugbay"].version}
    assert json.loads(venv.pip("list", "--editable", "--format=json").stdout) == []
    venv.pip("check")

    workdir = tmp_path / "work"
    (workdir / "notes").mkdir(parents=True)
    (workdir / "notes" / "hello.txt").write_text("hello\n")
    # Imported from the venv's site-packages, not from this checkout.
    where = subprocess.run(
        [str(venv.python), "-c", "import plugbay, plugbay_http; print(plugbay.__file__)"],
        cwd=workdir,
        env=venv.env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv.path)

    plugins = _loaded(venv.plugbay_json("plugins", cwd=workdir))
    assert set(plugins) == {"odoo", "copper", "filesystem"}
    for name, plugin in plugins.items():
        assert (plugin["status"], plugin["errors"]) == ("loaded", []), plugin
        assert plugin["distribution"] == f"plugbay-{name}"

    # Copper configured (nothing listens on its port) so its tools are served too.
    env = venv.env(
        PLUGBAY_COPPER__API_KEY="not-a-real-key",
        PLUGBAY_COPPER__USER_EMAIL="user@example.com",
        PLUGBAY_COPPER__BASE_URL=f"http://127.0.0.1:{free_port()}/",
    )
    server = StdioServerParameters(
        command=str(venv.script("plugbay")), args=["serve", "--stdio"], cwd=workdir, env=env
    )
    async with Client(server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"filesystem_list_directory", "copper_get_account"} <= names

        listed = await client.call_tool("filesystem_list_directory", {"path": "notes"})
        assert not listed.is_error
        assert _text(listed) == "[FILE] hello.txt"

        # The REST kit's path, from the wheels: an unreachable backend is a readable error.
        account = await client.call_tool("copper_get_account", {})
        assert account.is_error
        assert "Could not connect to Copper" in _text(account)
        assert "Traceback" not in _text(account)


@pytest.mark.parametrize("name", PLUGINS)
def test_each_plugin_installs_alone_with_only_its_dependencies(
    wheelhouse: Path, tmp_path: Path, name: str
) -> None:
    venv = make_venv(tmp_path / "venv")
    venv.install(wheelhouse, [name])
    venv.pip("check")

    installed = venv.installed()
    ours = {dist for dist in installed if dist in DISTRIBUTIONS}
    assert ours == _sibling_closure(name)

    plugins = _loaded(venv.plugbay_json("plugins", cwd=tmp_path))
    (plugin,) = plugins.values()
    assert plugin["distribution"] == name
    assert plugin["version"] == DISTRIBUTIONS[name].version
    assert (plugin["status"], plugin["errors"]) == ("loaded", []), plugin


def test_the_testing_kit_installs_alone_and_runs_an_authors_tests(
    wheelhouse: Path, tmp_path: Path
) -> None:
    venv = make_venv(tmp_path / "venv")
    venv.install(wheelhouse, ["plugbay-testing"])
    venv.pip("check")
    ours = {dist for dist in venv.installed() if dist in DISTRIBUTIONS}
    assert ours == _sibling_closure("plugbay-testing")

    project = tmp_path / "author"
    project.mkdir()
    (project / "test_greet.py").write_text(AUTHOR_TESTS)
    # The venv's own pytest, which finds the kit through its pytest11 entry point.
    done = venv.run(
        [str(venv.python), "-m", "pytest", "-v", "-p", "no:cacheprovider", "test_greet.py"],
        cwd=project,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_greet.py::test_greets[asyncio] PASSED" in done.stdout
    conformance = "test_greet.py::TestGreetConformance::test_starts_and_stops_cleanly_twice PASSED"
    assert conformance in done.stdout

    # plugbay new plugin reads its templates from the wheel's package data.
    new = venv.run([str(venv.script("plugbay")), "new", "plugin", "wheel-check"], cwd=project)
    assert new.returncode == 0, new.stdout + new.stderr
    generated = project / "plugbay-wheel-check"
    assert (generated / "src" / "plugbay_wheel_check" / "connector.py").is_file()
    assert (generated / "tests" / "test_wheel_check_conformance.py").is_file()
