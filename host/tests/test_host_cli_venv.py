"""``plugbay install``/``uninstall``/``--version`` run for real in throwaway virtual environments.

Each environment is a fresh venv (made without pip, in a fraction of a second) with
plugbay installed in it from host/ as a user installs it, console script and all, and a
``.pth`` file that adds this test environment's site-packages for plugbay's
dependencies. What ``plugbay install`` installs lands in the venv's own site-packages,
as in a pipx or uv tool environment. One venv sees this environment's pip; the other
sees everything but pip, as a uv tool environment does, so plugbay falls back to
``uv pip``. plugbay and the fixture plugin (tests/fixtures/plugbay-e2e-echo) are built
without build isolation or an index, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from collections.abc import Sequence
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "host"
ECHO = ROOT / "tests" / "fixtures" / "plugbay-e2e-echo"
TIMEOUT = 180.0
"""Seconds one plugbay command (a pip or uv run included) may take."""


def _echo_version() -> str:
    with (ECHO / "pyproject.toml").open("rb") as file:
        version: str = tomllib.load(file)["project"]["version"]
    return version


class Venv:
    """A throwaway environment with plugbay importable and nothing installed in it."""

    def __init__(self, root: Path, shared_site: Path) -> None:
        venv.EnvBuilder(with_pip=False).create(root)
        self.root = root
        self.python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        self.site = Path(
            subprocess.run(
                [str(self.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                capture_output=True,
                text=True,
                check=True,
                timeout=TIMEOUT,
            ).stdout.strip()
        )
        # addsitedir, not a bare path: the shared site's own .pth files (editable
        # installs of the workspace) are processed too.
        line = f"import site; site.addsitedir({str(shared_site)!r})\n"
        (self.site / "_plugbay_test_shared.pth").write_text(line)
        bin_folder = self.python.parent
        self.command = bin_folder / ("plugbay.exe" if os.name == "nt" else "plugbay")
        # This environment's pip installs plugbay there, whether or not the venv sees a pip.
        install = [sys.executable, "-m", "pip", "--python", str(self.python), "install"]
        done = subprocess.run(
            [*install, "--quiet", "--no-deps", "--no-build-isolation", "--no-index", str(HOST)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            env=_clean_env(),
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert self.command.is_file()

    def plugbay(self, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run this environment's ``plugbay`` console script."""
        env = _clean_env()
        if path is not None:
            env["PATH"] = path
        return subprocess.run(
            [str(self.command), *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            env=env,
            cwd=self.root,
        )

    def plugin_lines(self) -> list[str]:
        """The plugin lines ``plugbay --version`` prints."""
        done = self.plugbay("--version")
        assert done.returncode == 0, done.stderr
        return [line for line in done.stdout.splitlines() if line.startswith("  ")]


def _clean_env() -> dict[str, str]:
    """This process's environment without what would point pip, uv or plugbay elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PLUGBAY_", "PYTHON", "PIP_", "UV_", "VIRTUAL_ENV"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _site_without_pip(folder: Path, site: Path) -> Path:
    """A folder of links to everything in ``site`` but pip."""
    folder.mkdir()
    for entry in site.iterdir():
        if entry.name == "pip" or entry.name.startswith("pip-"):
            continue
        (folder / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    return folder


@pytest.fixture(scope="module")
def shared_site() -> Path:
    return Path(sysconfig.get_path("purelib"))


@pytest.fixture(scope="module")
def with_pip(tmp_path_factory: pytest.TempPathFactory, shared_site: Path) -> Venv:
    if not (shared_site / "pip").is_dir():
        pytest.fail(f"{sys.executable} has no pip in {shared_site}")
    return Venv(tmp_path_factory.mktemp("with-pip") / "venv", shared_site)


@pytest.fixture(scope="module")
def without_pip(tmp_path_factory: pytest.TempPathFactory, shared_site: Path) -> Venv:
    root = tmp_path_factory.mktemp("without-pip")
    return Venv(root / "venv", _site_without_pip(root / "site", shared_site))


@pytest.fixture(scope="module")
def uv() -> str:
    found = shutil.which("uv")
    if found is not None:
        return found
    message = "uv is not on PATH: pip install uv"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


def _offline(*args: str) -> Sequence[str]:
    # Build the fixture with the hatchling already here, and never ask an index.
    return ("--no-build-isolation", *args)


def test_install_version_uninstall_with_pip(with_pip: Venv) -> None:
    echo = f"  plugbay-e2e-echo {_echo_version()} (e2e_echo, e2e_vault)"
    assert echo not in with_pip.plugin_lines()

    done = with_pip.plugbay("install", *_offline("--no-index", str(ECHO)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"running: {with_pip.python} -m pip install" in done.stderr
    assert "Successfully installed plugbay-e2e-echo" in done.stdout  # pip's own output
    assert echo in with_pip.plugin_lines()
    installed = with_pip.site / "plugbay_e2e_echo"
    assert installed.is_dir()  # in the venv, not in the environment it borrows from

    # A bare name is the plugbay- distribution; pip is not asked to confirm.
    done = with_pip.plugbay("uninstall", "e2e-echo")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "-m pip uninstall plugbay-e2e-echo --yes" in done.stderr
    assert "Successfully uninstalled plugbay-e2e-echo" in done.stdout
    assert echo not in with_pip.plugin_lines()
    assert not installed.exists()


def test_pip_failure_is_shown_with_its_exit_status(with_pip: Venv) -> None:
    done = with_pip.plugbay("install", "--no-index", "./does-not-exist")
    assert done.returncode == 1  # pip's own status
    pip_said = _without_running_line(done.stderr)
    assert "ERROR" in pip_said
    assert "./does-not-exist" in pip_said
    assert "Traceback" not in done.stderr

    # A connector that is not installed: pip's warning, and pip's status (0).
    done = with_pip.plugbay("uninstall", "not-installed-here")
    pip_said = _without_running_line(done.stderr)
    assert "plugbay-not-installed-here" in pip_said
    assert "not installed" in pip_said
    assert done.returncode == 0


def test_uninstalling_plugbay_itself_is_refused(with_pip: Venv) -> None:
    done = with_pip.plugbay("uninstall", "plugbay", "odoo")
    assert done.returncode == 2
    assert "refusing to uninstall plugbay itself" in done.stderr
    assert "running:" not in done.stderr
    assert (with_pip.site / "plugbay" / "__init__.py").is_file()
    assert with_pip.command.is_file()


def _without_running_line(stderr: str) -> str:
    """What the installer wrote, without plugbay's ``running: ...`` line."""
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("running: "))


