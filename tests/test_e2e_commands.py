"""Commands from a pip-installed third-party plugin, run as ``plugbay`` subprocesses.

``plugbay-acme-tasks`` adds ``plugbay tasks`` (a group) and tries to take ``serve``;
``plugbay-acme-wreck`` fails to import. The command line lists and runs the plugin's
command, keeps its own ``serve``, and carries on past the broken plugin: ``--help``
and ``uninstall`` (which never loads plugins) still work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

TASKS = '''
"""A third-party plugin that adds commands, written against the documented hook only."""

import click

from plugbay import hookimpl


@click.group()
def tasks():
    """Work with Acme tasks."""


@tasks.command("list")
@click.option("--done", is_flag=True, help="Only finished tasks.")
def list_tasks(done):
    """List the tasks."""
    click.echo("write report (done)" if done else "write report\\nfile taxes")


@click.command()
def serve():
    """Acme's own serve."""
    click.echo("acme serve ran")


@hookimpl
def register_commands(register):
    register(tasks)
    register(serve)
'''

WRECK = """
raise ImportError("acme wreck is missing a dependency")
"""

PLUGINS = ("acme_tasks", "acme_wreck")


@pytest.fixture(scope="module")
def site(e2e: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = tmp_path_factory.mktemp("commands-src")
    distributions = [
        e2e.distribution(sources, "acme-tasks", {"acme_tasks": ("acme_tasks", TASKS)}),
        e2e.distribution(sources, "acme-wreck", {"acme_wreck": ("acme_wreck", WRECK)}),
    ]
    return e2e.pip_install(distributions, tmp_path_factory.mktemp("commands-site"))


@pytest.fixture
def env(e2e: Any, site: Path) -> dict[str, str]:
    return e2e.child_env(PLUGINS, [site])


def test_help_lists_the_plugin_command_despite_the_broken_plugin(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    done = e2e.run_plugbay(["--help"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    commands = done.stdout.split("Commands:")[1]
    assert "tasks " in commands
    assert "Work with Acme tasks." in commands
    assert "Serve the MCP server over HTTP or stdio." in commands  # plugbay's, not Acme's
    assert "acme_wreck failed to import" in done.stderr
    assert (
        "warning: plugin acme_tasks: command 'serve' left out: plugbay has a command of that name"
    ) in done.stderr


def test_the_plugin_command_runs(e2e: Any, env: dict[str, str], tmp_path: Path) -> None:
    done = e2e.run_plugbay(["tasks", "list", "--done"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "write report (done)\n"


def test_core_commands_never_load_the_plugins(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    done = e2e.run_plugbay(["uninstall", "--help"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "acme_wreck" not in done.stderr  # the broken plugin was not even imported
    assert "Uninstall" in done.stdout


def test_an_unknown_command_suggests_the_plugin_command(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    done = e2e.run_plugbay(["task"], cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "no such command 'task'; did you mean 'tasks'?" in done.stderr
