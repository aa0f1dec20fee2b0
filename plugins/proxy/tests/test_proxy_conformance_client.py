"""The official MCP conformance suite's client scenarios, with the proxy as the client.

``@modelcontextprotocol/conformance`` (pinned in tests/peers) starts a scenario's test
server and runs ``conformance/proxy_client.py`` against it: a plugbay whose proxy
instance mounts that server and calls its tools. The suite judges the proxy's side
of the wire. Its bundle imports Node 22's ``fs.globSync``; on Node 20 the shim in
tests/peers/shim supplies it (``node --import tests/peers/shim/register.mjs``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "conformance"
SHIM = Path(__file__).resolve().parents[3] / "tests" / "peers" / "shim" / "register.mjs"
RUN_TIMEOUT = 120


def run_scenario(suite: Path, scenario: str, output: Path) -> list[dict[str, object]]:
    """Run one client scenario with the proxy as the client; the suite's checks."""
    client = f"{sys.executable} {HERE / 'proxy_client.py'}"
    command = ["node", "--import", str(SHIM), str(suite)]
    command += ["client", "--command", client, "--scenario", scenario, "-o", str(output)]
    done = subprocess.run(
        command,
        cwd=output,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    found = sorted(output.rglob("checks.json"))
    assert found, f"the suite wrote no checks:\n{done.stdout}\n{done.stderr}"
    checks: list[dict[str, object]] = json.loads(found[-1].read_text())
    return checks


def test_sse_retry(conformance_suite: Path, tmp_path: Path) -> None:
    """A call's stream closed after an id and a ``retry``: the proxy waits, then resumes."""
    checks = run_scenario(conformance_suite, "sse-retry", tmp_path)
    verdicts = {check["id"]: check for check in checks if check["status"] != "INFO"}
    assert verdicts["client-sse-graceful-reconnect"]["status"] == "SUCCESS", verdicts
    assert verdicts["client-sse-last-event-id"]["status"] == "SUCCESS", verdicts
    # Reconnecting within the suite's window is its own judgement of the wait: a busy
    # machine can make the proxy slightly late (a warning), never early.
    assert verdicts["client-sse-retry-timing"]["status"] in ("SUCCESS", "WARNING"), verdicts
    assert not [check for check in checks if check["status"] == "FAILURE"], checks
