"""The official MCP conformance suite's server scenarios against plugbay, in four modes.

``@modelcontextprotocol/conformance`` (pinned in tests/peers) runs every scenario of its
active server suite against ``plugbay serve`` with the tests-only fixture plugin
(tests/fixtures/conformance), which serves the tools, resources and prompts the scenarios
call by name. The modes: stateful (sessions, SSE responses), stateless, JSON responses,
and a plugbay whose proxy instance mounts a stateful plugbay. The suite runs once per mode
(a few seconds); each scenario is then one test, and a scenario that cannot pass in a
mode is a strict expected failure with the reason, so a fix shows up as a failure to
update this table and docs/conformance.md.

The suite's bundle imports Node 22's ``fs.globSync``; on Node 20 tests/peers/shim gives
it one (``node --import tests/peers/shim/register.mjs``).
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
PEERS = ROOT / "tests" / "peers"
SUITE = PEERS / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
SHIM = PEERS / "shim" / "register.mjs"
FIXTURE = ROOT / "tests" / "fixtures" / "conformance" / "plugbay_conformance_fixture.py"
SUITE_TIMEOUT = 180.0

SCENARIOS = (
    "server-initialize",
    "logging-set-level",
    "ping",
    "completion-complete",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-with-logging",
    "tools-call-error",
    "tools-call-with-progress",
    "tools-call-sampling",
    "tools-call-elicitation",
    "elicitation-sep1034-defaults",
    "server-sse-multiple-streams",
    "elicitation-sep1330-enums",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "resources-subscribe",
    "resources-unsubscribe",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "dns-rebinding-protection",
)
"""The suite's active server scenarios (0.1.16), in its order."""

ASKING = (
    "tools-call-sampling",
    "tools-call-elicitation",
    "elicitation-sep1034-defaults",
    "elicitation-sep1330-enums",
)
NO_WAY_BACK_STATELESS = (
    "stateless HTTP has no session: the client's answer to a sampling or elicitation "
    "request (a POST of its own) cannot reach the call waiting for it, so a 2025-11-25 "
    "client is told so with a tool error (2026-07-28 clients are asked between requests)"
)
NO_WAY_BACK_JSON = (
    "a JSON response is one message: nothing can be sent before the call's result, so "
    "a server request (sampling, elicitation) has no channel to the client"
)
NO_STREAM_JSON = (
    "a JSON response is one message: log and progress notifications sent during the "
    "call have no stream to travel on"
)
PROXY_URIS = (
    "the proxy moves upstream resource URIs under its instance (test://static-text "
    "becomes test://test/static-text), so the URIs the scenario names are not served"
)

EXPECTED_FAILURES: dict[str, dict[str, str]] = {
    "stateful": {},
    "stateless": dict.fromkeys(ASKING, NO_WAY_BACK_STATELESS),
    "json": {
        "tools-call-with-logging": NO_STREAM_JSON,
        "tools-call-with-progress": NO_STREAM_JSON,
        **dict.fromkeys(ASKING, NO_WAY_BACK_JSON),
    },
    "proxy": {
        **dict.fromkeys(
            (
                "resources-read-text",
                "resources-read-binary",
                "resources-templates-read",
                "resources-subscribe",
                "resources-unsubscribe",
            ),
            PROXY_URIS,
        ),
    },
}
"""By mode, the scenarios that fail there and why (docs/conformance.md has the table)."""

MODE_FLAGS = {"stateful": [], "stateless": ["--stateless"], "json": ["--json-response"]}
WATCH_TOML = '[connectors.watch]\nplugin = "conformance_watch"\n'
"""The fixture's connector that announces resource updates, so subscriptions are offered."""


def _proxy_toml(upstream: str) -> str:
    # Instance "test" prefixes what it mirrors: renaming test_x to x keeps test_x.
    renames = {
        name: name.removeprefix("test_")
        for name in (
            "test_simple_text",
            "test_image_content",
            "test_audio_content",
            "test_embedded_resource",
            "test_multiple_content_types",
            "test_tool_with_logging",
            "test_tool_with_progress",
            "test_error_handling",
            "test_sampling",
            "test_elicitation",
            "test_elicitation_sep1034_defaults",
            "test_elicitation_sep1330_enums",
            "test_simple_prompt",
            "test_prompt_with_arguments",
            "test_prompt_with_embedded_resource",
            "test_prompt_with_image",
        )
    }
    table = ", ".join(f"{old} = {json.dumps(new)}" for old, new in renames.items())
    return f'[connectors.test]\nplugin = "proxy"\nurl = "{upstream}"\nrename = {{ {table} }}\n'


