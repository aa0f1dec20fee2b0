"""The connector never imports its fake: the fake's dependencies are an extra."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from importlib.metadata import entry_points
(point,) = entry_points(group="plugbay", name="copper")
point.load()
import plugbay_copper.connector
print(json.dumps(sorted(name for name in sys.modules if name.startswith("plugbay_copper"))))
"""


def test_loading_the_plugin_leaves_the_fake_out() -> None:
    finished = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(finished.stdout)
    assert "plugbay_copper.connector" in loaded
    assert [name for name in loaded if name.startswith("plugbay_copper.fake")] == []
