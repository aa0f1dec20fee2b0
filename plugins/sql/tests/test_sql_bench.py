"""bench/bench_sql.py runs and checks its lookups (correctness only, never timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_SQL = Path(__file__).resolve().parents[3] / "bench" / "bench_sql.py"


@pytest.mark.slow
def test_the_sql_benchmark_runs_on_sqlite(tmp_path: Path) -> None:
    command = [sys.executable, str(BENCH_SQL), "--calls", "30", "--warmup", "3"]
    command += ["--rounds", "1", "--dialects", "sqlite", "--json"]
    finished = subprocess.run(  # the bench checks every row it gets back
        command, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False
    )
    assert finished.returncode == 0, finished.stderr
    (result,) = json.loads(finished.stdout)
    assert result["dialect"] == "sqlite"
    assert result["calls"] == 30
    assert set(result["ratio"]) == {"sqlalchemy", "connector", "mcp"}
    assert result["ratio"]["sqlalchemy"] == 1.0
