"""``plugbay new plugin``: the project it writes installs, passes its own tests and serves.

The project is generated into a temporary folder, pip-installed into another one (put on
``PYTHONPATH``, never into the shared environment), its tests are run by pytest in a
subprocess from the project's folder, and it is served by ``plugbay`` over stdio to the
real MCP client, found only through its entry point.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TEST_TIMEOUT = 300.0
"""Seconds the generated project's test run may take."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def project(e2e: Any, tmp_path: Path) -> Path:
    done = e2e.run_plugbay(["new", "plugin", "acme-notes"], cwd=tmp_path, env=e2e.child_env([]))
    assert done.returncode == 0, done.stderr
    assert "plugbay call acme_notes_greet who=Ada" in done.stdout
    return tmp_path / "plugbay-acme-notes"


@pytest.fixture
def env(e2e: Any, project: Path, tmp_path: Path) -> dict[str, str]:
    site = e2e.pip_install([project], tmp_path / "site")
    assert (site / "plugbay_acme_notes" / "connector.py").is_file()
    return e2e.child_env(["acme_notes"], [site])


def test_the_generated_project_passes_its_own_tests(project: Path, env: dict[str, str]) -> None:
    # The project's own pytest configuration applies (rootdir is the project's folder);
    # its package is imported from the installed copy, as a user's would be.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TEST_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for passed in (
        "test_acme_notes_conformance.py::TestAcmeNotesConformance::test_plugin_is_installed PASSED",
        "test_acme_notes_conformance.py::TestAcmeNotesConformance::test_assembles PASSED",
        "test_acme_notes_conformance.py::TestAcmeNotesConformance::"
        "test_sample_calls_succeed[modern] PASSED",
        "test_acme_notes_tools.py::test_greets_with_the_configured_greeting",
    ):
        assert passed in done.stdout, done.stdout
    assert " failed" not in done.stdout


async def test_the_generated_plugin_is_found_and_served(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    report = e2e.run_json(["plugins", "--json"], cwd=tmp_path, env=env)
    (plugin,) = [info for info in report["plugins"] if info["name"] == "acme_notes"]
    assert plugin["status"] == "loaded"
    assert plugin["distribution"] == "plugbay-acme-notes"
    assert (plugin["hooks"], plugin["errors"], plugin["warnings"]) == (
        ["register_connectors"],
        [],
        [],
    )

    called = e2e.run_plugbay(["call", "acme_notes_greet", "who=Ada"], cwd=tmp_path, env=env)
    assert (called.returncode, called.stdout.strip()) == (0, "Hello, Ada!"), called.stderr

    async with Client(e2e.stdio_server(tmp_path, env)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == {"acme_notes_greet"}
        assert tools["acme_notes_greet"].annotations is not None
        assert tools["acme_notes_greet"].annotations.read_only_hint is True
        result = await client.call_tool("acme_notes_greet", {"who": "Grace"})
        assert not result.is_error
        assert [block.text for block in result.content if isinstance(block, types.TextContent)] == [
            "Hello, Grace!"
        ]
        refused = await client.call_tool("acme_notes_greet", {"who": " "})
        assert refused.is_error
