"""Relative path settings and PLUGBAY_* variables, through real ``plugbay`` subprocesses.

A desktop client starts the server from its own working directory (often ``/``), so a
relative root or SQLite file must start from the configuration file's folder; a
``PLUGBAY_*`` variable must win over the file, even where the file's ``${VAR}`` is unset.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from plugbay_testing.fakes import free_port

pytestmark = pytest.mark.slow

DESKTOP = """
[connectors.notes]
plugin = "filesystem"
roots = ["notes"]

[connectors.shop]
plugin = "sql"
url = "sqlite:///data/shop.db"
"""

ROOT = Path(__file__).resolve().parents[1]


def readme_erp() -> str:
    """The README's example of a connector that needs credentials, as the README has it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("[connectors.erp]")
    return readme[start : readme.index("```", start)]


@pytest.fixture
def desktop(tmp_path: Path) -> Path:
    """A configuration folder with relative roots and SQLite file, and a decoy elsewhere."""
    folder = tmp_path / "conf"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "hello.txt").write_text("from the configuration's folder\n")
    (folder / "data").mkdir()
    with sqlite3.connect(folder / "data" / "shop.db") as database:
        database.execute("CREATE TABLE items (name TEXT)")
        database.execute("INSERT INTO items VALUES ('the right shop')")
    database.close()
    decoy = tmp_path / "elsewhere"
    (decoy / "notes").mkdir(parents=True)
    (decoy / "notes" / "hello.txt").write_text("from the working directory\n")
    (folder / "plugbay.toml").write_text(DESKTOP)
    return folder / "plugbay.toml"


def test_relative_settings_start_from_the_configuration_files_folder(
    e2e: Any, desktop: Path, tmp_path: Path
) -> None:
    env = e2e.child_env(["filesystem", "sql"])
    config = ["--config", str(desktop)]
    tools = e2e.run_json(["tools", *config, "--json"], cwd=Path("/"), env=env)
    names = {tool["name"] for tool in tools}
    assert {"notes_read_text_file", "shop_query"} <= names
    elsewhere = tmp_path / "elsewhere"
    read = e2e.run_plugbay(
        ["call", *config, "notes_read_text_file", "path=hello.txt"], cwd=elsewhere, env=env
    )
    assert read.returncode == 0, read.stderr
    assert "from the configuration's folder" in read.stdout
    query = e2e.run_plugbay(
        ["call", *config, "shop_query", "sql=SELECT name FROM items"], cwd=Path("/"), env=env
    )
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout)["rows"] == [["the right shop"]]


def test_a_relative_root_from_the_environment_starts_from_the_working_directory(
    e2e: Any, desktop: Path, tmp_path: Path
) -> None:
    env = e2e.child_env(["filesystem"], PLUGBAY_NOTES__ROOTS="notes")
    read = e2e.run_plugbay(
        ["call", "--config", str(desktop), "notes_read_text_file", "path=hello.txt"],
        cwd=tmp_path / "elsewhere",
        env=env,
    )
    assert read.returncode == 0, read.stderr
    assert "from the working directory" in read.stdout


def test_a_plugbay_variable_rescues_the_readmes_unset_api_key(e2e: Any, tmp_path: Path) -> None:
    (tmp_path / "plugbay.toml").write_text(readme_erp())
    env = e2e.child_env(["odoo"])
    unset = e2e.run_plugbay(["config", "check"], cwd=tmp_path, env=env)
    assert unset.returncode == 1, unset.stdout
    assert "the environment variable ODOO_API_KEY is not set" in unset.stderr
    env["PLUGBAY_ERP__API_KEY"] = "rescued-key-not-printed"
    rescued = e2e.run_plugbay(["config", "check"], cwd=tmp_path, env=env)
    assert rescued.returncode == 0, rescued.stderr
    assert "  connector instances: 1 (erp)," in rescued.stdout
    assert "rescued-key-not-printed" not in rescued.stdout + rescued.stderr


def test_a_bad_server_variable_is_named_by_config_check(e2e: Any, tmp_path: Path) -> None:
    env = e2e.child_env(["odoo"], PLUGBAY_SERVER__PORT="eighty")
    done = e2e.run_plugbay(["config", "check"], cwd=tmp_path, env=env)
    assert done.returncode != 0  # 2 today for a configuration error; item 6 of issue 14
    assert "PLUGBAY_SERVER__PORT: Input should be a valid integer" in done.stderr


def test_serve_listens_on_plugbay_server_port(e2e: Any, tmp_path: Path) -> None:
    # The file's port is an unset ${VAR}: the variable both rescues it and wins.
    (tmp_path / "plugbay.toml").write_text('[server]\nport = "${UNSET_PORT}"\n')
    port = free_port()
    env = e2e.child_env(["odoo"], PLUGBAY_SERVER__PORT=str(port))
    with e2e.http_server(tmp_path, env, port=port) as server:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        assert server.port == port
