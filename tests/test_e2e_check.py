"""``plugbay check`` as a subprocess: it starts every instance and says which work.

Where ``config check`` only reads (and says so), ``check`` finds the missing root and
the database that does not answer, each with its reason, and exits 1.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once it is closed


@pytest.fixture
def env(e2e: Any, filesystem_plugin: str) -> dict[str, str]:
    return e2e.child_env([filesystem_plugin, "sql"])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    notes = tmp_path / "notes"
    notes.mkdir()
    path = tmp_path / "plugbay.toml"
    path.write_text(
        f'[connectors.notes]\nplugin = "filesystem"\nroots = ["{notes}"]\n'
        f'[connectors.gone]\nplugin = "filesystem"\nroots = ["{tmp_path / "absent"}"]\n'
        f'[connectors.shop]\nplugin = "sql"\n'
        f'url = "postgresql://shop@127.0.0.1:{_closed_port()}/shop"\npassword = "pw-not-shown"\n'
    )
    return path


def test_config_check_passes_what_check_finds_broken(
    e2e: Any, env: dict[str, str], config: Path, tmp_path: Path
) -> None:
    # The file itself is valid: config check says so, and that it connected nowhere.
    read = e2e.run_plugbay(["config", "check"], cwd=tmp_path, env=env)
    assert read.returncode == 0, read.stderr
    assert "Nothing was started and nothing was connected to" in read.stdout

    done = e2e.run_plugbay(["check"], cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["NAME", "KIND", "STATUS", "REASON"]
    by_name = {row.split()[0]: row for row in rows}
    assert set(by_name) == {"notes", "gone", "shop"}
    assert by_name["notes"].split()[:4] == ["notes", "instance", "(filesystem)", "ready"]
    assert by_name["gone"].split()[:4] == ["gone", "instance", "(filesystem)", "failed"]
    assert "absent" in by_name["gone"]
    assert by_name["shop"].split()[:4] == ["shop", "instance", "(sql)", "failed"]
    assert "pw-not-shown" not in done.stdout + done.stderr


def test_check_json(e2e: Any, env: dict[str, str], config: Path, tmp_path: Path) -> None:
    done = e2e.run_plugbay(["check", "--json"], cwd=tmp_path, env=env)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False
    statuses = {row["name"]: row["status"] for row in report["results"]}
    assert statuses == {"notes": "ready", "gone": "failed", "shop": "failed"}
    shop = next(row for row in report["results"] if row["name"] == "shop")
    assert shop["kind"] == "instance (sql)"
    assert shop["reason"]


def test_check_exits_0_when_everything_is_ready(
    e2e: Any, env: dict[str, str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (tmp_path / "plugbay.toml").write_text(
        f'[connectors.notes]\nplugin = "filesystem"\nroots = ["{notes}"]\n'
    )
    done = e2e.run_plugbay(["check"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[1].split()[:4] == ["notes", "instance", "(filesystem)", "ready"]