def test_without_pip_uv_installs_and_uninstalls(without_pip: Venv, uv: str) -> None:
    echo = f"  plugbay-e2e-echo {_echo_version()} (e2e_echo, e2e_vault)"
    probe = subprocess.run(
        [str(without_pip.python), "-c", "import pip"], capture_output=True, check=False
    )
    assert probe.returncode != 0  # the environment really has no pip

    done = without_pip.plugbay("install", *_offline("--no-deps", str(ECHO)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"running: {uv} pip install --python {without_pip.python}" in done.stderr
    assert echo in without_pip.plugin_lines()

    done = without_pip.plugbay("uninstall", "plugbay-e2e-echo", "-y")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"pip uninstall --python {without_pip.python} plugbay-e2e-echo" in done.stderr
    (running,) = [line for line in done.stderr.splitlines() if line.startswith("running: ")]
    assert not {"-y", "--yes"} & set(running.split())  # uv never asks, and has no --yes
    assert echo not in without_pip.plugin_lines()


def test_without_pip_or_uv_the_error_says_what_to_do(without_pip: Venv, tmp_path: Path) -> None:
    nothing = str(tmp_path)  # a PATH where no uv can be found
    for args in (["install", "odoo"], ["uninstall", "--force", "plugbay"]):
        done = without_pip.plugbay(*args, path=nothing)
        assert done.returncode == 1
        assert "has neither pip nor uv on PATH" in done.stderr
        assert "pipx inject plugbay plugbay-NAME" in done.stderr
        assert "uv tool install plugbay --with plugbay-NAME" in done.stderr
        assert "Traceback" not in done.stderr
