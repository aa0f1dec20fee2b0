"""The benchmark machinery works: both servers start, answer every call correctly, and report.

Correctness only: a tiny run on a shared machine says nothing about speed, so nothing here
looks at the timings beyond their presence.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1]
BENCH_CALLS = BENCH / "bench_calls.py"


# The servers must find the bench-only plugin (see conftest.py).
pytestmark = pytest.mark.usefixtures("bench_plugin_on_path")

CALLS = 50

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
        pytest.param([], id="legacy-stateful-sse"),
        pytest.param(["--stateless", "--json-response"], id="legacy-stateless-json"),
        pytest.param(["--era", "modern", "--json-response"], id="modern-json"),
    ],
)
def test_both_servers_answer_every_call(flags: list[str]) -> None:
    command = [sys.executable, str(BENCH_CALLS), "--calls", str(CALLS), "--rounds", "1"]
    command += ["--warmup", "5", "--concurrency", "2", "--max-seconds", "60", "--json", *flags]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert finished.returncode == 0, finished.stderr[-2000:]
    report = json.loads(finished.stdout)

    assert report["schemas"] == {"plugbay": ECHO_SCHEMA, "bare": ECHO_SCHEMA}
    assert report["same_schema"] is True
    assert [(w["server"], w["calls"], w["errors"]) for w in report["windows"]] == [
        ("plugbay", CALLS, 0),
        ("bare", CALLS, 0),
    ]
    summary = report["summary"]
    assert set(summary["servers"]) == {"plugbay", "bare"}
    for row in summary["servers"].values():
        assert set(row) >= {"calls_per_second", "cpu_us_per_call", "p50_ms", "p99_ms"}
    assert set(summary) >= {"cpu_ratio", "cpu_ratio_per_round", "goal", "within_goal"}


def test_table_output_names_both_servers_and_the_ratio() -> None:
    command = [sys.executable, str(BENCH_CALLS), "--calls", "20", "--rounds", "1", "--warmup", "0"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert finished.returncode == 0, finished.stderr[-2000:]
    lines = finished.stdout.splitlines()
    rows = {
        line.split()[0]: line.split()
        for line in lines
        if line.split()[:1] in (["plugbay"], ["bare"])
    }
    assert rows["plugbay"][1:3] == ["20", "0"]  # calls, errors
    assert rows["bare"][1:3] == ["20", "0"]
    assert any(line.startswith("CPU per call, plugbay / bare:") for line in lines)