@pytest.fixture(scope="session")
def conformance_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``PYTHONPATH`` directory with the fixture plugin and its entry point."""
    site = tmp_path_factory.mktemp("conformance-site")
    shutil.copy(FIXTURE, site / FIXTURE.name)
    info = site / "plugbay_conformance_fixture-0.1.dist-info"
    info.mkdir()
    metadata_text = "Metadata-Version: 2.1\nName: plugbay-conformance-fixture\nVersion: 0.1\n"
    (info / "METADATA").write_text(metadata_text)
    entry = "[plugbay]\nconformance_fixture = plugbay_conformance_fixture\n"
    (info / "entry_points.txt").write_text(entry)
    return site


@pytest.fixture(scope="session")
def suite() -> Path:
    """The suite's entry script; a missing peer skips locally and fails under CI."""
    problem = None
    if shutil.which("node") is None:
        problem = "node is not installed"
    elif not SUITE.exists():
        problem = f"{SUITE.relative_to(ROOT)} is missing"
    if problem is None:
        return SUITE
    message = f"conformance suite unavailable ({problem}); run `python scripts/setup_peers.py`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


def run_suite(suite: Path, url: str, output: Path) -> dict[str, list[dict[str, Any]]]:
    """Run the active server suite against ``url``; each scenario's non-passing checks."""
    command = ["node", "--import", str(SHIM), str(suite), "server", "--url", url]
    command += ["-o", str(output)]
    done = subprocess.run(
        command,
        cwd=output,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
        check=False,
    )
    results: dict[str, list[dict[str, Any]]] = {}
    for checks in sorted(output.glob("server-*/checks.json")):
        scenario = next(s for s in SCENARIOS if checks.parent.name.startswith(f"server-{s}-2"))
        failed = [c for c in json.loads(checks.read_text()) if c["status"] == "FAILURE"]
        results[scenario] = failed
    assert set(results) == set(SCENARIOS), (
        f"the suite ran {sorted(results)}, not the scenarios this test knows:\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return results


class Runs:
    """The suite's results per mode, each run once when a test first asks for it."""

    def __init__(self, e2e: Any, suite: Path, site: Path, factory: pytest.TempPathFactory) -> None:
        self.e2e = e2e
        self.suite = suite
        self.site = site
        self.factory = factory
        self.results: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def of(self, mode: str) -> dict[str, list[dict[str, Any]]]:
        if mode not in self.results:
            self.results[mode] = self._run(mode)
        return self.results[mode]

    def _run(self, mode: str) -> dict[str, list[dict[str, Any]]]:
        work = self.factory.mktemp(f"conformance-{mode}")
        (work / "plugbay.toml").write_text(WATCH_TOML)
        env = self.e2e.child_env(["conformance_fixture"], [self.site])
        flags = MODE_FLAGS.get(mode, [])
        with self.e2e.http_server(work, env, *flags) as server:
            if mode != "proxy":
                return run_suite(self.suite, server.url, work)
            front = work / "front"
            front.mkdir()
            (front / "plugbay.toml").write_text(_proxy_toml(server.url))
            with self.e2e.http_server(front, self.e2e.child_env(["proxy"])) as proxy:
                return run_suite(self.suite, proxy.url, front)


@pytest.fixture(scope="session")
def runs(
    e2e: Any, suite: Path, conformance_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Runs:
    return Runs(e2e, suite, conformance_site, tmp_path_factory)


def _cases() -> list[Any]:
    cases = []
    for mode, expected in EXPECTED_FAILURES.items():
        for scenario in SCENARIOS:
            marks = []
            if scenario in expected:
                marks.append(pytest.mark.xfail(strict=True, reason=expected[scenario]))
            cases.append(pytest.param(mode, scenario, marks=marks, id=f"{mode}-{scenario}"))
    return cases


@pytest.mark.parametrize(("mode", "scenario"), _cases())
def test_scenario(runs: Runs, mode: str, scenario: str) -> None:
    failed = runs.of(mode)[scenario]
    assert not failed, json.dumps(failed, indent=2)[:4000]


def test_the_docs_table_is_this_table() -> None:
    """docs/conformance.md shows exactly the expected failures above, mode by mode."""
    docs = (ROOT / "docs" / "conformance.md").read_text()
    modes = list(EXPECTED_FAILURES)
    shown: dict[str, dict[str, bool]] = {}
    for line in docs.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] in SCENARIOS:
            shown[cells[0]] = {
                mode: cell.startswith("✗") for mode, cell in zip(modes, cells[1:], strict=True)
            }
    assert list(shown) == list(SCENARIOS)
    for mode, expected in EXPECTED_FAILURES.items():
        failing = {scenario for scenario, marks in shown.items() if marks[mode]}
        assert failing == set(expected), mode
