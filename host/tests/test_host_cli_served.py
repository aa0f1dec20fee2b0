"""``plugbay tools`` and ``call`` agree with ``serve``: a failed instance shows as failed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from plugbay import Connector, Settings, hookimpl, tool
from plugbay.cli import cli
from plugbay.plugins import load_plugins


class LedgerSettings(Settings):
    database: str
    password: SecretStr


class Ledger(Connector[LedgerSettings]):
    """Reads a SQLite ledger that must already exist."""

    name = "ledger"

    async def start(self) -> None:
        secret = self.settings.password.get_secret_value()
        try:
            sqlite3.connect(f"file:{self.settings.database}?mode=ro", uri=True).close()
        except sqlite3.OperationalError as error:
            # As a driver might: the connection string, password included, in the message.
            raise ConnectionError(f"{error}: sqlite://reader:{secret}@localhost/") from None

    @tool(read_only=True)
    def entries(self) -> int:
        """How many entries the ledger holds."""
        with sqlite3.connect(f"file:{self.settings.database}?mode=ro", uri=True) as db:
            count = int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
        db.close()
        return count


class Clock(Connector):
    """Tells the time."""

    name = "clock"

    @tool(read_only=True)
    def now(self) -> str:
        """The time."""
        return "noon"


class Plugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(Ledger)
        register(Clock)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(
        "plugbay.cli_common.load_plugins",
        lambda environ: load_plugins({}, extra={"test": Plugin()}, entry_points=False),
    )
    path = tmp_path / "plugbay.toml"
    path.write_text(
        f"[connectors.books]\nplugin = \"ledger\"\ndatabase = '{tmp_path / 'absent.db'}'\n"
        'password = "s3cret-pass"\n[connectors.clock]\nplugin = "clock"\n'
    )
    return path


def test_tools_lists_what_serve_offers_and_names_the_failed_instance(config: Path) -> None:
    done = CliRunner().invoke(cli, ["tools", "--config", str(config)])
    assert done.exit_code == 0, done.output
    head, _, tail = done.stdout.partition("\n\n")
    assert [line.split()[0] for line in head.splitlines()[1:]] == ["clock_now"]
    assert tail.splitlines()[0] == "failed instances (their components are not listed):"
    assert tail.splitlines()[1].split() == ["INSTANCE", "CONNECTOR", "REASON"]
    row = tail.splitlines()[2].split(None, 3)
    assert row[:3] == ["books", "ledger", "failed:"]
    assert "failed to start: ConnectionError: unable to open database file" in row[3]
    assert "s3cret-pass" not in done.output


def test_tools_json_stays_a_list_and_warns_on_stderr(config: Path) -> None:
    done = CliRunner().invoke(cli, ["tools", "--json", "--config", str(config)])
    assert done.exit_code == 0
    assert [tool["name"] for tool in json.loads(done.stdout)] == ["clock_now"]
    assert "instance 'books' did not start" in done.stderr
    assert "s3cret-pass" not in done.stderr


def test_call_of_a_failed_instances_tool_says_which_and_why(config: Path) -> None:
    done = CliRunner().invoke(cli, ["call", "books_entries", "--config", str(config)])
    assert done.exit_code == 2
    assert "tool 'books_entries' belongs to instance 'books', which failed" in done.output
    assert "unable to open database file" in done.output
    assert "s3cret-pass" not in done.output


def test_once_the_database_exists_every_command_sees_the_tool(config: Path) -> None:
    with sqlite3.connect(config.parent / "absent.db") as db:
        db.execute("CREATE TABLE entries (amount INTEGER)")
        db.executemany("INSERT INTO entries VALUES (?)", [(1,), (2,), (3,)])
    db.close()
    listed = CliRunner().invoke(cli, ["tools", "--config", str(config)])
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == [
        "books_entries",
        "clock_now",
    ]
    called = CliRunner().invoke(cli, ["call", "books_entries", "--config", str(config)])
    assert called.exit_code == 0, called.output
    assert json.loads(called.stdout) == {"result": 3}
