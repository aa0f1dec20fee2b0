"""bench/bench_odoo.py runs and checks its lookups (correctness only, never timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_ODOO = Path(__file__).resolve().parents[3] / "bench" / "bench_odoo.py"


@pytest.mark.slow
def test_the_odoo_benchmark_runs_on_both_transports(tmp_path: Path) -> None:
    command = [sys.executable, str(BENCH_ODOO), "--calls", "20", "--warmup", "3"]
    command += ["--rounds", "1", "--json"]
    finished = subprocess.run(  # the bench checks every record it gets back
        command, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False
    )
    assert finished.returncode == 0, finished.stderr
    results = json.loads(finished.stdout)
    assert [result["transport"] for result in results] == ["xmlrpc", "jsonrpc"]
    for result in results:
        assert result["calls"] == 20
        assert set(result["median_us"]) == {"raw", "connector", "mcp"}
        assert set(result["share_us"]) == {"connector", "mcp"}
        assert result["server_us"] > 0
