"""Install the real MCP peers the tests drive (npm packages pinned in tests/peers).

Run by `hatch run test` before pytest. It is quick when nothing changed: `npm ci` runs only
when node_modules is missing or older than the lock file. Without npm it says so and leaves
the peer tests to skip (outside CI) or fail (under CI=true).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PEERS = Path(__file__).resolve().parents[1] / "tests" / "peers"


def main() -> int:
    """Install the peers if needed; the exit status is npm's (1 under CI without npm)."""
    lock = PEERS / "package-lock.json"
    installed = PEERS / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print(
            "setup_peers: npm not found; tests that drive npm MCP peers cannot run", file=sys.stderr
        )
        return 1 if os.environ.get("CI") == "true" else 0
    print("setup_peers: installing npm test peers (npm ci)", file=sys.stderr)
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    return subprocess.run(command, cwd=PEERS, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    raise SystemExit(main())
