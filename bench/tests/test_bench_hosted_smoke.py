"""The hosted benchmark works: both servers answer every call, and the hosted one is guarded.

Correctness only, as in test_bench_smoke.py: nothing here looks at the timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_HOSTED = Path(__file__).resolve().parents[1] / "bench_hosted.py"
# The servers must find the bench-only plugin (see conftest.py).
pytestmark = pytest.mark.usefixtures("bench_plugin_on_path")

CALLS = 40


@pytest.mark.slow
@pytest.mark.parametrize(
    "flags",
    [
        pytest.param([], id="legacy-stateful-sse-token-cache"),
        pytest.param(
            ["--era", "modern", "--json-response", "--token-cache", "off"],
            id="modern-json-no-cache",
        ),
    ],
)
def test_both_servers_answer_every_call_and_the_hosted_one_needs_a_token(flags: list[str]) -> None:
    command = [sys.executable, str(BENCH_HOSTED), "--calls", str(CALLS), "--rounds", "1"]
    command += ["--warmup", "5", "--concurrency", "2", "--json", *flags]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert finished.returncode == 0, finished.stderr[-2000:]
    report = json.loads(finished.stdout)
    assert report["guarded"] is True
    assert sorted((w["server"], w["calls"], w["errors"]) for w in report["windows"]) == [
        ("hosted", CALLS, 0),
        ("plain", CALLS, 0),
    ]
