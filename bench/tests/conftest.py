"""What every benchmark smoke test needs: the bench-only plugin, seen by the servers only."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_plugin_on_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Install the bench-only plugin into a throwaway directory the servers see.

    It is never installed into the shared environment: there it would add its echo tool
    to every plugbay the other tests start.
    """
    site = tmp_path_factory.mktemp("bench-site")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    command += ["--no-build-isolation", "--target", str(site), str(BENCH / "plugin")]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), previous]))
    yield
    if previous is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = previous
