"""The testing kit imports no plugin: each plugin's fake lives with the plugin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PLUGINS = sorted(
    f"plugbay_{path.name}"
    for path in (Path(__file__).parents[3] / "plugins").iterdir()
    if (path / "pyproject.toml").is_file()
)
PROBE = """
import json, sys
import plugbay_testing, plugbay_testing.fakes, plugbay_testing.pytest_plugin
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_importing_the_kit_and_its_pytest_plugin_loads_no_plugin() -> None:
    assert {"plugbay_copper", "plugbay_odoo"} <= set(PLUGINS)
    finished = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(finished.stdout))
    assert "plugbay_testing" in loaded
    assert loaded.isdisjoint(PLUGINS), sorted(loaded & set(PLUGINS))
