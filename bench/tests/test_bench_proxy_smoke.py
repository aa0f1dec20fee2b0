"""The proxy benchmark's machinery works: the upstream and plugbay's proxy answer every call.

FastMCP is left out (``--no-fastmcp``): its isolated venv is installed from the package
index on first use, which a test run should not depend on. Nothing here looks at timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_PROXY = Path(__file__).resolve().parents[1] / "bench_proxy.py"
CALLS = 40

ECHO_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "description": "The text to send back."}},
    "required": ["text"],
    "additionalProperties": False,
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "flags",
    [
        pytest.param([], id="legacy-client"),
        pytest.param(["--era", "modern", "--upstream-protocol", "legacy"], id="modern-client"),
        pytest.param(["--json-response"], id="json-response"),
    ],
)
def test_direct_and_proxied_calls_all_answer(flags: list[str]) -> None:
    command = [sys.executable, str(BENCH_PROXY), "--no-fastmcp", "--calls", str(CALLS)]
    command += ["--rounds", "1", "--warmup", "5", "--concurrency", "2", "--json", *flags]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr[-2000:]
    report = json.loads(finished.stdout)

    assert report["schemas"] == {"direct": ECHO_SCHEMA, "plugbay": ECHO_SCHEMA}
    assert report["same_schema"] is True
    assert sorted((w["front"], w["calls"], w["errors"]) for w in report["windows"]) == [
        ("direct", CALLS, 0),
        ("plugbay", CALLS, 0),
    ]
    summary = report["summary"]
    assert set(summary["ratios"]) == {"front_per_plugbay_call", "added_per_plugbay_call"}
    assert summary["fronts"]["plugbay"]["upstream_cpu_us_per_call"] > 0
