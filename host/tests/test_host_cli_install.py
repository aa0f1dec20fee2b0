"""``plugbay install``/``uninstall`` argument mapping and ``plugbay --version``, in-process.

The commands running pip for real, in throwaway virtual environments, are in
test_host_cli_venv.py.
"""

import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from plugbay import __version__
from plugbay.cli import cli
from plugbay.cli_install import (
    FLAG_OPTIONS,
    VALUE_OPTIONS,
    distribution_requirement,
    pip_arguments,
)

WORKSPACE_PLUGINS = ("copper", "filesystem", "odoo", "proxy", "sql")


@pytest.mark.parametrize(
    ("token", "requirement"),
    [
        ("odoo", "plugbay-odoo"),
        ("odoo>=0.2", "plugbay-odoo>=0.2"),
        ("odoo==0.2.1", "plugbay-odoo==0.2.1"),
        ("odoo~=0.2", "plugbay-odoo~=0.2"),
        ("odoo!=0.3", "plugbay-odoo!=0.3"),
        ("odoo<1", "plugbay-odoo<1"),
        ("odoo[test]", "plugbay-odoo[test]"),
        ("odoo[test]>=0.2", "plugbay-odoo[test]>=0.2"),
        ("odoo; python_version>='3.11'", "plugbay-odoo; python_version>='3.11'"),
        ("acme.weather", "plugbay-acme.weather"),
        ("e2e_echo", "plugbay-e2e_echo"),
        # Already in the plugbay namespace, however it is spelt.
        ("plugbay-odoo", "plugbay-odoo"),
        ("plugbay_odoo>=0.2", "plugbay_odoo>=0.2"),
        ("PlugBay.Odoo", "PlugBay.Odoo"),
        ("plugbay", "plugbay"),
        ("plugbay[redis]", "plugbay[redis]"),
        ("plugbay>=0.2", "plugbay>=0.2"),
        # Paths, URLs and archives, as they are.
        ("./plugins/odoo", "./plugins/odoo"),
        ("plugins/odoo", "plugins/odoo"),
        (".", "."),
        ("..", ".."),
        ("~/src/odoo", "~/src/odoo"),
        ("/abs/plugbay-odoo", "/abs/plugbay-odoo"),
        ("C:\\src\\odoo", "C:\\src\\odoo"),
        ("odoo-0.2.0-py3-none-any.whl", "odoo-0.2.0-py3-none-any.whl"),
        ("odoo-0.2.0.tar.gz", "odoo-0.2.0.tar.gz"),
        ("odoo.zip", "odoo.zip"),
        ("git+https://example.org/odoo.git", "git+https://example.org/odoo.git"),
        ("https://example.org/odoo-0.2.0.tar.gz", "https://example.org/odoo-0.2.0.tar.gz"),
        ("file:///tmp/odoo", "file:///tmp/odoo"),
        # Not a requirement at all: pip says what is wrong with it.
        ("odoo$", "odoo$"),
        ("-odoo", "-odoo"),
        ("$odoo", "$odoo"),
    ],
)
def test_names_map_to_requirements(token: str, requirement: str) -> None:
    assert distribution_requirement(token) == requirement


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["odoo", "copper"], ["plugbay-odoo", "plugbay-copper"]),
        (["-U", "odoo"], ["-U", "plugbay-odoo"]),
        (["--upgrade", "--pre", "odoo"], ["--upgrade", "--pre", "plugbay-odoo"]),
        (["odoo", "--no-deps"], ["plugbay-odoo", "--no-deps"]),
        (["--find-links", "dist", "odoo"], ["--find-links", "dist", "plugbay-odoo"]),
        (["--find-links=dist", "odoo"], ["--find-links=dist", "plugbay-odoo"]),
        (["-f", "dist", "odoo"], ["-f", "dist", "plugbay-odoo"]),
        (["-fdist", "odoo"], ["-fdist", "plugbay-odoo"]),
        (["-Uqf", "dist", "odoo"], ["-Uqf", "dist", "plugbay-odoo"]),
        (["-e", "odoo"], ["-e", "odoo"]),
        (["-e", "plugins/odoo", "sql"], ["-e", "plugins/odoo", "plugbay-sql"]),
        (["-r", "requirements", "odoo"], ["-r", "requirements", "plugbay-odoo"]),
        (["-c", "constraints", "odoo"], ["-c", "constraints", "plugbay-odoo"]),
        (["--index-url", "http://127.0.0.1/simple", "odoo"], None),
        (["--target", "site", "odoo"], ["--target", "site", "plugbay-odoo"]),
        (["--python", "python3", "odoo"], ["--python", "python3", "plugbay-odoo"]),
        (["--timeout", "30", "odoo"], ["--timeout", "30", "plugbay-odoo"]),
        (["-C", "editable_mode=strict", "odoo"], ["-C", "editable_mode=strict", "plugbay-odoo"]),
        # An option pip may add later, written with "=": its value is safe.
        (["--future-option=x", "odoo"], ["--future-option=x", "plugbay-odoo"]),
        (["odoo", "--future-flag"], ["plugbay-odoo", "--future-flag"]),
        # A value-taking option last, with nothing after it: pip reports it.
        (["odoo", "--find-links"], ["plugbay-odoo", "--find-links"]),
        (["-"], ["-"]),
    ],
)
def test_options_and_their_values_pass_through(
    arguments: list[str], expected: list[str] | None
) -> None:
    mapped, _ = pip_arguments(arguments)
    if expected is None:
        expected = [*arguments[:-1], "plugbay-odoo"]
    assert mapped == expected


def test_requirements_are_the_names_not_the_option_values() -> None:
    arguments = ["-e", "plugins/odoo", "-f", "dist", "sql", "./x", "-r", "reqs", "plugbay"]
    _, requirements = pip_arguments(arguments)
    assert requirements == ["plugbay-sql", "./x", "plugbay"]


@pytest.mark.parametrize(
    "arguments",
    [["--future-option", "odoo"], ["-Z", "odoo"], ["-qZ", "dist", "odoo"]],
)
def test_an_unknown_option_before_a_name_is_refused(arguments: list[str]) -> None:
    # Whether "odoo" is the option's value or a connector cannot be told: no guess.
    with pytest.raises(click.UsageError, match="does not know pip's option -"):
        pip_arguments(arguments)


def _pip_options(command: str) -> tuple[set[str], set[str]]:
    """The options ``pip <command> --help`` shows: (those taking a value, the flags)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", command, "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    valued: set[str] = set()
    flags: set[str] = set()
    for line in done.stdout.splitlines():
        match = re.match(r"  (?:(-\w), )?(--[\w-]+)( <[^>]*>)?(?:\s|$)", line)
        if match is None:
            continue
        short, long, value = match.groups()
        names = {long} | ({short} if short else set())
        (valued if value else flags).update(names)
    return valued, flags


@pytest.mark.parametrize("command", ["install", "uninstall"])
def test_every_pip_option_is_known(command: str) -> None:
    valued, flags = _pip_options(command)
    assert "--find-links" in valued or command == "uninstall"
    assert "-r" in valued
    assert valued - VALUE_OPTIONS == set()
    assert flags - FLAG_OPTIONS == set()
    assert valued & FLAG_OPTIONS == set()


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "names", [["plugbay"], ["odoo", "PlugBay==0.2"], ["plugbay[redis]"], ["Plugbay"]]
)
def test_uninstalling_plugbay_itself_is_refused(names: list[str]) -> None:
    result = run("uninstall", *names)
    assert result.exit_code == 2
    assert "refusing to uninstall plugbay itself" in result.output
    assert "--force" in result.output
    assert "running:" not in result.output  # pip was never started


@pytest.mark.parametrize("command", ["install", "uninstall"])
def test_a_name_is_required(command: str) -> None:
    result = run(command)
    assert result.exit_code == 2
    assert "name at least one connector" in result.output


def test_install_help_is_plugbays_and_dash_h_is_pips() -> None:
    result = run("install", "--help")
    assert result.exit_code == 0
    assert "odoo means plugbay-odoo" in result.output


def test_version_lists_plugbay_plugins_mcp_and_python() -> None:
    result = run("--version")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"plugbay {__version__}"
    for name in WORKSPACE_PLUGINS:
        version = metadata.version(f"plugbay-{name}")
        assert f"  plugbay-{name} {version} ({name})" in lines
    assert f"mcp {metadata.version('mcp')}" in lines
    assert lines[-1] == (
        f"Python {platform.python_version()} ({platform.python_implementation()}) "
        f"at {sys.executable}"
    )


def _dist_info(site: Path, folder: str, metadata_text: str, entry_points: str) -> None:
    info = site / folder
    info.mkdir()
    (info / "METADATA").write_text(metadata_text)
    (info / "entry_points.txt").write_text(entry_points)


def test_version_lists_broken_plugin_metadata_with_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dist_info(
        tmp_path,
        "plugbay_no_version-1.0.dist-info",
        "Metadata-Version: 2.1\nName: plugbay-no-version\n",
        "[plugbay]\nno_version = plugbay_no_version\n",
    )
    _dist_info(
        tmp_path,
        "plugbay_no_name-1.0.dist-info",
        "Metadata-Version: 2.1\nVersion: 1.0\n",
        "[plugbay]\nno_name = plugbay_no_name\n",
    )
    _dist_info(
        tmp_path,
        "plugbay_bad_points-1.0.dist-info",
        "Metadata-Version: 2.1\nName: plugbay-bad-points\nVersion: 1.0\n",
        "[plugbay]\nthis line is not an entry point\n",
    )
    _dist_info(
        tmp_path,
        "unrelated-1.0.dist-info",
        "Metadata-Version: 2.1\nName: unrelated\nVersion: 1.0\n",
        "[console_scripts]\nunrelated = unrelated:main\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    result = run("--version")

    assert result.exit_code == 0
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert "  plugbay-no-version ? (no_version)  error: metadata has no Version" in lines
    assert f"  <unnamed in {tmp_path}> 1.0 (no_name)  error: metadata has no Name" in lines
    (bad_points,) = [line for line in lines if "plugbay-bad-points" in line]
    assert bad_points.startswith("  plugbay-bad-points 1.0  error: entry points unreadable: ")
    assert not any("unrelated" in line for line in lines)
    # The healthy plugins are still listed.
    version = metadata.version("plugbay-filesystem")
    assert f"  plugbay-filesystem {version} (filesystem)" in lines
